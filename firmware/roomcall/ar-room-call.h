/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-room-call.h: direct calls to and from the room, with no server in the
 * middle (docs/room-calls.md). The room is its own signalling server: a
 * caller (a browser on the room's call page, or another Anyroom) presents a
 * call link's token to the room's HTTPS API and the two exchange SDP there.
 *
 * Each direction has its own peer connection, offered by the side that sends
 * (ArPeer's SEND peers offer, its RECV peers answer):
 *   1. POST /api/v1/call {"name", "offer"}: the caller's offer of what it sends.
 *      The room rings; the request is held until someone accepts (or the
 *      link auto-answers), then answered 201 {"id", "answer", "offer"}: the
 *      room's answer to it, and the room's own offer of what it sends.
 *   2. PUT /api/v1/call/ID/answer {"answer"}: the caller's answer to that.
 *   3. GET /api/v1/call/ID: {"state": "active" | "ended"}; DELETE: hang up.
 * Both SDPs carry every candidate gathered (within AR_ROOM_CALL_GATHER_MS):
 * no trickle.
 *
 * The desk (ArRoomCallDesk) is the room's side: it rings, and on accept joins
 * the call manager with an internal link (provider "anyroom-in") whose
 * provider answers the caller. The HTTP edge (firmware/web/ar-web-calls.c)
 * checks the tokens; the desk knows no token. The "anyroom" provider is the
 * caller's side (a call link given to this room).
 */
#pragma once

#include "ar-call.h"
#include "ar-native-call.h"
#include "ar-provider.h"

G_BEGIN_DECLS

#define AR_ROOM_CALL_ERROR (ar_room_call_error_quark())
GQuark ar_room_call_error_quark(void);

typedef enum {
  AR_ROOM_CALL_ERROR_BUSY,         /* the room is in a call or another call rings (409) */
  AR_ROOM_CALL_ERROR_DECLINED,     /* someone in the room declined (403) */
  AR_ROOM_CALL_ERROR_NOT_ANSWERED, /* nobody answered within the ring time (408) */
  AR_ROOM_CALL_ERROR_NO_CALL,      /* no such call, or it ended (404) */
  AR_ROOM_CALL_ERROR_INVALID,      /* a malformed request (400) */
  AR_ROOM_CALL_ERROR_FAILED,       /* the room could not set the call up (500) */
} ArRoomCallError;

/* The HTTP status that tells an error of this domain (409, 403, 408, 404, 400, 500). */
guint ar_room_call_error_status(const GError *error);

#define AR_ROOM_CALL_RING_S 45      /* a call not accepted by then is not answered */
#define AR_ROOM_CALL_GATHER_MS 3000 /* the most an SDP waits for its candidates */
#define AR_ROOM_CALL_ANSWER_S 20    /* the caller's answer comes by then, or the call ends */
#define AR_ROOM_CALL_NAME_MAX 64    /* characters of a caller's name */
#define AR_ROOM_CALL_SDP_MAX 32768  /* bytes of an SDP in either direction */

typedef struct _ArRoomCallDesk ArRoomCallDesk;

/* The call that rings, borrowed. */
typedef struct {
  const char *id;        /* the call's id (32 hex) */
  const char *caller;    /* the name the caller gave, or "A caller" */
  const char *link_name; /* the call link's name (who it was given to) */
  gint64 since_us;       /* monotonic */
  guint ring_s;          /* rings this long at most */
} ArRoomCallIncoming;

/* The ringing changed: @incoming rings now, or NULL: nothing rings. */
typedef void (*ArRoomCallRingFunc)(const ArRoomCallIncoming *incoming, gpointer user_data);

/* The answer to a ring (error NULL): the room's answer and its own offer. */
typedef void (*ArRoomCallAnsweredFunc)(const GError *error, const char *id, const char *answer,
                                       const char *offer, gpointer user_data);

ArRoomCallDesk *ar_room_call_desk_new(ArCallManager *calls);
void ar_room_call_desk_free(ArRoomCallDesk *desk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArRoomCallDesk, ar_room_call_desk_free)

void ar_room_call_desk_set_ring_func(ArRoomCallDesk *desk, ArRoomCallRingFunc func,
                                     gpointer user_data);
/* What rings now, or NULL. */
const ArRoomCallIncoming *ar_room_call_desk_get_incoming(ArRoomCallDesk *desk);

/* A caller's name as the room shows it: printable characters only, at most
 * AR_ROOM_CALL_NAME_MAX, trimmed; "A caller" for NULL, invalid UTF-8 or
 * nothing left. Newly allocated. */
char *ar_room_call_clean_name(const char *name);

/* ---- the HTTP edge ---- */

/* A caller presented a valid token: rings (or, @auto_answer, accepts at once)
 * and calls @done once the room answered, declined, did not answer, or could
 * not set the call up. Fails at once (and @done is not called) when the room
 * is busy or @offer is malformed. @caller is untrusted (bounded, cleaned). */
gboolean ar_room_call_desk_ring(ArRoomCallDesk *desk, const char *caller, const char *link_name,
                                gboolean auto_answer, const char *offer,
                                ArRoomCallAnsweredFunc done, gpointer user_data,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The caller of @user_data went away before an answer: the ringing stops. */
void ar_room_call_desk_forget(ArRoomCallDesk *desk, gpointer user_data);
/* The caller's answer to the room's offer. */
gboolean ar_room_call_desk_caller_answer(ArRoomCallDesk *desk, const char *id, const char *answer,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* "ringing", "active" or "ended" (a call this desk knew, kept until the next), or NULL. */
const char *ar_room_call_desk_state(ArRoomCallDesk *desk, const char *id);
/* The caller hung up. */
gboolean ar_room_call_desk_hang_up(ArRoomCallDesk *desk, const char *id,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- the room (room screen, panel, anyroomctl, API) ---- */

gboolean ar_room_call_desk_accept(ArRoomCallDesk *desk, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean ar_room_call_desk_decline(ArRoomCallDesk *desk, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Registers "anyroom-in" (the desk's calls) and "anyroom" (this room calls a
 * call link) with the native engine. @desk outlives @registry. */
void ar_room_call_register(ArProviderRegistry *registry, ArNativeEngine *native,
                           ArRoomCallDesk *desk);

G_END_DECLS
