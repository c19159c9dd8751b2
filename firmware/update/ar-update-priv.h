/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-update-priv.h: the update module's insides. */
#pragma once

#include "ar-update.h"

#include <libsoup/soup.h>

#include "ar-json.h"

G_BEGIN_DECLS

/* ---- https download of a bundle (ar-update-download.c) ---- */

typedef struct _ArDownload ArDownload;
typedef void (*ArDownloadProgressFunc)(guint64 got, guint64 total, gpointer data);
/* @error NULL: @dest holds the whole body. */
typedef void (*ArDownloadDoneFunc)(const GError *error, gpointer data);

/* Downloads @url (checked with ar_update_check_url) into @dest (created,
 * 0600, must not exist), at most @max bytes, TLS verified against @ca_file or
 * the system store, redirects to https:// only. */
ArDownload *ar_download_start(const char *url, const char *dest, guint64 max, const char *ca_file,
                              ArDownloadProgressFunc progress, ArDownloadDoneFunc done,
                              gpointer data, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The same, resuming: @offset > 0: @dest exists and holds the first @offset
 * bytes; asks for the rest with "Range: bytes=OFFSET-". A 206 whose
 * Content-Range continues at @offset (and, with @size, ends at @size) appends;
 * a 200 starts again from byte 0 (truncates @dest); any other answer is an
 * error. @size (0 = unknown): the body must be exactly that long in all. */
ArDownload *ar_download_resume(const char *url, const char *dest, guint64 offset, guint64 size,
                               guint64 max, const char *ca_file, ArDownloadProgressFunc progress,
                               ArDownloadDoneFunc done, gpointer data,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Where the download stands: bytes in @dest now, the whole length when known
 * (0 = not yet), and the HTTP status of the answer (0 = none yet). */
void ar_download_get_progress(ArDownload *dl, guint64 *got, guint64 *total, guint *status);

/* ---- resuming a download (ar-update-resume.c): untrusted texts ---- */

/* "bytes FIRST-LAST/LENGTH" (RFC 9110), FIRST <= LAST < LENGTH; "*" refused. */
gboolean ar_update_parse_content_range(const char *value, guint64 *first, guint64 *last,
                                       guint64 *total, GError **error) G_GNUC_WARN_UNUSED_RESULT;

#define AR_UPDATE_PARTIAL_MAX 4096
/* What a partial download in STATE_DIR/update is for (a key file beside it). */
typedef struct {
  char *url;
  char sha256[65]; /* lower-case hex */
  guint64 size;
} ArUpdatePartial;
/* Parses the record (at most 4 KiB): an https URL, 64 lower-case hex digits,
 * a size 1..64 GiB; @out is untouched on failure. */
gboolean ar_update_partial_parse(const char *data, gsize len, ArUpdatePartial *out,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
char *ar_update_partial_format(const ArUpdatePartial *p);
void ar_update_partial_clear(ArUpdatePartial *p);

/* Cancels (no callback afterwards) and frees. */
void ar_download_free(ArDownload *dl);
/* A message's "restarted" (a redirect): one to a URL that is not https:// is
 * refused: *@reason says so (the first reason stays) and @cancel is cancelled. */
void ar_update_refuse_plain_redirect(SoupMessage *msg, char **reason, GCancellable *cancel);

/* ---- following an update channel (ar-channel-poll.c; docs/fleet.md) ---- */

typedef struct {
  const char *url;             /* the channel file, https:// */
  const char *channel;         /* the name the manifest must carry */
  const char *ca_file;         /* PEM CAs for the origin; NULL = system store */
  const char *keyring_file;    /* RAUC's keyring (PEM) */
  const char *state_dir;       /* the serial seen goes to STATE_DIR/update/channel-state */
  const char *machine_id_file; /* NULL = /etc/machine-id */
  guint interval_s;            /* between polls, before jitter */
  guint backoff_min_s;         /* the first retry after a failure; 0 = min(60 s, interval) */
} ArChannelPollOptions;

typedef struct _ArChannelPoller ArChannelPoller;
/* Asks the owner for this room's compatible and running version (new strings, or NULL). */
typedef void (*ArChannelPollQuery)(gpointer data, char **compatible, char **running_version);
/* The channel's status changed (verdict, offered version, serial or error). */
typedef void (*ArChannelPollChanged)(gpointer data);

/* Starts polling (the first poll 1-60 s from now). Fails only on a bad URL or CA file. */
ArChannelPoller *ar_channel_poller_new(const ArChannelPollOptions *opt, ArChannelPollQuery query,
                                       ArChannelPollChanged changed, gpointer data,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_channel_poller_free(ArChannelPoller *poller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArChannelPoller, ar_channel_poller_free)
/* The release the channel offers this room (a verdict "offered"; with
 * @waiting_too also one the rollout has not reached yet): borrowed strings,
 * valid until the next poll. FALSE: none. */
typedef struct {
  const char *version, *url, *url_host, *sha256;
  guint64 size;
} ArChannelOffer;
gboolean ar_channel_poller_get_offer(ArChannelPoller *poller, gboolean waiting_too,
                                     ArChannelOffer *out);
/* @s +- 10 % at random, at least 1 (the poller's and the download's waits). */
guint ar_update_jitter(guint s);
/* The "channel" object of the update status (docs/fleet.md). */
JsonNode *ar_channel_poller_status(ArChannelPoller *poller);
/* Seconds until the next poll before jitter: @interval_s after a success, else
 * @backoff_min_s doubling per failure up to @interval_s. */
guint ar_channel_poll_delay(guint interval_s, guint backoff_min_s, guint failures);

/* ---- RAUC's answers (ar-update.c) ---- */

/* GetSlotStatus's a(sa{sv}) as the status's "slots" array: at most 16 slots,
 * known keys only, strings made valid UTF-8 and cut at 1 KiB. *@booted_version
 * (if not NULL) gets the booted slot's bundle.version, when there is one. */
JsonNode *ar_update_slots_to_json(GVariant *array, char **booted_version);

/* ---- the updater's insides (ar-update.c, ar-update-state.c) ---- */
typedef enum { PHASE_IDLE, PHASE_DOWNLOAD, PHASE_INSPECT, PHASE_INSTALL } Phase;

/* "idle", "downloading", "checking", "installing" */
extern const char *const ar_update_phase_names[];

struct _ArUpdater {
  ArUpdateOptions opt;
  GCancellable *cancel;
  GDBusConnection *conn;
  GDBusProxy *rauc;
  char *connect_error;
  ArUpdateEventFunc event_func;
  gpointer event_data;

  /* the install under way */
  Phase phase;
  gboolean inspect_pending; /* waiting for the D-Bus proxy */
  char *source;
  char *bundle_path;
  gboolean delete_bundle, force;
  ArUpdateDoneFunc done;
  gpointer done_data;
  ArDownload *download;
  int percent;
  char *progress_message;
  char *bundle_compatible, *bundle_version;
  /* the last install's outcome */
  char *last_error;
  char *last_installed;

  /* slot status cache (GetSlotStatus), refreshed after installs and marks */
  JsonNode *slots;
  char *booted_bundle_version;

  /* the update channel followed (ar-channel-poll.c); NULL = none */
  ArChannelPoller *channel;

  /* installing the channel's offer (ar-update-auto.c) */
  gboolean in_call;
  ArUpdateWindow window;
  GTimeZone *tz;
  GCancellable *hash_cancel; /* the SHA-256 check under way; NULL when none */
  ArDownload *chan_dl;
  ArUpdatePartial chan_want; /* what the file in STATE_DIR/update is for */
  char *chan_version;
  gboolean chan_ready;      /* the file is whole and its SHA-256 is the channel's */
  gboolean chan_installing; /* the install under way is the channel's */
  gboolean chan_manual;     /* an administrator asked for it ("channel") */
  ArUpdateDoneFunc chan_done;
  gpointer chan_done_data;
  char *chan_installed; /* installed automatically: restart into it */
  gboolean rebooting;
  guint chan_failures;
  char *chan_error;
  guint chan_retry; /* backoff timer */
  gint64 chan_retry_at;
  guint chan_tick; /* re-evaluates every minute (the window opening) */
  guint chan_kick; /* an idle re-evaluation */
  guint tick_s, backoff_min_s;
  guint64 chan_got;
  guint64 chan_resumed_from; /* the last resume's offset (0: none yet) */
  char *chan_state_key;      /* what the last update-channel-install event said */

  /* health */
  guint health_source;
  guint mark_tries;
  gboolean marked_good;
  char *mark_error;
};

/* @s as valid UTF-8, at most 1 KiB (RAUC's strings). */
char *ar_update_bounded_text(const char *s);
void ar_update_emit(ArUpdater *u, JsonNode *event);
/* {"event": @event, @member: @value (taken)} to the event function. */
void ar_update_emit_member(ArUpdater *u, const char *event, const char *member, JsonNode *value);
/* The phase's percent and message, and an "update-progress" event. */
void ar_update_set_progress(ArUpdater *u, int percent, const char *message);
/* A string property from RAUC's proxy cache, bounded; NULL if unknown. */
char *ar_update_rauc_string(ArUpdater *u, const char *name);
gboolean ar_update_rauc_present(ArUpdater *u);
gboolean ar_update_rauc_absent_error(const GError *e);
/* The version this device runs, and where it came from. */
char *ar_update_running_version(ArUpdater *u, const char **origin);
/* Starts following [update] channel-url, if set. */
void ar_updater_channel_start(ArUpdater *u);

/* ---- installing the channel's offer (ar-update-auto.c) ---- */
void ar_updater_auto_init(ArUpdater *u);
void ar_updater_auto_free(ArUpdater *u);
/* Decide again soon (from the main loop): the offer, a call, an install changed. */
void ar_updater_auto_kick(ArUpdater *u);
/* ar_updater_install(u, "channel", ...). */
gboolean ar_updater_auto_install_now(ArUpdater *u, ArUpdateDoneFunc done, gpointer data,
                                     GError **error);
/* The "install" member of the channel status; NULL without a channel. */
JsonNode *ar_updater_auto_status(ArUpdater *u);
/* Installs the bundle file @path (deleted afterwards) as @label says (ar-update.c). */
gboolean ar_updater_install_file(ArUpdater *u, const char *path, const char *label,
                                 ArUpdateDoneFunc done, gpointer data,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The channel's download pauses for a manual install (the partial file kept). */
void ar_updater_auto_pause(ArUpdater *u);

G_END_DECLS
