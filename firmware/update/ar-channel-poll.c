/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-channel-poll.c: anyroomd follows an update channel (docs/fleet.md
 * "Update channels"): every poll interval (+-10 % jitter) an https GET of the
 * channel file (libsoup 3, bounded, TLS checked against channel-ca or the
 * system store, https redirects only), then the whole check of ar-channel.c
 * with RAUC's keyring, this board's compatible, the machine ID and the last
 * accepted serial and digest (kept in STATE_DIR/update/channel-state, written
 * atomically). A failure backs off (1 min doubling up to the interval, with
 * jitter) and logs one line. The result (the release offered, up to date, or
 * waiting for the rollout) shows in the update status; an event tells when it
 * changes. Nothing is installed here (ar-update-auto.c installs the offer).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "ar-channel.h"
#include "ar-json.h"
#include "ar-update-priv.h"

#define MAX_BODY (AR_CHANNEL_MAX_FILE + 64 * 1024) /* the JSON + the CMS signature */
#define MAX_KEYRING (1024 * 1024)
#define MAX_ERROR 300   /* characters of an error in the status and the log */
#define IO_TIMEOUT_S 30 /* connect, TLS and each read */
#define DEADLINE_S 120  /* the whole poll */
#define BACKOFF_MIN_S 60
#define STATE_GROUP "channel"

typedef enum { VERDICT_NONE, VERDICT_UP_TO_DATE, VERDICT_OFFER, VERDICT_WAITING } Verdict;
static const char *const verdict_names[] = {NULL, "up-to-date", "offered", "waiting"};

struct _ArChannelPoller {
  ArChannelPollOptions opt;
  char *url_host;
  ArChannelPollQuery query;
  ArChannelPollChanged changed;
  gpointer data;

  SoupSession *session;
  SoupMessage *msg;
  GCancellable *cancel; /* the poll under way; NULL when none */
  GInputStream *in;
  GByteArray *body;
  char *abort_reason; /* why the poll was cancelled: a redirect, the deadline */
  guint timer;
  guint deadline;

  /* persisted: the last accepted manifest */
  ArChannelSeen seen;
  /* for the status */
  gint64 last_check, last_ok, next_check; /* unix seconds, 0 = never */
  guint failures;
  char *error;
  Verdict verdict;
  char *offered_version, *offered_host;
  char *offered_url; /* the whole URL: for the download only, never shown */
  char offered_sha256[65];
  guint64 offered_size;
  double place, share;
  char *event_key; /* what the last event said */
};

/* ---- small helpers ---- */

/* @s as one bounded line of valid UTF-8 (control characters become spaces). */
static char *
one_line(const char *s)
{
  g_autofree char *valid = g_utf8_make_valid(s ? s : "", -1);
  GString *out = g_string_new(NULL);
  guint n = 0;
  for (const char *p = valid; *p && n < MAX_ERROR; p = g_utf8_next_char(p), n++) {
    gunichar c = g_utf8_get_char(p);
    if (c < 0x20 || c == 0x7f)
      g_string_append_c(out, ' ');
    else
      g_string_append_unichar(out, c);
  }
  if (*valid && n >= MAX_ERROR && strlen(valid) > out->len)
    g_string_append(out, "...");
  return g_string_free(out, FALSE);
}

/* The host of an https URL, bounded; "?" if none. Never the path or query
 * (a token may live there). */
static char *
url_host(const char *url)
{
  g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *host = uri ? g_uri_get_host(uri) : NULL;
  if (!host || !*host)
    return g_strdup("?");
  return one_line(host);
}

/* @s +- 10 % at random, at least 1. */
guint
ar_update_jitter(guint s)
{
  double f = g_random_double_range(0.9, 1.1);
  guint v = (guint)(s * f + 0.5);
  return v ? v : 1;
}

guint
ar_channel_poll_delay(guint interval_s, guint backoff_min_s, guint failures)
{
  if (failures == 0)
    return interval_s;
  guint64 d = backoff_min_s ? backoff_min_s : 1;
  for (guint i = 1; i < failures && d < interval_s; i++)
    d *= 2;
  return (guint)MIN(d, (guint64)interval_s);
}

static char *
iso_time(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

/* ---- state file ---- */

static char *
state_path(ArChannelPoller *p)
{
  return g_build_filename(p->opt.state_dir, "update", "channel-state", NULL);
}

/* Reads the last accepted serial and digest, if they belong to this channel. */
static void
state_load(ArChannelPoller *p)
{
  g_autofree char *path = state_path(p);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return;
  if (len > 4096 || !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL)) {
    g_warning("update: channel: %s is unreadable; starting from no accepted manifest", path);
    return;
  }
  g_autofree char *channel = g_key_file_get_string(kf, STATE_GROUP, "channel", NULL);
  if (!channel || !g_str_equal(channel, p->opt.channel)) {
    g_message("update: channel: following '%s' (was '%s'): no serial seen yet", p->opt.channel,
              channel ? channel : "none");
    return;
  }
  g_autofree char *serial = g_key_file_get_string(kf, STATE_GROUP, "serial", NULL);
  g_autofree char *digest = g_key_file_get_string(kf, STATE_GROUP, "digest", NULL);
  guint64 s = 0;
  if (!serial || !g_ascii_string_to_unsigned(serial, 10, 1, AR_CHANNEL_MAX_SERIAL, &s, NULL) ||
      !digest || strlen(digest) != 64) {
    g_warning("update: channel: %s is unreadable; starting from no accepted manifest", path);
    return;
  }
  for (const char *c = digest; *c; c++)
    if (!g_ascii_isxdigit(*c))
      return;
  p->seen.serial = (gint64)s;
  g_strlcpy(p->seen.digest, digest, sizeof p->seen.digest);
}

/* Writes serial and digest: a temporary file, fsync, rename (GLib's
 * G_FILE_SET_CONTENTS_CONSISTENT). */
static gboolean
state_save(ArChannelPoller *p, const ArChannelSeen *seen, GError **error)
{
  g_autofree char *dir = g_build_filename(p->opt.state_dir, "update", NULL);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    int err = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot create %s: %s", dir,
                g_strerror(err));
    return FALSE;
  }
  g_autofree char *path = state_path(p);
  g_autofree char *text =
      g_strdup_printf("[" STATE_GROUP "]\nchannel=%s\nserial=%" G_GINT64_FORMAT "\ndigest=%s\n",
                      p->opt.channel, seen->serial, seen->digest);
  return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* ---- status and events ---- */

static void
add_time_or_null(JsonBuilder *b, const char *name, gint64 t)
{
  g_autofree char *s = t ? iso_time(t) : NULL;
  ar_json_add_string_or_null(b, name, s);
}

gboolean
ar_channel_poller_get_offer(ArChannelPoller *p, gboolean waiting_too, ArChannelOffer *out)
{
  if (!(p->verdict == VERDICT_OFFER || (waiting_too && p->verdict == VERDICT_WAITING)) ||
      !p->offered_url)
    return FALSE;
  out->version = p->offered_version;
  out->url = p->offered_url;
  out->url_host = p->offered_host;
  out->sha256 = p->offered_sha256;
  out->size = p->offered_size;
  return TRUE;
}

JsonNode *
ar_channel_poller_status(ArChannelPoller *p)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "url_host", p->url_host);
  ar_json_add_string_or_null(b, "name", p->opt.channel);
  add_time_or_null(b, "last_check", p->last_check);
  add_time_or_null(b, "last_ok", p->last_ok);
  add_time_or_null(b, "next_check", p->next_check);
  json_builder_set_member_name(b, "serial");
  if (p->seen.serial)
    json_builder_add_int_value(b, p->seen.serial);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "failures");
  json_builder_add_int_value(b, p->failures);
  ar_json_add_string_or_null(b, "error", p->error);
  ar_json_add_string_or_null(b, "state", verdict_names[p->verdict]);
  json_builder_set_member_name(b, "offered");
  if (p->verdict == VERDICT_OFFER || p->verdict == VERDICT_WAITING) {
    json_builder_begin_object(b);
    ar_json_add_string_or_null(b, "version", p->offered_version);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)p->offered_size);
    ar_json_add_string_or_null(b, "url_host", p->offered_host);
    json_builder_set_member_name(b, "rollout_place");
    json_builder_add_double_value(b, p->place);
    json_builder_set_member_name(b, "rollout_share");
    json_builder_add_double_value(b, p->share);
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* An "update-channel" event when the verdict, the offered version, the serial
 * or the error changed (not at every poll). */
static void
maybe_notify(ArChannelPoller *p)
{
  g_autofree char *key = g_strdup_printf("%d|%s|%" G_GINT64_FORMAT "|%s", p->verdict,
                                         p->offered_version ? p->offered_version : "",
                                         p->seen.serial, p->error ? p->error : "");
  if (p->event_key && g_str_equal(key, p->event_key))
    return;
  g_free(p->event_key);
  p->event_key = g_steal_pointer(&key);
  if (p->changed)
    p->changed(p->data);
}

/* ---- one poll ---- */

static void schedule(ArChannelPoller *p);

static void
poll_end(ArChannelPoller *p)
{
  g_clear_object(&p->in);
  g_clear_object(&p->msg);
  g_clear_object(&p->cancel);
  g_clear_pointer(&p->body, g_byte_array_unref);
  g_clear_pointer(&p->abort_reason, g_free);
  if (p->deadline) {
    g_source_remove(p->deadline);
    p->deadline = 0;
  }
}

static void
poll_failed(ArChannelPoller *p, const char *message)
{
  g_free(p->error);
  p->error = one_line(message);
  p->failures = MIN(p->failures + 1, 1000);
  g_warning("update: channel %s from %s: %s (failure %u; the last accepted state is kept)",
            p->opt.channel, p->url_host, p->error, p->failures);
  poll_end(p);
  schedule(p);
  maybe_notify(p);
}

static void
check_body(ArChannelPoller *p)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  gsize pem_len = 0;
  if (!g_file_get_contents(p->opt.keyring_file, &pem, &pem_len, &error) || pem_len > MAX_KEYRING) {
    g_autofree char *m = g_strdup_printf("update.keyring %s: %s", p->opt.keyring_file,
                                         error ? error->message : "larger than 1 MiB");
    poll_failed(p, m);
    return;
  }
  g_autoptr(ArChannelKeyring) keyring = ar_channel_keyring_new(pem, pem_len, &error);
  if (!keyring) {
    g_autofree char *m =
        g_strdup_printf("update.keyring %s: %s", p->opt.keyring_file, error->message);
    poll_failed(p, m);
    return;
  }
  g_autofree char *compatible = NULL, *running = NULL, *machine_id = NULL;
  p->query(p->data, &compatible, &running);
  if (!compatible || !*compatible) {
    poll_failed(p, "this room's compatible is not known (RAUC is not on the bus and the board "
                   "profile has no [rauc] compatible)");
    return;
  }
  gsize mid_len = 0;
  if (!g_file_get_contents(p->opt.machine_id_file, &machine_id, &mid_len, &error) ||
      mid_len > 256) {
    g_autofree char *m =
        g_strdup_printf("%s: %s", p->opt.machine_id_file, error ? error->message : "too long");
    poll_failed(p, m);
    return;
  }
  g_strstrip(machine_id);
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  ArChannelCheck check = {
      .channel = p->opt.channel, .compatible = compatible, .now = now, .last = p->seen};
  g_autoptr(ArChannelManifest) m =
      ar_channel_load(p->body->data, p->body->len, keyring, &check, &error);
  if (!m) {
    poll_failed(p, error->message);
    return;
  }
  ArChannelChoice choice = {0};
  if (!ar_channel_choose(m, compatible, machine_id, now, running, &choice, &error)) {
    poll_failed(p, error->message);
    return;
  }
  ArChannelSeen seen = {.serial = m->serial};
  g_strlcpy(seen.digest, m->digest, sizeof seen.digest);
  if (!m->unchanged && !state_save(p, &seen, &error)) {
    /* Not accepted: without the serial on disk a restart would take an older file. */
    g_autofree char *msg = g_strdup_printf("cannot keep the channel's serial: %s", error->message);
    poll_failed(p, msg);
    return;
  }
  gboolean was_failing = p->failures > 0;
  p->seen = seen;
  p->last_ok = now;
  p->failures = 0;
  g_clear_pointer(&p->error, g_free);
  g_clear_pointer(&p->offered_version, g_free);
  g_clear_pointer(&p->offered_host, g_free);
  g_clear_pointer(&p->offered_url, g_free);
  p->offered_sha256[0] = '\0';
  p->offered_size = 0;
  p->place = p->share = 0;
  switch (choice.verdict) {
  case AR_CHANNEL_UP_TO_DATE:
    p->verdict = VERDICT_UP_TO_DATE;
    break;
  case AR_CHANNEL_INSTALL:
  case AR_CHANNEL_WAITING:
    p->verdict = choice.verdict == AR_CHANNEL_INSTALL ? VERDICT_OFFER : VERDICT_WAITING;
    p->offered_version = one_line(choice.release->version);
    p->offered_size = choice.bundle->size;
    p->offered_host = url_host(choice.bundle->url);
    p->offered_url = g_strdup(choice.bundle->url);
    g_strlcpy(p->offered_sha256, choice.bundle->sha256, sizeof p->offered_sha256);
    /* two decimals: the status stays short */
    p->place = (gint64)(choice.place * 100) / 100.0;
    p->share = (gint64)(choice.share * 100) / 100.0;
    break;
  }
  if (!m->unchanged || was_failing)
    g_message("update: channel %s from %s: serial %" G_GINT64_FORMAT " accepted: %s%s%s",
              p->opt.channel, p->url_host, m->serial, verdict_names[p->verdict],
              p->offered_version ? " " : "", p->offered_version ? p->offered_version : "");
  poll_end(p);
  schedule(p);
  maybe_notify(p);
}

/* Each async operation holds a reference on the poll's GCancellable, which
 * points at the poller until it is freed: a callback after the free finds
 * NULL there and returns. */
static ArChannelPoller *
poller_of(GCancellable *cancel)
{
  return g_object_get_data(G_OBJECT(cancel), "ar-poller");
}

static void
got_chunk(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GCancellable) cancel = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(src), res, &error);
  ArChannelPoller *p = poller_of(cancel);
  if (!p)
    return;
  if (!bytes && p->abort_reason) {
    g_autofree char *m = g_strdup_printf("download failed: %s", p->abort_reason);
    poll_failed(p, m);
    return;
  }
  if (!bytes) {
    g_autofree char *m = g_strdup_printf("download failed: %s", error->message);
    poll_failed(p, m);
    return;
  }
  gsize n = g_bytes_get_size(bytes);
  if (n == 0) {
    check_body(p);
    return;
  }
  if (p->body->len + n > MAX_BODY) {
    poll_failed(p, "the channel file is larger than 320 KiB");
    return;
  }
  g_byte_array_append(p->body, g_bytes_get_data(bytes, NULL), n);
  g_input_stream_read_bytes_async(p->in, 64 * 1024, G_PRIORITY_DEFAULT, p->cancel, got_chunk,
                                  g_object_ref(p->cancel));
}

static void
sent(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GCancellable) cancel = data;
  g_autoptr(GError) error = NULL;
  GInputStream *in = soup_session_send_finish(SOUP_SESSION(src), res, &error);
  ArChannelPoller *p = poller_of(cancel);
  if (!p) {
    g_clear_object(&in);
    return;
  }
  if (!in) {
    g_autofree char *m =
        g_strdup_printf("download failed: %s", p->abort_reason ? p->abort_reason : error->message);
    poll_failed(p, m);
    return;
  }
  p->in = in;
  guint status = soup_message_get_status(p->msg);
  if (status != SOUP_STATUS_OK) {
    const char *reason = soup_message_get_reason_phrase(p->msg);
    g_autofree char *m =
        g_strdup_printf("the server answered HTTP %u %s", status, reason ? reason : "");
    poll_failed(p, m);
    return;
  }
  goffset len = soup_message_headers_get_content_length(soup_message_get_response_headers(p->msg));
  if (len > MAX_BODY) {
    poll_failed(p, "the channel file is larger than 320 KiB");
    return;
  }
  p->body = g_byte_array_new();
  g_input_stream_read_bytes_async(p->in, 64 * 1024, G_PRIORITY_DEFAULT, p->cancel, got_chunk,
                                  g_object_ref(p->cancel));
}

static void
restarted(SoupMessage *msg, gpointer data)
{
  ArChannelPoller *p = data;

  ar_update_refuse_plain_redirect(msg, &p->abort_reason, p->cancel);
}

static gboolean
poll_deadline(gpointer data)
{
  ArChannelPoller *p = data;
  p->deadline = 0;
  if (!p->abort_reason)
    p->abort_reason = g_strdup_printf("no whole answer within %d s", DEADLINE_S);
  g_cancellable_cancel(p->cancel);
  return G_SOURCE_REMOVE;
}

static gboolean
poll_now(gpointer data)
{
  ArChannelPoller *p = data;
  p->timer = 0;
  p->next_check = 0;
  if (p->cancel)
    return G_SOURCE_REMOVE; /* one under way */
  p->last_check = g_get_real_time() / G_USEC_PER_SEC;
  p->msg = soup_message_new("GET", p->opt.url);
  if (!p->msg) {
    poll_failed(p, "update.channel-url is not a URL libsoup accepts");
    return G_SOURCE_REMOVE;
  }
  /* A CDN must not hand a stale copy after a pause was published. */
  soup_message_headers_replace(soup_message_get_request_headers(p->msg), "Cache-Control",
                               "no-cache");
  g_signal_connect(p->msg, "restarted", G_CALLBACK(restarted), p);
  p->cancel = g_cancellable_new();
  g_object_set_data(G_OBJECT(p->cancel), "ar-poller", p);
  p->deadline = g_timeout_add_seconds(DEADLINE_S, poll_deadline, p);
  soup_session_send_async(p->session, p->msg, G_PRIORITY_DEFAULT, p->cancel, sent,
                          g_object_ref(p->cancel));
  return G_SOURCE_REMOVE;
}

static void
schedule(ArChannelPoller *p)
{
  if (p->timer)
    g_source_remove(p->timer);
  guint d =
      ar_update_jitter(ar_channel_poll_delay(p->opt.interval_s, p->opt.backoff_min_s, p->failures));
  p->next_check = g_get_real_time() / G_USEC_PER_SEC + d;
  p->timer = g_timeout_add_seconds(d, poll_now, p);
}

/* ---- life ---- */

ArChannelPoller *
ar_channel_poller_new(const ArChannelPollOptions *opt, ArChannelPollQuery query,
                      ArChannelPollChanged changed, gpointer data, GError **error)
{
  if (!ar_update_check_url(opt->url, error)) {
    g_prefix_error(error, "update.channel-url: ");
    return NULL;
  }
  g_autoptr(GTlsDatabase) db = NULL;
  if (opt->ca_file && *opt->ca_file) {
    db = g_tls_file_database_new(opt->ca_file, error);
    if (!db) {
      g_prefix_error(error, "update.channel-ca: ");
      return NULL;
    }
  }
  ArChannelPoller *p = g_new0(ArChannelPoller, 1);
  p->opt = *opt;
  p->opt.url = g_strdup(opt->url);
  p->opt.channel = g_strdup(opt->channel);
  p->opt.ca_file = g_strdup(opt->ca_file);
  p->opt.keyring_file = g_strdup(opt->keyring_file);
  p->opt.state_dir = g_strdup(opt->state_dir);
  p->opt.machine_id_file =
      g_strdup(opt->machine_id_file ? opt->machine_id_file : "/etc/machine-id");
  if (!p->opt.interval_s)
    p->opt.interval_s = 360 * 60;
  if (!p->opt.backoff_min_s)
    p->opt.backoff_min_s = MIN(BACKOFF_MIN_S, p->opt.interval_s);
  p->url_host = url_host(opt->url);
  p->query = query;
  p->changed = changed;
  p->data = data;
  /* "timeout": per I/O operation (connect, TLS, each read); "idle-timeout" closes the
   * connection between polls. */
  p->session = soup_session_new_with_options("timeout", IO_TIMEOUT_S, "idle-timeout", 5,
                                             "user-agent", "anyroomd-channel", NULL);
  if (db)
    soup_session_set_tls_database(p->session, db);
  state_load(p);
  /* The first poll soon after start, spread over up to a minute (a building's rooms
   * restarting together do not hit the origin at once). */
  guint first = g_random_int_range(1, (gint32)MIN(p->opt.interval_s, 60) + 1);
  p->next_check = g_get_real_time() / G_USEC_PER_SEC + first;
  p->timer = g_timeout_add_seconds(first, poll_now, p);
  g_message("update: following channel %s from %s, every %u s (+-10 %%)%s", p->opt.channel,
            p->url_host, p->opt.interval_s, p->seen.serial ? "" : "; no serial seen yet");
  return p;
}

void
ar_channel_poller_free(ArChannelPoller *p)
{
  if (!p)
    return;
  if (p->timer)
    g_source_remove(p->timer);
  if (p->cancel) {
    g_object_set_data(G_OBJECT(p->cancel), "ar-poller", NULL); /* pending callbacks return */
    g_cancellable_cancel(p->cancel);
  }
  if (p->msg)
    g_signal_handlers_disconnect_by_data(p->msg, p);
  poll_end(p);
  g_clear_object(&p->session);
  g_free((char *)p->opt.url);
  g_free((char *)p->opt.channel);
  g_free((char *)p->opt.ca_file);
  g_free((char *)p->opt.keyring_file);
  g_free((char *)p->opt.state_dir);
  g_free((char *)p->opt.machine_id_file);
  g_free(p->url_host);
  g_free(p->error);
  g_free(p->offered_version);
  g_free(p->offered_host);
  g_free(p->offered_url);
  g_free(p->event_key);
  g_free(p);
}
