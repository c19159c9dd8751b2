/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-http.c: the caller's requests to a called room: JSON both ways,
 * a bearer token, a pinned certificate, bounded in time and size. */
#include "ar-room-call-http.h"

#include <libsoup/soup.h>
#include <string.h>

#define MAX_BODY (256 * 1024)

struct _ArRcHttp {
  SoupSession *session;
  char *token; /* never logged */
  char *pin;   /* 64 lowercase hex, or NULL */
};

typedef struct {
  char *pin; /* the client's, copied: a request may end after ar_rc_http_free() */
  SoupSession *session;
  SoupMessage *msg;
  GInputStream *in;
  GByteArray *body;
  GCancellable *cancel; /* ours: the caller's and the deadline's */
  GCancellable *caller;
  gulong caller_id;
  guint deadline_id;
  gboolean timed_out;
  ArRcHttpFunc done;
  gpointer user_data;
} Req;

static char *
cert_sha256(GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;
  g_object_get(cert, "certificate", &der, NULL);
  return der ? g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len) : NULL;
}

static gboolean
pin_ok(const char *pin, GTlsCertificate *cert)
{
  if (pin == NULL || cert == NULL)
    return pin == NULL;
  g_autofree char *got = cert_sha256(cert);
  return got && g_str_equal(got, pin);
}

static gboolean
on_accept_certificate(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                      gpointer data)
{
  const char *pin = data;
  /* With a pin the certificate is the room's own (self-signed): it must be that one. */
  return pin != NULL && pin_ok(pin, cert);
}

ArRcHttp *
ar_rc_http_new(const char *token, const char *pin)
{
  ArRcHttp *h = g_new0(ArRcHttp, 1);
  /* No I/O timeout: the first request is held while the called room rings;
   * each request has its own deadline. */
  h->session = soup_session_new_with_options("timeout", 0, "idle-timeout", 15, "user-agent",
                                             "anyroom", NULL);
  h->token = g_strdup(token);
  h->pin = g_strdup(pin);
  return h;
}

void
ar_rc_http_free(ArRcHttp *h)
{
  if (h == NULL)
    return;
  soup_session_abort(h->session);
  g_object_unref(h->session);
  if (h->token)
    memset(h->token, 0, strlen(h->token));
  g_free(h->token);
  g_free(h->pin);
  g_free(h);
}

static void
req_free(Req *r)
{
  g_clear_handle_id(&r->deadline_id, g_source_remove);
  if (r->caller_id)
    g_cancellable_disconnect(r->caller, r->caller_id);
  g_clear_object(&r->caller);
  g_clear_object(&r->cancel);
  g_clear_object(&r->in);
  g_clear_object(&r->msg);
  g_clear_object(&r->session);
  g_free(r->pin);
  if (r->body)
    g_byte_array_unref(r->body);
  g_free(r);
}

static void
finish(Req *r, GError *error)
{
  guint status = r->msg ? soup_message_get_status(r->msg) : 0;
  g_autoptr(JsonNode) body = NULL;
  if (error == NULL && r->body && r->body->len > 0) {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) pe = NULL;
    if (json_parser_load_from_data(parser, (const char *)r->body->data, r->body->len, &pe) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
      body = json_node_copy(json_parser_get_root(parser));
    else if (status >= 200 && status < 300)
      error = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                          "the called room's answer is not a JSON object");
  }
  if (error && r->timed_out) {
    g_clear_error(&error);
    error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                "the called room did not answer in time");
  }
  if (!g_cancellable_is_cancelled(r->caller))
    r->done(error ? 0 : status, body, error, r->user_data);
  g_clear_error(&error);
  req_free(r);
}

static void
read_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  Req *r = data;
  GError *error = NULL;
  g_autoptr(GBytes) b = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
  if (!b) {
    finish(r, error);
    return;
  }
  gsize n = g_bytes_get_size(b);
  if (n == 0) {
    finish(r, NULL);
    return;
  }
  if (r->body->len + n > MAX_BODY) {
    finish(r, g_error_new(G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                          "the called room's answer is larger than %d KiB", MAX_BODY / 1024));
    return;
  }
  g_byte_array_append(r->body, g_bytes_get_data(b, NULL), n);
  g_input_stream_read_bytes_async(r->in, 16384, G_PRIORITY_DEFAULT, r->cancel, read_cb, r);
}

static void
sent_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  Req *r = data;
  GError *error = NULL;
  r->in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
  if (!r->in) {
    finish(r, error);
    return;
  }
  if (!pin_ok(r->pin, soup_message_get_tls_peer_certificate(r->msg))) {
    finish(r, g_error_new_literal(G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                                  "the called room's certificate is not the one its call link "
                                  "names"));
    return;
  }
  r->body = g_byte_array_new();
  g_input_stream_read_bytes_async(r->in, 16384, G_PRIORITY_DEFAULT, r->cancel, read_cb, r);
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
on_caller_cancelled(GCancellable *c, gpointer data)
{
  Req *r = data;
  g_cancellable_cancel(r->cancel);
}

void
ar_rc_http_request(ArRcHttp *h, const char *method, const char *url, JsonNode *body,
                   guint deadline_s, GCancellable *cancellable, ArRcHttpFunc done,
                   gpointer user_data)
{
  Req *r = g_new0(Req, 1);
  r->pin = g_strdup(h->pin);
  r->session = g_object_ref(h->session);
  r->done = done;
  r->user_data = user_data;
  r->cancel = g_cancellable_new();
  r->caller = cancellable ? g_object_ref(cancellable) : g_cancellable_new();
  r->caller_id = g_cancellable_connect(r->caller, G_CALLBACK(on_caller_cancelled), r, NULL);
  r->msg = soup_message_new(method, url);
  if (r->msg == NULL) {
    finish(r, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                  "the call link's address is not a URL"));
    return;
  }
  /* A called room never redirects: one address, as the link says. */
  soup_message_add_flags(r->msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect(r->msg, "accept-certificate", G_CALLBACK(on_accept_certificate), r->pin);
  SoupMessageHeaders *hd = soup_message_get_request_headers(r->msg);
  if (h->token) {
    g_autofree char *authz = g_strconcat("Bearer ", h->token, NULL);
    soup_message_headers_replace(hd, "Authorization", authz);
  }
  if (body) {
    g_autofree char *text = json_to_string(body, FALSE);
    gsize len = strlen(text);
    g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&text), len);
    soup_message_set_request_body_from_bytes(r->msg, "application/json", bytes);
  }
  r->deadline_id = g_timeout_add_seconds(deadline_s ? deadline_s : 15, deadline_cb, r);
  soup_session_send_async(h->session, r->msg, G_PRIORITY_DEFAULT, r->cancel, sent_cb, r);
}
