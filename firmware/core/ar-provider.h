/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provider.h: what the call manager knows of a way to join a meeting: a
 * signalling adapter of the native engine (Janus VideoRoom, WHIP, ...) or,
 * later, the web engine. The interface is engine-neutral: a provider joins and
 * leaves, reports participants, its tracks (ArTrackInfo snapshots) and their
 * media events (ArTrackEvent). How it moves media (webrtcbin peers of the
 * media engine, a meeting browser) stays inside it; it never touches
 * GStreamer elements. What an engine needs to make its providers (the native
 * engine's ArMediaEngine) is given at registration, not to create().
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

typedef enum {
  AR_TRACK_SEND, /* the room's camera or microphone, sent to the meeting */
  AR_TRACK_RECV, /* a remote participant's audio or video */
} ArTrackDirection;

typedef enum {
  AR_TRACK_EVENT_FIRST_VIDEO_FRAME, /* recv: first decoded video frame; send: first encoded */
  AR_TRACK_EVENT_FIRST_AUDIO,       /* recv: first decoded audio */
} ArTrackEventKind;

/* "first-video-frame", "first-audio" (the "what" of the "media" event). */
const char *ar_track_event_kind_to_string(ArTrackEventKind what);

/* A media event of the call's tracks. Borrowed for the callback's duration. */
typedef struct {
  /* Whose tracks: what the provider calls the stream the event belongs to
   * ("publisher", "feed-1234" for Janus); the "peer" of status tracks and of
   * the "media" event (docs/cli.md). */
  const char *source;
  ArTrackDirection direction;
  ArTrackEventKind what;
} ArTrackEvent;

/* One track of the call, as a snapshot for status and statistics. */
typedef struct {
  char *source;       /* as ArTrackEvent.source */
  char *path;         /* the network path its media takes, e.g. "relay/udp -> host"; or NULL */
  ArTrackStats stats; /* counters; plain data (media/ar-media.h), no GStreamer */
} ArTrackInfo;

void ar_track_info_free(ArTrackInfo *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArTrackInfo, ar_track_info_free)

/* What a join waits for (the waiting callback). */
typedef enum {
  AR_PROVIDER_WAIT_NOTHING,   /* it goes on by itself again (call state "joining") */
  AR_PROVIDER_WAIT_HOST,      /* the meeting's lobby: a host must let the room in ("lobby") */
  AR_PROVIDER_WAIT_ATTENTION, /* a person must finish on the room screen ("needs-attention") */
} ArProviderWait;

typedef struct {
  /* The room is in the meeting and publishing. */
  void (*connected)(ArProvider *p, gpointer user_data);
  /* Terminal failure (join refused, connection lost, peer verification...). */
  void (*failed)(ArProvider *p, const GError *error, gpointer user_data);
  /* ar_provider_leave() finished. */
  void (*left)(ArProvider *p, gpointer user_data);
  /* The list of remote participants changed. */
  void (*participants_changed)(ArProvider *p, gpointer user_data);
  /* One of the call's tracks reported a media event (first frame...). */
  void (*media_event)(ArProvider *p, const ArTrackEvent *event, gpointer user_data);
  /* Optional. A connected call broke and the provider is re-establishing it
   * by itself: called when the loss is noticed (@attempt 0) and as each
   * attempt starts (1, 2, ...). connected is called again once the call is
   * back; failed when the provider gives up. */
  void (*reconnecting)(ArProvider *p, const char *reason, guint attempt, gpointer user_data);
  /* Optional, while joining: what the join waits for, with @message in
   * plain words (NULL: the call manager's default). connected ends it. */
  void (*waiting)(ArProvider *p, ArProviderWait what, const char *message, gpointer user_data);
  /* Between an engine and the providers it wraps (the native engine's
   * reconnection, firmware/native/ar-native-call.h); the call manager sets
   * neither.
   * - lost: optional; like failed (terminal for this provider), but the
   *   cause may be passing (connection to the server lost, server not
   *   answering, ICE/DTLS failed, dead peer, the room's address changed): a
   *   new provider for the same link may bring the call back. Without it,
   *   failed is called.
   * - signalling_up: optional; the meeting server accepted the join (the
   *   meeting exists); media may still be connecting. */
  void (*lost)(ArProvider *p, const GError *error, gpointer user_data);
  void (*signalling_up)(ArProvider *p, gpointer user_data);
} ArProviderCallbacks;

typedef struct {
  char *id;
  char *display;
} ArParticipant;

void ar_participant_free(ArParticipant *p);

typedef struct {
  /* @class_data: what the provider's module registered with its class (the
   * native engine's providers: the ArMediaEngine). */
  ArProvider *(*create)(const ArLink *link, gpointer class_data, const char *display_name,
                        const ArProviderCallbacks *cb, gpointer user_data, GError **error);
  void (*join)(ArProvider *p);
  void (*leave)(ArProvider *p);
  /* Appends a newly allocated ArTrackInfo* for each live track to @out. */
  void (*collect_tracks)(ArProvider *p, GPtrArray *out);
  /* Appends newly allocated ArParticipant* to @out. */
  void (*collect_participants)(ArProvider *p, GPtrArray *out);
  /* Optional: the room's microphone was muted or its camera turned off (or
   * back), during the call. The media engine enforces both below every
   * engine; a provider may also press the meeting's own buttons. */
  void (*set_controls)(ArProvider *p, gboolean microphone_muted, gboolean camera_enabled);
  void (*free)(ArProvider *p);
  /* The least time a join of this class may take before it fails, in
   * seconds (the call manager takes the larger of it and [call]
   * join-timeout); 0: the config's alone. A web join starts a browser, loads
   * a page and follows steps before it can tell whether a person must help. */
  guint min_join_timeout_s;
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
 * id is @id (copied); @class_data is handed to klass->create() and, if
 * @class_data_free is set, freed with the registry. One class may serve
 * several ids; an (engine, id) pair has one class: registering it twice is a
 * programming error (critical, ignored, @class_data freed). */
void ar_provider_registry_add(ArProviderRegistry *registry, ArEngine engine, const char *id,
                              const ArProviderClass *klass, gpointer class_data,
                              GDestroyNotify class_data_free);

/* The class registered for (@engine, @id), or NULL. */
const ArProviderClass *ar_provider_registry_lookup(const ArProviderRegistry *registry,
                                                   ArEngine engine, const char *id);

/* A new provider for @link from the class registered for its engine and
 * provider id (not joined yet: klass->join). A link without one:
 * G_IO_ERROR_NOT_SUPPORTED (the call manager checks with lookup first and
 * refuses with its own words). */
ArProvider *ar_provider_registry_create(const ArProviderRegistry *registry, const ArLink *link,
                                        const char *display_name, const ArProviderCallbacks *cb,
                                        gpointer user_data,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* What an engine (rather than one of its providers) is told. */
typedef struct {
  /* The [network] settings of the config changed: calls from the next one
   * use them. Optional. */
  gboolean (*reload_network)(gpointer engine_data, GError **error);
  /* A link the link module does not know (its error in @why) may still be
   * one of the engine's (an administrator's own web meeting app): a new
   * ArLink of the engine, or NULL. Optional. */
  ArLink *(*parse_link)(gpointer engine_data, const char *text, const GError *why);
} ArEngineClass;

/* Registers @klass (static) for @engine; @engine_data is handed to its
 * functions and, if @engine_data_free is set, freed with the registry. One per
 * engine: a second is a programming error (critical, ignored, data freed). */
void ar_provider_registry_add_engine(ArProviderRegistry *registry, ArEngine engine,
                                     const ArEngineClass *klass, gpointer engine_data,
                                     GDestroyNotify engine_data_free);

/* Tells every registered engine that the [network] settings changed; stops at
 * the first error. */
gboolean ar_provider_registry_reload_network(ArProviderRegistry *registry,
                                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ar_link_parse(), then the engines' parse_link: the first that claims
 * @text. The link module's error when none does. */
ArLink *ar_provider_registry_parse_link(const ArProviderRegistry *registry, const char *text,
                                        const ArLinkPolicy *policy,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The registered (engine, id) pairs as "engine/id" strings, sorted, for logs
 * and tests. Free with g_strfreev(). */
char **ar_provider_registry_list(const ArProviderRegistry *registry);

G_END_DECLS
