/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update.h: signed A/B updates through RAUC over D-Bus (docs/update.md).
 *
 * ArUpdater talks to RAUC's de.pengutronix.rauc.Installer on the main loop
 * (GDBus, async): it installs a bundle from a file or an https URL (downloaded
 * with libsoup, bounded), refuses a bundle for another board or older than the
 * running version (unless forced) before RAUC writes anything, reports
 * progress as events, and marks the booted slot good once anyroomd is healthy.
 * It knows nothing of the call manager or the API: events go to a callback.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AR_UPDATE_ERROR (ar_update_error_quark())
GQuark ar_update_error_quark(void);

typedef enum {
  AR_UPDATE_ERROR_DISABLED,     /* [update] enabled=false */
  AR_UPDATE_ERROR_NO_RAUC,      /* RAUC is not on the bus */
  AR_UPDATE_ERROR_BUSY,         /* an install is already running */
  AR_UPDATE_ERROR_INVALID,      /* bad path or URL */
  AR_UPDATE_ERROR_INCOMPATIBLE, /* bundle for another board */
  AR_UPDATE_ERROR_DOWNGRADE,    /* bundle older than the running version */
  AR_UPDATE_ERROR_BAD_VERSION,  /* a version that does not parse */
  AR_UPDATE_ERROR_REFUSED,      /* RAUC refused the bundle (signature, format) */
  AR_UPDATE_ERROR_FAILED,       /* RAUC failed while installing */
  AR_UPDATE_ERROR_DOWNLOAD,     /* the download failed */
  AR_UPDATE_ERROR_TOO_LARGE,    /* over max-bundle-size */
} ArUpdateError;

/* ---- versions (ar-update-version.c; docs/update.md "Versions") ---- */

#define AR_VERSION_MAX_LEN 64
#define AR_VERSION_MAX_PARTS 8

typedef struct {
  guint64 num[AR_VERSION_MAX_PARTS];
  guint n_num;
  char pre[AR_VERSION_MAX_LEN + 1]; /* pre-release identifiers, "" for a release */
} ArVersion;

/* Parses "[v]MAJOR[.MINOR...][-PRE][+BUILD]" (at most 64 bytes, 8 numeric
 * parts of at most 9 digits). @out is untouched on failure. */
gboolean ar_version_parse(const char *text, gsize len, ArVersion *out,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* <0, 0, >0 as @a is older than, equal to, newer than @b. */
int ar_version_compare(const ArVersion *a, const ArVersion *b);

/* TRUE if @url is an https:// URL anyroomd may download a bundle from:
 * absolute, a host, no user info, at most 2048 bytes. */
gboolean ar_update_check_url(const char *url, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- the maintenance window (ar-update-window.c) ---- */

typedef struct {
  guint start_min, end_min; /* minutes of the day; end < start: crosses midnight */
  gboolean always;          /* 00:00-24:00 */
} ArUpdateWindow;
/* "HH:MM-HH:MM" (24:00 as an end; start and end different). */
gboolean ar_update_window_parse(const char *text, ArUpdateWindow *out,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* TRUE if @now (unix seconds) is inside the window in @tz's wall-clock time. */
gboolean ar_update_window_contains(const ArUpdateWindow *w, GTimeZone *tz, gint64 now);
/* Seconds until the window is open (0: open now; -1: never within 50 hours). */
gint64 ar_update_window_wait(const ArUpdateWindow *w, GTimeZone *tz, gint64 now);

/* ---- the updater ---- */

typedef struct {
  gboolean enabled;
  char *bus;               /* "system" or a D-Bus address */
  char *version_file;      /* running version when RAUC has none; NULL = none */
  char *fallback_version;  /* last resort: anyroomd's own version */
  guint64 max_bundle_size; /* bytes */
  char *download_ca;       /* PEM file, NULL = system trust store */
  char *state_dir;         /* downloads go to STATE_DIR/update/ */
  guint health_settle_s;
  gboolean mark_good;
  /* an update channel to follow (docs/fleet.md "Update channels"); NULL or "" = none */
  char *channel_url;
  char *channel;            /* its name */
  char *channel_ca;         /* PEM CAs for its origin; NULL = system store */
  guint channel_interval_s; /* between polls */
  char *keyring;            /* RAUC's keyring: verifies the channel file */
  char *compatible;         /* the board's, when RAUC does not say */
  /* installing what the channel offers (docs/fleet.md "Installing the offered release") */
  gboolean auto_install; /* download, install and restart by itself */
  char *window;          /* "HH:MM-HH:MM" in the room's time zone; NULL = 02:00-05:00 */
  char *reboot_command;  /* after an automatic install; NULL = "systemctl reboot" */
} ArUpdateOptions;

typedef struct _ArUpdater ArUpdater;

/* @event: {"event": "update-progress"|"update-finished"|"update-marked-good"|
 * "update-channel", ...} */
typedef void (*ArUpdateEventFunc)(JsonNode *event, gpointer data);
/* @error NULL: installed. */
typedef void (*ArUpdateDoneFunc)(const GError *error, gpointer data);

/* Connects to RAUC asynchronously; never fails because RAUC is absent
 * (install then says so). Copies @options. */
ArUpdater *ar_updater_new(const ArUpdateOptions *options);
void ar_updater_free(ArUpdater *updater);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArUpdater, ar_updater_free)

void ar_updater_set_event_func(ArUpdater *updater, ArUpdateEventFunc func, gpointer data);

/* Installs @source: an absolute path of a bundle file, or an https:// URL.
 * @delete_after: remove the file when done (an upload). Returns FALSE with
 * @error at once (busy, invalid, disabled, no RAUC) or TRUE and calls @done
 * exactly once later, unless ar_updater_forget_waiter(@data) was called.
 * @source "channel": the release the update channel offers (or has waiting)
 * for this room, now: downloaded (resumed), checked against the channel's
 * size and SHA-256, installed; the window does not apply. */
gboolean ar_updater_install(ArUpdater *updater, const char *source, gboolean force_downgrade,
                            gboolean delete_after, ArUpdateDoneFunc done, gpointer data,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Whether a call is under way (joining, in the lobby, connected, ...): no
 * automatic download, install or restart starts then (ar-update-auto.c). */
void ar_updater_set_in_call(ArUpdater *updater, gboolean in_call);

/* New [update] window and auto-install (anyroomd re-read its config on
 * SIGHUP); a window that does not parse is refused with @error. */
gboolean ar_updater_set_window(ArUpdater *updater, const char *window, gboolean auto_install,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The requester behind @data went away: do not call its @done. */
void ar_updater_forget_waiter(ArUpdater *updater, gpointer data);
gboolean ar_updater_is_busy(ArUpdater *updater);

/* The "update" object of the status (docs/update.md), from cached state. */
JsonNode *ar_updater_status(ArUpdater *updater);
/* Refreshes the slot status from RAUC, then calls @done (error ignored). */
void ar_updater_refresh(ArUpdater *updater, ArUpdateDoneFunc done, gpointer data);

/* anyroomd is serving: after health-settle seconds, mark the booted slot
 * good (once; retried while RAUC is not on the bus). */
void ar_updater_start_health_check(ArUpdater *updater);

/* Where uploads should be written: STATE_DIR/update/ (made 0700). */
char *ar_updater_upload_dir(ArUpdater *updater, GError **error) G_GNUC_WARN_UNUSED_RESULT;
guint64 ar_updater_max_bundle_size(ArUpdater *updater);

/* ---- systemd notification (ar-sd-notify.c), no libsystemd ---- */

/* Sends @state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET if set. */
gboolean ar_sd_notify(const char *state);
/* If $WATCHDOG_USEC is set (for this pid), sends WATCHDOG=1 every half of it
 * from the main loop. Returns the source id or 0. */
guint ar_sd_watchdog_start(void);

G_END_DECLS
