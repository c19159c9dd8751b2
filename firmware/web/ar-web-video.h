/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-video.h: relays the encoded video of native calls to room screens
 * over WebSocket (the page decodes it with WebCodecs).
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "ar-media.h"

G_BEGIN_DECLS

typedef struct _ArVideoRelay ArVideoRelay;

/* Becomes @engine's video sink (peers created from now on are tapped).
 * @engine NULL: units only come from ar_video_relay_push (tests). */
ArVideoRelay *ar_video_relay_new(ArMediaEngine *engine);
/* What the engine's video sink does with a unit / an ended track. */
void ar_video_relay_push(ArVideoRelay *relay, const ArVideoUnit *unit);
void ar_video_relay_end_track(ArVideoRelay *relay, const char *track);
/* Key frames asked for so far (for tests and diagnostics). */
guint64 ar_video_relay_get_key_requests(ArVideoRelay *relay);
void ar_video_relay_free(ArVideoRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArVideoRelay, ar_video_relay_free)

/* An authenticated client (the room screen, or a token with the media
 * scope). @owner names its credential: the limits of ar-api-slots.h apply
 * (4 in all, 2 per credential whose oldest goes for a new one, 2 kept for the
 * room screen ("room:..."), which is never refused). */
void ar_video_relay_add_client(ArVideoRelay *relay, SoupWebsocketConnection *ws, const char *owner);
/* Whether ar_video_relay_add_client would take a client of @owner now. */
gboolean ar_video_relay_can_add_client(ArVideoRelay *relay, const char *owner);
void ar_video_relay_close_clients(ArVideoRelay *relay, const char *owner);
/* The binary message of one frame (see ar-web-video.c), NULL if the track
 * name is empty or longer than 64 bytes. */
GBytes *ar_video_relay_encode(const ArVideoUnit *unit);

G_END_DECLS
