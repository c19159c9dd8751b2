/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP side of a WHIP/WHEP session (see ar-whip-client.h). */
#include "ar-whip-client.h"

#include <libsoup/soup.h>
#include <string.h>

#define DEFAULT_IO_TIMEOUT_S 10
#define DEFAULT_DEADLINE_S 20

struct _ArWhipClient {
  gint refs; /* each request in flight holds one: a detached DELETE outlives its owner */
  SoupSession *soup;
  char *endpoint;
  char *token; /* never logged */
  char *what;
  guint deadline_s;
  char *session_url;
  char *etag;
  guint last_status;
  guint retry_after_s;
};

typedef enum { KIND_POST, KIND_PATCH, KIND_DELETE } Kind;

/* One request in flight (a GTask's data): redirects resend it. */
typedef struct {
  ArWhipClient *client;
  Kind kind;
  const char *method;
  GUri *uri;
  const char *content_type;
  GBytes *body;
  guint redirects;
  SoupMessage *msg;
  GInputStream *in;
  guint8 *buf;
  GCancellable *cancel; /* ours: the caller's cancellable and the deadline cancel it */
  gulong caller_handler;
  GCancellable *caller;
  guint deadline_id;
  gboolean timed_out;
} Req;

static void
req_free(Req *r)
{
  g_clear_pointer(&r->client, ar_whip_client_free);
  g_clear_handle_id(&r->deadline_id, g_source_remove);
  if (r->caller != NULL)
    g_cancellable_disconnect(r->caller, r->caller_handler);
  g_clear_object(&r->caller);
  g_clear_object(&r->cancel);
  g_clear_pointer(&r->uri, g_uri_unref);
  g_clear_pointer(&r->body, g_bytes_unref);
  g_clear_object(&r->msg);
  g_clear_object(&r->in);
  g_free(r->buf);
  g_free(r);
}

void
ar_whip_answer_free(ArWhipAnswer *a)
{
  if (a == NULL)
    return;
  g_free(a->answer_sdp);
  g_free(a->session_url);
  g_free(a->etag);
  g_clear_pointer(&a->ice_servers, g_ptr_array_unref);
  g_free(a->ice_skipped);
  g_free(a);
}

ArWhipClient *
ar_whip_client_new(const char *endpoint, const char *token, const ArWhipClientOptions *options,
                   GError **error)
{
  static const ArWhipClientOptions defaults = {0};
  const ArWhipClientOptions *o = options != NULL ? options : &defaults;
  g_autoptr(GUri) uri = endpoint != NULL ? g_uri_parse(endpoint, G_URI_FLAGS_ENCODED, NULL) : NULL;

  if (uri == NULL ||
      (g_strcmp0(g_uri_get_scheme(uri), "https") != 0 &&
       g_strcmp0(g_uri_get_scheme(uri), "http") != 0) ||
      g_uri_get_host(uri) == NULL || strlen(endpoint) > AR_WHIP_MAX_URL) {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "the WHIP endpoint is not an http(s) URL");
    return NULL;
  }
  g_autoptr(ArWhipClient) c = g_new0(ArWhipClient, 1);
  c->refs = 1;
  guint io = o->io_timeout_s ? o->io_timeout_s : DEFAULT_IO_TIMEOUT_S;
  c->soup = soup_session_new_with_options("timeout", io, "idle-timeout", io, "user-agent",
                                          "anyroomd", NULL);
  if (o->ca_file != NULL) {
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(o->ca_file, error);
    if (db == NULL) {
      g_prefix_error(error, "WHIP: the CA file cannot be used: ");
      return NULL;
    }
    soup_session_set_tls_database(c->soup, db);
  }
  c->endpoint = g_strdup(endpoint);
  c->token = g_strdup(token);
  c->what = g_strdup(o->what != NULL ? o->what : "WHIP");
  c->deadline_s = o->deadline_s ? o->deadline_s : DEFAULT_DEADLINE_S;
  return g_steal_pointer(&c);
}

ArWhipClient *
ar_whip_client_ref(ArWhipClient *c)
{
  g_atomic_int_inc(&c->refs);
  return c;
}

void
ar_whip_client_free(ArWhipClient *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
    return;
  g_clear_object(&c->soup);
  g_free(c->endpoint);
  if (c->token != NULL)
    memset(c->token, 0, strlen(c->token));
  g_free(c->token);
  g_free(c->what);
  g_free(c->session_url);
  g_free(c->etag);
  g_free(c);
}

const char *
ar_whip_client_get_session_url(ArWhipClient *c)
{
  return c->session_url;
}

guint
ar_whip_client_get_last_status(ArWhipClient *c)
{
  return c->last_status;
}

guint
ar_whip_client_get_retry_after(ArWhipClient *c)
{
  return c->retry_after_s;
}

static void send_req(GTask *task);

static void
fail_task(GTask *task, GError *error)
{
  Req *r = g_task_get_task_data(task);
  if (r->timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_clear_error(&error);
    error = g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_TIMEOUT,
                        "%s: the endpoint did not answer in time", r->client->what);
  } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
             error->domain != AR_WHIP_ERROR) {
    g_prefix_error(&error, "%s: ", r->client->what);
  }
  g_task_return_error(task, error);
  g_object_unref(task);
}

/* The answer is complete: what it means for each kind of request. */
static void
finish_req(GTask *task, gsize n)
{
  Req *r = g_task_get_task_data(task);
  ArWhipClient *c = r->client;
  guint status = soup_message_get_status(r->msg);
  SoupMessageHeaders *h = soup_message_get_response_headers(r->msg);
  GError *error = NULL;

  c->last_status = status;
  c->retry_after_s = 0;
  if (status == 429 || status == 503) {
    guint s = 0;
    if (ar_whip_parse_retry_after(soup_message_headers_get_one(h, "Retry-After"),
                                  g_get_real_time() / G_USEC_PER_SEC, &s))
      c->retry_after_s = s;
  }
  if (r->kind == KIND_PATCH && (status == 405 || status == 501) &&
      g_strcmp0(r->content_type, "application/sdp") != 0) {
    g_set_error(&error, AR_WHIP_ERROR, AR_WHIP_ERROR_UNSUPPORTED,
                "%s: the endpoint does not take trickle ICE or restarts (HTTP %u)", c->what,
                status);
    fail_task(task, error);
    return;
  }
  gboolean counter =
      r->kind == KIND_POST && status == 406 && n > 0 &&
      g_strcmp0(soup_message_headers_get_content_type(h, NULL), "application/sdp") == 0;
  if (!counter && (status < 200 || status > 299)) {
    g_autofree char *m = ar_whip_status_message(status, c->what);
    fail_task(task, g_error_new_literal(AR_WHIP_ERROR, AR_WHIP_ERROR_STATUS, m));
    return;
  }
  switch (r->kind) {
  case KIND_POST: {
    g_autoptr(ArWhipAnswer) a = g_new0(ArWhipAnswer, 1);
    g_autofree char *url = g_uri_to_string(r->uri);
    const char *ctype = soup_message_headers_get_content_type(h, NULL);
    if (status != 201 && !counter) {
      fail_task(task,
                g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "%s: the endpoint answered HTTP %u, not 201 Created", c->what, status));
      return;
    }
    if (g_strcmp0(ctype, "application/sdp") != 0 || n == 0) {
      fail_task(task, g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                                  "%s: the endpoint's answer is not an SDP (Content-Type %s)",
                                  c->what, ctype != NULL ? ctype : "none"));
      return;
    }
    a->session_url =
        ar_whip_resolve_location(url, soup_message_headers_get_one(h, "Location"), &error);
    if (a->session_url == NULL) {
      g_prefix_error(&error, "%s: ", c->what);
      fail_task(task, error);
      return;
    }
    const char *links = soup_message_headers_get_list(h, "Link");
    const char *values[] = {links, NULL};
    g_autoptr(GString) skipped = g_string_new(NULL);
    a->ice_servers = ar_whip_parse_ice_links(links != NULL ? values : NULL, skipped, &error);
    if (a->ice_servers == NULL) {
      g_prefix_error(&error, "%s: ", c->what);
      fail_task(task, error);
      return;
    }
    a->ice_skipped = g_string_free(g_steal_pointer(&skipped), FALSE);
    a->answer_sdp = g_strndup((const char *)r->buf, n);
    a->etag = g_strdup(soup_message_headers_get_one(h, "ETag"));
    a->counter_offer = counter;
    g_free(c->session_url);
    c->session_url = g_strdup(a->session_url);
    g_free(c->etag);
    c->etag = g_strdup(a->etag);
    g_task_return_pointer(task, g_steal_pointer(&a), (GDestroyNotify)ar_whip_answer_free);
    break;
  }
  case KIND_PATCH: {
    const char *etag = soup_message_headers_get_one(h, "ETag");
    if (etag != NULL) {
      g_free(c->etag);
      c->etag = g_strdup(etag);
    }
    g_task_return_pointer(task, status == 200 && n > 0 ? g_strndup((const char *)r->buf, n) : NULL,
                          g_free);
    break;
  }
  case KIND_DELETE:
    g_clear_pointer(&c->session_url, g_free);
    g_clear_pointer(&c->etag, g_free);
    g_task_return_boolean(task, TRUE);
    break;
  }
  g_object_unref(task);
}

static void
read_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  gsize n = 0;
  GError *error = NULL;

  if (!g_input_stream_read_all_finish(G_INPUT_STREAM(source), res, &n, &error)) {
    fail_task(task, error);
    return;
  }
  g_input_stream_close(G_INPUT_STREAM(source), NULL, NULL);
  if (n > AR_WHIP_MAX_BODY) {
    Req *r = g_task_get_task_data(task);
    fail_task(task, g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                                "%s: the endpoint's answer is larger than %d bytes",
                                r->client->what, AR_WHIP_MAX_BODY));
    return;
  }
  finish_req(task, n);
}

static void
sent_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  Req *r = g_task_get_task_data(task);
  GError *error = NULL;

  r->in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
  if (r->in == NULL) {
    fail_task(task, error);
    return;
  }
  guint status = soup_message_get_status(r->msg);
  if (status == 307 || status == 308) {
    SoupMessageHeaders *h = soup_message_get_response_headers(r->msg);
    g_autofree char *from = g_uri_to_string(r->uri);
    g_autofree char *to = NULL;
    g_input_stream_close(r->in, NULL, NULL);
    g_clear_object(&r->in);
    if (++r->redirects > AR_WHIP_MAX_REDIRECTS) {
      fail_task(task,
                g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID, "%s: more than %d redirects",
                            r->client->what, AR_WHIP_MAX_REDIRECTS));
      return;
    }
    to = ar_whip_resolve_location(from, soup_message_headers_get_one(h, "Location"), &error);
    if (to == NULL) {
      g_prefix_error(&error, "%s: redirect: ", r->client->what);
      fail_task(task, error);
      return;
    }
    g_clear_pointer(&r->uri, g_uri_unref);
    r->uri = g_uri_parse(to, G_URI_FLAGS_ENCODED, NULL);
    send_req(task);
    return;
  }
  /* One byte more than allowed tells "too large" from "just fits". */
  r->buf = g_malloc(AR_WHIP_MAX_BODY + 1);
  g_input_stream_read_all_async(r->in, r->buf, AR_WHIP_MAX_BODY + 1, G_PRIORITY_DEFAULT, r->cancel,
                                read_cb, task);
}

static void
send_req(GTask *task)
{
  Req *r = g_task_get_task_data(task);
  ArWhipClient *c = r->client;

  g_clear_object(&r->msg);
  r->msg = soup_message_new_from_uri(r->method, r->uri);
  soup_message_add_flags(r->msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders *h = soup_message_get_request_headers(r->msg);
  if (c->token != NULL) {
    g_autofree char *auth = g_strdup_printf("Bearer %s", c->token);
    soup_message_headers_replace(h, "Authorization", auth);
  }
  if (r->kind == KIND_POST)
    soup_message_headers_replace(h, "Accept", "application/sdp");
  if (r->kind == KIND_PATCH && c->etag != NULL)
    soup_message_headers_replace(h, "If-Match", c->etag);
  if (r->body != NULL)
    soup_message_set_request_body_from_bytes(r->msg, r->content_type, r->body);
  soup_session_send_async(c->soup, r->msg, G_PRIORITY_DEFAULT, r->cancel, sent_cb, task);
}

static void
on_caller_cancelled(GCancellable *caller, gpointer data)
{
  g_cancellable_cancel(G_CANCELLABLE(data));
}

static gboolean
deadline_cb(gpointer data)
{
  Req *r = data;
  r->deadline_id = 0;
  r->timed_out = TRUE;
  g_cancellable_cancel(r->cancel);
  return G_SOURCE_REMOVE;
}

static void
start(ArWhipClient *c, Kind kind, const char *method, const char *url, const char *content_type,
      const char *body, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
      gpointer tag)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  Req *r = g_new0(Req, 1);

  g_task_set_source_tag(task, tag);
  g_task_set_task_data(task, r, (GDestroyNotify)req_free);
  r->client = ar_whip_client_ref(c);
  r->kind = kind;
  r->method = method;
  r->uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
  r->content_type = content_type;
  r->body = body != NULL ? g_bytes_new(body, strlen(body)) : NULL;
  r->cancel = g_cancellable_new();
  if (cancellable != NULL) {
    r->caller = g_object_ref(cancellable);
    r->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(on_caller_cancelled),
                                              g_object_ref(r->cancel), g_object_unref);
  }
  r->deadline_id = g_timeout_add_seconds(c->deadline_s, deadline_cb, r);
  if (r->uri == NULL) {
    fail_task(task,
              g_error_new(AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID, "%s: no URL to ask", c->what));
    return;
  }
  send_req(task);
}

void
ar_whip_client_post_offer(ArWhipClient *c, const char *offer_sdp, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  start(c, KIND_POST, SOUP_METHOD_POST, c->endpoint, "application/sdp", offer_sdp, cancellable,
        callback, user_data, ar_whip_client_post_offer);
}

ArWhipAnswer *
ar_whip_client_post_offer_finish(ArWhipClient *c, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

void
ar_whip_client_patch(ArWhipClient *c, const char *sdpfrag, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  if (c->session_url == NULL) {
    g_task_report_new_error(NULL, callback, user_data, ar_whip_client_patch, AR_WHIP_ERROR,
                            AR_WHIP_ERROR_INVALID, "%s: no session to update", c->what);
    return;
  }
  start(c, KIND_PATCH, "PATCH", c->session_url, "application/trickle-ice-sdpfrag", sdpfrag,
        cancellable, callback, user_data, ar_whip_client_patch);
}

void
ar_whip_client_patch_sdp(ArWhipClient *c, const char *answer_sdp, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  if (c->session_url == NULL) {
    g_task_report_new_error(NULL, callback, user_data, ar_whip_client_patch, AR_WHIP_ERROR,
                            AR_WHIP_ERROR_INVALID, "%s: no session to answer", c->what);
    return;
  }
  start(c, KIND_PATCH, "PATCH", c->session_url, "application/sdp", answer_sdp, cancellable,
        callback, user_data, ar_whip_client_patch);
}

gboolean
ar_whip_client_patch_finish(ArWhipClient *c, GAsyncResult *result, char **answer_frag,
                            GError **error)
{
  GError *e = NULL;
  char *frag = g_task_propagate_pointer(G_TASK(result), &e);
  if (e != NULL) {
    g_propagate_error(error, e);
    return FALSE;
  }
  if (answer_frag != NULL)
    *answer_frag = frag;
  else
    g_free(frag);
  return TRUE;
}

static gboolean
report_true(gpointer data)
{
  GTask *task = data;
  g_task_return_boolean(task, TRUE);
  g_object_unref(task);
  return G_SOURCE_REMOVE;
}

void
ar_whip_client_delete(ArWhipClient *c, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  if (c->session_url == NULL) {
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, ar_whip_client_delete);
    g_idle_add(report_true, task);
    return;
  }
  start(c, KIND_DELETE, SOUP_METHOD_DELETE, c->session_url, NULL, NULL, cancellable, callback,
        user_data, ar_whip_client_delete);
}

gboolean
ar_whip_client_delete_finish(ArWhipClient *c, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean(G_TASK(result), error);
}
