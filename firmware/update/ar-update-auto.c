/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-auto.c: a room that follows an update channel installs the
 * release the channel offers it (docs/fleet.md "Installing the offered
 * release", docs/decisions.md "Update channels: installing").
 *
 *   offered -> download (any time, paused during a call, resumed with an HTTP
 *   Range request, kept in STATE_DIR/update/channel.raucb with a record of
 *   what it is for) -> size and SHA-256 as the signed manifest says -> wait
 *   for the maintenance window and no call -> RAUC installs -> restart into
 *   the new slot when the room is idle inside the window.
 *
 * Failures back off as the poller does (1 min doubling up to the poll
 * interval, +-10 %). An administrator's "install channel" ignores the window
 * (and does not restart by itself, as any manual install).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ar-update-priv.h"

#define FILE_NAME "channel.raucb"
#define RECORD_NAME "channel.raucb.info"
#define TICK_S 60
#define BACKOFF_MIN_S 60
#define HASH_CHUNK (1024 * 1024)

/* ---- files ---- */

static char *
chan_path(ArUpdater *u, const char *name)
{
  return g_build_filename(u->opt.state_dir, "update", name, NULL);
}

static void
discard_files(ArUpdater *u)
{
  g_autofree char *f = chan_path(u, FILE_NAME);
  g_autofree char *r = chan_path(u, RECORD_NAME);
  g_unlink(f);
  g_unlink(r);
  u->chan_ready = FALSE;
  u->chan_got = 0;
}

/* The record of a partial file, if it is for @want. */
static gboolean
record_matches(ArUpdater *u, const ArUpdatePartial *want)
{
  g_autofree char *r = chan_path(u, RECORD_NAME);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(r, &data, &len, NULL))
    return FALSE;
  ArUpdatePartial have = {0};
  g_autoptr(GError) error = NULL;
  if (!ar_update_partial_parse(data, len, &have, &error)) {
    g_message("update: channel: %s: %s; starting the download again", r, error->message);
    return FALSE;
  }
  gboolean same = g_str_equal(have.url, want->url) && g_str_equal(have.sha256, want->sha256) &&
                  have.size == want->size;
  ar_update_partial_clear(&have);
  return same;
}

static gboolean
record_save(ArUpdater *u, GError **error)
{
  g_autofree char *dir = ar_updater_upload_dir(u, error);
  if (!dir)
    return FALSE;
  g_autofree char *r = chan_path(u, RECORD_NAME);
  g_autofree char *text = ar_update_partial_format(&u->chan_want);
  return g_file_set_contents_full(r, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* ---- state shown in the status and events ---- */

static gboolean
window_open(ArUpdater *u)
{
  return ar_update_window_contains(&u->window, u->tz, g_get_real_time() / G_USEC_PER_SEC);
}

static const char *
auto_state(ArUpdater *u)
{
  if (!u->chan_want.url && !u->chan_installed)
    return "idle";
  if (u->rebooting)
    return "restarting";
  if (u->chan_installed)
    return u->chan_retry ? "failed-retrying"
           : u->in_call  ? "installed-waiting-call"
                         : "installed-waiting-window";
  if (u->chan_installing)
    return "installing";
  if (u->chan_dl)
    return "downloading";
  if (u->hash_cancel)
    return "checking";
  if (u->chan_retry)
    return "failed-retrying";
  if (!u->opt.auto_install && !u->chan_manual)
    return "manual";
  if (u->in_call)
    return u->chan_ready ? "ready-waiting-call" : "paused-call";
  if (u->chan_ready)
    return "ready-waiting-window";
  return "idle";
}

JsonNode *
ar_updater_auto_status(ArUpdater *u)
{
  if (!u->channel)
    return NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "auto");
  json_builder_add_boolean_value(b, u->opt.auto_install);
  g_autofree char *w = u->window.always
                           ? g_strdup("00:00-24:00")
                           : g_strdup_printf("%02u:%02u-%02u:%02u", u->window.start_min / 60,
                                             u->window.start_min % 60, u->window.end_min / 60 % 24,
                                             u->window.end_min % 60);
  ar_json_add_string_or_null(b, "window", w);
  json_builder_set_member_name(b, "window_open");
  json_builder_add_boolean_value(b, window_open(u));
  json_builder_set_member_name(b, "in_call");
  json_builder_add_boolean_value(b, u->in_call);
  ar_json_add_string_or_null(b, "state", auto_state(u));
  ar_json_add_string_or_null(b, "version", u->chan_installed ? u->chan_installed : u->chan_version);
  json_builder_set_member_name(b, "downloaded_bytes");
  json_builder_add_int_value(b, (gint64)u->chan_got);
  json_builder_set_member_name(b, "size");
  json_builder_add_int_value(b, (gint64)u->chan_want.size);
  json_builder_set_member_name(b, "resumed_from");
  json_builder_add_int_value(b, (gint64)u->chan_resumed_from);
  json_builder_set_member_name(b, "failures");
  json_builder_add_int_value(b, u->chan_failures);
  ar_json_add_string_or_null(b, "error", u->chan_error);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* An "update-channel-install" event when the state, version or error changed. */
static void
maybe_notify(ArUpdater *u)
{
  if (!u->channel)
    return;
  g_autofree char *key =
      g_strdup_printf("%s|%s|%s|%s", auto_state(u), u->chan_version ? u->chan_version : "",
                      u->chan_error ? u->chan_error : "", u->chan_installed ? "i" : "");
  if (u->chan_state_key && g_str_equal(key, u->chan_state_key))
    return;
  g_free(u->chan_state_key);
  u->chan_state_key = g_steal_pointer(&key);
  ar_update_emit_member(u, "update-channel-install", "install", ar_updater_auto_status(u));
}

static void
call_waiter(ArUpdater *u, const GError *error)
{
  ArUpdateDoneFunc done = u->chan_done;
  gpointer data = u->chan_done_data;
  u->chan_done = NULL;
  u->chan_done_data = NULL;
  u->chan_manual = FALSE;
  if (done)
    done(error, data);
}

/* ---- failures: back off as the poller does ---- */

static gboolean
retry_now(gpointer data)
{
  ArUpdater *u = data;
  u->chan_retry = 0;
  u->chan_retry_at = 0;
  ar_updater_auto_kick(u);
  return G_SOURCE_REMOVE;
}

static void
chan_failed(ArUpdater *u, const GError *error)
{
  g_free(u->chan_error);
  u->chan_error = ar_update_bounded_text(error->message);
  u->chan_failures = MIN(u->chan_failures + 1, 1000);
  guint d = ar_update_jitter(
      ar_channel_poll_delay(MAX(u->opt.channel_interval_s, 1), u->backoff_min_s, u->chan_failures));
  g_warning("update: channel release %s: %s (failure %u; again in %u s)",
            u->chan_version ? u->chan_version : "?", u->chan_error, u->chan_failures, d);
  if (u->chan_retry)
    g_source_remove(u->chan_retry);
  u->chan_retry = g_timeout_add_seconds(d, retry_now, u);
  u->chan_retry_at = g_get_real_time() / G_USEC_PER_SEC + d;
  call_waiter(u, error);
  maybe_notify(u);
}

static void
clear_failures(ArUpdater *u)
{
  u->chan_failures = 0;
  g_clear_pointer(&u->chan_error, g_free);
  if (u->chan_retry)
    g_source_remove(u->chan_retry);
  u->chan_retry = 0;
  u->chan_retry_at = 0;
}

/* ---- the SHA-256 check (a worker thread: a bundle is hundreds of MiB) ---- */

typedef struct {
  char *path;
  guint64 size;
  char sha256[65];
} HashJob;

static void
hash_job_free(HashJob *j)
{
  g_free(j->path);
  g_free(j);
}

static void
hash_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
  HashJob *j = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) f = g_file_new_for_path(j->path);
  g_autoptr(GFileInputStream) in = g_file_read(f, cancel, &error);
  if (!in) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(HASH_CHUNK);
  guint64 total = 0;
  for (;;) {
    gssize n = g_input_stream_read(G_INPUT_STREAM(in), buf, HASH_CHUNK, cancel, &error);
    if (n < 0) {
      g_task_return_error(task, g_steal_pointer(&error));
      return;
    }
    if (n == 0)
      break;
    total += (guint64)n;
    if (total > j->size)
      break;
    g_checksum_update(sum, buf, (gsize)n);
  }
  if (total != j->size) {
    g_task_return_new_error(task, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                            "the downloaded bundle has %s%" G_GUINT64_FORMAT
                            " bytes, the channel says %" G_GUINT64_FORMAT,
                            total > j->size ? "more than " : "", total, j->size);
    return;
  }
  if (!g_str_equal(g_checksum_get_string(sum), j->sha256)) {
    g_task_return_new_error(task, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                            "the downloaded bundle's SHA-256 is not the one the channel signed");
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
hashed(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  g_clear_object(&u->hash_cancel);
  if (!ok) {
    g_prefix_error(&error, "refused: ");
    discard_files(u);
    chan_failed(u, error);
    return;
  }
  g_message("update: channel release %s downloaded: %" G_GUINT64_FORMAT " bytes, SHA-256 as signed",
            u->chan_version, u->chan_want.size);
  u->chan_ready = TRUE;
  clear_failures(u); /* a good download: the failures before it are over */
  ar_updater_auto_kick(u);
}

static void
start_hash(ArUpdater *u)
{
  HashJob *j = g_new0(HashJob, 1);
  j->path = chan_path(u, FILE_NAME);
  j->size = u->chan_want.size;
  memcpy(j->sha256, u->chan_want.sha256, sizeof j->sha256);
  u->hash_cancel = g_cancellable_new();
  g_autoptr(GTask) task = g_task_new(NULL, u->hash_cancel, hashed, u);
  g_task_set_task_data(task, j, (GDestroyNotify)hash_job_free);
  g_task_run_in_thread(task, hash_thread);
  maybe_notify(u);
}

/* ---- the download ---- */

static void
download_ended(ArUpdater *u)
{
  g_clear_pointer(&u->chan_dl, ar_download_free);
  if (u->phase == PHASE_DOWNLOAD) {
    u->phase = PHASE_IDLE;
    g_clear_pointer(&u->source, g_free);
  }
}

static void
chan_progress(guint64 got, guint64 total, gpointer data)
{
  ArUpdater *u = data;
  guint64 size = total ? total : u->chan_want.size;
  int percent = size ? (int)(got * 100 / size) : 0;
  u->chan_got = got;
  if (percent == u->percent)
    return;
  g_autofree char *msg =
      g_strdup_printf("downloaded %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", got, size);
  ar_update_set_progress(u, percent, msg);
}

static void
chan_downloaded(const GError *error, gpointer data)
{
  ArUpdater *u = data;
  guint64 got = 0, total = 0;
  guint status = 0;
  ar_download_get_progress(u->chan_dl, &got, &total, &status);
  u->chan_got = got;
  download_ended(u);
  if (error) {
    g_autofree char *f = chan_path(u, FILE_NAME);
    if (!g_file_test(f, G_FILE_TEST_EXISTS))
      discard_files(u); /* the server's answer was wrong: from byte 0 next time */
    chan_failed(u, error);
    return;
  }
  start_hash(u);
}

static void
start_download(ArUpdater *u)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *f = chan_path(u, FILE_NAME);
  guint64 offset = 0;
  GStatBuf st;
  if (u->chan_want.size > u->opt.max_bundle_size) {
    g_set_error(&error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE,
                "the channel's bundle (%" G_GUINT64_FORMAT " bytes) is larger than "
                "max-bundle-size (%" G_GUINT64_FORMAT " MiB)",
                u->chan_want.size, u->opt.max_bundle_size / (1024 * 1024));
    chan_failed(u, error);
    return;
  }
  if (record_matches(u, &u->chan_want) && g_lstat(f, &st) == 0 && S_ISREG(st.st_mode) &&
      (guint64)st.st_size <= u->chan_want.size) {
    offset = (guint64)st.st_size;
    u->chan_got = offset;
    if (offset == u->chan_want.size) {
      start_hash(u);
      return;
    }
  } else {
    discard_files(u);
    if (!record_save(u, &error)) {
      chan_failed(u, error);
      return;
    }
  }
  if (offset)
    g_message("update: channel release %s: resuming the download at byte %" G_GUINT64_FORMAT
              " of %" G_GUINT64_FORMAT,
              u->chan_version, offset, u->chan_want.size);
  else
    g_message("update: channel release %s: downloading %" G_GUINT64_FORMAT " bytes",
              u->chan_version, u->chan_want.size);
  u->chan_dl =
      ar_download_resume(u->chan_want.url, f, offset, u->chan_want.size, u->opt.max_bundle_size,
                         u->opt.download_ca, chan_progress, chan_downloaded, u, &error);
  if (!u->chan_dl) {
    if (offset)
      discard_files(u);
    chan_failed(u, error);
    return;
  }
  if (offset)
    u->chan_resumed_from = offset;
  u->phase = PHASE_DOWNLOAD;
  g_free(u->source);
  u->source = g_strdup_printf("channel release %s", u->chan_version);
  u->percent = -1;
  chan_progress(offset, u->chan_want.size, u);
  maybe_notify(u);
}

void
ar_updater_auto_pause(ArUpdater *u)
{
  if (!u->chan_dl)
    return;
  g_message("update: channel release %s: download paused at byte %" G_GUINT64_FORMAT,
            u->chan_version, u->chan_got);
  download_ended(u);
  maybe_notify(u);
}

/* ---- install and restart ---- */

static void
chan_install_done(const GError *error, gpointer data)
{
  ArUpdater *u = data;
  u->chan_installing = FALSE;
  u->chan_ready = FALSE;
  g_autofree char *r = chan_path(u, RECORD_NAME);
  g_unlink(r); /* the bundle itself was deleted by the install */
  u->chan_got = 0;
  if (error) {
    chan_failed(u, error);
    return;
  }
  clear_failures(u);
  if (!u->chan_manual) {
    g_free(u->chan_installed);
    u->chan_installed = g_strdup(u->chan_version);
  }
  call_waiter(u, NULL);
  ar_updater_auto_kick(u);
}

static void
start_install(ArUpdater *u)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *f = chan_path(u, FILE_NAME);
  g_autofree char *label = g_strdup_printf("channel release %s", u->chan_version);
  u->chan_installing = TRUE;
  if (!ar_updater_install_file(u, f, label, chan_install_done, u, &error)) {
    u->chan_installing = FALSE;
    chan_failed(u, error);
    return;
  }
  g_message("update: channel release %s: installing (%s)", u->chan_version,
            u->chan_manual ? "asked by an administrator" : "inside the maintenance window");
  maybe_notify(u);
}

static void
restart(ArUpdater *u)
{
  const char *cmd = u->opt.reboot_command ? u->opt.reboot_command : "systemctl reboot";
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_shell_parse_argv(cmd, NULL, &argv, &error) ||
      !g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &error)) {
    /* Tried again after the backoff, not at every look at the window. */
    g_prefix_error(&error, "installed, but the restart (system.reboot-command) failed: ");
    chan_failed(u, error);
    return;
  }
  u->rebooting = TRUE;
  g_message("update: channel release %s installed; restarting into it (idle, inside the "
            "maintenance window)",
            u->chan_installed);
  maybe_notify(u);
}

/* ---- the decision ---- */

static void
evaluate(ArUpdater *u)
{
  if (!u->channel)
    return;
  if (u->rebooting && !u->chan_manual)
    return;
  if (u->chan_installed && !u->chan_manual) {
    /* Restart into it: never during a call, only inside the window. */
    if (u->opt.auto_install && !u->in_call && !u->chan_retry && window_open(u) &&
        u->phase == PHASE_IDLE)
      restart(u);
    maybe_notify(u);
    return;
  }
  ArChannelOffer offer;
  if (!ar_channel_poller_get_offer(u->channel, u->chan_manual, &offer)) {
    /* Nothing offered (now): stop, keep the partial file for when it comes back. */
    ar_updater_auto_pause(u);
    if (u->chan_manual && !u->chan_installing) {
      g_autoptr(GError) e = g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                                        "the channel offers no release for this room");
      call_waiter(u, e);
    }
    g_clear_pointer(&u->chan_version, g_free);
    ar_update_partial_clear(&u->chan_want);
    u->chan_ready = FALSE;
    maybe_notify(u);
    return;
  }
  if (!u->chan_want.url || !g_str_equal(u->chan_want.url, offer.url) ||
      !g_str_equal(u->chan_want.sha256, offer.sha256) || u->chan_want.size != offer.size) {
    if (u->chan_installing)
      return; /* the install under way ends first */
    ar_updater_auto_pause(u);
    if (u->hash_cancel) {
      g_cancellable_cancel(u->hash_cancel);
      g_clear_object(&u->hash_cancel);
    }
    ar_update_partial_clear(&u->chan_want);
    u->chan_want.url = g_strdup(offer.url);
    g_strlcpy(u->chan_want.sha256, offer.sha256, sizeof u->chan_want.sha256);
    u->chan_want.size = offer.size;
    g_free(u->chan_version);
    u->chan_version = g_strdup(offer.version);
    u->chan_ready = FALSE;
    u->chan_got = 0;
    u->chan_resumed_from = 0;
    clear_failures(u);
  }
  if (!u->opt.auto_install && !u->chan_manual) {
    maybe_notify(u);
    return;
  }
  /* The release was installed by hand already (restart pending): not again. */
  if (!u->chan_manual && u->last_installed && g_str_equal(u->last_installed, offer.version)) {
    maybe_notify(u);
    return;
  }
  if (u->in_call && !u->chan_manual) {
    ar_updater_auto_pause(u); /* the call's bandwidth first; resumed afterwards */
    maybe_notify(u);
    return;
  }
  if (u->chan_retry || u->chan_dl || u->hash_cancel || u->chan_installing) {
    maybe_notify(u);
    return;
  }
  if (!u->chan_ready) {
    if (u->phase == PHASE_IDLE)
      start_download(u);
    maybe_notify(u);
    return;
  }
  if (u->phase == PHASE_IDLE && (u->chan_manual || window_open(u)))
    start_install(u);
  maybe_notify(u);
}

static gboolean
kicked(gpointer data)
{
  ArUpdater *u = data;
  u->chan_kick = 0;
  evaluate(u);
  return G_SOURCE_REMOVE;
}

void
ar_updater_auto_kick(ArUpdater *u)
{
  if (u->channel && !u->chan_kick)
    u->chan_kick = g_idle_add(kicked, u);
}

static gboolean
tick(gpointer data)
{
  evaluate(data);
  return G_SOURCE_CONTINUE;
}

void
ar_updater_set_in_call(ArUpdater *u, gboolean in_call)
{
  if (u->in_call == in_call)
    return;
  u->in_call = in_call;
  g_debug("update: %s", in_call ? "a call started" : "no call any more");
  if (in_call)
    evaluate(u); /* pause at once, not from an idle */
  else
    ar_updater_auto_kick(u);
}

gboolean
ar_updater_auto_install_now(ArUpdater *u, ArUpdateDoneFunc done, gpointer data, GError **error)
{
  ArChannelOffer offer;
  if (!u->channel) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "this room follows no update channel ([update] channel-url)");
    return FALSE;
  }
  if (!ar_channel_poller_get_offer(u->channel, TRUE, &offer)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "the channel offers no release for this room (yet)");
    return FALSE;
  }
  if (u->chan_installing || u->chan_manual || (u->phase != PHASE_IDLE && !u->chan_dl)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BUSY, "an update is already running");
    return FALSE;
  }
  u->chan_manual = TRUE;
  u->chan_done = done;
  u->chan_done_data = data;
  clear_failures(u);
  g_message("update: channel release %s: an administrator asked to install it now", offer.version);
  evaluate(u);
  return TRUE;
}

gboolean
ar_updater_set_window(ArUpdater *u, const char *window, gboolean auto_install, GError **error)
{
  ArUpdateWindow w;
  if (!ar_update_window_parse(window, &w, error))
    return FALSE;
  u->window = w;
  u->opt.auto_install = auto_install;
  g_free(u->opt.window);
  u->opt.window = g_strdup(window);
  if (!u->channel)
    return TRUE; /* no channel (or updates off): kept for nothing to use */
  g_message("update: channel releases install %s, window %s (%s time)",
            auto_install ? "automatically" : "by hand only", window,
            g_time_zone_get_identifier(u->tz));
  ar_updater_auto_kick(u);
  return TRUE;
}

/* ---- life ---- */

void
ar_updater_auto_init(ArUpdater *u)
{
  g_autoptr(GError) error = NULL;
  const char *w = u->opt.window && *u->opt.window ? u->opt.window : "02:00-05:00";
  if (!ar_update_window_parse(w, &u->window, &error)) {
    /* The config check refused it already; a caller's bad value: the default. */
    g_warning("%s; using 02:00-05:00", error->message);
    w = "02:00-05:00";
    u->window = (ArUpdateWindow){.start_min = 2 * 60, .end_min = 5 * 60};
  }
  u->tz = g_time_zone_new_local();
  u->tick_s = TICK_S;
  u->backoff_min_s = BACKOFF_MIN_S;
  /* Tests only: the same seconds as the poll (ANYROOM_TEST_CHANNEL_POLL_SECONDS). */
  const char *test_s = g_getenv("ANYROOM_TEST_CHANNEL_POLL_SECONDS");
  guint64 v;
  if (test_s && g_ascii_string_to_unsigned(test_s, 10, 1, 86400, &v, NULL))
    u->tick_s = u->backoff_min_s = (guint)v;
  if (!u->channel)
    return;
  g_message("update: channel releases install %s, window %s (%s time)",
            u->opt.auto_install ? "automatically" : "by hand only", w,
            g_time_zone_get_identifier(u->tz));
  u->chan_tick = g_timeout_add_seconds(u->tick_s, tick, u);
}

void
ar_updater_auto_free(ArUpdater *u)
{
  if (u->chan_tick)
    g_source_remove(u->chan_tick);
  if (u->chan_kick)
    g_source_remove(u->chan_kick);
  if (u->chan_retry)
    g_source_remove(u->chan_retry);
  if (u->hash_cancel) {
    g_cancellable_cancel(u->hash_cancel);
    g_clear_object(&u->hash_cancel);
  }
  g_clear_pointer(&u->chan_dl, ar_download_free); /* the partial file stays */
  ar_update_partial_clear(&u->chan_want);
  g_clear_pointer(&u->tz, g_time_zone_unref);
  g_free(u->chan_version);
  g_free(u->chan_installed);
  g_free(u->chan_error);
  g_free(u->chan_state_key);
}
