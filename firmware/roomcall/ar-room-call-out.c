/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-out.c: the "anyroom" provider: this room calls another room
 * (or anything that speaks the room call protocol) from its call link
 * (ar-room-call.h, docs/room-calls.md). */
#include "ar-room-call-priv.h"

#include <string.h>

#include "ar-room-call-http.h"

#define POLL_S 2   /* how often the caller asks whether the called room still holds the call */
#define DELETE_S 3 /* a hang-up waits this long for the called room's answer */

typedef struct {
  ArRcCall c; /* first: the provider */
  ArMediaEngine *media;
  char *name; /* this room's name, as the called room shows it */
  char *endpoint;
  char *session_url; /* endpoint/ID once answered */
  char *called;      /* the called room's host, for status */
  ArRcHttp *http;
  GCancellable *cancel;
  gboolean leaving;
  gboolean ringing; /* the POST is out: the called room may be ringing */
  guint poll_id, fail_id, left_id;
  GError *fail_error;
} OutProvider;

static void
teardown(OutProvider *p)
{
  g_cancellable_cancel(p->cancel);
  g_clear_handle_id(&p->poll_id, g_source_remove);
  ar_rc_call_close_peers(&p->c);
}

static gboolean
fail_cb(gpointer data)
{
  OutProvider *p = data;
  p->fail_id = 0;
  g_autoptr(GError) e = g_steal_pointer(&p->fail_error);
  teardown(p);
  p->c.cb.failed(&p->c.parent, e, p->c.user_data);
  return G_SOURCE_REMOVE;
}

static void
fail_later(OutProvider *p, GError *error)
{
  if (p->fail_id || p->leaving) {
    g_error_free(error);
    return;
  }
  p->fail_error = error;
  p->fail_id = g_idle_add(fail_cb, p);
}

/* The called room's refusal in plain words. */
static GError *
status_error(guint status, JsonNode *body)
{
  const char *said = NULL;
  if (body && JSON_NODE_HOLDS_OBJECT(body)) {
    JsonObject *o = json_node_get_object(body);
    JsonNode *e = json_object_get_member(o, "error");
    if (e && JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
      said = json_node_get_string(e);
  }
  switch (status) {
  case 401:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_INVALID,
                               "the called room refused the call link: it is wrong, used, "
                               "expired or revoked");
  case 403:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_DECLINED,
                               "the called room declined the call");
  case 404:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                               "the called room has no such call (it ended)");
  case 408:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NOT_ANSWERED,
                               "nobody in the called room answered");
  case 409:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_BUSY,
                               "the called room is in a call");
  case 429:
    return g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_BUSY,
                               "the called room refuses calls for a while (too many attempts)");
  default:
    /* Bounded: the called room's words are untrusted. */
    return g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_FAILED,
                       "the called room answered HTTP %u%s%.200s", status, said ? ": " : "",
                       said ? said : "");
  }
}

static const char *
member_string(JsonNode *body, const char *name)
{
  if (!body || !JSON_NODE_HOLDS_OBJECT(body))
    return NULL;
  JsonNode *n = json_object_get_member(json_node_get_object(body), name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

static const ArRcPeerCallbacks out_peer_callbacks;

static void on_polled(guint status, JsonNode *body, const GError *error, gpointer data);

static gboolean
poll_cb(gpointer data)
{
  OutProvider *p = data;
  p->poll_id = 0;
  ar_rc_http_request(p->http, "GET", p->session_url, NULL, 10, p->cancel, on_polled, p);
  return G_SOURCE_REMOVE;
}

static void
on_polled(guint status, JsonNode *body, const GError *error, gpointer data)
{
  OutProvider *p = data;
  const char *state = member_string(body, "state");
  if (status == 404 || (status == 200 && g_strcmp0(state, "ended") == 0)) {
    fail_later(p, g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                                      "the called room ended the call"));
    return;
  }
  /* A missed poll is no verdict: the media's own liveness decides. */
  if (!p->leaving)
    p->poll_id = g_timeout_add_seconds(POLL_S, poll_cb, p);
}

static void
on_answered(guint status, JsonNode *body, const GError *error, gpointer data)
{
  OutProvider *p = data;
  if (error) {
    fail_later(p, g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_FAILED,
                              "the called room did not take the answer: %s", error->message));
    return;
  }
  if (status != 200 && status != 204) {
    fail_later(p, status_error(status, body));
    return;
  }
  p->poll_id = g_timeout_add_seconds(POLL_S, poll_cb, p);
}

static void
on_ring_answered(guint status, JsonNode *body, const GError *error, gpointer data)
{
  OutProvider *p = data;
  p->ringing = FALSE;
  if (error) {
    fail_later(p, g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_FAILED,
                              "cannot reach the called room: %s", error->message));
    return;
  }
  if (status != 201) {
    fail_later(p, status_error(status, body));
    return;
  }
  const char *id = member_string(body, "id");
  const char *answer = member_string(body, "answer");
  const char *offer = member_string(body, "offer");
  if (!id || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32 || !answer || !offer) {
    fail_later(p, g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_FAILED,
                                      "the called room's answer lacks an id, answer or offer"));
    return;
  }
  p->session_url = g_strdup_printf("%s/%s", p->endpoint, id);
  if (p->c.cb.signalling_up)
    p->c.cb.signalling_up(&p->c.parent, p->c.user_data);
  g_autoptr(GError) e = NULL;
  if (!ar_rc_peer_take_answer(p->c.send, answer, &e)) {
    g_prefix_error(&e, "the called room's answer was refused: ");
    fail_later(p, g_steal_pointer(&e));
    return;
  }
  /* The receiving peer was started while the called room rang. */
  if (!ar_rc_peer_take_offer(p->c.recv, offer, &e))
    goto failed;
  return;
failed:
  g_prefix_error(&e, "cannot take the called room's media: ");
  fail_later(p, g_steal_pointer(&e));
}

static void
peer_sdp_ready(ArRcPeer *rp, const char *sdp, gpointer data)
{
  OutProvider *p = data;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (rp == p->c.send) {
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, p->name);
    json_builder_set_member_name(b, "offer");
    json_builder_add_string_value(b, sdp);
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    g_message("roomcall: calling %s", p->called);
    /* Held by the called room while it rings. */
    p->ringing = TRUE;
    ar_rc_http_request(p->http, "POST", p->endpoint, node, AR_ROOM_CALL_RING_S + 15, p->cancel,
                       on_ring_answered, p);
    return;
  }
  json_builder_set_member_name(b, "answer");
  json_builder_add_string_value(b, sdp);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *url = g_strconcat(p->session_url, "/answer", NULL);
  ar_rc_http_request(p->http, "PUT", url, node, 10, p->cancel, on_answered, p);
}

static void
peer_state(ArRcPeer *rp, ArPeerState state, const GError *error, gpointer data)
{
  OutProvider *p = data;
  if (state == AR_PEER_STATE_FAILED)
    fail_later(p, error ? g_error_copy(error)
                        : g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                                      "the media connection with the called room failed"));
  else
    ar_rc_call_peer_state(&p->c, rp, state);
}

static void
peer_media(ArRcPeer *rp, ArPeerEvent event, gpointer data)
{
  ar_rc_call_peer_media(data, rp, event);
}

static const ArRcPeerCallbacks out_peer_callbacks = {
    .sdp_ready = peer_sdp_ready,
    .state_changed = peer_state,
    .media_event = peer_media,
};

static ArProvider *
out_create(const ArLink *link, gpointer class_data, const char *display_name,
           const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  OutProvider *p = g_new0(OutProvider, 1);
  p->c.parent.klass = &ar_room_call_out_class;
  p->c.cb = *cb;
  p->c.user_data = user_data;
  p->media = class_data;
  p->name = g_strdup(display_name ? display_name : "Anyroom");
  p->endpoint = g_strdup(link->join_url);
  g_autoptr(GUri) uri = g_uri_parse(link->join_url, G_URI_FLAGS_NONE, NULL);
  p->called = g_strdup(uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "the called room");
  p->c.participant = p->called;
  p->http = ar_rc_http_new(link->passcode, link->tls_pin);
  p->cancel = g_cancellable_new();
  return &p->c.parent;
}

static void
out_join(ArProvider *base)
{
  OutProvider *p = (OutProvider *)base;
  g_autoptr(GError) e = NULL;
  p->c.send = ar_rc_peer_new(p->media, AR_PEER_SEND, "room", &out_peer_callbacks, p, &e);
  /* The receiving peer starts now too: its pipeline is ready when the called room answers. */
  if (p->c.send && ar_rc_peer_start(p->c.send, NULL, &e))
    p->c.recv = ar_rc_peer_new(p->media, AR_PEER_RECV, p->called, &out_peer_callbacks, p, &e);
  if (!p->c.recv || !ar_rc_peer_start(p->c.recv, NULL, &e)) {
    g_prefix_error(&e, "cannot start the call: ");
    fail_later(p, g_steal_pointer(&e));
  }
}

static gboolean
left_cb(gpointer data)
{
  OutProvider *p = data;
  p->left_id = 0;
  p->c.cb.left(&p->c.parent, p->c.user_data);
  return G_SOURCE_REMOVE;
}

static void
on_deleted(guint status, JsonNode *body, const GError *error, gpointer data)
{
  OutProvider *p = data;
  if (error || (status != 200 && status != 204 && status != 404))
    g_message("roomcall: the called room did not confirm the hang-up (%s)",
              error ? error->message : "an error status");
  if (!p->left_id)
    p->left_id = g_idle_add(left_cb, p);
}

static void
out_leave(ArProvider *base)
{
  OutProvider *p = (OutProvider *)base;
  p->leaving = TRUE;
  g_clear_handle_id(&p->fail_id, g_source_remove);
  g_clear_error(&p->fail_error);
  teardown(p);
  g_clear_object(&p->cancel);
  p->cancel = g_cancellable_new();
  if (p->session_url == NULL && !p->ringing) {
    p->left_id = g_idle_add(left_cb, p);
    return;
  }
  /* While it rings there is no call id yet: DELETE of the endpoint hangs up
   * the call this link's token opened. */
  ar_rc_http_request(p->http, "DELETE", p->session_url ? p->session_url : p->endpoint, NULL,
                     DELETE_S, p->cancel, on_deleted, p);
}

static void
out_free(ArProvider *base)
{
  OutProvider *p = (OutProvider *)base;
  teardown(p);
  g_clear_handle_id(&p->fail_id, g_source_remove);
  g_clear_handle_id(&p->left_id, g_source_remove);
  g_clear_error(&p->fail_error);
  ar_rc_http_free(p->http);
  g_clear_object(&p->cancel);
  g_free(p->name);
  g_free(p->endpoint);
  g_free(p->session_url);
  g_free(p->called);
  g_free(p);
}

const ArProviderClass ar_room_call_out_class = {
    .create = out_create,
    .join = out_join,
    .leave = out_leave,
    .collect_tracks = ar_rc_call_collect_tracks,
    .collect_participants = ar_rc_call_collect_participants,
    .free = out_free,
    /* ringing lasts up to AR_ROOM_CALL_RING_S */
    .min_join_timeout_s = AR_ROOM_CALL_RING_S + 20,
};
