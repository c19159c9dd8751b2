/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-config.h: the configuration group of the API (GET/PATCH
 * /api/v1/config), shared by the Unix-socket and the HTTPS API.
 *
 * The settings an admin changes live in the state dir as settings.conf (0600,
 * the config file's own groups and keys) and go over the config file: the
 * result is validated by the config file's own code (ar_config_load_keyfile),
 * so a setting the file would refuse is refused here with the same message.
 * Settable: room.name, room.display-name; device.camera, .microphone,
 * .speaker; network.stun, .turn, .turn-username, .turn-password (write-only),
 * .turn-credentials-url, .relay-only; links.jitsi-domains, .pexip-domains,
 * .allow-idn; calendar.*; logs.remote, .remote-level, and .remote-ca-pem,
 * .remote-cert-pem, .remote-key-pem (PEM text, write-only: kept 0600 in the
 * state dir as logs-remote-*.pem, whose paths become logs.remote-ca etc.;
 * read back as fingerprints). JSON null unsets a key: its default, whatever
 * the config file says (so a TURN server of the file can be removed).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-config.h"

G_BEGIN_DECLS

#define AR_API_CONFIG_ERROR (ar_api_config_error_quark())
GQuark ar_api_config_error_quark(void);

typedef enum {
  AR_API_CONFIG_ERROR_INVALID, /* the client's fault: 400 */
  AR_API_CONFIG_ERROR_SAVE,    /* ours: 500 */
} ArApiConfigError;

#define AR_API_CONFIG_MAX_LIST 64
#define AR_API_CONFIG_MAX_VALUE 2048
#define AR_API_CONFIG_MAX_PEM (32 * 1024)

/* What a PATCH changed, by area, to know what to reload. */
typedef enum {
  AR_API_CONFIG_CHANGED_ROOM = 1 << 0,
  AR_API_CONFIG_CHANGED_DEVICE = 1 << 1,
  AR_API_CONFIG_CHANGED_NETWORK = 1 << 2,
  AR_API_CONFIG_CHANGED_LINKS = 1 << 3,
  AR_API_CONFIG_CHANGED_CALENDAR = 1 << 4,
  AR_API_CONFIG_CHANGED_LOGS = 1 << 5,
  /* Read at start only (room.time-zone, update.channel-url, update.channel). */
  AR_API_CONFIG_CHANGED_RESTART = 1 << 6,
} ArApiConfigChanged;

/* Applies settings.conf of @state_dir over @config (at start). A legacy
 * settings.json's room_name is taken too. */
gboolean ar_api_config_apply_saved(ArConfig *config, const char *state_dir, GError **error);

/* The settings object: {"room": {...}, "device": {...}, "network": {...},
 * "links": {...}}; secrets as "turn-password-set": bool, never their value. */
JsonNode *ar_api_config_get(const ArConfig *config);

/* Validates @patch (an object of the same shape, any subset), saves it in
 * @state_dir and applies it to @config. @changed_keys: "group.key" names
 * (never values). Neither @config nor the saved file change on error. */
gboolean ar_api_config_patch(ArConfig *config, const char *state_dir, JsonNode *patch,
                             GStrv *changed_keys, ArApiConfigChanged *changed,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* (Re)starts anyroomd's log forwarder with @config's [logs] (stopped when
 * logs.remote is unset): at start, and after a change of the logs settings. */
gboolean ar_api_config_apply_logs(const ArConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Puts @config's settable fields back to the config file's values. */
gboolean ar_api_config_reset(ArConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Removes settings.conf (factory reset). */
gboolean ar_api_config_forget(const char *state_dir, GError **error);

G_END_DECLS
