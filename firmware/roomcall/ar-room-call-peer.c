/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-peer.c: an ArPeer whose description goes out whole (ar-room-call-priv.h). */
#include "ar-room-call-priv.h"

#include "ar-native.h"
#include "ar-whip-msg.h"

struct _ArRcPeer {
  ArPeer *peer;
  ArRcPeerCallbacks cb;
  gpointer user_data;
  char *sdp;          /* the local description, without candidates */
  GArray *candidates; /* ArWhipCandidate, strings owned */
  gboolean gathered, sent;
  gboolean freeing; /* ar_peer_close() reports CLOSED: nobody listens any more */
  guint gather_id;
};

static void
send_sdp(ArRcPeer *rp)
{
  g_clear_handle_id(&rp->gather_id, g_source_remove);
  if (rp->sent || rp->sdp == NULL)
    return;
  rp->sent = TRUE;
  g_autoptr(GError) error = NULL;
  g_autofree char *full = ar_whip_offer_with_candidates(
      rp->sdp, (ArWhipCandidate *)rp->candidates->data, rp->candidates->len, rp->gathered, &error);
  if (full == NULL) {
    rp->cb.state_changed(rp, AR_PEER_STATE_FAILED, error, rp->user_data);
    return;
  }
  g_debug("roomcall: %s: the description goes with %u candidate(s)", ar_peer_get_label(rp->peer),
          rp->candidates->len);
  rp->cb.sdp_ready(rp, full, rp->user_data);
}

static gboolean
gather_cb(gpointer data)
{
  ArRcPeer *rp = data;
  rp->gather_id = 0;
  send_sdp(rp);
  return G_SOURCE_REMOVE;
}

static void
on_local_description(ArPeer *peer, const char *type, const char *sdp, gpointer data)
{
  ArRcPeer *rp = data;
  if (rp->sdp != NULL)
    return;
  rp->sdp = g_strdup(sdp);
  rp->gather_id = rp->gathered ? g_idle_add(gather_cb, rp)
                               : g_timeout_add(AR_ROOM_CALL_GATHER_MS, gather_cb, rp);
}

static void
on_local_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer data)
{
  ArRcPeer *rp = data;
  if (rp->sent)
    return; /* found too late: the other side has the ones it needs, or ICE fails clearly */
  if (candidate == NULL) {
    rp->gathered = TRUE;
    if (rp->sdp != NULL) {
      g_clear_handle_id(&rp->gather_id, g_source_remove);
      rp->gather_id = g_idle_add(gather_cb, rp);
    }
    return;
  }
  if (rp->candidates->len >= 64)
    return;
  ArWhipCandidate c = {mline, g_strdup(candidate)};
  g_array_append_val(rp->candidates, c);
}

static void
on_state_changed(ArPeer *peer, ArPeerState state, const GError *error, gpointer data)
{
  ArRcPeer *rp = data;
  if (!rp->freeing)
    rp->cb.state_changed(rp, state, error, rp->user_data);
}

static void
on_media_event(ArPeer *peer, ArPeerEvent event, gpointer data)
{
  ArRcPeer *rp = data;
  if (rp->cb.media_event)
    rp->cb.media_event(rp, event, rp->user_data);
}

static const ArPeerCallbacks peer_callbacks = {
    .local_description = on_local_description,
    .local_candidate = on_local_candidate,
    .state_changed = on_state_changed,
    .media_event = on_media_event,
};

ArRcPeer *
ar_rc_peer_new(ArMediaEngine *engine, ArPeerDirection direction, const char *label,
               const ArRcPeerCallbacks *cb, gpointer user_data, GError **error)
{
  ArRcPeer *rp = g_new0(ArRcPeer, 1);
  rp->cb = *cb;
  rp->user_data = user_data;
  rp->candidates = g_array_new(FALSE, FALSE, sizeof(ArWhipCandidate));
  rp->peer = ar_peer_new(engine, direction, label, &peer_callbacks, rp, error);
  if (rp->peer == NULL) {
    ar_rc_peer_free(rp);
    return NULL;
  }
  return rp;
}

gboolean
ar_rc_peer_start(ArRcPeer *rp, const char *offer, GError **error)
{
  if (!ar_peer_start(rp->peer, error))
    return FALSE;
  if (ar_peer_get_direction(rp->peer) == AR_PEER_RECV && offer != NULL)
    return ar_rc_peer_take_offer(rp, offer, error);
  return TRUE;
}

gboolean
ar_rc_peer_take_offer(ArRcPeer *rp, const char *offer, GError **error)
{
  return ar_peer_set_remote_description(rp->peer, "offer", offer, error);
}

gboolean
ar_rc_peer_take_answer(ArRcPeer *rp, const char *answer, GError **error)
{
  return ar_peer_set_remote_description(rp->peer, "answer", answer, error);
}

ArPeer *
ar_rc_peer_get(ArRcPeer *rp)
{
  return rp->peer;
}

void
ar_rc_peer_free(ArRcPeer *rp)
{
  if (rp == NULL)
    return;
  g_clear_handle_id(&rp->gather_id, g_source_remove);
  rp->freeing = TRUE;
  if (rp->peer) {
    ar_peer_close(rp->peer);
    g_clear_pointer(&rp->peer, ar_peer_free);
  }
  for (guint i = 0; i < rp->candidates->len; i++)
    g_free((char *)g_array_index(rp->candidates, ArWhipCandidate, i).candidate);
  g_array_unref(rp->candidates);
  g_free(rp->sdp);
  g_free(rp);
}

/* ---- the call of two peers (ArRcCall) ---- */

void
ar_rc_call_peer_state(ArRcCall *c, ArRcPeer *rp, ArPeerState state)
{
  if (state != AR_PEER_STATE_CONNECTED)
    return;
  if (rp == c->send)
    c->send_up = TRUE;
  else
    c->recv_up = TRUE;
  if (c->send_up && c->recv_up && !c->connected) {
    c->connected = TRUE;
    c->cb.connected(&c->parent, c->user_data);
    if (c->cb.participants_changed)
      c->cb.participants_changed(&c->parent, c->user_data);
  }
}

void
ar_rc_call_peer_media(ArRcCall *c, ArRcPeer *rp, ArPeerEvent event)
{
  ar_native_media_event(&c->parent, &c->cb, c->user_data, ar_rc_peer_get(rp), event);
}

void
ar_rc_call_collect_tracks(ArProvider *base, GPtrArray *out)
{
  ArRcCall *c = (ArRcCall *)base;
  if (c->send)
    ar_native_collect_tracks(ar_rc_peer_get(c->send), out);
  if (c->recv)
    ar_native_collect_tracks(ar_rc_peer_get(c->recv), out);
}

void
ar_rc_call_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArRcCall *c = (ArRcCall *)base;
  if (!c->connected)
    return;
  ArParticipant *who = g_new0(ArParticipant, 1);
  who->id = g_strdup("peer");
  who->display = g_strdup(c->participant ? c->participant : "");
  g_ptr_array_add(out, who);
}

void
ar_rc_call_close_peers(ArRcCall *c)
{
  g_clear_pointer(&c->send, ar_rc_peer_free);
  g_clear_pointer(&c->recv, ar_rc_peer_free);
}
