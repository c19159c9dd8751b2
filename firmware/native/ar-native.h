/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-native.h: what the native engine's providers (Janus, WHIP, ...) share:
 * their webrtcbin peers (ArPeer) seen through the engine-neutral provider
 * interface, as tracks and track events.
 */
#pragma once

#include "ar-provider.h"

G_BEGIN_DECLS

/* Appends an ArTrackInfo* (newly allocated) for each track of @peer to @out:
 * source = the peer's label, path = its ICE path. */
void ar_native_collect_tracks(ArPeer *peer, GPtrArray *out);

/* Reports @event of @peer through @cb->media_event (if set), as an
 * ArTrackEvent whose source is the peer's label. */
void ar_native_media_event(ArProvider *provider, const ArProviderCallbacks *cb, gpointer user_data,
                           ArPeer *peer, ArPeerEvent event);

G_END_DECLS
