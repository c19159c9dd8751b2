/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-janus-msg.h: Janus API messages (core + VideoRoom plugin), parsed from
 * untrusted JSON into a typed struct, and built for sending. No I/O.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AR_JANUS_ERROR (ar_janus_error_quark())
GQuark ar_janus_error_quark(void);

typedef enum {
  AR_JANUS_ERROR_MALFORMED,   /* a message we cannot understand */
  AR_JANUS_ERROR_TOO_LARGE,   /* over a size/depth/count limit */
  AR_JANUS_ERROR_UNREACHABLE, /* cannot connect to the server */
  AR_JANUS_ERROR_TRANSPORT,   /* connection lost / HTTP error */
  AR_JANUS_ERROR_SERVER,      /* Janus said "error" */
  AR_JANUS_ERROR_NO_SUCH_ROOM,
  AR_JANUS_ERROR_UNAUTHORIZED, /* wrong pin / token */
  AR_JANUS_ERROR_PLUGIN,       /* another VideoRoom error */
  AR_JANUS_ERROR_TIMEOUT,
  AR_JANUS_ERROR_HANGUP,
} ArJanusError;

/* Limits on what a server may make us hold. */
#define AR_JANUS_MAX_MESSAGE (256 * 1024)
#define AR_JANUS_MAX_DEPTH 24
#define AR_JANUS_MAX_PUBLISHERS 256
#define AR_JANUS_MAX_SDP (64 * 1024)
#define AR_JANUS_MAX_CANDIDATE 1024
#define AR_JANUS_MAX_DISPLAY 256
#define AR_JANUS_MAX_ID_LEN 128

typedef enum {
  AR_JANUS_MSG_UNKNOWN,
  AR_JANUS_MSG_SUCCESS,
  AR_JANUS_MSG_ERROR,
  AR_JANUS_MSG_ACK,
  AR_JANUS_MSG_EVENT,
  AR_JANUS_MSG_TRICKLE,
  AR_JANUS_MSG_WEBRTCUP,
  AR_JANUS_MSG_MEDIA,
  AR_JANUS_MSG_SLOWLINK,
  AR_JANUS_MSG_HANGUP,
  AR_JANUS_MSG_DETACHED,
  AR_JANUS_MSG_TIMEOUT, /* session timed out */
  AR_JANUS_MSG_SERVER_INFO,
} ArJanusMsgType;

/* A Janus id (session, handle, room, feed): a number, or a string when the
 * server runs with string ids. */
typedef struct {
  char *str; /* always set when present: decimal for numbers */
  gboolean numeric;
} ArJanusId;

typedef struct {
  ArJanusId id;
  char *display; /* may be NULL */
} ArJanusPublisher;

typedef struct {
  ArJanusMsgType type;
  char *janus; /* the raw "janus" field */
  char *transaction;
  guint64 session_id;
  guint64 sender;  /* handle the event is about, 0 if none */
  guint64 data_id; /* "success": data.id (session or handle id) */

  /* Core error (type ERROR) or plugin error (EVENT with error_code). */
  int error_code;
  char *error_reason;

  /* VideoRoom plugin data (EVENT or SUCCESS with plugindata). */
  char *plugin;
  char *videoroom;           /* "joined", "event", "attached", "destroyed", ... */
  ArJanusId id;              /* joined: our publisher id */
  ArJanusId private_id;      /* joined: private id */
  GPtrArray *publishers;     /* ArJanusPublisher*, or NULL if no list */
  ArJanusId unpublished;     /* event: a feed unpublished */
  gboolean unpublished_self; /* "unpublished": "ok" */
  ArJanusId leaving;         /* event: a participant left */
  gboolean leaving_self;     /* "leaving": "ok" */
  char *configured;          /* "ok" */
  char *started;             /* "ok" */

  /* JSEP (EVENT). */
  char *jsep_type; /* "offer" | "answer" */
  char *jsep_sdp;

  /* TRICKLE. */
  char *candidate; /* NULL with completed */
  int mline_index;
  gboolean completed;

  /* HANGUP / DETACHED. */
  char *reason;
} ArJanusMsg;

/* Parses one message. Bounded (size, depth, counts); never asserts. */
ArJanusMsg *ar_janus_msg_parse(const char *data, gsize len,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* HTTP long-poll answers may be an array of messages: returns a GPtrArray of
 * ArJanusMsg*, or NULL + error. A single object yields one element. */
GPtrArray *ar_janus_msg_parse_many(const char *data, gsize len,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_janus_msg_free(ArJanusMsg *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArJanusMsg, ar_janus_msg_free)

/* Maps a failure message (core error or plugin error_code) to a GError with a
 * reason a person understands. Returns FALSE if @msg carries no error. */
gboolean ar_janus_msg_to_error(const ArJanusMsg *msg, GError **error);

/* Checks nesting depth of a JSON text without parsing it (json-glib has no
 * depth limit). */
gboolean ar_json_depth_ok(const char *data, gsize len, guint max_depth);

void ar_janus_id_clear(ArJanusId *id);
gboolean ar_janus_id_equal(const ArJanusId *a, const ArJanusId *b);
void ar_janus_id_copy(ArJanusId *dst, const ArJanusId *src);
/* Sets @id from a link text: numeric if all digits (and fits), else string. */
gboolean ar_janus_id_from_string(ArJanusId *id, const char *text);
void ar_janus_id_add_to_builder(const ArJanusId *id, JsonBuilder *b);

/* Builds a request. @body (a JSON object, for "message") and @jsep may be NULL.
 * session/handle 0 = omitted. Returns the JSON text. */
char *ar_janus_build(const char *janus, const char *transaction, guint64 session_id,
                     guint64 handle_id, JsonNode *body, const char *jsep_type,
                     const char *jsep_sdp);
/* A trickle request with one candidate, or {"completed": true} if NULL. */
char *ar_janus_build_trickle(const char *transaction, guint64 session_id, guint64 handle_id,
                             guint mline_index, const char *candidate);

G_END_DECLS
