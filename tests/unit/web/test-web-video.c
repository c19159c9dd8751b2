/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The room screen's video relay (firmware/web/ar-web-video.c) with real
 * WebSocket connections over a socket pair: the wire format, the cache from
 * the last key frame, the window of unacknowledged frames (a slow page skips
 * to the next key frame), the cache bound, hostile acks. */
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "ar-web-video.h"

typedef struct {
  SoupWebsocketConnection *server, *client;
  GPtrArray *bin;  /* GBytes received by the client */
  GPtrArray *text; /* char* */
  guint ack_every; /* 0: never acks */
} Pair;

static void
on_client_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  Pair *p = data;
  if (type == SOUP_WEBSOCKET_DATA_TEXT) {
    g_ptr_array_add(p->text, g_strndup(g_bytes_get_data(message, NULL), g_bytes_get_size(message)));
    return;
  }
  g_ptr_array_add(p->bin, g_bytes_ref(message));
  if (p->ack_every && p->bin->len % p->ack_every == 0) {
    g_autofree char *ack = g_strdup_printf("ack %u", p->bin->len);
    soup_websocket_connection_send_text(ws, ack);
  }
}

static SoupWebsocketConnection *
ws_of(int fd, SoupWebsocketConnectionType type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new_from_fd(fd, &error);
  g_assert_no_error(error);
  g_autoptr(GSocketConnection) conn = g_socket_connection_factory_create_connection(sock);
  g_autoptr(GUri) uri = g_uri_parse("wss://127.0.0.1/api/v1/video", G_URI_FLAGS_NONE, NULL);
  return soup_websocket_connection_new(G_IO_STREAM(conn), uri, type, NULL, NULL, NULL);
}

static Pair *
pair_new(guint ack_every)
{
  int fds[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  Pair *p = g_new0(Pair, 1);
  p->server = ws_of(fds[0], SOUP_WEBSOCKET_CONNECTION_SERVER);
  p->client = ws_of(fds[1], SOUP_WEBSOCKET_CONNECTION_CLIENT);
  p->bin = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  p->text = g_ptr_array_new_with_free_func(g_free);
  p->ack_every = ack_every;
  g_signal_connect(p->client, "message", G_CALLBACK(on_client_message), p);
  return p;
}

static void
pair_free(Pair *p)
{
  g_signal_handlers_disconnect_by_data(p->client, p);
  g_object_unref(p->client);
  g_object_unref(p->server);
  g_ptr_array_unref(p->bin);
  g_ptr_array_unref(p->text);
  g_free(p);
}

/* Runs the main context until nothing moved for 50 ms. */
static void
pump(void)
{
  gint64 idle_since = g_get_monotonic_time();
  while (g_get_monotonic_time() - idle_since < 50 * 1000) {
    if (g_main_context_iteration(NULL, FALSE))
      idle_since = g_get_monotonic_time();
    else
      g_usleep(1000);
  }
}

static void
push(ArVideoRelay *r, const char *track, gboolean key, guint n)
{
  for (guint i = 0; i < n; i++) {
    g_autofree char *payload = g_strdup_printf("%s-%s-%u", track, key ? "K" : "D", i);
    g_autoptr(GBytes) data = g_bytes_new(payload, strlen(payload));
    ArVideoUnit u = {
        .track = track, .codec = AR_VIDEO_CODEC_H264, .key = key, .pts_us = i, .data = data};
    ar_video_relay_push(r, &u);
  }
}

static guint
flags_of(GBytes *msg)
{
  return ((const guint8 *)g_bytes_get_data(msg, NULL))[1];
}

static gboolean
is_key(GBytes *msg)
{
  return (((const guint8 *)g_bytes_get_data(msg, NULL))[1] & 1) != 0;
}

static void
test_encode(void)
{
  g_autoptr(GBytes) data = g_bytes_new_static("\0\0\0\1\x67xyz", 8);
  ArVideoUnit u = {.track = "feed-42",
                   .local = TRUE,
                   .codec = AR_VIDEO_CODEC_VP8,
                   .key = TRUE,
                   .pts_us = 1234567,
                   .data = data};
  g_autoptr(GBytes) m = ar_video_relay_encode(&u);
  gsize n;
  const guint8 *b = g_bytes_get_data(m, &n);
  g_assert_cmpuint(n, ==, 12 + 7 + 8);
  g_assert_cmpuint(b[0], ==, 1);
  g_assert_cmpuint(b[1], ==, 3); /* key | local */
  g_assert_cmpuint(b[2], ==, 2); /* VP8 */
  g_assert_cmpuint(b[3], ==, 7);
  guint64 be;
  memcpy(&be, b + 4, 8);
  union {
    guint64 u;
    double d;
  } pts = {.u = GUINT64_FROM_BE(be)};
  g_assert_cmpfloat(pts.d, ==, 1234567.0);
  g_assert_cmpmem(b + 12, 7, "feed-42", 7);
  g_assert_cmpmem(b + 19, 8, "\0\0\0\1\x67xyz", 8);
  /* Track names are bounded. */
  char long_name[66];
  memset(long_name, 'a', 65);
  long_name[65] = '\0';
  u.track = long_name;
  g_assert_null(ar_video_relay_encode(&u));
  u.track = "";
  g_assert_null(ar_video_relay_encode(&u));
}

/* A page that connects mid-call gets the track from its last key frame. */
static void
test_cache_on_connect(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  push(r, "feed-1", FALSE, 3); /* before any key frame: not cached */
  push(r, "feed-1", TRUE, 1);
  push(r, "feed-1", FALSE, 9);
  Pair *p = pair_new(5);
  ar_video_relay_add_client(r, p->server, "room:a");
  pump();
  g_assert_cmpuint(p->bin->len, ==, 10);
  g_assert_true(is_key(p->bin->pdata[0]));
  for (guint i = 1; i < 10; i++)
    g_assert_false(is_key(p->bin->pdata[i]));
  for (guint i = 0; i < 10; i++)
    g_assert_true(flags_of(p->bin->pdata[i]) & 4); /* replayed */
  push(r, "feed-1", FALSE, 1);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 11);
  g_assert_false(flags_of(p->bin->pdata[10]) & 4); /* live */
  pair_free(p);
}

/* A page that acknowledges gets everything. */
static void
test_acking_client(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  Pair *p = pair_new(5);
  ar_video_relay_add_client(r, p->server, "room:a");
  push(r, "feed-1", TRUE, 1);
  for (guint i = 0; i < 40; i++) {
    push(r, "feed-1", FALSE, 5);
    pump();
  }
  g_assert_cmpuint(p->bin->len, ==, 201);
  pair_free(p);
}

/* A page that does not keep up gets the window, then nothing until it acks
 * and a key frame comes; a key frame is asked for. */
static void
test_slow_client(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  Pair *p = pair_new(0);
  ar_video_relay_add_client(r, p->server, "room:a");
  push(r, "feed-1", TRUE, 1);
  push(r, "feed-1", FALSE, 100);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 45);
  g_assert_cmpuint(ar_video_relay_get_key_requests(r), >=, 1);
  soup_websocket_connection_send_text(p->client, "ack 45");
  pump();
  push(r, "feed-1", FALSE, 5);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 45); /* deltas without their key frame are useless */
  push(r, "feed-1", TRUE, 1);
  push(r, "feed-1", FALSE, 3);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 49);
  g_assert_true(is_key(p->bin->pdata[45]));
  pair_free(p);
}

/* An ack beyond what was sent does not open the window. */
static void
test_hostile_ack(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  Pair *p = pair_new(0);
  ar_video_relay_add_client(r, p->server, "room:a");
  soup_websocket_connection_send_text(p->client, "ack 18446744073709551615");
  soup_websocket_connection_send_text(p->client, "ack -1");
  soup_websocket_connection_send_text(p->client, "ack");
  pump();
  push(r, "feed-1", TRUE, 1);
  push(r, "feed-1", FALSE, 100);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 45);
  /* A message over 64 bytes ends the connection. */
  soup_websocket_connection_send_text(p->client,
                                      "garbage that is longer than the limit of 64 bytes "
                                      "for a message from a room screen page");
  pump();
  g_assert_cmpint(soup_websocket_connection_get_state(p->client), !=, SOUP_WEBSOCKET_STATE_OPEN);
  pair_free(p);
}

/* A sender without key frames for long: the cache is bounded and dropped,
 * a key frame is requested, a new page waits for it. */
static void
test_cache_bound(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  push(r, "feed-1", TRUE, 1);
  push(r, "feed-1", FALSE, 950);
  g_assert_cmpuint(ar_video_relay_get_key_requests(r), ==, 1);
  Pair *p = pair_new(5);
  ar_video_relay_add_client(r, p->server, "room:a");
  pump();
  g_assert_cmpuint(p->bin->len, ==, 0);
  push(r, "feed-1", FALSE, 2);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 0);
  push(r, "feed-1", TRUE, 1);
  pump();
  g_assert_cmpuint(p->bin->len, ==, 1);
  g_assert_true(is_key(p->bin->pdata[0]));
  pair_free(p);
}

static void
test_track_ended(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  Pair *p = pair_new(5);
  ar_video_relay_add_client(r, p->server, "room:a");
  push(r, "feed-1", TRUE, 1);
  ar_video_relay_end_track(r, "feed-1");
  pump();
  g_assert_cmpuint(p->text->len, ==, 1);
  g_assert_cmpstr(p->text->pdata[0], ==, "{\"event\":\"track-ended\",\"track\":\"feed-1\"}");
  /* Nothing of it is cached any more. */
  Pair *q = pair_new(5);
  ar_video_relay_add_client(r, q->server, "room:b");
  pump();
  g_assert_cmpuint(q->bin->len, ==, 0);
  /* Closing a credential's clients closes their connections. */
  ar_video_relay_close_clients(r, "room:a");
  pump();
  g_assert_cmpint(soup_websocket_connection_get_state(p->client), !=, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpint(soup_websocket_connection_get_state(q->client), ==, SOUP_WEBSOCKET_STATE_OPEN);
  pair_free(p);
  pair_free(q);
}

/* Per-credential limits: six streams of one token leave its two newest
 * (the older ones closed), another token is refused while the slots open to
 * all are taken, and the room screen still gets in, taking a LAN client's
 * slot when every slot is used. */
static void
test_per_credential_limit(void)
{
  g_autoptr(ArVideoRelay) r = ar_video_relay_new(NULL);
  Pair *t[6];
  for (guint i = 0; i < 6; i++) {
    t[i] = pair_new(0);
    ar_video_relay_add_client(r, t[i]->server, "token:t");
  }
  pump();
  for (guint i = 0; i < 6; i++)
    g_assert_cmpint(soup_websocket_connection_get_state(t[i]->client), ==,
                    i < 4 ? SOUP_WEBSOCKET_STATE_CLOSED : SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_false(ar_video_relay_can_add_client(r, "token:u"));
  g_assert_true(ar_video_relay_can_add_client(r, "token:t"));
  Pair *u = pair_new(0);
  ar_video_relay_add_client(r, u->server, "token:u");
  pump();
  g_assert_cmpint(soup_websocket_connection_get_state(u->client), ==, SOUP_WEBSOCKET_STATE_CLOSED);
  g_assert_cmpint(soup_websocket_connection_get_close_code(u->client), ==,
                  SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  /* The room screen: two sessions fill the reserve, a third takes the
   * token's oldest slot. */
  Pair *room[3];
  for (guint i = 0; i < 3; i++) {
    g_autofree char *owner = g_strdup_printf("room:%u", i);
    g_assert_true(ar_video_relay_can_add_client(r, owner));
    room[i] = pair_new(0);
    ar_video_relay_add_client(r, room[i]->server, owner);
  }
  push(r, "feed-1", TRUE, 1);
  pump();
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(soup_websocket_connection_get_state(room[i]->client), ==,
                    SOUP_WEBSOCKET_STATE_OPEN);
    g_assert_cmpuint(room[i]->bin->len, ==, 1);
  }
  g_assert_cmpint(soup_websocket_connection_get_state(t[4]->client), ==,
                  SOUP_WEBSOCKET_STATE_CLOSED);
  g_assert_cmpint(soup_websocket_connection_get_state(t[5]->client), ==, SOUP_WEBSOCKET_STATE_OPEN);
  for (guint i = 0; i < 6; i++)
    pair_free(t[i]);
  for (guint i = 0; i < 3; i++)
    pair_free(room[i]);
  pair_free(u);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web/video/encode", test_encode);
  g_test_add_func("/web/video/cache-on-connect", test_cache_on_connect);
  g_test_add_func("/web/video/acking-client", test_acking_client);
  g_test_add_func("/web/video/slow-client-skips-to-key-frame", test_slow_client);
  g_test_add_func("/web/video/hostile-ack", test_hostile_ack);
  g_test_add_func("/web/video/cache-bound", test_cache_bound);
  g_test_add_func("/web/video/track-ended", test_track_ended);
  g_test_add_func("/web/video/per-credential-limit", test_per_credential_limit);
  return g_test_run();
}
