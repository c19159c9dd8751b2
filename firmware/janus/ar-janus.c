/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-janus.c: the Janus VideoRoom provider.
 *
 * One Janus session; one publisher handle (the room's camera + microphone,
 * sendonly, we offer); one subscriber handle per remote publisher (recvonly,
 * Janus offers). Candidates trickle both ways. Every request that expects an
 * answer is a transaction with a deadline.
 */
#include <string.h>

#include "ar-janus-msg.h"
#include "ar-janus-transport.h"
#include "ar-janus.h"
#include "ar-native.h"

#define TXN_TIMEOUT_S 10
#define KEEPALIVE_S 25 /* Janus drops sessions after 60 s of silence */
#define LEAVE_TIMEOUT_MS 2000
#define MAX_PENDING_CANDIDATES 64
/* A subscription whose peer connection failed (dead peer, ICE/DTLS) is made
 * again, at most this often per feed, 1 s then 2 s then 4 s later. */
#define MAX_RESUBSCRIBES 3

typedef enum {
  TXN_CREATE,
  TXN_ATTACH_PUB,
  TXN_JOIN_PUB,
  TXN_PUBLISH,
  TXN_ATTACH_SUB,
  TXN_JOIN_SUB,
  TXN_START,
  TXN_DESTROY,
} TxnKind;

static const char *const txn_names[] = {
    "create session",    "attach publisher", "join room",          "publish",
    "attach subscriber", "subscribe",        "start subscription", "destroy session",
};

typedef enum {
  ST_NEW,
  ST_JOINING,
  ST_CONNECTED,
  ST_LEAVING,
  ST_DONE,
} State;

typedef struct _ArJanusProvider ArJanusProvider;

typedef struct {
  ArJanusProvider *p;
  guint64 handle_id;
  gboolean publisher;
  ArJanusId feed; /* subscribers: the feed they receive */
  char *display;
  ArPeer *peer;
  GPtrArray *pending_candidates; /* "mline\ncandidate" until the peer exists */
} Handle;

typedef struct {
  TxnKind kind;
  ArJanusId feed; /* ATTACH_SUB */
  char *display;  /* ATTACH_SUB */
  guint64 handle_id;
  guint timeout_id;
  ArJanusProvider *p;
  char *transaction;
} Txn;

struct _ArJanusProvider {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArMediaEngine *engine;
  char *url;
  ArJanusId room;
  char *pin;
  char *display;
  State state;
  ArJanusTransport *transport;
  guint64 session_id;
  Handle *pub;
  GHashTable *subs;       /* handle id (guint64*) -> Handle* */
  GHashTable *publishers; /* feed id str -> display (remote publishers we know) */
  GHashTable *txns;       /* transaction -> Txn* */
  ArJanusId my_id;
  ArJanusId private_id;
  guint keepalive_id;
  guint leave_timeout_id;
  guint64 txn_counter;
  /* Peer failures are handled from an idle callback: a peer is never freed
   * inside its own callback. */
  guint deferred_id;
  GError *deferred_error;
  GArray *dead_subs;        /* guint64 handle ids */
  GHashTable *resubscribes; /* feed id str -> attempts so far (GUINT_TO_POINTER) */
  GHashTable *resub_timers; /* feed id str -> GSource id */
};

static const ArProviderClass janus_provider_class;

static void provider_fail(ArJanusProvider *p, const GError *error);
static gboolean deferred_cb(gpointer data);
static void subscribe(ArJanusProvider *p, const ArJanusId *feed, const char *display);

/* ---- handles ---- */

static void
handle_free(Handle *h)
{
  if (!h)
    return;
  ar_peer_free(h->peer);
  ar_janus_id_clear(&h->feed);
  g_free(h->display);
  g_clear_pointer(&h->pending_candidates, g_ptr_array_unref);
  g_free(h);
}

static Handle *
find_handle(ArJanusProvider *p, guint64 handle_id)
{
  if (p->pub && p->pub->handle_id == handle_id)
    return p->pub;
  return g_hash_table_lookup(p->subs, &handle_id);
}

static Handle *
find_sub_by_feed(ArJanusProvider *p, const ArJanusId *feed)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, p->subs);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (ar_janus_id_equal(&((Handle *)v)->feed, feed))
      return v;
  return NULL;
}

/* ---- sending ---- */

static char *
next_transaction(ArJanusProvider *p)
{
  return g_strdup_printf("ar%" G_GUINT64_FORMAT "-%08x", ++p->txn_counter, g_random_int());
}

static void
txn_free(Txn *t)
{
  if (t->timeout_id)
    g_source_remove(t->timeout_id);
  ar_janus_id_clear(&t->feed);
  g_free(t->display);
  g_free(t->transaction);
  g_free(t);
}

static gboolean
txn_timeout(gpointer data)
{
  Txn *t = data;
  ArJanusProvider *p = t->p;
  t->timeout_id = 0;
  g_autoptr(GError) e =
      g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_TIMEOUT, "Janus did not answer '%s' within %d s",
                  txn_names[t->kind], TXN_TIMEOUT_S);
  if (t->kind == TXN_ATTACH_SUB || t->kind == TXN_JOIN_SUB || t->kind == TXN_START) {
    /* A subscription that does not come up is dropped, not the call. */
    g_warning("janus: %s", e->message);
    g_hash_table_remove(p->txns, t->transaction);
    return G_SOURCE_REMOVE;
  }
  provider_fail(p, e);
  return G_SOURCE_REMOVE;
}

/* Sends a request; if @kind >= 0, tracks it as a transaction with a deadline. */
static Txn *
send_request(ArJanusProvider *p, int kind, const char *janus, guint64 handle_id, JsonNode *body,
             const char *jsep_type, const char *jsep_sdp)
{
  g_autofree char *txn = next_transaction(p);
  g_autofree char *json =
      ar_janus_build(janus, txn, p->session_id, handle_id, body, jsep_type, jsep_sdp);
  Txn *t = NULL;
  if (kind >= 0) {
    t = g_new0(Txn, 1);
    t->kind = kind;
    t->p = p;
    t->handle_id = handle_id;
    t->transaction = g_strdup(txn);
    t->timeout_id = g_timeout_add_seconds(TXN_TIMEOUT_S, txn_timeout, t);
    g_hash_table_insert(p->txns, t->transaction, t);
  }
  ar_janus_transport_send(p->transport, json);
  return t;
}

static JsonNode *
build_join_body(ArJanusProvider *p, gboolean publisher, const ArJanusId *feed)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "request");
  json_builder_add_string_value(b, "join");
  json_builder_set_member_name(b, "ptype");
  json_builder_add_string_value(b, publisher ? "publisher" : "subscriber");
  json_builder_set_member_name(b, "room");
  ar_janus_id_add_to_builder(&p->room, b);
  if (p->pin) {
    json_builder_set_member_name(b, "pin");
    json_builder_add_string_value(b, p->pin);
  }
  if (publisher) {
    json_builder_set_member_name(b, "display");
    json_builder_add_string_value(b, p->display);
  } else {
    json_builder_set_member_name(b, "streams");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "feed");
    ar_janus_id_add_to_builder(feed, b);
    json_builder_end_object(b);
    json_builder_end_array(b);
    if (p->private_id.str) {
      json_builder_set_member_name(b, "private_id");
      ar_janus_id_add_to_builder(&p->private_id, b);
    }
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static JsonNode *
build_simple_body(const char *request, gboolean media)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "request");
  json_builder_add_string_value(b, request);
  if (media) {
    json_builder_set_member_name(b, "audio");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "video");
    json_builder_add_boolean_value(b, TRUE);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gboolean
keepalive_cb(gpointer data)
{
  ArJanusProvider *p = data;
  send_request(p, -1, "keepalive", 0, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* ---- peers ---- */

/* SDPs at debug level, without the ICE password (a credential). */
static void
debug_sdp(const char *what, const char *sdp)
{
  if (!g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN)) {
    g_auto(GStrv) lines = g_strsplit(sdp, "\n", -1);
    for (gsize i = 0; lines[i]; i++)
      if (g_str_has_prefix(lines[i], "a=ice-pwd:"))
        g_free(lines[i]), lines[i] = g_strdup("a=ice-pwd:(hidden)\r");
    g_autofree char *text = g_strjoinv("\n", lines);
    g_debug("janus: %s:\n%s", what, text);
  }
}

static void
peer_local_description(ArPeer *peer, const char *type, const char *sdp, gpointer data)
{
  Handle *h = data;
  ArJanusProvider *p = h->p;
  debug_sdp(type, sdp);
  if (h->publisher) {
    g_autoptr(JsonNode) body = build_simple_body("publish", TRUE);
    send_request(p, TXN_PUBLISH, "message", h->handle_id, body, type, sdp);
  } else {
    g_autoptr(JsonNode) body = build_simple_body("start", FALSE);
    send_request(p, TXN_START, "message", h->handle_id, body, type, sdp);
  }
}

static void
peer_local_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer data)
{
  Handle *h = data;
  ArJanusProvider *p = h->p;
  g_autofree char *txn = next_transaction(p);
  g_autofree char *json =
      ar_janus_build_trickle(txn, p->session_id, h->handle_id, mline, candidate);
  ar_janus_transport_send(p->transport, json);
}

static void remove_sub(ArJanusProvider *p, Handle *h, gboolean detach);

typedef struct {
  ArJanusProvider *p;
  char *feed;
} Resub;

static void
resub_free(Resub *r)
{
  g_free(r->feed);
  g_free(r);
}

static gboolean
resub_cb(gpointer data)
{
  Resub *r = data;
  ArJanusProvider *p = r->p;
  g_hash_table_remove(p->resub_timers, r->feed);
  const char *display = g_hash_table_lookup(p->publishers, r->feed);
  if (display) {
    ArJanusId feed = {0};
    if (ar_janus_id_from_string(&feed, r->feed)) {
      g_message("janus: subscribing again to %s", display);
      subscribe(p, &feed, display);
    }
    ar_janus_id_clear(&feed);
  }
  return G_SOURCE_REMOVE;
}

/* The feed's subscription failed: subscribe again later (bounded), while the
 * feed is still published. */
static void
resubscribe_later(ArJanusProvider *p, const ArJanusId *feed)
{
  if (!feed->str || !g_hash_table_contains(p->publishers, feed->str) ||
      g_hash_table_contains(p->resub_timers, feed->str))
    return;
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(p->resubscribes, feed->str));
  if (n >= MAX_RESUBSCRIBES) {
    g_warning("janus: not subscribing to %s again (%u attempts)", feed->str, n);
    return;
  }
  g_hash_table_replace(p->resubscribes, g_strdup(feed->str), GUINT_TO_POINTER(n + 1));
  Resub *r = g_new0(Resub, 1);
  r->p = p;
  r->feed = g_strdup(feed->str);
  guint id =
      g_timeout_add_full(G_PRIORITY_DEFAULT, 1000u << n, resub_cb, r, (GDestroyNotify)resub_free);
  g_hash_table_replace(p->resub_timers, g_strdup(feed->str), GUINT_TO_POINTER(id));
}

static gboolean
deferred_cb(gpointer data)
{
  ArJanusProvider *p = data;
  p->deferred_id = 0;
  if (p->deferred_error) {
    g_autoptr(GError) e = g_steal_pointer(&p->deferred_error);
    g_array_set_size(p->dead_subs, 0);
    provider_fail(p, e);
    return G_SOURCE_REMOVE;
  }
  for (guint i = 0; i < p->dead_subs->len; i++) {
    Handle *h = find_handle(p, g_array_index(p->dead_subs, guint64, i));
    if (h && !h->publisher) {
      ArJanusId feed = {0};
      ar_janus_id_copy(&feed, &h->feed);
      remove_sub(p, h, TRUE);
      resubscribe_later(p, &feed);
      ar_janus_id_clear(&feed);
    }
  }
  g_array_set_size(p->dead_subs, 0);
  return G_SOURCE_REMOVE;
}

static void
peer_state_changed(ArPeer *peer, ArPeerState state, const GError *error, gpointer data)
{
  Handle *h = data;
  ArJanusProvider *p = h->p;
  g_debug("janus: peer %s is %s", ar_peer_get_label(peer), ar_peer_state_to_string(state));
  if (state == AR_PEER_STATE_CONNECTED && h->publisher && p->state == ST_JOINING) {
    p->state = ST_CONNECTED;
    p->cb.connected(&p->parent, p->user_data);
  } else if (state == AR_PEER_STATE_FAILED) {
    /* A peer that fails certificate verification ends the call (it may be an
     * attacker in the path); another subscriber failure drops that feed. */
    if (h->publisher || g_error_matches(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT)) {
      if (!p->deferred_error)
        p->deferred_error = error ? g_error_copy(error)
                                  : g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                                                "the media connection failed");
    } else {
      g_warning("janus: subscription to %s failed: %s", h->display ? h->display : h->feed.str,
                error ? error->message : "unknown error");
      g_array_append_val(p->dead_subs, h->handle_id);
    }
    if (!p->deferred_id)
      p->deferred_id = g_idle_add(deferred_cb, p);
  }
}

static void
peer_media_event(ArPeer *peer, ArPeerEvent event, gpointer data)
{
  Handle *h = data;
  ar_native_media_event(&h->p->parent, &h->p->cb, h->p->user_data, peer, event);
}

static const ArPeerCallbacks peer_callbacks = {
    .local_description = peer_local_description,
    .local_candidate = peer_local_candidate,
    .state_changed = peer_state_changed,
    .media_event = peer_media_event,
};

static void
flush_candidates(Handle *h)
{
  if (!h->pending_candidates || !h->peer)
    return;
  for (guint i = 0; i < h->pending_candidates->len; i++) {
    const char *entry = h->pending_candidates->pdata[i];
    const char *nl = strchr(entry, '\n');
    g_autoptr(GError) e = NULL;
    if (!ar_peer_add_remote_candidate(h->peer, (guint)g_ascii_strtoull(entry, NULL, 10),
                                      nl[1] ? nl + 1 : NULL, &e))
      g_debug("janus: ignoring candidate: %s", e->message);
  }
  g_ptr_array_set_size(h->pending_candidates, 0);
}

/* ---- subscriptions ---- */

static void
remove_sub(ArJanusProvider *p, Handle *h, gboolean detach)
{
  if (detach && p->state != ST_DONE)
    send_request(p, -1, "detach", h->handle_id, NULL, NULL, NULL);
  guint64 id = h->handle_id;
  g_hash_table_remove(p->subs, &id);
  p->cb.participants_changed(&p->parent, p->user_data);
}

/* "attach" takes "plugin" at the top level, not in a body. */
static void
send_attach(ArJanusProvider *p, TxnKind kind, const ArJanusId *feed, const char *display)
{
  g_autofree char *txn = next_transaction(p);
  g_autoptr(JsonBuilder) a = json_builder_new();
  json_builder_begin_object(a);
  json_builder_set_member_name(a, "janus");
  json_builder_add_string_value(a, "attach");
  json_builder_set_member_name(a, "plugin");
  json_builder_add_string_value(a, "janus.plugin.videoroom");
  json_builder_set_member_name(a, "transaction");
  json_builder_add_string_value(a, txn);
  json_builder_set_member_name(a, "session_id");
  json_builder_add_int_value(a, (gint64)p->session_id);
  json_builder_end_object(a);
  g_autoptr(JsonNode) an = json_builder_get_root(a);
  g_autofree char *json = json_to_string(an, FALSE);
  Txn *t = g_new0(Txn, 1);
  t->kind = kind;
  t->p = p;
  if (feed)
    ar_janus_id_copy(&t->feed, feed);
  t->display = g_strdup(display);
  t->transaction = g_strdup(txn);
  t->timeout_id = g_timeout_add_seconds(TXN_TIMEOUT_S, txn_timeout, t);
  g_hash_table_insert(p->txns, t->transaction, t);
  ar_janus_transport_send(p->transport, json);
}

static void
subscribe(ArJanusProvider *p, const ArJanusId *feed, const char *display)
{
  if (p->state != ST_JOINING && p->state != ST_CONNECTED)
    return;
  if (ar_janus_id_equal(feed, &p->my_id) || find_sub_by_feed(p, feed))
    return;
  /* Skip if an attach for this feed is already under way. */
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, p->txns);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (((Txn *)v)->kind == TXN_ATTACH_SUB && ar_janus_id_equal(&((Txn *)v)->feed, feed))
      return;
  send_attach(p, TXN_ATTACH_SUB, feed, display);
}

static void
learn_publishers(ArJanusProvider *p, GPtrArray *publishers)
{
  if (!publishers)
    return;
  for (guint i = 0; i < publishers->len; i++) {
    ArJanusPublisher *pub = publishers->pdata[i];
    if (ar_janus_id_equal(&pub->id, &p->my_id))
      continue;
    if (g_hash_table_size(p->publishers) >= AR_JANUS_MAX_PUBLISHERS)
      break;
    g_hash_table_replace(p->publishers, g_strdup(pub->id.str), g_strdup(pub->display));
    subscribe(p, &pub->id, pub->display);
  }
  p->cb.participants_changed(&p->parent, p->user_data);
}

static void
feed_gone(ArJanusProvider *p, const ArJanusId *feed)
{
  if (!feed->str)
    return;
  g_hash_table_remove(p->publishers, feed->str);
  Handle *h = find_sub_by_feed(p, feed);
  if (h) {
    g_debug("janus: feed %s left", feed->str);
    remove_sub(p, h, TRUE);
  } else {
    p->cb.participants_changed(&p->parent, p->user_data);
  }
}

/* ---- receiving ---- */

static gboolean
start_publishing(ArJanusProvider *p, GError **error)
{
  p->pub->peer = ar_peer_new(p->engine, AR_PEER_SEND, "publisher", &peer_callbacks, p->pub, error);
  if (!p->pub->peer)
    return FALSE;
  return ar_peer_start(p->pub->peer, error);
}

static void
on_txn_answer(ArJanusProvider *p, Txn *t, ArJanusMsg *m)
{
  g_autoptr(GError) error = NULL;
  switch (t->kind) {
  case TXN_CREATE:
    if (!m->data_id) {
      error = g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "Janus created no session");
      break;
    }
    p->session_id = m->data_id;
    p->keepalive_id = g_timeout_add_seconds(KEEPALIVE_S, keepalive_cb, p);
    send_attach(p, TXN_ATTACH_PUB, NULL, NULL);
    return;
  case TXN_ATTACH_PUB: {
    if (!m->data_id) {
      error = g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "Janus attached no handle");
      break;
    }
    p->pub = g_new0(Handle, 1);
    p->pub->p = p;
    p->pub->publisher = TRUE;
    p->pub->handle_id = m->data_id;
    g_autoptr(JsonNode) body = build_join_body(p, TRUE, NULL);
    send_request(p, TXN_JOIN_PUB, "message", p->pub->handle_id, body, NULL, NULL);
    return;
  }
  case TXN_JOIN_PUB:
    if (!m->videoroom || !g_str_equal(m->videoroom, "joined") || !m->id.str) {
      error =
          g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "Janus answered the join with '%s'",
                      m->videoroom ? m->videoroom : m->janus);
      break;
    }
    ar_janus_id_copy(&p->my_id, &m->id);
    ar_janus_id_copy(&p->private_id, &m->private_id);
    g_message("janus: joined room %s as %s (%s)", p->room.str, p->my_id.str, p->display);
    if (p->cb.signalling_up)
      p->cb.signalling_up(&p->parent, p->user_data);
    if (!start_publishing(p, &error))
      break;
    learn_publishers(p, m->publishers);
    return;
  case TXN_PUBLISH:
    if (!m->jsep_sdp || !g_str_equal(m->jsep_type, "answer")) {
      error = g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                          "Janus accepted the publish request without an SDP answer");
      break;
    }
    debug_sdp("Janus answer", m->jsep_sdp);
    /* The peer failed meanwhile (e.g. its only TURN relays refused): its own
     * error, already on its way through deferred_cb, says why. */
    if (ar_peer_get_state(p->pub->peer) == AR_PEER_STATE_FAILED)
      return;
    if (!ar_peer_set_remote_description(p->pub->peer, "answer", m->jsep_sdp, &error))
      g_prefix_error(&error, "Janus's answer is unusable: ");
    else
      return;
    break;
  case TXN_ATTACH_SUB: {
    if (!m->data_id)
      return;
    Handle *h = g_new0(Handle, 1);
    h->p = p;
    h->handle_id = m->data_id;
    ar_janus_id_copy(&h->feed, &t->feed);
    h->display = g_strdup(t->display);
    g_hash_table_insert(p->subs, &h->handle_id, h);
    g_autoptr(JsonNode) body = build_join_body(p, FALSE, &t->feed);
    send_request(p, TXN_JOIN_SUB, "message", h->handle_id, body, NULL, NULL);
    return;
  }
  case TXN_JOIN_SUB: {
    Handle *h = find_handle(p, t->handle_id);
    if (!h)
      return;
    if (!m->jsep_sdp || !g_str_equal(m->jsep_type, "offer")) {
      g_warning("janus: subscription to %s came without an offer", h->feed.str);
      remove_sub(p, h, TRUE);
      return;
    }
    g_autofree char *label = g_strdup_printf("feed-%s", h->feed.str);
    h->peer = ar_peer_new(p->engine, AR_PEER_RECV, label, &peer_callbacks, h, &error);
    if (!h->peer || !ar_peer_start(h->peer, &error) ||
        !ar_peer_set_remote_description(h->peer, "offer", m->jsep_sdp, &error)) {
      g_warning("janus: cannot receive %s: %s", h->feed.str, error->message);
      remove_sub(p, h, TRUE);
      return;
    }
    flush_candidates(h);
    p->cb.participants_changed(&p->parent, p->user_data);
    return;
  }
  case TXN_START:
    return;
  case TXN_DESTROY:
    if (p->state == ST_LEAVING) {
      p->state = ST_DONE;
      p->cb.left(&p->parent, p->user_data);
    }
    return;
  }
  provider_fail(p, error);
}

static void
on_trickle(ArJanusProvider *p, ArJanusMsg *m)
{
  Handle *h = find_handle(p, m->sender);
  if (!h)
    return;
  const char *cand = m->completed ? NULL : m->candidate;
  if (h->peer) {
    g_autoptr(GError) e = NULL;
    if (!ar_peer_add_remote_candidate(h->peer, (guint)m->mline_index, cand, &e))
      g_debug("janus: ignoring candidate: %s", e->message);
    return;
  }
  if (!h->pending_candidates)
    h->pending_candidates = g_ptr_array_new_with_free_func(g_free);
  if (h->pending_candidates->len < MAX_PENDING_CANDIDATES)
    g_ptr_array_add(h->pending_candidates,
                    g_strdup_printf("%d\n%s", m->mline_index, cand ? cand : ""));
}

static void
on_async_event(ArJanusProvider *p, ArJanusMsg *m)
{
  /* Events not tied to one of our transactions: the room changed. */
  learn_publishers(p, m->publishers);
  if (m->unpublished.str)
    feed_gone(p, &m->unpublished);
  if (m->leaving.str)
    feed_gone(p, &m->leaving);
  if (m->error_code && p->pub && m->sender == p->pub->handle_id) {
    g_autoptr(GError) e = NULL;
    ar_janus_msg_to_error(m, &e);
    g_warning("janus: %s", e->message);
  }
}

static void
transport_message(ArJanusTransport *tr, ArJanusMsg *m, gpointer data)
{
  ArJanusProvider *p = data;
  if (p->state == ST_DONE)
    return;
  if (m->session_id && p->session_id && m->session_id != p->session_id)
    return; /* not ours */
  Txn *t = m->transaction ? g_hash_table_lookup(p->txns, m->transaction) : NULL;
  if (t && m->type == AR_JANUS_MSG_ACK)
    return; /* the answer follows as an event */
  if (t && (m->type == AR_JANUS_MSG_SUCCESS || m->type == AR_JANUS_MSG_EVENT ||
            m->type == AR_JANUS_MSG_ERROR)) {
    g_hash_table_steal(p->txns, t->transaction);
    g_autoptr(GError) error = NULL;
    if (ar_janus_msg_to_error(m, &error)) {
      TxnKind kind = t->kind;
      Handle *h = find_handle(p, t->handle_id);
      txn_free(t);
      if (kind == TXN_DESTROY && p->state == ST_LEAVING) {
        p->state = ST_DONE;
        p->cb.left(&p->parent, p->user_data);
      } else if (kind == TXN_ATTACH_SUB || kind == TXN_JOIN_SUB || kind == TXN_START) {
        g_warning("janus: subscription failed: %s", error->message);
        if (h && !h->publisher)
          remove_sub(p, h, TRUE);
      } else {
        provider_fail(p, error);
      }
      return;
    }
    on_txn_answer(p, t, m);
    txn_free(t);
    return;
  }
  switch (m->type) {
  case AR_JANUS_MSG_TRICKLE:
    on_trickle(p, m);
    break;
  case AR_JANUS_MSG_EVENT:
    on_async_event(p, m);
    break;
  case AR_JANUS_MSG_HANGUP: {
    Handle *h = find_handle(p, m->sender);
    if (h && !h->publisher) {
      remove_sub(p, h, TRUE);
    } else if (h && p->state != ST_LEAVING) {
      g_autoptr(GError) e =
          g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_HANGUP, "Janus hung up the room's stream: %s",
                      m->reason ? m->reason : "no reason given");
      provider_fail(p, e);
    }
    break;
  }
  case AR_JANUS_MSG_DETACHED: {
    Handle *h = find_handle(p, m->sender);
    if (h && !h->publisher)
      remove_sub(p, h, FALSE);
    break;
  }
  case AR_JANUS_MSG_TIMEOUT: {
    g_autoptr(GError) e =
        g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_TRANSPORT, "Janus ended the session (timeout)");
    provider_fail(p, e);
    break;
  }
  case AR_JANUS_MSG_SLOWLINK:
    g_debug("janus: slow link reported on handle %" G_GUINT64_FORMAT, m->sender);
    break;
  default:
    break;
  }
}

static void
transport_opened(ArJanusTransport *tr, gpointer data)
{
  ArJanusProvider *p = data;
  send_request(p, TXN_CREATE, "create", 0, NULL, NULL, NULL);
}

static void
transport_failed(ArJanusTransport *tr, const GError *error, gpointer data)
{
  ArJanusProvider *p = data;
  if (p->state == ST_LEAVING) {
    p->state = ST_DONE;
    p->cb.left(&p->parent, p->user_data);
    return;
  }
  provider_fail(p, error);
}

static const ArJanusTransportCallbacks transport_callbacks = {
    .opened = transport_opened,
    .message = transport_message,
    .failed = transport_failed,
};

/* ---- lifecycle ---- */

static void
teardown(ArJanusProvider *p)
{
  g_clear_handle_id(&p->keepalive_id, g_source_remove);
  g_clear_handle_id(&p->leave_timeout_id, g_source_remove);
  g_clear_handle_id(&p->deferred_id, g_source_remove);
  g_clear_error(&p->deferred_error);
  g_hash_table_remove_all(p->txns);
  g_hash_table_remove_all(p->subs);
  g_clear_pointer(&p->pub, handle_free);
  if (p->resub_timers) {
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, p->resub_timers);
    while (g_hash_table_iter_next(&it, NULL, &v))
      g_source_remove(GPOINTER_TO_UINT(v));
    g_hash_table_remove_all(p->resub_timers);
  }
}

/* Errors a new session may get past: the network or the server went away for
 * a while, or the media path broke. Not: a definite answer of the server (no
 * such room, wrong PIN), a malformed message, or a peer that failed
 * certificate verification (maybe an attacker in the path). */
static gboolean
error_is_passing(const GError *error)
{
  if (error->domain == AR_JANUS_ERROR)
    return error->code == AR_JANUS_ERROR_UNREACHABLE || error->code == AR_JANUS_ERROR_TRANSPORT ||
           error->code == AR_JANUS_ERROR_TIMEOUT || error->code == AR_JANUS_ERROR_HANGUP;
  if (error->domain == AR_MEDIA_ERROR)
    return error->code == AR_MEDIA_ERROR_ICE || error->code == AR_MEDIA_ERROR_DTLS ||
           error->code == AR_MEDIA_ERROR_TIMEOUT || error->code == AR_MEDIA_ERROR_DEAD_PEER ||
           error->code == AR_MEDIA_ERROR_NETWORK || error->code == AR_MEDIA_ERROR_FAILED;
  return error->domain == G_IO_ERROR;
}

static void
provider_fail(ArJanusProvider *p, const GError *error)
{
  if (p->state == ST_DONE)
    return;
  g_autoptr(GError) copy = g_error_copy(error);
  /* Tell Janus we are gone (best effort: over HTTP a request that outlives the
   * transport, so that the room's old feed does not linger for the others
   * until Janus's session timeout when the call is rebuilt), then drop
   * everything. */
  if (p->session_id && p->transport) {
    g_autofree char *txn = next_transaction(p);
    g_autofree char *json = ar_janus_build("destroy", txn, p->session_id, 0, NULL, NULL, NULL);
    ar_janus_transport_send_detached(p->transport, json);
  }
  p->state = ST_DONE;
  teardown(p);
  g_clear_pointer(&p->transport, ar_janus_transport_free);
  if (p->cb.lost && error_is_passing(copy))
    p->cb.lost(&p->parent, copy, p->user_data);
  else
    p->cb.failed(&p->parent, copy, p->user_data);
}

static ArProvider *
janus_create(const ArLink *link, gpointer class_data, const char *display_name,
             const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  g_autoptr(GError) local = NULL;
  ArJanusProvider *p = g_new0(ArJanusProvider, 1);
  p->parent.klass = &janus_provider_class;
  if (!ar_janus_id_from_string(&p->room, link->meeting_id)) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "the link has no valid room id");
    g_free(p);
    return NULL;
  }
  p->cb = *cb;
  p->user_data = user_data;
  p->engine = class_data; /* ar_janus_provider_register() */
  p->url = g_strdup(link->join_url);
  p->pin = g_strdup(link->passcode);
  p->display = g_strdup(link->display ? link->display : display_name);
  p->subs = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)handle_free);
  p->publishers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  p->txns = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)txn_free);
  p->dead_subs = g_array_new(FALSE, FALSE, sizeof(guint64));
  p->resubscribes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  p->resub_timers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  p->transport = ar_janus_transport_new(p->url, &transport_callbacks, p, error);
  if (!p->transport) {
    p->parent.klass->free(&p->parent);
    return NULL;
  }
  return &p->parent;
}

static void
janus_join(ArProvider *base)
{
  ArJanusProvider *p = (ArJanusProvider *)base;
  p->state = ST_JOINING;
  ar_janus_transport_open(p->transport);
}

static gboolean
leave_timeout(gpointer data)
{
  ArJanusProvider *p = data;
  p->leave_timeout_id = 0;
  if (p->state == ST_LEAVING) {
    p->state = ST_DONE;
    p->cb.left(&p->parent, p->user_data);
  }
  return G_SOURCE_REMOVE;
}

static void
janus_leave(ArProvider *base)
{
  ArJanusProvider *p = (ArJanusProvider *)base;
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  p->state = ST_LEAVING;
  /* Media stops now; the goodbyes to Janus follow in order on the transport. */
  if (p->pub) {
    g_clear_pointer(&p->pub->peer, ar_peer_free);
    g_autoptr(JsonNode) body = build_simple_body("leave", FALSE);
    send_request(p, -1, "message", p->pub->handle_id, body, NULL, NULL);
  }
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, p->subs);
  while (g_hash_table_iter_next(&it, NULL, &v))
    send_request(p, -1, "detach", ((Handle *)v)->handle_id, NULL, NULL, NULL);
  g_hash_table_remove_all(p->subs);
  g_hash_table_remove_all(p->publishers);
  g_hash_table_remove_all(p->txns);
  if (p->session_id) {
    send_request(p, TXN_DESTROY, "destroy", 0, NULL, NULL, NULL);
    p->leave_timeout_id = g_timeout_add(LEAVE_TIMEOUT_MS, leave_timeout, p);
  } else {
    p->leave_timeout_id = g_timeout_add(0, leave_timeout, p);
  }
}

static void
janus_collect_tracks(ArProvider *base, GPtrArray *out)
{
  ArJanusProvider *p = (ArJanusProvider *)base;
  if (p->pub && p->pub->peer)
    ar_native_collect_tracks(p->pub->peer, out);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, p->subs);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (((Handle *)v)->peer)
      ar_native_collect_tracks(((Handle *)v)->peer, out);
}

static void
janus_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArJanusProvider *p = (ArJanusProvider *)base;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, p->publishers);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    ArParticipant *part = g_new0(ArParticipant, 1);
    part->id = g_strdup(k);
    part->display = g_strdup(v);
    g_ptr_array_add(out, part);
  }
}

static void
janus_free(ArProvider *base)
{
  ArJanusProvider *p = (ArJanusProvider *)base;
  if (!p)
    return;
  p->state = ST_DONE;
  teardown(p);
  g_clear_pointer(&p->transport, ar_janus_transport_free);
  g_clear_pointer(&p->subs, g_hash_table_unref);
  g_clear_pointer(&p->publishers, g_hash_table_unref);
  g_clear_pointer(&p->txns, g_hash_table_unref);
  g_clear_pointer(&p->dead_subs, g_array_unref);
  g_clear_pointer(&p->resubscribes, g_hash_table_unref);
  g_clear_pointer(&p->resub_timers, g_hash_table_unref);
  ar_janus_id_clear(&p->room);
  ar_janus_id_clear(&p->my_id);
  ar_janus_id_clear(&p->private_id);
  g_free(p->url);
  g_free(p->pin);
  g_free(p->display);
  g_free(p);
}

static const ArProviderClass janus_provider_class = {
    .create = janus_create,
    .join = janus_join,
    .leave = janus_leave,
    .collect_tracks = janus_collect_tracks,
    .collect_participants = janus_collect_participants,
    .free = janus_free,
};

void
ar_janus_provider_register(ArProviderRegistry *registry, ArNativeEngine *native)
{
  ar_native_register(registry, native, "janus", &janus_provider_class,
                     ar_native_engine_get_media(native));
}
