/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-video.c: the native call's encoded video to the room screen over an
 * authenticated WebSocket; the page decodes it with WebCodecs (see
 * docs/decisions.md "Native-call video on the room page").
 *
 * Per track, the messages since its last key frame are cached so a page that
 * (re)connects starts at once. Bounds: per track cache (frames, bytes: past
 * them the cache is dropped and a key frame requested); per client a window
 * of unacknowledged frames (the page acks what it received): a slow client
 * loses frames up to the next key frame of each track, nobody's memory grows.
 */
#include "ar-web-video.h"

#include <string.h>

#include "ar-api-slots.h"

/* Video streams: 4 in all, 2 per credential (its oldest goes for a new one:
 * a page that reloads after a network blip), 2 kept for the room screen,
 * which is never refused (ar-api-slots.h). */
#define AR_VIDEO_MAX_CLIENTS 4
#define AR_VIDEO_MAX_CLIENTS_PER_OWNER 2
#define AR_VIDEO_RESERVED_CLIENTS 2
/* Browsers send key frames only when asked (and webrtcbin 1.22's key frame
 * requests do not reliably leave as PLI), so the cache must span tens of
 * seconds: 900 frames is 30 s at 30 fps. */
#define AR_VIDEO_CACHE_MAX_FRAMES 900
#define AR_VIDEO_CACHE_MAX_BYTES (16 * 1024 * 1024)
#define AR_VIDEO_WINDOW 45 /* frames sent and not yet acknowledged */
#define AR_VIDEO_KEY_REQUEST_GAP_US (G_USEC_PER_SEC)
#define AR_VIDEO_TRACK_MAX 64

typedef struct {
  char *name;
  GPtrArray *cache; /* GBytes messages from the last key frame on */
  gsize cache_bytes;
  gboolean have_key; /* the cache starts with a key frame */
  gint64 last_key_request_us;
} Track;

typedef struct {
  ArVideoRelay *relay;
  SoupWebsocketConnection *ws;
  char *owner;
  guint64 sent;         /* frames sent */
  guint64 acked;        /* frames the page said it received */
  GHashTable *need_key; /* track name -> present: skip that track's deltas */
  guint64 dropped;
} Client;

struct _ArVideoRelay {
  ArMediaEngine *engine;
  GHashTable *tracks; /* name -> Track* */
  GPtrArray *clients; /* Client* */
  guint64 units, dropped_units, key_requests;
};

static void
track_free(gpointer data)
{
  Track *t = data;
  g_free(t->name);
  g_ptr_array_unref(t->cache);
  g_free(t);
}

static void
track_clear_cache(Track *t)
{
  g_ptr_array_set_size(t->cache, 0);
  t->cache_bytes = 0;
  t->have_key = FALSE;
}

static void
request_key(ArVideoRelay *r, Track *t)
{
  gint64 now = g_get_monotonic_time();
  if (t->last_key_request_us && now - t->last_key_request_us < AR_VIDEO_KEY_REQUEST_GAP_US)
    return;
  t->last_key_request_us = now;
  r->key_requests++;
  if (r->engine)
    ar_media_engine_request_key_frame(r->engine, t->name);
}

static void
client_free(gpointer data)
{
  Client *c = data;
  g_signal_handlers_disconnect_by_data(c->ws, c);
  if (soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(c->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_object_unref(c->ws);
  g_hash_table_unref(c->need_key);
  g_free(c->owner);
  g_free(c);
}

/* The wire format of one frame (binary message, big-endian):
 *   0 version (1)   1 flags (1 key, 2 local, 4 replayed from the cache)
 *   2 codec (1 H264, 2 VP8)
 *   3 track name length N (1..64)   4..11 pts in microseconds (float64)
 *   12..12+N track name (UTF-8)   then the frame. */
GBytes *
ar_video_relay_encode(const ArVideoUnit *unit)
{
  gsize n = strlen(unit->track), size = 0;
  const guint8 *data = g_bytes_get_data(unit->data, &size);
  if (n == 0 || n > AR_VIDEO_TRACK_MAX)
    return NULL;
  guint8 *m = g_malloc(12 + n + size);
  m[0] = 1;
  m[1] = (unit->key ? 1 : 0) | (unit->local ? 2 : 0);
  m[2] = unit->codec == AR_VIDEO_CODEC_H264 ? 1 : 2;
  m[3] = (guint8)n;
  union {
    double d;
    guint64 u;
  } pts = {.d = (double)unit->pts_us};
  guint64 be = GUINT64_TO_BE(pts.u);
  memcpy(m + 4, &be, 8);
  memcpy(m + 12, unit->track, n);
  memcpy(m + 12 + n, data, size);
  return g_bytes_new_take(m, 12 + n + size);
}

static void
client_send(Client *c, GBytes *msg)
{
  gsize size;
  gconstpointer data = g_bytes_get_data(msg, &size);
  soup_websocket_connection_send_binary(c->ws, data, size);
  c->sent++;
}

static void
client_send_text(Client *c, const char *text)
{
  if (soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(c->ws, text);
}

/* One unit for one client: whole GOPs or nothing. */
static void
client_offer(ArVideoRelay *r, Client *c, Track *t, const ArVideoUnit *unit, GBytes *msg)
{
  if (soup_websocket_connection_get_state(c->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  gboolean waiting = g_hash_table_contains(c->need_key, t->name);
  if (c->sent - c->acked >= AR_VIDEO_WINDOW) {
    /* Too slow: this track resumes at its next key frame. */
    if (!waiting)
      g_hash_table_add(c->need_key, g_strdup(t->name));
    c->dropped++;
    r->dropped_units++;
    request_key(r, t);
    return;
  }
  if (waiting && !unit->key) {
    c->dropped++;
    return;
  }
  if (waiting)
    g_hash_table_remove(c->need_key, t->name);
  client_send(c, msg);
}

void
ar_video_relay_push(ArVideoRelay *r, const ArVideoUnit *unit)
{
  g_autoptr(GBytes) msg = ar_video_relay_encode(unit);
  if (!msg)
    return;
  r->units++;
  Track *t = g_hash_table_lookup(r->tracks, unit->track);
  if (!t) {
    t = g_new0(Track, 1);
    t->name = g_strdup(unit->track);
    t->cache = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_hash_table_insert(r->tracks, t->name, t);
  }
  if (unit->key)
    track_clear_cache(t);
  if (unit->key || t->have_key) {
    t->have_key = TRUE;
    g_ptr_array_add(t->cache, g_bytes_ref(msg));
    t->cache_bytes += g_bytes_get_size(msg);
    if (t->cache->len > AR_VIDEO_CACHE_MAX_FRAMES || t->cache_bytes > AR_VIDEO_CACHE_MAX_BYTES) {
      /* A sender that sends key frames rarely (browsers send them on
       * request only): start over from a fresh one. */
      track_clear_cache(t);
      request_key(r, t);
    }
  }
  for (guint i = 0; i < r->clients->len; i++)
    client_offer(r, r->clients->pdata[i], t, unit, msg);
}

static void
on_unit(const ArVideoUnit *unit, gpointer data)
{
  ar_video_relay_push(data, unit);
}

guint64
ar_video_relay_get_key_requests(ArVideoRelay *r)
{
  return r->key_requests;
}

void
ar_video_relay_end_track(ArVideoRelay *r, const char *track)
{
  g_hash_table_remove(r->tracks, track);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "track-ended");
  json_builder_set_member_name(b, "track");
  json_builder_add_string_value(b, track);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, FALSE);
  for (guint i = 0; i < r->clients->len; i++) {
    Client *c = r->clients->pdata[i];
    g_hash_table_remove(c->need_key, track);
    client_send_text(c, text);
  }
}

static void
on_ended(const char *track, gpointer data)
{
  ar_video_relay_end_track(data, track);
}

static void
on_client_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  Client *c = data;
  gsize n;
  const char *p = g_bytes_get_data(message, &n);
  char buf[32];
  guint64 count;
  /* "ack N": the page received N frames in all. */
  if (type != SOUP_WEBSOCKET_DATA_TEXT || n < 5 || n >= sizeof buf)
    return;
  memcpy(buf, p, n);
  buf[n] = '\0';
  if (strncmp(buf, "ack ", 4) == 0 &&
      g_ascii_string_to_unsigned(buf + 4, 10, 0, G_MAXUINT64, &count, NULL))
    c->acked = MIN(MAX(c->acked, count), c->sent);
}

static void
on_client_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Client *c = data;
  g_ptr_array_remove(c->relay->clients, c);
}

static const ArSlotPolicy video_slots = {
    .max_total = AR_VIDEO_MAX_CLIENTS,
    .per_owner = AR_VIDEO_MAX_CLIENTS_PER_OWNER,
    .reserved = AR_VIDEO_RESERVED_CLIENTS,
};

static gboolean
video_slot_admit(ArVideoRelay *r, const char *owner, gint *evict)
{
  guint n = r->clients->len;
  g_autofree const char **owners = g_new0(const char *, n + 1);
  for (guint i = 0; i < n; i++)
    owners[i] = ((Client *)r->clients->pdata[i])->owner;
  return ar_slot_admit(&video_slots, owners, n, owner, evict);
}

gboolean
ar_video_relay_can_add_client(ArVideoRelay *r, const char *owner)
{
  gint evict;
  return video_slot_admit(r, owner, &evict);
}

void
ar_video_relay_add_client(ArVideoRelay *r, SoupWebsocketConnection *ws, const char *owner)
{
  gint evict = -1;
  if (!video_slot_admit(r, owner, &evict)) {
    soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                    "too many video streams");
    return;
  }
  if (evict >= 0) {
    /* client_free closes it (going away). */
    Client *old = r->clients->pdata[evict];
    g_debug("video: stream of %s closed for a new one of %s", old->owner ? old->owner : "?",
            owner ? owner : "?");
    g_ptr_array_remove_index(r->clients, (guint)evict);
  }
  soup_websocket_connection_set_max_incoming_payload_size(ws, 64);
  Client *c = g_new0(Client, 1);
  c->relay = r;
  c->ws = g_object_ref(ws);
  c->owner = g_strdup(owner);
  c->need_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect(ws, "message", G_CALLBACK(on_client_message), c);
  g_signal_connect(ws, "closed", G_CALLBACK(on_client_closed), c);
  g_ptr_array_add(r->clients, c);
  /* Every track from its last key frame: the picture is there at once. */
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, r->tracks);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    Track *t = v;
    if (!t->have_key) {
      g_hash_table_add(c->need_key, g_strdup(t->name));
      request_key(r, t);
      continue;
    }
    /* Marked as replayed: the page decodes them as fast as it can and does
     * not count them against its live decode queue. */
    for (guint i = 0; i < t->cache->len; i++) {
      gsize size;
      const guint8 *data = g_bytes_get_data(t->cache->pdata[i], &size);
      g_autofree guint8 *copy = g_memdup2(data, size);
      copy[1] |= 4;
      soup_websocket_connection_send_binary(c->ws, copy, size);
      c->sent++;
    }
  }
}

void
ar_video_relay_close_clients(ArVideoRelay *r, const char *owner)
{
  if (!owner)
    return;
  for (guint i = r->clients->len; i > 0; i--) {
    Client *c = r->clients->pdata[i - 1];
    if (g_strcmp0(c->owner, owner) == 0)
      g_ptr_array_remove_index(r->clients, i - 1);
  }
}

ArVideoRelay *
ar_video_relay_new(ArMediaEngine *engine)
{
  static const ArVideoSinkFuncs funcs = {.unit = on_unit, .ended = on_ended};
  ArVideoRelay *r = g_new0(ArVideoRelay, 1);
  r->engine = engine;
  r->tracks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, track_free);
  r->clients = g_ptr_array_new_with_free_func(client_free);
  if (engine)
    ar_media_engine_set_video_sink(engine, &funcs, r);
  return r;
}

void
ar_video_relay_free(ArVideoRelay *r)
{
  if (!r)
    return;
  if (r->engine)
    ar_media_engine_set_video_sink(r->engine, NULL, NULL);
  g_ptr_array_unref(r->clients);
  g_hash_table_unref(r->tracks);
  g_free(r);
}
