/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-in.c: the desk (calls to this room) and its provider,
 * "anyroom-in" (ar-room-call.h). */
#include "ar-room-call-priv.h"

#include <string.h>

#include "ar-native.h"

G_DEFINE_QUARK(ar - room - call - error - quark, ar_room_call_error)

guint
ar_room_call_error_status(const GError *error)
{
  if (error == NULL || error->domain != AR_ROOM_CALL_ERROR)
    return 500;
  switch ((ArRoomCallError)error->code) {
  case AR_ROOM_CALL_ERROR_BUSY:
    return 409;
  case AR_ROOM_CALL_ERROR_DECLINED:
    return 403;
  case AR_ROOM_CALL_ERROR_NOT_ANSWERED:
    return 408;
  case AR_ROOM_CALL_ERROR_NO_CALL:
    return 404;
  case AR_ROOM_CALL_ERROR_INVALID:
    return 400;
  case AR_ROOM_CALL_ERROR_FAILED:
  default:
    return 500;
  }
}

typedef enum {
  S_RINGING,
  S_ACCEPTED, /* the call manager joins; the answer is being made */
  S_ACTIVE,   /* answered (201 sent) */
  S_ENDED,
} SessionState;

typedef struct _InProvider InProvider;

typedef struct {
  ArRoomCallDesk *desk;
  char *id;
  char *caller;
  char *link_name;
  char *offer;
  SessionState state;
  gint64 since_us;
  ArRoomCallAnsweredFunc done;
  gpointer done_data;
  guint ring_id;
  InProvider *provider;
  ArRoomCallIncoming incoming;
} Session;

struct _ArRoomCallDesk {
  ArCallManager *calls;
  ArMediaEngine *media;
  ArRoomCallRingFunc ring_func;
  gpointer ring_data;
  Session *session; /* the one call this desk knows (ringing, active or the last one) */
};

struct _InProvider {
  ArRcCall c; /* first: the provider */
  ArRoomCallDesk *desk;
  Session *session;
  char *caller;
  char *answer, *offer; /* the room's answer (recv) and offer (send) */
  gboolean answered;
  guint answer_id; /* the caller's answer comes in time */
  guint fail_id;
  GError *fail_error;
  guint left_id;
};

static void
session_free(Session *s)
{
  if (s == NULL)
    return;
  g_clear_handle_id(&s->ring_id, g_source_remove);
  g_free(s->id);
  g_free(s->caller);
  g_free(s->link_name);
  g_free(s->offer);
  g_free(s);
}

static void
ring_changed(ArRoomCallDesk *desk)
{
  if (desk->ring_func)
    desk->ring_func(ar_room_call_desk_get_incoming(desk), desk->ring_data);
}

/* Tells the held request of @s how it ended (once). */
static void
session_answer(Session *s, const GError *error, const char *answer, const char *offer)
{
  ArRoomCallAnsweredFunc done = s->done;
  s->done = NULL;
  if (done)
    done(error, s->id, answer, offer, s->done_data);
}

static void
session_end(Session *s, const GError *error)
{
  gboolean rang = s->state == S_RINGING;
  s->state = S_ENDED;
  g_clear_handle_id(&s->ring_id, g_source_remove);
  g_clear_pointer(&s->offer, g_free);
  if (error)
    session_answer(s, error, NULL, NULL);
  s->done = NULL;
  if (rang)
    ring_changed(s->desk);
}

/* ---- the provider ---- */

static void
provider_fail_cb_clear(InProvider *p)
{
  g_clear_handle_id(&p->fail_id, g_source_remove);
  g_clear_error(&p->fail_error);
}

static gboolean
fail_cb(gpointer data)
{
  InProvider *p = data;
  p->fail_id = 0;
  g_autoptr(GError) e = g_steal_pointer(&p->fail_error);
  g_clear_handle_id(&p->answer_id, g_source_remove);
  if (p->session) {
    session_end(p->session, e);
    p->session->provider = NULL;
    p->session = NULL;
  }
  ar_rc_call_close_peers(&p->c);
  p->c.cb.failed(&p->c.parent, e, p->c.user_data);
  return G_SOURCE_REMOVE;
}

static void
fail_later(InProvider *p, GError *error)
{
  if (p->fail_id) {
    g_error_free(error);
    return;
  }
  p->fail_error = error;
  p->fail_id = g_idle_add(fail_cb, p);
}

static gboolean
answer_timeout_cb(gpointer data)
{
  InProvider *p = data;
  p->answer_id = 0;
  fail_later(p, g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NOT_ANSWERED,
                            "the caller did not complete the call within %d s",
                            AR_ROOM_CALL_ANSWER_S));
  return G_SOURCE_REMOVE;
}

static void
maybe_answer(InProvider *p)
{
  if (p->answered || !p->answer || !p->offer || !p->session)
    return;
  p->answered = TRUE;
  p->session->state = S_ACTIVE;
  g_message("roomcall: answering the call from %s", p->caller);
  session_answer(p->session, NULL, p->answer, p->offer);
  p->answer_id = g_timeout_add_seconds(AR_ROOM_CALL_ANSWER_S, answer_timeout_cb, p);
}

static void
peer_sdp_ready(ArRcPeer *rp, const char *sdp, gpointer data)
{
  InProvider *p = data;
  if (rp == p->c.recv)
    p->answer = g_strdup(sdp);
  else
    p->offer = g_strdup(sdp);
  maybe_answer(p);
}

static void
peer_state(ArRcPeer *rp, ArPeerState state, const GError *error, gpointer data)
{
  InProvider *p = data;
  if (state == AR_PEER_STATE_FAILED)
    fail_later(p, error ? g_error_copy(error)
                        : g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                                      "the media connection with the caller failed"));
  else
    ar_rc_call_peer_state(&p->c, rp, state);
}

static void
peer_media(ArRcPeer *rp, ArPeerEvent event, gpointer data)
{
  ar_rc_call_peer_media(data, rp, event);
}

static const ArRcPeerCallbacks in_peer_callbacks = {
    .sdp_ready = peer_sdp_ready,
    .state_changed = peer_state,
    .media_event = peer_media,
};

static ArProvider *
in_create(const ArLink *link, gpointer class_data, const char *display_name,
          const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  ArRoomCallDesk *desk = class_data;
  Session *s = desk->session;
  if (s == NULL || s->state != S_ACCEPTED || g_strcmp0(s->id, link->join_url) != 0) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                        "that call to the room is over");
    return NULL;
  }
  InProvider *p = g_new0(InProvider, 1);
  p->c.parent.klass = &ar_room_call_in_class;
  p->c.cb = *cb;
  p->c.user_data = user_data;
  p->desk = desk;
  p->session = s;
  p->caller = g_strdup(s->caller);
  p->c.participant = p->caller;
  s->provider = p;
  return &p->c.parent;
}

static void
in_join(ArProvider *base)
{
  InProvider *p = (InProvider *)base;
  g_autoptr(GError) error = NULL;
  if (p->session == NULL) {
    fail_later(p, g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                                      "the caller hung up"));
    return;
  }
  p->c.recv = ar_rc_peer_new(p->desk->media, AR_PEER_RECV, "caller", &in_peer_callbacks, p, &error);
  if (p->c.recv && ar_rc_peer_start(p->c.recv, p->session->offer, &error))
    p->c.send = ar_rc_peer_new(p->desk->media, AR_PEER_SEND, "room", &in_peer_callbacks, p, &error);
  if (!p->c.send || !ar_rc_peer_start(p->c.send, NULL, &error)) {
    g_prefix_error(&error, "cannot answer the call: ");
    fail_later(p, g_steal_pointer(&error));
  }
}

static gboolean
left_cb(gpointer data)
{
  InProvider *p = data;
  p->left_id = 0;
  p->c.cb.left(&p->c.parent, p->c.user_data);
  return G_SOURCE_REMOVE;
}

static void
in_leave(ArProvider *base)
{
  InProvider *p = (InProvider *)base;
  provider_fail_cb_clear(p);
  g_clear_handle_id(&p->answer_id, g_source_remove);
  if (p->session) {
    g_autoptr(GError) e = g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_DECLINED,
                                              "the room ended the call");
    session_end(p->session, e);
    p->session->provider = NULL;
    p->session = NULL;
  }
  ar_rc_call_close_peers(&p->c);
  if (!p->left_id)
    p->left_id = g_idle_add(left_cb, p);
}

static void
in_free(ArProvider *base)
{
  InProvider *p = (InProvider *)base;
  provider_fail_cb_clear(p);
  g_clear_handle_id(&p->answer_id, g_source_remove);
  g_clear_handle_id(&p->left_id, g_source_remove);
  if (p->session) {
    g_autoptr(GError) e = g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_FAILED,
                                              "the room ended the call");
    session_end(p->session, e);
    p->session->provider = NULL;
  }
  ar_rc_call_close_peers(&p->c);
  g_free(p->answer);
  g_free(p->offer);
  g_free(p->caller);
  g_free(p);
}

const ArProviderClass ar_room_call_in_class = {
    .create = in_create,
    .join = in_join,
    .leave = in_leave,
    .collect_tracks = ar_rc_call_collect_tracks,
    .collect_participants = ar_rc_call_collect_participants,
    .free = in_free,
};

/* ---- the desk ---- */

ArRoomCallDesk *
ar_room_call_desk_new(ArCallManager *calls)
{
  ArRoomCallDesk *desk = g_new0(ArRoomCallDesk, 1);
  desk->calls = calls;
  desk->media = calls ? ar_call_manager_get_engine(calls) : NULL;
  return desk;
}

void
ar_room_call_desk_free(ArRoomCallDesk *desk)
{
  if (desk == NULL)
    return;
  if (desk->session) {
    if (desk->session->provider)
      desk->session->provider->session = NULL;
    session_free(desk->session);
  }
  g_free(desk);
}

void
ar_room_call_desk_set_ring_func(ArRoomCallDesk *desk, ArRoomCallRingFunc func, gpointer user_data)
{
  desk->ring_func = func;
  desk->ring_data = user_data;
}

const ArRoomCallIncoming *
ar_room_call_desk_get_incoming(ArRoomCallDesk *desk)
{
  Session *s = desk->session;
  if (s == NULL || s->state != S_RINGING)
    return NULL;
  s->incoming = (ArRoomCallIncoming){
      .id = s->id,
      .caller = s->caller,
      .link_name = s->link_name,
      .since_us = s->since_us,
      .ring_s = AR_ROOM_CALL_RING_S,
  };
  return &s->incoming;
}

static gboolean
ring_timeout_cb(gpointer data)
{
  Session *s = data;
  s->ring_id = 0;
  g_message("roomcall: nobody answered the call from %s", s->caller);
  g_autoptr(GError) e = g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NOT_ANSWERED,
                                    "nobody in the room answered within %d s", AR_ROOM_CALL_RING_S);
  session_end(s, e);
  return G_SOURCE_REMOVE;
}

char *
ar_room_call_clean_name(const char *name)
{
  if (name == NULL || !g_utf8_validate(name, -1, NULL))
    return g_strdup("A caller");
  GString *out = g_string_new(NULL);
  guint n = 0;
  for (const char *c = name; *c && n < AR_ROOM_CALL_NAME_MAX; c = g_utf8_next_char(c)) {
    gunichar u = g_utf8_get_char(c);
    if (!g_unichar_isprint(u))
      continue;
    g_string_append_unichar(out, u);
    n++;
  }
  g_strstrip(out->str);
  if (out->str[0] == '\0') {
    g_string_free(out, TRUE);
    return g_strdup("A caller");
  }
  return g_string_free(out, FALSE);
}

static gboolean
busy(ArRoomCallDesk *desk)
{
  if (desk->session && desk->session->state != S_ENDED)
    return TRUE;
  ArCallState st = ar_call_manager_get_state(desk->calls);
  return ar_call_state_is_active(st) || st == AR_CALL_LEAVING;
}

gboolean
ar_room_call_desk_ring(ArRoomCallDesk *desk, const char *caller, const char *link_name,
                       gboolean auto_answer, const char *offer, ArRoomCallAnsweredFunc done,
                       gpointer user_data, GError **error)
{
  if (offer == NULL || strlen(offer) > AR_ROOM_CALL_SDP_MAX || !g_str_has_prefix(offer, "v=0")) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_INVALID,
                        "the request needs an \"offer\": an SDP offer of at most 32 KiB");
    return FALSE;
  }
  if (busy(desk)) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_BUSY,
                        "the room is in a call");
    return FALSE;
  }
  g_autofree char *id = g_malloc(33);
  for (int i = 0; i < 4; i++)
    g_snprintf(id + i * 8, 9, "%08x", g_random_int());
  g_clear_pointer(&desk->session, session_free);
  Session *s = g_new0(Session, 1);
  s->desk = desk;
  s->id = g_steal_pointer(&id);
  s->caller = ar_room_call_clean_name(caller);
  s->link_name = g_strdup(link_name ? link_name : "");
  s->offer = g_strdup(offer);
  s->since_us = g_get_monotonic_time();
  s->done = done;
  s->done_data = user_data;
  s->state = S_RINGING;
  desk->session = s;
  g_message("roomcall: %s calls the room (call link %s)%s", s->caller, s->link_name,
            auto_answer ? "; it answers by itself" : "");
  if (auto_answer) {
    g_autoptr(GError) e = NULL;
    if (!ar_room_call_desk_accept(desk, &e)) {
      session_end(s, e);
      return TRUE;
    }
    return TRUE;
  }
  s->ring_id = g_timeout_add_seconds(AR_ROOM_CALL_RING_S, ring_timeout_cb, s);
  ring_changed(desk);
  return TRUE;
}

void
ar_room_call_desk_forget(ArRoomCallDesk *desk, gpointer user_data)
{
  Session *s = desk->session;
  if (s == NULL || s->done_data != user_data || s->done == NULL)
    return;
  s->done = NULL;
  if (s->state == S_RINGING) {
    g_message("roomcall: %s hung up before the room answered", s->caller);
    session_end(s, NULL);
  } else if (s->state == S_ACCEPTED && s->provider) {
    fail_later(s->provider, g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                                                "the caller hung up before the call was set up"));
  }
}

static Session *
session_of(ArRoomCallDesk *desk, const char *id, GError **error)
{
  Session *s = desk->session;
  if (s == NULL || id == NULL || !g_str_equal(s->id, id) || s->state == S_ENDED) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                        "no such call, or it is over");
    return NULL;
  }
  return s;
}

gboolean
ar_room_call_desk_caller_answer(ArRoomCallDesk *desk, const char *id, const char *answer,
                                GError **error)
{
  Session *s = session_of(desk, id, error);
  if (!s)
    return FALSE;
  InProvider *p = s->provider;
  if (s->state != S_ACTIVE || p == NULL || p->c.send == NULL || p->answer_id == 0) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_INVALID,
                        "the call does not wait for an answer");
    return FALSE;
  }
  if (answer == NULL || strlen(answer) > AR_ROOM_CALL_SDP_MAX) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_INVALID,
                        "the request needs an \"answer\": an SDP answer of at most 32 KiB");
    return FALSE;
  }
  if (!ar_rc_peer_take_answer(p->c.send, answer, error)) {
    g_prefix_error(error, "the answer was refused: ");
    GError *copy = g_error_copy(*error);
    fail_later(p, copy);
    return FALSE;
  }
  g_clear_handle_id(&p->answer_id, g_source_remove);
  return TRUE;
}

const char *
ar_room_call_desk_state(ArRoomCallDesk *desk, const char *id)
{
  Session *s = desk->session;
  if (s == NULL || id == NULL || !g_str_equal(s->id, id))
    return NULL;
  switch (s->state) {
  case S_RINGING:
    return "ringing";
  case S_ACCEPTED:
  case S_ACTIVE:
    return "active";
  case S_ENDED:
  default:
    return "ended";
  }
}

gboolean
ar_room_call_desk_hang_up(ArRoomCallDesk *desk, const char *id, GError **error)
{
  Session *s = session_of(desk, id, error);
  if (!s)
    return FALSE;
  g_message("roomcall: %s hung up", s->caller);
  if (s->provider)
    fail_later(s->provider, g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                                                "the caller hung up"));
  else
    session_end(s, NULL);
  return TRUE;
}

static void
join_done(const GError *error, gpointer user_data)
{
  /* The provider reports through the session; the call manager's verdict is
   * only logged here. */
  if (error)
    g_debug("roomcall: the call ended before it was connected: %s", error->message);
}

gboolean
ar_room_call_desk_accept(ArRoomCallDesk *desk, GError **error)
{
  Session *s = desk->session;
  if (s == NULL || s->state != S_RINGING) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                        "no call is ringing");
    return FALSE;
  }
  g_clear_handle_id(&s->ring_id, g_source_remove);
  s->state = S_ACCEPTED;
  g_autoptr(ArLink) link = g_new0(ArLink, 1);
  link->provider = g_strdup("anyroom-in");
  link->engine = AR_ENGINE_NATIVE;
  link->join_url = g_strdup(s->id);
  link->display = g_strdup(s->caller);
  g_autofree char *text = g_strdup_printf("a call from %s", s->caller);
  g_autoptr(GError) local = NULL;
  if (!ar_call_manager_join_link(desk->calls, link, text, join_done, NULL, &local)) {
    g_autoptr(GError) e =
        g_error_new(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_BUSY, "%s", local->message);
    s->state = S_RINGING; /* so that session_end says the ringing stopped */
    session_end(s, e);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  g_message("roomcall: the room accepted the call from %s", s->caller);
  ring_changed(desk);
  return TRUE;
}

gboolean
ar_room_call_desk_decline(ArRoomCallDesk *desk, GError **error)
{
  Session *s = desk->session;
  if (s == NULL || s->state != S_RINGING) {
    g_set_error_literal(error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                        "no call is ringing");
    return FALSE;
  }
  g_message("roomcall: the room declined the call from %s", s->caller);
  g_autoptr(GError) e = g_error_new_literal(AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_DECLINED,
                                            "the room declined the call");
  session_end(s, e);
  return TRUE;
}

void
ar_room_call_register(ArProviderRegistry *registry, ArNativeEngine *native, ArRoomCallDesk *desk)
{
  if (desk) {
    desk->media = ar_native_engine_get_media(native);
    ar_native_register(registry, native, "anyroom-in", &ar_room_call_in_class, desk);
  }
  ar_native_register(registry, native, "anyroom", &ar_room_call_out_class,
                     ar_native_engine_get_media(native));
}
