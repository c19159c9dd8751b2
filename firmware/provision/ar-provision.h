/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision.h: zero-touch provisioning (docs/fleet.md "Provisioning a
 * hundred rooms", docs/decisions.md "Provisioning: ...").
 *
 * A provisioning file is a strict JSON object (format 1) wrapped in a CMS
 * SignedData, checked by the same code as update channel files
 * (ar_signed_verify). It names the boards (RAUC compatibles) it is for, and
 * optionally machine IDs, and carries what a new room needs: settings (the
 * config API's own groups and keys, validated by the config API's code), the
 * admin password as a PBKDF2 hash or a one-time setup code as a SHA-256, API
 * tokens as SHA-256 hashes with their scopes, and CA certificates.
 *
 *   ar-provision.c         the format: parse, bounds (pure; fuzzed)
 *   ar-provision-apply.c   at first start: find, verify, check, stage, apply
 *                          once, audit
 *   ar-provision-export.c  GET /api/v1/provision/export: a configured room's
 *                          file, secrets only as hashes
 *   ar-provision-lease.c   the URL of DHCP option 224 in a networkd lease (pure;
 *                          fuzzed)
 *   ar-provision-dhcp.c    a new room watches its DHCP leases, fetches the URL,
 *                          checks the file and asks for a restart that applies it
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-channel.h"
#include "ar-config.h"

G_BEGIN_DECLS

#define AR_PROVISION_ERROR (ar_provision_error_quark())
GQuark ar_provision_error_quark(void);

typedef enum {
  AR_PROVISION_ERROR_UNSIGNED,  /* not a CMS SignedData (plain JSON, garbage) */
  AR_PROVISION_ERROR_SIGNATURE, /* tampered, or the signer does not chain to the keyring */
  AR_PROVISION_ERROR_INVALID,   /* breaks the format, a bound, or a setting's rule */
  AR_PROVISION_ERROR_BOARD,     /* for other boards */
  AR_PROVISION_ERROR_MACHINE,   /* for other machines */
  AR_PROVISION_ERROR_APPLIED,   /* this room was provisioned or set up already */
  AR_PROVISION_ERROR_KEYRING,   /* no keyring to check against */
  AR_PROVISION_ERROR_IO,        /* reading the source, writing the state dir */
} ArProvisionError;

/* Bounds (docs/fleet.md lists them). */
#define AR_PROVISION_MAX_FILE (128 * 1024) /* the signed file, and the JSON in it */
#define AR_PROVISION_MAX_DEPTH 8
#define AR_PROVISION_MAX_BOARDS 64
#define AR_PROVISION_MAX_MACHINES 2048
#define AR_PROVISION_MAX_TOKENS 32     /* as the room holds (AR_WEB_MAX_TOKENS) */
#define AR_PROVISION_MAX_PEM 32768     /* one CA file */
#define AR_PROVISION_MAX_PEM_CERTS 16  /* certificates in it */
#define AR_PROVISION_MIN_PBKDF2 100000 /* iterations a provisioned password hash needs */
#define AR_PROVISION_SERIAL_MAX G_GINT64_CONSTANT(9007199254740991) /* 2^53 - 1 */

/* The CA files a provisioning file may give, and the config key each one
 * stands in for when the config file does not set it. */
typedef enum {
  AR_PROVISION_CA_CALENDAR,        /* calendar.ca */
  AR_PROVISION_CA_UPDATE_CHANNEL,  /* update.channel-ca */
  AR_PROVISION_CA_UPDATE_DOWNLOAD, /* update.download-ca */
  AR_PROVISION_CA_TURN,            /* network.turn-tls-ca */
  AR_PROVISION_CA_LOGS,            /* logs.remote-ca */
  AR_PROVISION_CA_N
} ArProvisionCa;

/* "calendar", "update-channel", ...: the member name in the file. */
const char *ar_provision_ca_name(ArProvisionCa ca);
/* Its file in the state dir: "ca-calendar.pem", ... */
const char *ar_provision_ca_file(ArProvisionCa ca);

typedef struct {
  char *name;   /* [A-Za-z0-9._-]{1,64} */
  char *sha256; /* of the token, 64 lower-case hex */
  guint scopes; /* ArWebScope bits, at least one */
} ArProvisionToken;

typedef struct {
  gint64 serial;               /* 0: none given */
  GStrv boards;                /* RAUC compatibles, at least one */
  GStrv machine_ids;           /* NULL: any machine */
  char *password_hash;         /* "pbkdf2-sha256$ITER$SALT$HASH", or NULL */
  char *setup_code_sha256;     /* SHA-256 of the normalized code, or NULL */
  GPtrArray *tokens;           /* ArProvisionToken*, never NULL */
  JsonNode *settings;          /* a config API PATCH object, or NULL */
  char *ca[AR_PROVISION_CA_N]; /* PEM, or NULL */
  char digest[65];             /* SHA-256 of the JSON bytes, hex */
} ArProvision;

void ar_provision_free(ArProvision *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArProvision, ar_provision_free)

/* Parses the JSON (format 1) with every bound of the format. Unknown members
 * are refused. The settings are checked for shape only here (an object of
 * objects); their values by ar_provision_check_settings(). */
ArProvision *ar_provision_parse(const char *json, gsize len,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The settings' full check: the config API's own (ar_api_config_patch on a
 * scratch copy of @config in a scratch folder): what an admin could not set
 * through the API, the file cannot set either. */
gboolean ar_provision_check_settings(const ArProvision *p, const ArConfig *config,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The room's board as a provisioning file names it: the board's RAUC
 * compatible, or "anyroom-NAME" for a board without one (the host). */
char *ar_provision_board_id(const ArBoard *board);

/* Verifies a signed file against @keyring at @now (ar_signed_verify), parses
 * it, and checks it is for @board_id (and @machine_id when it lists some). */
ArProvision *ar_provision_load(const guint8 *data, gsize len, const ArChannelKeyring *keyring,
                               const char *board_id, const char *machine_id, gint64 now,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- at first start (ar-provision-apply.c) ---- */

typedef struct {
  const char *state_dir;
  ArConfig *config;            /* the config file's, before the saved settings */
  const char *board_id;        /* ar_provision_board_id() */
  const char *machine_id;      /* /etc/machine-id's, or NULL */
  const char *const *sources;  /* files, first present wins; NULL: config's [provision] sources */
  const char *const *keyrings; /* PEM files; NULL: [provision] keyrings, else [update] keyring */
  gint64 now;                  /* unix seconds; 0: the clock */
} ArProvisionStart;

typedef enum {
  AR_PROVISION_NONE,    /* no file at any source */
  AR_PROVISION_APPLIED, /* applied now */
  AR_PROVISION_ALREADY, /* the same file was applied before */
  AR_PROVISION_REFUSED, /* refused: @error says why (logged and audited) */
} ArProvisionOutcome;

/* Looks for a file at the sources; the first present is checked and, if
 * the room is new (never provisioned, no admin password, no tokens, no saved
 * settings), applied: everything validated first, written to a scratch folder
 * in the state dir, then moved into place, the record (provisioned.json)
 * last. An audit entry says what happened (provisioned / provision_refused).
 * Never half-applied. */
ArProvisionOutcome ar_provision_at_start(const ArProvisionStart *start, GError **error);

/* After the saved settings: the provisioned CA files stand in for the CA keys
 * the config file leaves unset. */
void ar_provision_use_cas(ArConfig *config, const char *state_dir);

/* This machine's ID (/etc/machine-id), or NULL. */
char *ar_provision_machine_id(void);

/* ---- a URL given by DHCP (ar-provision-lease.c, ar-provision-dhcp.c) ---- */

#define AR_PROVISION_DHCP_LEASES "/run/systemd/netif/leases" /* systemd-networkd's */
#define AR_PROVISION_MAX_LEASE (64 * 1024)                   /* one lease file */
#define AR_PROVISION_MAX_URL 1024                            /* option 224's URL */
#define AR_PROVISION_RESTART_EXIT 75 /* anyroomd's exit status: restart me (EX_TEMPFAIL) */

/* One systemd-networkd lease file (KEY=VALUE lines, at most
 * AR_PROVISION_MAX_LEASE): the https URL in its OPTION_224 (hex), or *@url
 * NULL when the server sent none. FALSE: an option that is not an https URL
 * of plain ASCII with a host and no user (http:// is refused: the file may
 * carry secrets); @error says why on one line, naming the host at most. */
gboolean ar_provision_lease_url(const char *lease, gsize len, char **url,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The option's bytes (trailing NULs dropped) as such a URL. */
gboolean ar_provision_dhcp_url_check(const char *text, gsize len, char **url,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The source's name in logs and audit entries: "dhcp:https://HOST/" (the
 * host only), "dhcp" if @url has none. */
char *ar_provision_dhcp_source(const char *url);

typedef struct _ArProvisionDhcp ArProvisionDhcp;
/* A good file is in the state dir: restart anyroomd (the next start applies it). */
typedef void (*ArProvisionDhcpReady)(const char *source, gpointer data);

/* After ar_provision_at_start(): NULL unless "dhcp" is in the sources, no
 * source before it holds a file and the room is new. Then watches the lease
 * folder (@leases_dir; NULL: AR_PROVISION_DHCP_LEASES); when a lease carries
 * option 224, fetches the URL (https, TLS against @ca_file when it exists,
 * else the system's CAs; at most AR_PROVISION_MAX_FILE; https redirects only;
 * a deadline), checks it as the start would (signature, board, machine,
 * settings), writes it to the state dir and calls @ready. A failure logs one
 * line and tries again with a backoff; a refused file is audited once. Stops
 * when the room gets set up by hand. @start's strings are copied; its config
 * must outlive the watcher. */
ArProvisionDhcp *ar_provision_dhcp_new(const ArProvisionStart *start, const char *leases_dir,
                                       const char *ca_file, ArProvisionDhcpReady ready,
                                       gpointer data);
void ar_provision_dhcp_free(ArProvisionDhcp *dhcp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArProvisionDhcp, ar_provision_dhcp_free)

/* ---- export (ar-provision-export.c) ---- */

/* The provisioning file of a configured room: {"provisioning": {...},
 * "omitted": [...]}. Secrets only as hashes; a setting that exists only as a
 * secret the room holds in plain (the TURN password, the calendar feed URL,
 * the CalDAV password) is left out with what depends on it, and named in
 * "omitted". */
JsonNode *ar_provision_export(const ArConfig *config, const char *state_dir, const char *board_id,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
