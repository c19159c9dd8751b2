/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-log-journal.h: the systemd-journal-remote transport of the log forwarder
 * (ar-log-remote.h): anyroomd's redacted lines as entries of the Journal
 * Export Format, uploaded with "POST /upload" (Content-Type
 * application/vnd.fdo.journal) over the forwarder's TLS connection, one
 * request per batch, the connection kept alive when the receiver allows.
 *
 * What comes back (the receiver's answer) is untrusted: the head is read up
 * to AR_LOG_JOURNAL_HEAD_MAX bytes and parsed by libsoup, a body of at most
 * AR_LOG_JOURNAL_BODY_MAX bytes is read and dropped, anything else closes
 * the connection.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AR_LOG_JOURNAL_DEFAULT_PORT 19532 /* systemd-journal-remote's */
#define AR_LOG_JOURNAL_HEAD_MAX 8192
#define AR_LOG_JOURNAL_BODY_MAX (64 * 1024)
#define AR_LOG_JOURNAL_CONTENT_TYPE "application/vnd.fdo.journal"

/* One field: "NAME=VALUE\n" when @value (@len bytes, -1: NUL-terminated) is
 * valid UTF-8 without control characters (a tab is fine), else the
 * binary-safe form "NAME\n" + 64-bit little-endian length + VALUE + "\n". */
void ar_log_journal_append_field(GString *out, const char *name, const char *value, gssize len);

/* One entry (the fields and the empty line that ends it):
 * __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID (when @boot_id, 32
 * hex digits), _HOSTNAME, PRIORITY (journald's for GLib levels), SYSLOG_FACILITY
 * 3 (daemon), SYSLOG_IDENTIFIER anyroomd, SYSLOG_PID, GLIB_DOMAIN (when
 * @domain), MESSAGE. */
GBytes *ar_log_journal_format(GLogLevelFlags level, gint64 unix_us, gint64 mono_us,
                              const char *boot_id, const char *hostname, guint pid,
                              const char *domain, const char *message);

/* This boot's id as the journal writes it (32 hex digits), or NULL. */
char *ar_log_journal_boot_id(void);

/* The receiver's answer head (status line and headers, up to the empty line):
 * @status, @content_length (-1: none given) and whether the connection may
 * be used again. @reason: the reason phrase, printable ASCII, at most 64
 * bytes. Untrusted input: FALSE with an error for anything else. Outputs
 * untouched on failure. */
gboolean ar_log_journal_parse_response(const char *head, gsize len, guint *status,
                                       gint64 *content_length, gboolean *keep_alive, char **reason,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* POSTs the entries of @batch (GBytes) to /upload on @conn and reads the
 * answer: TRUE on a 2xx. @keep_alive: FALSE when the connection must be
 * closed after this request. */
gboolean ar_log_journal_send(GIOStream *conn, const char *host, guint16 port, GPtrArray *batch,
                             GCancellable *cancel, gboolean *keep_alive,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
