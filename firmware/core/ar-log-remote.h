/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-log-remote.h: anyroomd's own log lines, as its log writer sees them
 * (after ar_log_redact), forwarded over TLS to a remote syslog server
 * (syslog-tls://: RFC 5424 messages with RFC 5425 octet-counting framing,
 * "LEN SP MSG") or to a systemd-journal-remote receiver (journal-https://:
 * Journal Export Format entries POSTed to /upload, ar-log-journal.h).
 * The server's certificate and name are checked; a client certificate is
 * presented when one is configured (mutual TLS).
 *
 * The logging caller only formats the line and appends it to a bounded
 * queue (drop oldest, counted); a dedicated thread connects (deadline,
 * server certificate and name checked), writes (deadline) and reconnects
 * with exponential backoff and jitter. Its own failures are logged locally
 * only (AR_LOG_LOCAL_FIELD), rate-limited, and never forwarded.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AR_LOG_REMOTE_ERROR (ar_log_remote_error_quark())
GQuark ar_log_remote_error_quark(void);
typedef enum {
  AR_LOG_REMOTE_ERROR_INVALID,
  AR_LOG_REMOTE_ERROR_RECEIVER, /* the receiver answered something else than OK: try again */
  AR_LOG_REMOTE_ERROR_REFUSED,  /* it will not take these lines (HTTP 4xx): drop them */
} ArLogRemoteError;

typedef enum {
  AR_LOG_REMOTE_SYSLOG_TLS,    /* syslog-tls://HOST[:6514] */
  AR_LOG_REMOTE_JOURNAL_HTTPS, /* journal-https://HOST[:19532] */
} ArLogRemoteKind;

#define AR_LOG_REMOTE_DEFAULT_PORT 6514 /* RFC 5425 */
#define AR_LOG_REMOTE_QUEUE_LINES 1000
#define AR_LOG_REMOTE_QUEUE_BYTES (1024 * 1024)
#define AR_LOG_REMOTE_TIMEOUT_S 10 /* connect + handshake, each write, a whole answer */
#define AR_LOG_REMOTE_BACKOFF_MIN_MS 500
#define AR_LOG_REMOTE_BACKOFF_MAX_MS 60000
#define AR_LOG_REMOTE_DRAIN_MS 2000 /* at stop, for what is queued */

/* A structured field the log writer honours: a line with AR_LOG_LOCAL=1 is
 * not forwarded (the forwarder's own messages). */
#define AR_LOG_LOCAL_FIELD "AR_LOG_LOCAL"

/* "syslog-tls://HOST[:PORT]" (port default 6514) or "journal-https://HOST[:PORT]"
 * (default 19532), IPv6 in brackets; no user, path, query or fragment. @kind
 * may be NULL. Out parameters untouched on failure. */
gboolean ar_log_remote_parse_url(const char *url, ArLogRemoteKind *kind, char **host, guint16 *port,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* "debug" | "info" | "message" | "warning" | "critical": the least severe
 * level forwarded. */
gboolean ar_log_remote_parse_level(const char *name, GLogLevelFlags *level);
/* The RFC 5424 HOSTNAME (and the journal's _HOSTNAME): @name with what is not PRINTUSASCII turned
 * into
 * '-', at most 255 bytes; the machine's host name if nothing is left. */
char *ar_log_remote_hostname(const char *name);
/* PRI = facility * 8 + severity: facility daemon (3), severity as journald's
 * (error 3, critical 4, warning 4, message 5, info 6, debug 7). */
guint ar_log_remote_pri(GLogLevelFlags level);
/* One RFC 5424 message (no framing, no newline):
 * "<PRI>1 TIMESTAMP HOSTNAME anyroomd PROCID MSGID - MSG". @msgid (the
 * GLib domain) NULL or invalid: "-". @message is taken as is (already one
 * redacted UTF-8 line). */
char *ar_log_remote_format(GLogLevelFlags level, gint64 unix_us, const char *hostname, guint pid,
                           const char *msgid, const char *message);
/* RFC 5425 framing: "LEN SP MSG". */
char *ar_log_remote_frame(const char *msg, gsize *len);

/* A bounded FIFO of formatted messages (GBytes: a journal entry may hold any
 * byte): at most @max_lines and @max_bytes; a push over either drops the
 * oldest lines and counts them. Not locked. */
typedef struct _ArLogQueue ArLogQueue;
ArLogQueue *ar_log_queue_new(guint max_lines, gsize max_bytes);
void ar_log_queue_free(ArLogQueue *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArLogQueue, ar_log_queue_free)
/* Takes @msg. A message larger than max_bytes alone is dropped (counted). */
void ar_log_queue_push(ArLogQueue *q, GBytes *msg);
/* The oldest message (the caller's), or NULL. */
GBytes *ar_log_queue_pop(ArLogQueue *q);
/* Puts @msg back in front (a batch that was not sent); dropped if full. */
void ar_log_queue_push_front(ArLogQueue *q, GBytes *msg);
guint ar_log_queue_length(const ArLogQueue *q);
gsize ar_log_queue_bytes(const ArLogQueue *q);
/* Lines dropped since the last call; resets the count. */
guint64 ar_log_queue_take_dropped(ArLogQueue *q);

typedef struct {
  const char *url;       /* syslog-tls://HOST:PORT or journal-https://HOST:PORT */
  const char *ca_file;   /* PEM; NULL = the system store */
  const char *cert_file; /* PEM client certificate (chain); NULL = none */
  const char *key_file;  /* its PEM private key: a file only its owner may read */
  GLogLevelFlags level;  /* least severe level forwarded (G_LOG_LEVEL_INFO) */
  const char *hostname;  /* RFC 5424 HOSTNAME source (the room's name); NULL = host name */
} ArLogRemoteOptions;

/* The checks ar_log_remote_start makes before it starts: the address, the
 * CA file, the client certificate and key (both or neither; the key file
 * not readable by group or others). */
gboolean ar_log_remote_check(const ArLogRemoteOptions *opt,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Starts forwarding (from the main thread; after ar_log_remote_stop again,
 * for new settings): later lines go to the queue. */
gboolean ar_log_remote_start(const ArLogRemoteOptions *opt,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Called by the log writer with a redacted line: queues it if forwarding is
 * on, the level is wanted and the caller is not the forwarder itself. Never
 * blocks on the network. */
void ar_log_remote_submit(GLogLevelFlags level, const char *domain, const char *message);
/* The HOSTNAME of later lines (a renamed room); nothing when not forwarding. */
void ar_log_remote_set_hostname(const char *name);
/* Sends what is queued if connected (at most AR_LOG_REMOTE_DRAIN_MS), then
 * stops the thread (a send in progress is cancelled; lines left are lost). */
void ar_log_remote_stop(void);

G_END_DECLS
