/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-whip-client.c: the HTTP side of a WHIP session (firmware/whip/ar-whip-client.c) against
 * a TEST FIXTURE: a small libsoup server on 127.0.0.1 written for this test, which plays the
 * protocol's answers (it has no WebRTC stack; the real-peer tests are in tests/integration):
 *   201 with Location, ETag, Link ice-servers; the token and content type it was sent;
 *   307/308 redirects followed with the body and token, a loop stopped; 401/404/429 in words
 *   and Retry-After; 201 without Location, a body over the bound; a server that never answers;
 *   PATCH with If-Match, 204 and 405; DELETE and the session forgotten; WHEP's 406 with a
 *   counter-offer (and a bare 406, an error), the answer PATCHed as application/sdp.
 */
#include <libsoup/soup.h>
#include <string.h>

#include "ar-whip-client.h"

static const char offer[] = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
static const char answer[] = "v=0\r\no=- 2 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                             "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";

typedef struct {
  SoupServer *server;
  char *base; /* http://127.0.0.1:PORT */
  /* What the last request carried. */
  char *method, *path, *auth, *ctype, *if_match, *body;
  guint requests;
  GPtrArray *paused; /* SoupServerMessage* never answered */
} Fixture;

static void
remember(Fixture *f, SoupServerMessage *msg, const char *path)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  SoupMessageBody *b = soup_server_message_get_request_body(msg);
  f->requests++;
  g_free(f->method);
  f->method = g_strdup(soup_server_message_get_method(msg));
  g_free(f->path);
  f->path = g_strdup(path);
  g_free(f->auth);
  f->auth = g_strdup(soup_message_headers_get_one(h, "Authorization"));
  g_free(f->ctype);
  f->ctype = g_strdup(soup_message_headers_get_content_type(h, NULL));
  g_free(f->if_match);
  f->if_match = g_strdup(soup_message_headers_get_one(h, "If-Match"));
  g_free(f->body);
  f->body = g_strndup(b->data, b->length);
}

static void
handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  Fixture *f = data;
  SoupMessageHeaders *rh = soup_server_message_get_response_headers(msg);
  remember(f, msg, path);

  if (g_str_equal(path, "/whip/ok") || g_str_equal(path, "/whip/final")) {
    soup_message_headers_replace(rh, "Location", "/whip/session/1");
    soup_message_headers_replace(rh, "ETag", "\"e1\"");
    soup_message_headers_append(rh, "Link", "<stun:stun.example.net>; rel=\"ice-server\"");
    soup_message_headers_append(rh, "Link",
                                "<turn:turn.example.net?transport=udp>; rel=\"ice-server\"; "
                                "username=\"u\"; credential=\"secret-pw\"");
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_STATIC, answer,
                                     strlen(answer));
    soup_server_message_set_status(msg, 201, NULL);
  } else if (g_str_equal(path, "/whip/moved")) {
    soup_message_headers_replace(rh, "Location", "final");
    soup_server_message_set_status(msg, 307, NULL);
  } else if (g_str_equal(path, "/whip/moved308")) {
    soup_message_headers_replace(rh, "Location", "/whip/moved");
    soup_server_message_set_status(msg, 308, NULL);
  } else if (g_str_equal(path, "/whip/loop")) {
    soup_message_headers_replace(rh, "Location", "/whip/loop");
    soup_server_message_set_status(msg, 307, NULL);
  } else if (g_str_equal(path, "/whip/denied")) {
    soup_server_message_set_status(msg, 401, NULL);
  } else if (g_str_equal(path, "/whip/busy")) {
    soup_message_headers_replace(rh, "Retry-After", "7");
    soup_server_message_set_status(msg, 429, NULL);
  } else if (g_str_equal(path, "/whip/nolocation")) {
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_STATIC, answer,
                                     strlen(answer));
    soup_server_message_set_status(msg, 201, NULL);
  } else if (g_str_equal(path, "/whip/huge")) {
    char *big = g_strnfill(AR_WHIP_MAX_BODY + 10, 'x');
    soup_message_headers_replace(rh, "Location", "/whip/session/2");
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_TAKE, big,
                                     AR_WHIP_MAX_BODY + 10);
    soup_server_message_set_status(msg, 201, NULL);
  } else if (g_str_equal(path, "/whep/counter")) {
    soup_message_headers_replace(rh, "Location", "/whep/session/9");
    soup_message_headers_replace(rh, "ETag", "\"c9\"");
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_STATIC, answer,
                                     strlen(answer));
    soup_server_message_set_status(msg, 406, NULL);
  } else if (g_str_equal(path, "/whep/bare406")) {
    soup_server_message_set_status(msg, 406, NULL);
  } else if (g_str_equal(path, "/whep/session/9")) {
    soup_server_message_set_status(msg, 204, NULL);
  } else if (g_str_equal(path, "/whip/silent")) {
    soup_server_message_pause(msg);
    g_ptr_array_add(f->paused, g_object_ref(msg));
  } else if (g_str_equal(path, "/whip/session/1")) {
    if (g_str_equal(f->method, "PATCH")) {
      soup_message_headers_replace(rh, "ETag", "\"e2\"");
      soup_server_message_set_status(msg, 204, NULL);
    } else {
      soup_server_message_set_status(msg, 200, NULL);
    }
  } else {
    soup_server_message_set_status(msg, 404, NULL);
  }
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->paused = g_ptr_array_new_with_free_func(g_object_unref);
  f->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(f->server, NULL, handler, f, NULL);
  g_assert_true(soup_server_listen_local(f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(f->server);
  GUri *u = uris->data;
  f->base = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(u));
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->paused->len; i++)
    soup_server_message_unpause(f->paused->pdata[i]);
  g_ptr_array_unref(f->paused);
  soup_server_disconnect(f->server);
  g_object_unref(f->server);
  g_free(f->base);
  g_free(f->method);
  g_free(f->path);
  g_free(f->auth);
  g_free(f->ctype);
  g_free(f->if_match);
  g_free(f->body);
}

static void
on_done(GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref(res);
}

static GAsyncResult *
wait_result(GAsyncResult **slot)
{
  gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  while (*slot == NULL && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, TRUE);
  g_assert_nonnull(*slot);
  return *slot;
}

static ArWhipClient *
client(Fixture *f, const char *path, const char *token, guint deadline_s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strdup_printf("%s%s", f->base, path);
  ArWhipClientOptions o = {
      .deadline_s = deadline_s, .io_timeout_s = deadline_s, .what = "WHIP publish"};
  ArWhipClient *c = ar_whip_client_new(url, token, &o, &error);
  g_assert_no_error(error);
  return c;
}

static ArWhipAnswer *
post(ArWhipClient *c, GError **error)
{
  GAsyncResult *res = NULL;
  ar_whip_client_post_offer(c, offer, NULL, on_done, &res);
  ArWhipAnswer *a = ar_whip_client_post_offer_finish(c, wait_result(&res), error);
  g_object_unref(res);
  return a;
}

static void
test_publish(Fixture *f, gconstpointer data)
{
  g_autoptr(ArWhipClient) c = client(f, "/whip/ok", "tok-123", 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArWhipAnswer) a = post(c, &error);

  g_assert_no_error(error);
  g_assert_cmpstr(f->method, ==, "POST");
  g_assert_cmpstr(f->auth, ==, "Bearer tok-123");
  g_assert_cmpstr(f->ctype, ==, "application/sdp");
  g_assert_cmpstr(f->body, ==, offer);
  g_assert_cmpstr(a->answer_sdp, ==, answer);
  g_autofree char *session = g_strdup_printf("%s/whip/session/1", f->base);
  g_assert_cmpstr(a->session_url, ==, session);
  g_assert_cmpstr(ar_whip_client_get_session_url(c), ==, session);
  g_assert_cmpstr(a->etag, ==, "\"e1\"");
  g_assert_cmpuint(a->ice_servers->len, ==, 2);
  ArWhipIceServer *turn = a->ice_servers->pdata[1];
  g_assert_cmpstr(turn->credential, ==, "secret-pw");

  /* Trickle: PATCH to the session with If-Match, 204; the new ETag is kept. */
  GAsyncResult *res = NULL;
  g_autofree char *frag = NULL;
  ar_whip_client_patch(c, "a=ice-ufrag:x\r\na=ice-pwd:y\r\n", NULL, on_done, &res);
  g_assert_true(ar_whip_client_patch_finish(c, wait_result(&res), &frag, &error));
  g_clear_object(&res);
  g_assert_no_error(error);
  g_assert_null(frag);
  g_assert_cmpstr(f->method, ==, "PATCH");
  g_assert_cmpstr(f->path, ==, "/whip/session/1");
  g_assert_cmpstr(f->ctype, ==, "application/trickle-ice-sdpfrag");
  g_assert_cmpstr(f->if_match, ==, "\"e1\"");
  ar_whip_client_patch(c, "a=end-of-candidates\r\n", NULL, on_done, &res);
  g_assert_true(ar_whip_client_patch_finish(c, wait_result(&res), NULL, &error));
  g_clear_object(&res);
  g_assert_cmpstr(f->if_match, ==, "\"e2\"");

  /* Leave: DELETE the session, then there is none (a second DELETE asks nothing). */
  ar_whip_client_delete(c, NULL, on_done, &res);
  g_assert_true(ar_whip_client_delete_finish(c, wait_result(&res), &error));
  g_clear_object(&res);
  g_assert_cmpstr(f->method, ==, "DELETE");
  g_assert_cmpstr(f->auth, ==, "Bearer tok-123");
  g_assert_null(ar_whip_client_get_session_url(c));
  guint before = f->requests;
  ar_whip_client_delete(c, NULL, on_done, &res);
  g_assert_true(ar_whip_client_delete_finish(c, wait_result(&res), &error));
  g_clear_object(&res);
  g_assert_cmpuint(f->requests, ==, before);
}

static void
test_redirects(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  /* 308 -> 307 -> 201: the body and the token follow; Location against the last URL. */
  g_autoptr(ArWhipClient) c = client(f, "/whip/moved308", "t", 0);
  g_autoptr(ArWhipAnswer) a = post(c, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f->path, ==, "/whip/final");
  g_assert_cmpstr(f->body, ==, offer);
  g_assert_cmpstr(f->auth, ==, "Bearer t");
  g_assert_true(g_str_has_suffix(a->session_url, "/whip/session/1"));

  g_autoptr(ArWhipClient) loop = client(f, "/whip/loop", NULL, 0);
  guint before = f->requests;
  g_autoptr(ArWhipAnswer) none = post(loop, &error);
  g_assert_null(none);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "more than 3 redirects"));
  g_assert_cmpuint(f->requests - before, ==, AR_WHIP_MAX_REDIRECTS + 1);
  g_assert_null(f->auth); /* no token, no header */
}

static void
test_errors(Fixture *f, gconstpointer data)
{
  struct {
    const char *path;
    gint code;
    const char *words;
  } cases[] = {
      {"/whip/denied", AR_WHIP_ERROR_STATUS, "WHIP publish: the endpoint refused the token"},
      {"/whip/nowhere", AR_WHIP_ERROR_STATUS, "no such endpoint"},
      {"/whip/busy", AR_WHIP_ERROR_STATUS, "too many requests) (HTTP 429)"},
      {"/whip/nolocation", AR_WHIP_ERROR_INVALID, "no Location"},
      {"/whip/huge", AR_WHIP_ERROR_TOO_LARGE, "larger than 65536 bytes"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(ArWhipClient) c = client(f, cases[i].path, "secret-token", 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(ArWhipAnswer) a = post(c, &error);
    g_assert_null(a);
    g_assert_error(error, AR_WHIP_ERROR, cases[i].code);
    g_test_message("%s: %s", cases[i].path, error->message);
    g_assert_nonnull(strstr(error->message, cases[i].words));
    g_assert_null(strstr(error->message, "secret-token"));
    if (g_str_equal(cases[i].path, "/whip/busy")) {
      g_assert_cmpuint(ar_whip_client_get_last_status(c), ==, 429);
      g_assert_cmpuint(ar_whip_client_get_retry_after(c), ==, 7);
    }
  }
  /* PATCH before a session, and to a session that does not take it. */
  g_autoptr(ArWhipClient) c = client(f, "/whip/ok", NULL, 0);
  GAsyncResult *res = NULL;
  g_autoptr(GError) error = NULL;
  ar_whip_client_patch(c, "a=end-of-candidates\r\n", NULL, on_done, &res);
  g_assert_false(ar_whip_client_patch_finish(c, wait_result(&res), NULL, &error));
  g_clear_object(&res);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
  g_clear_error(&error);
  g_autoptr(ArWhipClient) bad = ar_whip_client_new("ftp://x/y", NULL, NULL, &error);
  g_assert_null(bad);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
}

static void
test_silent_server(Fixture *f, gconstpointer data)
{
  g_autoptr(ArWhipClient) c = client(f, "/whip/silent", NULL, 1);
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(ArWhipAnswer) a = post(c, &error);
  gint64 ms = (g_get_monotonic_time() - t0) / 1000;
  g_assert_null(a);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TIMEOUT);
  g_test_message("%s after %" G_GINT64_FORMAT " ms", error->message, ms);
  g_assert_cmpint(ms, <, 10000); /* a 1 s bound, not a hang */
}

static void
test_cancel(Fixture *f, gconstpointer data)
{
  g_autoptr(ArWhipClient) c = client(f, "/whip/silent", NULL, 0);
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  GAsyncResult *res = NULL;
  ar_whip_client_post_offer(c, offer, cancel, on_done, &res);
  g_cancellable_cancel(cancel);
  ArWhipAnswer *a = ar_whip_client_post_offer_finish(c, wait_result(&res), &error);
  g_clear_object(&res);
  g_assert_null(a);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The owner lets go while a request is in flight (a DELETE as the call ends): the request goes
 * on to its end with the client it holds; the finish function needs no client. */
static void
test_free_in_flight(Fixture *f, gconstpointer data)
{
  ArWhipClient *c = client(f, "/whip/silent", NULL, 1);
  g_autoptr(GError) error = NULL;
  GAsyncResult *res = NULL;
  ar_whip_client_post_offer(c, offer, NULL, on_done, &res);
  ar_whip_client_free(c);
  ArWhipAnswer *a = ar_whip_client_post_offer_finish(NULL, wait_result(&res), &error);
  g_clear_object(&res);
  g_assert_null(a);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TIMEOUT);
}

/* WHEP: 406 with an SDP is the endpoint's counter-offer, answered by PATCH application/sdp
 * with If-Match; 406 without a body is an error in words. */
static void
test_counter_offer(Fixture *f, gconstpointer data)
{
  g_autoptr(ArWhipClient) c = client(f, "/whep/counter", "tok", 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArWhipAnswer) a = post(c, &error);
  g_assert_no_error(error);
  g_assert_true(a->counter_offer);
  g_assert_cmpstr(a->answer_sdp, ==, answer);
  g_autofree char *session = g_strdup_printf("%s/whep/session/9", f->base);
  g_assert_cmpstr(a->session_url, ==, session);

  GAsyncResult *res = NULL;
  ar_whip_client_patch_sdp(c, offer, NULL, on_done, &res);
  g_assert_true(ar_whip_client_patch_sdp_finish(c, wait_result(&res), NULL, &error));
  g_clear_object(&res);
  g_assert_no_error(error);
  g_assert_cmpstr(f->method, ==, "PATCH");
  g_assert_cmpstr(f->path, ==, "/whep/session/9");
  g_assert_cmpstr(f->ctype, ==, "application/sdp");
  g_assert_cmpstr(f->if_match, ==, "\"c9\"");
  g_assert_cmpstr(f->auth, ==, "Bearer tok");
  g_assert_cmpstr(f->body, ==, offer);

  /* A 201 is not a counter-offer. */
  g_autoptr(ArWhipClient) ok = client(f, "/whip/ok", NULL, 0);
  g_autoptr(ArWhipAnswer) a2 = post(ok, &error);
  g_assert_no_error(error);
  g_assert_false(a2->counter_offer);

  g_autoptr(ArWhipClient) bare = client(f, "/whep/bare406", NULL, 0);
  g_autoptr(ArWhipAnswer) a3 = post(bare, &error);
  g_assert_null(a3);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_STATUS);
  g_assert_nonnull(strstr(error->message, "406"));
  g_assert_nonnull(strstr(error->message, "cannot take"));
  g_assert_cmpuint(ar_whip_client_get_last_status(bare), ==, 406);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/whip-client/publish", Fixture, NULL, fixture_set_up, test_publish,
             fixture_tear_down);
  g_test_add("/whip-client/redirects", Fixture, NULL, fixture_set_up, test_redirects,
             fixture_tear_down);
  g_test_add("/whip-client/counter-offer", Fixture, NULL, fixture_set_up, test_counter_offer,
             fixture_tear_down);
  g_test_add("/whip-client/errors", Fixture, NULL, fixture_set_up, test_errors, fixture_tear_down);
  g_test_add("/whip-client/silent-server", Fixture, NULL, fixture_set_up, test_silent_server,
             fixture_tear_down);
  g_test_add("/whip-client/cancel", Fixture, NULL, fixture_set_up, test_cancel, fixture_tear_down);
  g_test_add("/whip-client/free-in-flight", Fixture, NULL, fixture_set_up, test_free_in_flight,
             fixture_tear_down);
  return g_test_run();
}
