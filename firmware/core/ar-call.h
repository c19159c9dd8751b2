/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-call.h: the call manager. One call at a time: link -> provider (of an
 * engine: native or web). Owns the media engine (the room's devices, for both
 * engines); reports state, statistics and events as typed values (ArCallEvent,
 * ArCallStatus). JSON is made of them only at the API edge (firmware/api/
 * ar-api-call.h).
 */
#pragma once

#include "ar-config.h"
#include "ar-provider.h"

G_BEGIN_DECLS

#define AR_CALL_ERROR (ar_call_error_quark())
GQuark ar_call_error_quark(void);

typedef enum {
  AR_CALL_ERROR_BUSY,        /* already in a call or joining */
  AR_CALL_ERROR_UNSUPPORTED, /* the link's service has no engine yet */
  AR_CALL_ERROR_TIMEOUT,
  AR_CALL_ERROR_NOT_IN_CALL,
  AR_CALL_ERROR_CANCELLED, /* left before the join finished */
  AR_CALL_ERROR_INVALID,   /* a command's argument is out of range */
} ArCallError;

typedef enum {
  AR_CALL_IDLE,
  AR_CALL_JOINING,
  AR_CALL_CONNECTED,
  AR_CALL_LEAVING,
  AR_CALL_FAILED,
  AR_CALL_RECONNECTING, /* connected, then the connection broke: rebuilding it */
  AR_CALL_LOBBY,        /* the meeting holds the room in its lobby until a host admits it */
  /* The provider cannot go on by itself (a captcha, a sign-in wall, a page it
   * does not know): a person finishes on the room screen; the join goes on. */
  AR_CALL_NEEDS_ATTENTION,
} ArCallState;

/* How long a join may wait in the lobby, and for a person to finish it on
 * the room screen, before it fails (the join timeout does not run meanwhile):
 * Teams and Zoom keep a guest in the lobby for 15 to 30 minutes. */
#define AR_CALL_LOBBY_TIMEOUT_S (15 * 60)
#define AR_CALL_ATTENTION_TIMEOUT_S (10 * 60)

/* Reconnecting: the provider re-establishes a broken call by itself (the
 * native engine: firmware/native/ar-native-call.h); the manager reports it. */

const char *ar_call_state_to_string(ArCallState state);

/* Whether the room is in a meeting or on its way in (joining, lobby,
 * needs-attention, connected, reconnecting): the devices are the call's. */
gboolean ar_call_state_is_active(ArCallState state);

typedef struct _ArCallManager ArCallManager;

/* The media controls (docs/cli.md "controls"). */
typedef struct {
  gboolean microphone_muted;
  gboolean camera_enabled;
  guint speaker_volume; /* 0..AR_MEDIA_VOLUME_MAX */
  gboolean self_view;   /* UI setting: the room screen shows the room's own camera */
  /* Live: being sent to a meeting right now (what the room screen shows). */
  gboolean microphone_live;
  gboolean camera_live;
} ArCallControls;

typedef enum {
  AR_CALL_EVENT_STATE,        /* state, error, reason */
  AR_CALL_EVENT_CONTROLS,     /* controls */
  AR_CALL_EVENT_PARTICIPANTS, /* the list changed (the status has it) */
  AR_CALL_EVENT_MEDIA,        /* track */
} ArCallEventKind;

/* An event of the call manager. Borrowed for the callback's duration. */
typedef struct {
  ArCallEventKind kind;
  /* Every kind: the engine and provider id of the call (or of the last one
   * once it ended; NULL before the first). */
  const char *engine;
  const char *provider;
  /* AR_CALL_EVENT_STATE */
  ArCallState state;
  const char *error;  /* failed: why; otherwise NULL */
  const char *reason; /* reconnecting: why the connection broke; otherwise NULL */
  /* lobby, needs-attention: what the room screen and panel say, in plain
   * words ("Finish joining on the room screen: the meeting asks for a
   * captcha"); otherwise NULL */
  const char *message;
  /* AR_CALL_EVENT_CONTROLS */
  ArCallControls controls;
  /* AR_CALL_EVENT_MEDIA */
  ArTrackEvent track;
} ArCallEvent;

/* Called once when a join finishes (error NULL: connected) or a leave finishes. */
typedef void (*ArCallDoneFunc)(const GError *error, gpointer user_data);
/* Called for every event. */
typedef void (*ArCallEventFunc)(const ArCallEvent *event, gpointer user_data);

/* A snapshot of the call: the status object of docs/cli.md, typed. */
typedef struct {
  const ArConfig *config; /* borrowed: the manager's */
  const ArBoard *board;   /* borrowed: the manager's */
  ArCallState state;
  char *room_name;
  char *engine; /* "native", "web"; NULL when not in a call */
  char *provider;
  char *link;
  char *room;
  char *error;
  char *message; /* lobby, needs-attention: as ArCallEvent.message */
  char *encoder; /* the media engine's video encoder element */
  char *media;   /* the media engine's description */
  ArCallControls controls;
  GPtrArray *participants; /* ArParticipant*; empty when not in a call */
  /* Microseconds from the join, or 0 when it has not happened. */
  gint64 join_to_connected_us;
  gint64 join_to_first_remote_video_us;
  /* Recovery of a broken connection (docs/network.md "Recovery"). */
  guint reconnects;
  char *recovery_reason; /* reconnecting: why; otherwise NULL */
  guint attempt;         /* reconnecting: the attempt; otherwise 0 */
  gint64 last_recovery_us;
  GPtrArray *tracks; /* ArTrackInfo*; empty when not in a call */
} ArCallStatus;

void ar_call_status_free(ArCallStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCallStatus, ar_call_status_free)

/* Takes ownership of neither; both must outlive the manager. */
ArCallManager *ar_call_manager_new(const ArConfig *config, const ArBoard *board,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_call_manager_free(ArCallManager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCallManager, ar_call_manager_free)

/* The [device] settings of the config changed (admin API): calls from now
 * on use them (an ongoing call keeps its devices). */
gboolean ar_call_manager_reload_devices(ArCallManager *m, GError **error);

/* The [network] settings of the config changed (admin API): the next call
 * uses them (an ongoing call keeps its own). */
gboolean ar_call_manager_reload_network(ArCallManager *m, GError **error);

void ar_call_manager_set_event_func(ArCallManager *m, ArCallEventFunc func, gpointer user_data);

/* Starts joining @link. Errors that are known at once (malformed link, busy,
 * unsupported service) are returned here and @done is not called. */
gboolean ar_call_manager_join(ArCallManager *m, const char *link, ArCallDoneFunc done,
                              gpointer user_data, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Same with a link already made: by the link module from @text, or by a
 * module of the firmware for a call of its own (a call to the room, given
 * the caller's name as @text: what status shows as the link). */
gboolean ar_call_manager_join_link(ArCallManager *m, const ArLink *link, const char *text,
                                   ArCallDoneFunc done, gpointer user_data,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Leaves the call (or cancels a join). @done may be NULL. */
gboolean ar_call_manager_leave(ArCallManager *m, ArCallDoneFunc done, gpointer user_data,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Forgets a done callback whose caller went away (e.g. a client disconnected). */
void ar_call_manager_forget_waiter(ArCallManager *m, gpointer user_data);

/* Media controls, for every call from now on (they outlast a call: a camera
 * turned off stays off). Each change emits a "controls" event. */
void ar_call_manager_set_microphone_muted(ArCallManager *m, gboolean muted);
void ar_call_manager_set_camera_enabled(ArCallManager *m, gboolean enabled);
/* 0..100; larger values are an error (AR_CALL_ERROR_INVALID). */
gboolean ar_call_manager_set_speaker_volume(ArCallManager *m, gint64 level,
                                            GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* A UI setting only: whether the room screen shows the room's own camera. */
void ar_call_manager_set_self_view(ArCallManager *m, gboolean on);
void ar_call_manager_get_controls(ArCallManager *m, ArCallControls *out);
ArMediaEngine *ar_call_manager_get_engine(ArCallManager *m);
/* The providers this manager can join with, empty at first: whoever
 * assembles the daemon registers them (firmware/ar-providers.h) before the
 * first join. A link whose (engine, provider) has none is refused at once
 * with AR_CALL_ERROR_UNSUPPORTED ("... recognized but this room cannot join
 * them yet"). */
ArProviderRegistry *ar_call_manager_get_providers(ArCallManager *m);

ArCallState ar_call_manager_get_state(ArCallManager *m);

/* How a join ended (docs/fleet.md, anyroom_joins_total): a fixed set, so a
 * metrics label never carries a message. */
typedef enum {
  AR_JOIN_CONNECTED,
  AR_JOIN_CANCELLED,    /* left before it connected */
  AR_JOIN_TIMEOUT,      /* no connection within the join timeout (or the lobby's) */
  AR_JOIN_BUSY,         /* refused: already in a call */
  AR_JOIN_INVALID_LINK, /* refused: not a meeting link the room accepts */
  AR_JOIN_UNSUPPORTED,  /* refused: a known service this room cannot join */
  AR_JOIN_NETWORK,      /* ICE, DTLS or the media path failed */
  AR_JOIN_FINGERPRINT,  /* the peer's DTLS certificate did not match the SDP */
  AR_JOIN_MEDIA,        /* the room's camera, microphone or pipeline failed */
  AR_JOIN_PROVIDER,     /* the meeting service refused or failed (signalling, page) */
  AR_JOIN_N_OUTCOMES
} ArJoinOutcome;

const char *ar_join_outcome_to_string(ArJoinOutcome outcome);
/* The outcome of a join that ended with @error (NULL: connected). */
ArJoinOutcome ar_join_outcome_of(const GError *error);
/* Joins since anyroomd started, by outcome (@counts: AR_JOIN_N_OUTCOMES
 * elements), and calls that failed after they had connected. */
void ar_call_manager_get_join_counts(ArCallManager *m, guint64 *counts, guint64 *dropped);
/* A snapshot of the call, made when asked (never on events). */
ArCallStatus *ar_call_manager_get_status(ArCallManager *m);

G_END_DECLS
