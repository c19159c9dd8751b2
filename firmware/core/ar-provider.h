/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provider.h: a signalling adapter (Janus VideoRoom, WHIP, ...). A provider
 * turns a meeting link into peers of the media engine; it never touches
 * GStreamer elements. The call manager drives it and reads its state.
 */
#pragma once

#include <glib.h>

#include "ar-link.h"
#include "ar-media.h"

G_BEGIN_DECLS

typedef struct _ArProvider ArProvider;

typedef struct {
  /* The room is in the meeting and publishing. */
  void (*connected)(ArProvider *p, gpointer user_data);
  /* Terminal failure (join refused, connection lost, peer verification...). */
  void (*failed)(ArProvider *p, const GError *error, gpointer user_data);
  /* ar_provider_leave() finished. */
  void (*left)(ArProvider *p, gpointer user_data);
  /* The list of remote participants changed. */
  void (*participants_changed)(ArProvider *p, gpointer user_data);
  /* A peer reported a media event (first frame...). */
  void (*media_event)(ArProvider *p, ArPeer *peer, ArPeerEvent event, gpointer user_data);
  /* Optional. Like failed (terminal for this provider), but the cause may be
   * passing (connection to the server lost, server not answering, ICE/DTLS
   * failed, dead peer, the room's address changed): a new provider for the
   * same link may bring the call back. Without it, failed is called. */
  void (*lost)(ArProvider *p, const GError *error, gpointer user_data);
  /* Optional. The meeting server accepted the join (the meeting exists);
   * media may still be connecting. */
  void (*signalling_up)(ArProvider *p, gpointer user_data);
} ArProviderCallbacks;

typedef struct {
  char *id;
  char *display;
} ArParticipant;

void ar_participant_free(ArParticipant *p);

typedef struct {
  const char *id; /* link provider id this class serves, e.g. "janus" */
  ArProvider *(*create)(const ArLink *link, ArMediaEngine *engine, const char *display_name,
                        const ArProviderCallbacks *cb, gpointer user_data, GError **error);
  void (*join)(ArProvider *p);
  void (*leave)(ArProvider *p);
  /* Appends the live ArPeer* (not owned) to @out. */
  void (*collect_peers)(ArProvider *p, GPtrArray *out);
  /* Appends newly allocated ArParticipant* to @out. */
  void (*collect_participants)(ArProvider *p, GPtrArray *out);
  void (*free)(ArProvider *p);
} ArProviderClass;

struct _ArProvider {
  const ArProviderClass *klass;
};

/* The provider class for a link provider id, or NULL. */
const ArProviderClass *ar_provider_lookup(const char *id);

extern const ArProviderClass ar_janus_provider_class;

G_END_DECLS
