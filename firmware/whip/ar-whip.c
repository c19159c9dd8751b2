/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The WHIP provider (see ar-whip.h). */
#include "ar-whip.h"

#include <string.h>

#include "ar-native.h"
#include "ar-whip-client.h"

typedef enum {
  ST_NEW,
  ST_GATHERING, /* the offer is made; candidates come in */
  ST_POSTING,
  ST_CONNECTING, /* the answer is applied; ICE and DTLS */
  ST_CONNECTED,
  ST_LEAVING,
  ST_DONE,
} State;

/* What one session of an endpoint leaves to the next attempt (the native engine's retry builds
 * a new provider): the DELETE of the old session, which the next POST waits for (bounded by
 * AR_WHIP_DELETE_WAIT_MS), and the ICE servers the endpoint named in its Link headers. */
typedef struct _ArWhipProvider ArWhipProvider;
typedef struct {
  gint refs;
  char *endpoint;
  ArIceConfig ice; /* webrtcbin forms; credentials inside: never logged */
  guint n_ice;
  gboolean deleting;
  gint64 made_us;
  ArWhipProvider *waiter; /* the next attempt, waiting for the DELETE */
} Carry;

/* Per provider kind (one registration per daemon). */
typedef struct {
  ArMediaEngine *engine;
  const ArConfig *config; /* [whip] endpoint and token; NULL in tests that only register */
  Carry *carry;           /* the last failed session's, until an attempt takes it */
} WhipClass;

static WhipClass whip_class_data, whep_class_data;

struct _ArWhipProvider {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArMediaEngine *engine;
  gboolean whep; /* receives (WHEP) rather than publishes (WHIP) */
  char *host;    /* the endpoint's host: the WHEP stream's name in status */
  char *endpoint;
  char *token; /* never logged */
  ArWhipClient *client;
  ArPeer *peer;
  State state;
  char *offer;
  GArray *candidates; /* ArWhipCandidate, strings owned */
  gboolean gathered;
  gboolean trickle_off; /* the endpoint said no to PATCH */
  GArray *pending;      /* ArWhipCandidate found after the POST, to PATCH; NULL = the end */
  gboolean patching;
  GCancellable *cancel;
  guint gather_id;
  guint deferred_id;
  GError *deferred_error;
  guint leave_id;
  WhipClass *kd;
  Carry *carry;    /* taken from the last failed session of this endpoint, or NULL */
  guint wait_id;   /* waiting for the old session's DELETE */
  ArIceConfig ice; /* the endpoint's ICE servers (Link headers), webrtcbin forms */
  guint n_ice;
  guint busy_retries; /* 429/503 with Retry-After, waited out */
  guint busy_id;
  gboolean answering;    /* WHEP 406: the room answers the endpoint's counter-offer */
  gboolean peer_up;      /* the peer reported CONNECTED */
  struct _PostCtx *post; /* the POST in flight */
};

/* A POST is never cancelled: a session the endpoint makes after the call ended (left, or the
 * other half of a two-way call failed) is DELETEd when its answer comes. */
typedef struct _PostCtx {
  ArWhipProvider *p; /* NULL once the provider let go */
  ArWhipClient *client;
} PostCtx;

static void
post_ctx_free(PostCtx *ctx)
{
  ar_whip_client_free(ctx->client);
  g_free(ctx);
}

static const ArProviderClass whip_provider_class;
static const ArProviderClass whep_provider_class;

static Carry *
carry_ref(Carry *c)
{
  g_atomic_int_inc(&c->refs);
  return c;
}

static void
carry_unref(Carry *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
    return;
  g_free(c->endpoint);
  ar_ice_config_clear(&c->ice);
  g_free(c);
}

static void
ice_move(ArIceConfig *to, guint *n_to, ArIceConfig *from, guint *n_from)
{
  ar_ice_config_clear(to);
  *to = *from;
  *n_to = *n_from;
  memset(from, 0, sizeof(*from));
  *n_from = 0;
}

/* The endpoint's Link ice-servers in webrtcbin forms: the first STUN server, TURN servers with
 * their credentials. turns: is left out: the room carries TLS for TURN only to servers an
 * administrator configured (media/ar-turn-tls.c). */
static void
ice_from_links(GPtrArray *servers, ArIceConfig *out, guint *n)
{
  g_autoptr(GPtrArray) turn = g_ptr_array_new();
  ar_ice_config_clear(out);
  *n = 0;
  for (guint i = 0; servers != NULL && i < servers->len; i++) {
    ArWhipIceServer *s = servers->pdata[i];
    ArIceUri u;
    g_autoptr(GError) error = NULL;
    if (!ar_ice_uri_parse(s->uri, &u, &error))
      continue;
    if (u.scheme == AR_ICE_TURNS || (u.scheme == AR_ICE_STUN && out->stun != NULL)) {
      g_debug("whip: the endpoint's ICE server %s is not used", s->uri);
      continue;
    }
    char *w = ar_ice_uri_to_webrtcbin(s->uri, s->username, s->credential, &error);
    if (w == NULL) {
      g_debug("whip: the endpoint's ICE server %s: %s", s->uri, error->message);
      continue;
    }
    if (u.scheme == AR_ICE_STUN)
      out->stun = w;
    else
      g_ptr_array_add(turn, w);
    (*n)++;
  }
  g_ptr_array_add(turn, NULL);
  out->turn = (char **)g_ptr_array_free(g_steal_pointer(&turn), FALSE);
}

static void
clear_candidates(GArray *a)
{
  for (guint i = 0; i < a->len; i++)
    g_free((char *)g_array_index(a, ArWhipCandidate, i).candidate);
  g_array_set_size(a, 0);
}

/* Errors a new attempt may get past (the native engine retries): the network, a timeout, the
 * endpoint's own failure or a busy endpoint. Not: a definite refusal (401, 403, 404...), a
 * malformed answer, a peer that failed certificate verification. */
static gboolean
error_is_passing(ArWhipProvider *p, const GError *error)
{
  if (error->domain == AR_WHIP_ERROR) {
    guint status = p->client ? ar_whip_client_get_last_status(p->client) : 0;
    return error->code == AR_WHIP_ERROR_TIMEOUT ||
           (error->code == AR_WHIP_ERROR_STATUS &&
            (status == 429 || status == 408 || (status >= 500 && status <= 599)));
  }
  if (error->domain == AR_MEDIA_ERROR)
    return error->code == AR_MEDIA_ERROR_ICE || error->code == AR_MEDIA_ERROR_DTLS ||
           error->code == AR_MEDIA_ERROR_TIMEOUT || error->code == AR_MEDIA_ERROR_DEAD_PEER ||
           error->code == AR_MEDIA_ERROR_NETWORK || error->code == AR_MEDIA_ERROR_FAILED;
  return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
         error->domain == G_TLS_ERROR;
}

static void
teardown(ArWhipProvider *p)
{
  g_cancellable_cancel(p->cancel);
  g_clear_handle_id(&p->gather_id, g_source_remove);
  g_clear_handle_id(&p->deferred_id, g_source_remove);
  g_clear_handle_id(&p->leave_id, g_source_remove);
  g_clear_handle_id(&p->wait_id, g_source_remove);
  g_clear_handle_id(&p->busy_id, g_source_remove);
  if (p->post != NULL) {
    p->post->p = NULL;
    p->post = NULL;
  }
  if (p->carry != NULL && p->carry->waiter == p)
    p->carry->waiter = NULL;
  g_clear_error(&p->deferred_error);
  g_clear_pointer(&p->peer, ar_peer_free);
}

static void start_peer(ArWhipProvider *p);

static void
on_carry_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
  Carry *c = data;
  g_autoptr(GError) error = NULL;
  if (!ar_whip_client_delete_finish(NULL, res, &error))
    g_message("whip: the failed session's DELETE: %s", error->message);
  c->deleting = FALSE;
  ArWhipProvider *w = g_steal_pointer(&c->waiter);
  if (w != NULL) {
    g_clear_handle_id(&w->wait_id, g_source_remove);
    g_message("whip: the failed session is deleted; posting anew");
    start_peer(w);
  }
  carry_unref(c);
}

/* A passing failure: the native engine will try again with a new provider. The old session is
 * DELETEd now (best effort, bounded by the client's deadline); the next attempt waits for it
 * and takes the endpoint's ICE servers. */
static void
leave_carry(ArWhipProvider *p)
{
  Carry *c = g_new0(Carry, 1);
  c->refs = 1;
  c->endpoint = g_strdup(p->endpoint);
  c->made_us = g_get_monotonic_time();
  ice_move(&c->ice, &c->n_ice, &p->ice, &p->n_ice);
  if (p->client != NULL && ar_whip_client_get_session_url(p->client) != NULL) {
    c->deleting = TRUE;
    ar_whip_client_delete(p->client, NULL, on_carry_deleted, carry_ref(c));
  }
  carry_unref(p->kd->carry);
  p->kd->carry = c;
}

/* Ends the session without a callback: media stops, the endpoint is told (best effort, the
 * endpoint forgets the session now rather than at its own timeout). */
static void
stop_quietly(ArWhipProvider *p, gboolean passing)
{
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  p->state = ST_DONE;
  teardown(p);
  if (passing && p->cb.lost)
    leave_carry(p);
  else if (p->client != NULL && ar_whip_client_get_session_url(p->client) != NULL)
    ar_whip_client_delete(p->client, NULL, NULL, NULL);
}

static void
provider_fail(ArWhipProvider *p, const GError *error)
{
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  g_autoptr(GError) copy = g_error_copy(error);
  gboolean passing = error_is_passing(p, copy);
  stop_quietly(p, passing);
  if (p->cb.lost && passing)
    p->cb.lost(&p->parent, copy, p->user_data);
  else
    p->cb.failed(&p->parent, copy, p->user_data);
}

static gboolean
deferred_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->deferred_id = 0;
  g_autoptr(GError) e = g_steal_pointer(&p->deferred_error);
  if (e != NULL)
    provider_fail(p, e);
  return G_SOURCE_REMOVE;
}

/* Never inside a peer's own callback: from an idle. */
static void
fail_later(ArWhipProvider *p, const GError *error)
{
  if (p->deferred_error == NULL)
    p->deferred_error = g_error_copy(error);
  if (p->deferred_id == 0)
    p->deferred_id = g_idle_add(deferred_cb, p);
}

static void send_pending(ArWhipProvider *p);

static void
on_patched(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = ar_whip_client_patch_finish(NULL, res, NULL, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @p may be gone */
  p->patching = FALSE;
  if (!ok) {
    /* Trickle is optional for the endpoint; the candidates in the offer carry the call. */
    g_message("whip: %s; no more candidates are sent", error->message);
    p->trickle_off = TRUE;
    clear_candidates(p->pending);
    return;
  }
  send_pending(p);
}

/* Candidates found after the POST, in one PATCH at a time. */
static void
send_pending(ArWhipProvider *p)
{
  if (p->patching || p->trickle_off || p->pending->len == 0 ||
      (p->state != ST_CONNECTING && p->state != ST_CONNECTED))
    return;
  /* The end of candidates comes last, as a NULL candidate. */
  guint n = p->pending->len;
  gboolean end = g_array_index(p->pending, ArWhipCandidate, n - 1).candidate == NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *frag = ar_whip_sdpfrag_build(p->offer, (ArWhipCandidate *)p->pending->data,
                                                end ? n - 1 : n, end, &error);
  clear_candidates(p->pending);
  if (frag == NULL) {
    g_debug("whip: no trickle fragment: %s", error->message);
    return;
  }
  p->patching = TRUE;
  ar_whip_client_patch(p->client, frag, p->cancel, on_patched, p);
}

/* The peer is up and the endpoint has what it needs: the call is connected. */
static void
maybe_connected(ArWhipProvider *p)
{
  if (!p->peer_up || p->state != ST_CONNECTING)
    return;
  p->state = ST_CONNECTED;
  p->cb.connected(&p->parent, p->user_data);
  if (p->whep && p->cb.participants_changed)
    p->cb.participants_changed(&p->parent, p->user_data);
}

static void post_offer(ArWhipProvider *p);
static const ArPeerCallbacks peer_callbacks;

static gboolean
busy_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->busy_id = 0;
  post_offer(p);
  return G_SOURCE_REMOVE;
}

/* 429 or 503 with a Retry-After the room can wait out (at most AR_WHIP_RETRY_AFTER_MAX_S, at
 * most AR_WHIP_BUSY_RETRIES times): the same offer again after that long. */
static gboolean
wait_busy(ArWhipProvider *p, const GError *error)
{
  guint status = ar_whip_client_get_last_status(p->client);
  guint after = ar_whip_client_get_retry_after(p->client);
  if (!g_error_matches(error, AR_WHIP_ERROR, AR_WHIP_ERROR_STATUS) ||
      (status != 429 && status != 503) || after == 0 || after > AR_WHIP_RETRY_AFTER_MAX_S ||
      p->busy_retries >= AR_WHIP_BUSY_RETRIES)
    return FALSE;
  p->busy_retries++;
  g_message("whip: the endpoint is busy (HTTP %u); posting again in %u s as it asked", status,
            after);
  p->busy_id = g_timeout_add(after * 1000u, busy_cb, p);
  return TRUE;
}

/* WHEP 406 with an offer of the endpoint's own: the recvonly offer's peer goes, a receive peer
 * in answer mode takes the counter-offer; its answer goes back with PATCH application/sdp
 * once gathered (post_offer). */
static gboolean
take_counter_offer(ArWhipProvider *p, const char *offer, GError **error)
{
  if (!p->whep) {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "WHIP publish: the endpoint answered 406 with an offer of its own; a "
                        "publisher cannot take one");
    return FALSE;
  }
  g_message("whip: the WHEP endpoint made a counter-offer (HTTP 406); answering it");
  g_clear_pointer(&p->peer, ar_peer_free);
  clear_candidates(p->candidates);
  clear_candidates(p->pending);
  g_clear_pointer(&p->offer, g_free);
  p->gathered = FALSE;
  p->answering = TRUE;
  p->state = ST_NEW;
  p->peer = ar_peer_new(p->engine, AR_PEER_RECV, "whep-stream", &peer_callbacks, p, error);
  if (p->peer == NULL || (p->n_ice > 0 && !ar_peer_add_ice(p->peer, &p->ice, error)) ||
      !ar_peer_set_remote_description(p->peer, "offer", offer, error)) {
    g_prefix_error(error, "WHEP receive: the endpoint's counter-offer: ");
    return FALSE;
  }
  return TRUE;
}

static void
on_posted(GObject *source, GAsyncResult *res, gpointer data)
{
  PostCtx *ctx = data;
  ArWhipProvider *p = ctx->p;
  g_autoptr(GError) error = NULL;
  g_autoptr(ArWhipAnswer) a = ar_whip_client_post_offer_finish(NULL, res, &error);
  if (p == NULL) {
    if (a != NULL) {
      g_message("whip: the endpoint answered after the call ended; deleting that session");
      ar_whip_client_delete(ctx->client, NULL, NULL, NULL);
    }
    post_ctx_free(ctx);
    return;
  }
  p->post = NULL;
  post_ctx_free(ctx);
  if (a == NULL) {
    if (!wait_busy(p, error))
      provider_fail(p, error);
    return;
  }
  if (a->ice_skipped != NULL && a->ice_skipped[0] != '\0')
    g_message("whip: %s", g_strchomp(a->ice_skipped));
  /* Kept for the next attempt (a retry builds a new peer: ICE restart, docs/whip.md). */
  if (a->ice_servers->len > 0)
    ice_from_links(a->ice_servers, &p->ice, &p->n_ice);
  g_debug("whip: the endpoint named %u ICE server(s), %u usable", a->ice_servers->len, p->n_ice);
  if (p->cb.signalling_up)
    p->cb.signalling_up(&p->parent, p->user_data);
  if (a->counter_offer) {
    if (!take_counter_offer(p, a->answer_sdp, &error))
      provider_fail(p, error);
    return;
  }
  if (!ar_peer_set_remote_description(p->peer, "answer", a->answer_sdp, &error)) {
    g_prefix_error(&error,
                   "%s: the endpoint's answer: ", p->whep ? "WHEP receive" : "WHIP publish");
    provider_fail(p, error);
    return;
  }
  g_message("whip: the endpoint answered (HTTP 201); connecting");
  p->state = ST_CONNECTING;
  send_pending(p);
  maybe_connected(p);
}

static void
on_answer_patched(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = ar_whip_client_patch_sdp_finish(NULL, res, NULL, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @p may be gone */
  if (!ok) {
    g_message("whip: the WHEP endpoint refused the answer to its counter-offer");
    provider_fail(p, error);
    return;
  }
  g_message("whip: the WHEP endpoint took the room's answer; connecting");
  p->state = ST_CONNECTING;
  send_pending(p);
  maybe_connected(p);
}

static void
post_offer(ArWhipProvider *p)
{
  g_autoptr(GError) error = NULL;
  g_clear_handle_id(&p->gather_id, g_source_remove);
  /* The local description with its candidates: the offer, or the answer to a counter-offer. */
  g_autofree char *sdp = ar_whip_offer_with_candidates(
      p->offer, (ArWhipCandidate *)p->candidates->data, p->candidates->len, p->gathered, &error);
  if (sdp == NULL) {
    provider_fail(p, error);
    return;
  }
  g_debug("whip: sending the %s with %u candidate(s)%s", p->answering ? "answer" : "offer",
          p->candidates->len, p->gathered ? "" : " (gathering goes on)");
  p->state = ST_POSTING;
  if (p->answering)
    ar_whip_client_patch_sdp(p->client, sdp, p->cancel, on_answer_patched, p);
  else {
    p->post = g_new0(PostCtx, 1);
    p->post->p = p;
    p->post->client = ar_whip_client_ref(p->client);
    ar_whip_client_post_offer(p->client, sdp, NULL, on_posted, p->post);
  }
}

static gboolean
gather_timeout_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->gather_id = 0;
  if (p->state == ST_GATHERING)
    post_offer(p);
  return G_SOURCE_REMOVE;
}

static void
peer_local_description(ArPeer *peer, const char *type, const char *sdp, gpointer data)
{
  ArWhipProvider *p = data;
  if (p->state != ST_NEW)
    return;
  g_free(p->offer);
  p->offer = g_strdup(sdp);
  p->state = ST_GATHERING;
  if (p->gathered)
    p->gather_id = g_idle_add(gather_timeout_cb, p);
  else
    p->gather_id = g_timeout_add(p->carry != NULL ? AR_WHIP_RETRY_GATHER_MS : AR_WHIP_GATHER_MS,
                                 gather_timeout_cb, p);
}

static void
peer_local_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer data)
{
  ArWhipProvider *p = data;
  if (p->state == ST_NEW || p->state == ST_GATHERING) {
    if (candidate == NULL) {
      p->gathered = TRUE;
      if (p->state == ST_GATHERING) {
        g_clear_handle_id(&p->gather_id, g_source_remove);
        p->gather_id = g_idle_add(gather_timeout_cb, p);
      }
      return;
    }
    ArWhipCandidate c = {mline, g_strdup(candidate)};
    g_array_append_val(p->candidates, c);
    return;
  }
  if (p->trickle_off || p->state == ST_LEAVING || p->state == ST_DONE)
    return;
  ArWhipCandidate c = {mline, g_strdup(candidate)};
  g_array_append_val(p->pending, c);
  send_pending(p);
}

static void
peer_state_changed(ArPeer *peer, ArPeerState state, const GError *error, gpointer data)
{
  ArWhipProvider *p = data;
  g_debug("whip: peer %s is %s", ar_peer_get_label(peer), ar_peer_state_to_string(state));
  if (state == AR_PEER_STATE_CONNECTED) {
    p->peer_up = TRUE;
    maybe_connected(p);
  } else if (state == AR_PEER_STATE_FAILED) {
    g_autoptr(GError) e =
        error ? g_error_copy(error)
              : g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "the media connection failed");
    fail_later(p, e);
  }
}

static void
peer_media_event(ArPeer *peer, ArPeerEvent event, gpointer data)
{
  ArWhipProvider *p = data;
  ar_native_media_event(&p->parent, &p->cb, p->user_data, peer, event);
}

static const ArPeerCallbacks peer_callbacks = {
    .local_description = peer_local_description,
    .local_candidate = peer_local_candidate,
    .state_changed = peer_state_changed,
    .media_event = peer_media_event,
};

/* The administrator's token ([whip] token) for a link that names the configured
 * endpoint ([whip] endpoint) and no token of its own, else NULL. */
static char *
configured_token(const ArConfig *config, const char *join_url)
{
  if (config->whip_endpoint == NULL || config->whip_token == NULL)
    return NULL;
  g_autofree char *text = g_strconcat("whip+", config->whip_endpoint, NULL);
  g_autoptr(ArLink) configured = ar_link_parse(text, NULL, NULL);
  if (configured == NULL || g_strcmp0(configured->join_url, join_url) != 0)
    return NULL;
  g_debug("whip: the link names the configured endpoint: its token is the configured one");
  return g_strdup(config->whip_token);
}

static ArProvider *
create(gboolean whep, const ArLink *link, gpointer class_data, const ArProviderCallbacks *cb,
       gpointer user_data, GError **error)
{
  ArWhipProvider *p = g_new0(ArWhipProvider, 1);
  WhipClass *kd = class_data;
  ArWhipClientOptions o = {.what = whep ? "WHEP receive" : "WHIP publish"};
  g_autoptr(GUri) uri = g_uri_parse(link->join_url, G_URI_FLAGS_ENCODED, NULL);
  p->parent.klass = whep ? &whep_provider_class : &whip_provider_class;
  p->whep = whep;
  p->host = g_strdup(uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "endpoint");
  p->cb = *cb;
  p->user_data = user_data;
  p->kd = kd;
  p->engine = kd->engine;
  p->endpoint = g_strdup(link->join_url);
  /* The last failed session of this endpoint, if recent: its DELETE comes first, its ICE
   * servers serve this attempt. */
  if (kd->carry != NULL) {
    Carry *c = g_steal_pointer(&kd->carry);
    if (g_str_equal(c->endpoint, p->endpoint) &&
        g_get_monotonic_time() - c->made_us < (gint64)AR_WHIP_CARRY_MAX_AGE_S * G_USEC_PER_SEC) {
      p->carry = c;
      ice_move(&p->ice, &p->n_ice, &c->ice, &c->n_ice);
    } else {
      carry_unref(c);
    }
  }
  p->token = g_strdup(link->passcode);
  if (p->token == NULL && kd->config != NULL)
    p->token = configured_token(kd->config, link->join_url);
  p->candidates = g_array_new(FALSE, FALSE, sizeof(ArWhipCandidate));
  p->pending = g_array_new(FALSE, FALSE, sizeof(ArWhipCandidate));
  p->cancel = g_cancellable_new();
  p->client = ar_whip_client_new(p->endpoint, p->token, &o, error);
  if (p->client == NULL) {
    p->parent.klass->free(&p->parent);
    return NULL;
  }
  return &p->parent;
}

static ArProvider *pair_create(const ArLink *link, const ArProviderCallbacks *cb,
                               gpointer user_data, GError **error);

static ArProvider *
whip_create(const ArLink *link, gpointer class_data, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  if (link->whep_url != NULL)
    return pair_create(link, cb, user_data, error);
  return create(FALSE, link, class_data, cb, user_data, error);
}

static ArProvider *
whep_create(const ArLink *link, gpointer class_data, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  return create(TRUE, link, class_data, cb, user_data, error);
}

/* WHIP: a send peer (it offers). WHEP: a receive peer that offers (recvonly audio and video);
 * what it decodes goes to the room's screen and speaker like any remote participant. */
static void
start_peer(ArWhipProvider *p)
{
  g_autoptr(GError) error = NULL;
  p->peer = ar_peer_new(p->engine, p->whep ? AR_PEER_RECV : AR_PEER_SEND,
                        p->whep ? "whep-stream" : "publisher", &peer_callbacks, p, &error);
  if (p->peer != NULL && p->whep)
    ar_peer_set_offering(p->peer);
  if (p->peer != NULL && p->n_ice > 0) {
    if (!ar_peer_add_ice(p->peer, &p->ice, &error)) {
      fail_later(p, error);
      return;
    }
    g_message("whip: using the %u ICE server(s) the endpoint named", p->n_ice);
  }
  if (p->peer == NULL || !ar_peer_start(p->peer, &error))
    fail_later(p, error);
}

static gboolean
wait_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->wait_id = 0;
  if (p->carry != NULL && p->carry->waiter == p)
    p->carry->waiter = NULL;
  g_message("whip: the failed session's DELETE did not finish in %d ms; posting anew",
            AR_WHIP_DELETE_WAIT_MS);
  start_peer(p);
  return G_SOURCE_REMOVE;
}

/* WHIP: a send peer (it offers). WHEP: a receive peer that offers (recvonly audio and video);
 * what it decodes goes to the room's screen and speaker like any remote participant. A new
 * attempt after a failure first lets the old session's DELETE finish (bounded). */
static void
whip_join(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (p->carry != NULL && p->carry->deleting) {
    g_message("whip: deleting the failed session before a new one");
    p->carry->waiter = p;
    p->wait_id = g_timeout_add(AR_WHIP_DELETE_WAIT_MS, wait_cb, p);
    return;
  }
  start_peer(p);
}

static gboolean
leave_done_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->leave_id = 0;
  if (p->state == ST_LEAVING) {
    p->state = ST_DONE;
    p->cb.left(&p->parent, p->user_data);
  }
  return G_SOURCE_REMOVE;
}

static void
on_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  if (!ar_whip_client_delete_finish(NULL, res, &error)) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return; /* @p may be gone */
    g_message("whip: leaving: %s", error->message);
  }
  g_clear_handle_id(&p->leave_id, g_source_remove);
  leave_done_cb(p);
}

static void
whip_leave(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  /* Media stops now; the endpoint is told after (bounded). */
  teardown(p);
  g_clear_object(&p->cancel);
  p->cancel = g_cancellable_new();
  p->state = ST_LEAVING;
  p->leave_id = g_timeout_add(AR_WHIP_LEAVE_MS, leave_done_cb, p);
  ar_whip_client_delete(p->client, p->cancel, on_deleted, p);
}

static void
whip_collect_tracks(ArProvider *base, GPtrArray *out)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (p->peer)
    ar_native_collect_tracks(p->peer, out);
}

static void
whip_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  /* A WHIP endpoint does not say who watches; a WHEP stream is one participant, named by its
   * host. */
  if (!p->whep || p->state != ST_CONNECTED)
    return;
  ArParticipant *part = g_new0(ArParticipant, 1);
  part->id = g_strdup("whep-stream");
  part->display = g_strdup(p->host);
  g_ptr_array_add(out, part);
}

static void
whip_free(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (!p)
    return;
  p->state = ST_DONE;
  teardown(p);
  g_clear_object(&p->cancel);
  g_clear_pointer(&p->client, ar_whip_client_free);
  carry_unref(p->carry);
  ar_ice_config_clear(&p->ice);
  clear_candidates(p->candidates);
  g_array_unref(p->candidates);
  clear_candidates(p->pending);
  g_array_unref(p->pending);
  g_free(p->offer);
  g_free(p->host);
  g_free(p->endpoint);
  if (p->token)
    memset(p->token, 0, strlen(p->token));
  g_free(p->token);
  g_free(p);
}

/* ---- a two-way link: a WHIP publisher and a WHEP receiver as one call ----
 * Connected when both are; the failure of either ends the other (its session DELETEd) and fails
 * (or loses, for the native engine's retry) the call; leave leaves both. */

typedef struct {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArWhipProvider *half[2]; /* 0: WHIP (sends), 1: WHEP (receives) */
  gboolean up[2];
  gboolean left[2];
  gboolean connected;
  gboolean done; /* one half failed: the call is over */
  guint left_id;
} ArWhipPair;

static const ArProviderClass pair_class;

static int
half_index(ArWhipPair *pair, ArProvider *h)
{
  return h == &pair->half[1]->parent ? 1 : 0;
}

static void
pair_half_connected(ArProvider *h, gpointer data)
{
  ArWhipPair *pair = data;
  pair->up[half_index(pair, h)] = TRUE;
  if (pair->up[0] && pair->up[1] && !pair->connected && !pair->done) {
    pair->connected = TRUE;
    pair->cb.connected(&pair->parent, pair->user_data);
  }
}

static void
pair_half_ended(ArWhipPair *pair, ArProvider *h, const GError *error, gboolean passing)
{
  if (pair->done)
    return;
  pair->done = TRUE;
  ArWhipProvider *other = pair->half[1 - half_index(pair, h)];
  stop_quietly(other, passing);
  if (passing && pair->cb.lost)
    pair->cb.lost(&pair->parent, error, pair->user_data);
  else
    pair->cb.failed(&pair->parent, error, pair->user_data);
}

static void
pair_half_failed(ArProvider *h, const GError *error, gpointer data)
{
  pair_half_ended(data, h, error, FALSE);
}

static void
pair_half_lost(ArProvider *h, const GError *error, gpointer data)
{
  pair_half_ended(data, h, error, TRUE);
}

static void
pair_half_left(ArProvider *h, gpointer data)
{
  ArWhipPair *pair = data;
  pair->left[half_index(pair, h)] = TRUE;
  if (pair->left[0] && pair->left[1])
    pair->cb.left(&pair->parent, pair->user_data);
}

static void
pair_half_participants_changed(ArProvider *h, gpointer data)
{
  ArWhipPair *pair = data;
  if (pair->cb.participants_changed)
    pair->cb.participants_changed(&pair->parent, pair->user_data);
}

static void
pair_half_media_event(ArProvider *h, const ArTrackEvent *event, gpointer data)
{
  ArWhipPair *pair = data;
  if (pair->cb.media_event)
    pair->cb.media_event(&pair->parent, event, pair->user_data);
}

static void
pair_half_signalling_up(ArProvider *h, gpointer data)
{
  ArWhipPair *pair = data;
  if (pair->cb.signalling_up)
    pair->cb.signalling_up(&pair->parent, pair->user_data);
}

static const ArProviderCallbacks pair_half_callbacks = {
    .connected = pair_half_connected,
    .failed = pair_half_failed,
    .left = pair_half_left,
    .participants_changed = pair_half_participants_changed,
    .media_event = pair_half_media_event,
    .lost = pair_half_lost,
    .signalling_up = pair_half_signalling_up,
};

static void
pair_free(ArProvider *base)
{
  ArWhipPair *pair = (ArWhipPair *)base;
  if (pair == NULL)
    return;
  g_clear_handle_id(&pair->left_id, g_source_remove);
  for (int i = 0; i < 2; i++)
    if (pair->half[i] != NULL)
      whip_free(&pair->half[i]->parent);
  g_free(pair);
}

static ArProvider *
pair_create(const ArLink *link, const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  ArWhipPair *pair = g_new0(ArWhipPair, 1);
  pair->parent.klass = &pair_class;
  pair->cb = *cb;
  pair->user_data = user_data;
  /* The lost callback only where the call can take it: a half reports lost only then. */
  ArProviderCallbacks half_cb = pair_half_callbacks;
  if (cb->lost == NULL)
    half_cb.lost = NULL;
  ArLink whep = {
      .provider = (char *)"whep",
      .engine = link->engine,
      .join_url = link->whep_url,
      .passcode = link->whep_token != NULL ? link->whep_token : link->passcode,
  };
  pair->half[0] = (ArWhipProvider *)create(FALSE, link, &whip_class_data, &half_cb, pair, error);
  if (pair->half[0] != NULL)
    pair->half[1] = (ArWhipProvider *)create(TRUE, &whep, &whep_class_data, &half_cb, pair, error);
  if (pair->half[1] == NULL) {
    g_prefix_error(error, "%s: ", pair->half[0] == NULL ? "WHIP" : "WHEP");
    pair_free(&pair->parent);
    return NULL;
  }
  return &pair->parent;
}

static void
pair_join(ArProvider *base)
{
  ArWhipPair *pair = (ArWhipPair *)base;
  whip_join(&pair->half[0]->parent);
  whip_join(&pair->half[1]->parent);
}

static gboolean
pair_left_cb(gpointer data)
{
  ArWhipPair *pair = data;
  pair->left_id = 0;
  pair->cb.left(&pair->parent, pair->user_data);
  return G_SOURCE_REMOVE;
}

static void
pair_leave(ArProvider *base)
{
  ArWhipPair *pair = (ArWhipPair *)base;
  for (int i = 0; i < 2; i++) {
    ArWhipProvider *h = pair->half[i];
    if (h->state == ST_DONE)
      pair->left[i] = TRUE; /* nothing to leave: it failed, its session was DELETEd */
    else
      whip_leave(&h->parent);
  }
  if (pair->left[0] && pair->left[1] && pair->left_id == 0)
    pair->left_id = g_idle_add(pair_left_cb, pair);
}

static void
pair_collect_tracks(ArProvider *base, GPtrArray *out)
{
  ArWhipPair *pair = (ArWhipPair *)base;
  whip_collect_tracks(&pair->half[0]->parent, out);
  whip_collect_tracks(&pair->half[1]->parent, out);
}

static void
pair_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArWhipPair *pair = (ArWhipPair *)base;
  whip_collect_participants(&pair->half[1]->parent, out);
}

static const ArProviderClass pair_class = {
    .create = NULL, /* made by whip_create() for a link with a WHEP URL */
    .join = pair_join,
    .leave = pair_leave,
    .collect_tracks = pair_collect_tracks,
    .collect_participants = pair_collect_participants,
    .free = pair_free,
};

static const ArProviderClass whip_provider_class = {
    .create = whip_create,
    .join = whip_join,
    .leave = whip_leave,
    .collect_tracks = whip_collect_tracks,
    .collect_participants = whip_collect_participants,
    .free = whip_free,
};

static const ArProviderClass whep_provider_class = {
    .create = whep_create,
    .join = whip_join,
    .leave = whip_leave,
    .collect_tracks = whip_collect_tracks,
    .collect_participants = whip_collect_participants,
    .free = whip_free,
};

void
ar_whip_provider_register(ArProviderRegistry *registry, ArNativeEngine *native)
{
  whip_class_data.engine = ar_native_engine_get_media(native);
  whip_class_data.config = ar_native_engine_get_config(native);
  whep_class_data.engine = ar_native_engine_get_media(native);
  ar_native_register(registry, native, "whip", &whip_provider_class, &whip_class_data);
  ar_native_register(registry, native, "whep", &whep_provider_class, &whep_class_data);
}
