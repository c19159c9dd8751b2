/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-native.h"

void
ar_native_collect_tracks(ArPeer *peer, GPtrArray *out)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(peer);
  g_autofree char *path = ar_peer_get_ice_path(peer);
  for (guint i = 0; i < stats->len; i++) {
    ArTrackInfo *t = g_new0(ArTrackInfo, 1);
    t->source = g_strdup(ar_peer_get_label(peer));
    t->path = g_strdup(path);
    t->stats = g_array_index(stats, ArTrackStats, i);
    g_ptr_array_add(out, t);
  }
}

void
ar_native_media_event(ArProvider *provider, const ArProviderCallbacks *cb, gpointer user_data,
                      ArPeer *peer, ArPeerEvent event)
{
  if (!cb->media_event)
    return;
  ArTrackEvent e = {
      .source = ar_peer_get_label(peer),
      .direction = ar_peer_get_direction(peer) == AR_PEER_RECV ? AR_TRACK_RECV : AR_TRACK_SEND,
      .what = event == AR_PEER_EVENT_FIRST_VIDEO_FRAME ? AR_TRACK_EVENT_FIRST_VIDEO_FRAME
                                                       : AR_TRACK_EVENT_FIRST_AUDIO,
  };
  cb->media_event(provider, &e, user_data);
}
