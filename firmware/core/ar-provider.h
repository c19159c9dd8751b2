/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provider.h: a signalling adapter (Janus VideoRoom, WHIP, ...). A provider
 * turns a meeting link into peers of the media engine; it never touches
 * GStreamer elements. The call manager drives it and reads its state.
 *
 * Providers are found by what the link says: its engine and provider id
 * (ArLink.engine, ArLink.provider). Each provider module registers its class
 * in an ArProviderRegistry through a function of its own; one place outside
 * core (firmware/ar-providers.c) calls those functions. No core header names
 * a provider.
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

/* ---- the registry: (engine, provider id) -> provider class ---- */

typedef struct _ArProviderRegistry ArProviderRegistry;

ArProviderRegistry *ar_provider_registry_new(void);
void ar_provider_registry_free(ArProviderRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArProviderRegistry, ar_provider_registry_free)

/* Registers @klass (static, not copied) for links of @engine whose provider
 * id is @id (copied). One class may serve several ids; an (engine, id) pair
 * has one class: registering it twice is a programming error (critical,
 * ignored). */
void ar_provider_registry_add(ArProviderRegistry *registry, ArEngine engine, const char *id,
                              const ArProviderClass *klass);

/* The class registered for (@engine, @id), or NULL. */
const ArProviderClass *ar_provider_registry_lookup(const ArProviderRegistry *registry,
                                                   ArEngine engine, const char *id);

/* The registered (engine, id) pairs as "engine/id" strings, sorted, for logs
 * and tests. Free with g_strfreev(). */
char **ar_provider_registry_list(const ArProviderRegistry *registry);

G_END_DECLS
