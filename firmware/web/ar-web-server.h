/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-server.h: the HTTPS admin UI and scripting API (docs/api.md).
 *
 * HTTPS only (a self-signed certificate made on first start, ar-web-tls.h);
 * plain HTTP is never served. Every request's Host must be one of ours and
 * its Origin, when present, https://<one of ours>: a page on another origin
 * (or a DNS-rebound name) in the kiosk browser cannot drive the room. Admin
 * sessions (cookie + CSRF header) or per-integration API tokens (Bearer).
 * State lives in the state dir: admin-password, tokens.json, settings.json,
 * audit.log, the certificate and key; all 0600.
 */
#pragma once

#include "ar-api-hub.h"
#include "ar-config.h"

G_BEGIN_DECLS

#define AR_WEB_MAX_BODY (64 * 1024)
#define AR_WEB_MAX_TOKENS 32
#define AR_WEB_AUDIT_MAX_BYTES (256 * 1024)

typedef struct _ArWebServer ArWebServer;

/* The default state dir: $XDG_STATE_HOME/anyroom. */
char *ar_web_default_state_dir(void);

/* Starts listening on config->admin_listen. @config is borrowed and changed
 * in place by the API (room name); @hub is borrowed. Both must outlive the
 * server. @ui_dir: the folder holding admin/ (NULL: $ANYROOM_UI_DIR, the
 * source tree's ui-kiosk, the installed one). */
ArWebServer *ar_web_server_new(ArApiHub *hub, ArConfig *config, const char *state_dir,
                               const char *ui_dir, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_web_server_free(ArWebServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWebServer, ar_web_server_free)

const char *ar_web_server_get_fingerprint(ArWebServer *server);
const char *ar_web_server_get_url(ArWebServer *server);

/* Applies settings saved by the admin UI or API (settings.conf in
 * @state_dir, ar-api-config.h) to @config. Call before the call manager
 * starts. */
gboolean ar_web_apply_saved_settings(ArConfig *config, const char *state_dir, GError **error);

G_END_DECLS
