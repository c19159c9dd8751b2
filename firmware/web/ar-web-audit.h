/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-audit.h: the audit log's parts that need no server (ar-web-audit.c),
 * for the server and its tests.
 *
 * Two streams, each in its own files with its own rotation:
 *   authenticated     audit.log, .1, .2: what an admin session, a token,
 *                     the room screen, a paired panel or the local socket
 *                     did, and what proved a credential (login, setup,
 *                     pairing done): an unauthenticated client cannot add
 *                     a line to it.
 *   unauthenticated   audit-unauth.log, .1, .2: failed logins, pairing
 *                     starts and failures, refused setup codes... Each kind
 *                     of event has its own budget (per minute and per hour,
 *                     across every address); past it, entries are counted
 *                     and written as one summary line a minute.
 * The listing reads back across generations with a quota per stream and,
 * in the unauthenticated stream, per class (credential guesses apart), so
 * a flood of one kind can hide neither the admin's entries nor failed logins.
 * docs/decisions.md "The audit log: two streams and budgets".
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  AR_AUDIT_AUTHENTICATED,
  AR_AUDIT_UNAUTHENTICATED,
} ArAuditStream;

#define AR_AUDIT_GENERATIONS 3          /* audit.log, audit.log.1, audit.log.2 */
#define AR_AUDIT_KIND_PER_MINUTE 20     /* unauthenticated entries of one kind a minute */
#define AR_AUDIT_KIND_PER_HOUR 120      /* ... and an hour */
#define AR_AUDIT_MAX_KINDS 16           /* kinds with a budget of their own; then "other" */
#define AR_AUDIT_MAX_ADDRESSES 256      /* distinct addresses counted in a summary */
#define AR_AUDIT_LINE_MAX 2048          /* longer lines on disk are skipped */
#define AR_AUDIT_DETAIL_MAX 512         /* bytes of detail written */
#define AR_AUDIT_LIST_AUTHENTICATED 200 /* listed: the last 200 authenticated entries, */
#define AR_AUDIT_LIST_CREDENTIALS 100   /* the last 100 failed logins / setup refusals, */
#define AR_AUDIT_LIST_OTHER 100         /* the last 100 other unauthenticated ones */
#define AR_AUDIT_WINDOW_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
#define AR_AUDIT_HOUR_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

/* The stream of @event: authenticated when @authenticated_caller, or when the
 * event itself proves a credential (login, setup, panel-paired,
 * factory_reset). */
ArAuditStream ar_audit_stream_of(const char *event, gboolean authenticated_caller);
/* TRUE for the kinds that are guesses at the admin's credentials ("login*",
 * "setup*"): their listing quota is their own. */
gboolean ar_audit_kind_is_credential(const char *kind);
const char *ar_audit_stream_name(ArAuditStream stream);

/* ---- the budget of the unauthenticated stream (clock injected) ---- */

typedef struct _ArAuditBudget ArAuditBudget;

typedef struct {
  char *kind;      /* the suppressed event */
  guint count;     /* entries suppressed */
  guint addresses; /* distinct client addresses (at most AR_AUDIT_MAX_ADDRESSES) */
  gboolean capped; /* more addresses than counted */
  gint64 seconds;  /* from the first suppressed entry to the summary */
} ArAuditSummary;

ArAuditBudget *ar_audit_budget_new(void);
void ar_audit_budget_free(ArAuditBudget *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArAuditBudget, ar_audit_budget_free)
void ar_audit_summary_free(ArAuditSummary *sum);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArAuditSummary, ar_audit_summary_free)

/* TRUE: write the entry; FALSE: it is counted for a summary. @now_us:
 * monotonic. */
gboolean ar_audit_budget_admit(ArAuditBudget *b, const char *kind, const char *client,
                               gint64 now_us);
/* The summaries due at @now_us (a minute after their first suppressed
 * entry), or every pending one with @all; their counts start again.
 * ArAuditSummary*, never NULL. */
GPtrArray *ar_audit_budget_take_summaries(ArAuditBudget *b, gint64 now_us, gboolean all);
/* When the next summary is due (monotonic µs), 0: none pending. */
gint64 ar_audit_budget_next_due(ArAuditBudget *b);
/* The summary line's detail: "412 pairing-started from 30 addresses
 * suppressed in 60 s". */
char *ar_audit_summary_text(const ArAuditSummary *sum);

/* ---- lines ---- */

/* One entry as a JSON line (no newline), every field bounded, valid UTF-8,
 * credentials in @detail blanked. @time: "2026-11-21T00:46:14.123Z". */
char *ar_audit_format_line(const char *time, const char *event, const char *client,
                           const char *actor, const char *detail);
char *ar_audit_format_summary(const char *time, const ArAuditSummary *sum);
/* The current UTC time, fixed width (sorts as text). */
char *ar_audit_now_text(void);

/* Parses one line read from disk: an object with string "time" and "event",
 * or NULL (too long, not UTF-8, not JSON, too deep, binary...). Never fails
 * harder than NULL. */
JsonObject *ar_audit_parse_line(const char *line, gsize len);
/* Calls @func with each entry of @data, newest first; a first line cut by a
 * partial read (@partial_start) is skipped. Stops when @func returns FALSE. */
typedef gboolean (*ArAuditEntryFunc)(JsonObject *entry, gpointer user_data);
void ar_audit_parse_lines_backwards(const char *data, gsize len, gboolean partial_start,
                                    ArAuditEntryFunc func, gpointer user_data);

/* ---- the files ---- */

typedef struct _ArAuditLog ArAuditLog;

/* Files in @dir, each generation at most @max_bytes. */
ArAuditLog *ar_audit_log_new(const char *dir, gsize max_bytes);
void ar_audit_log_free(ArAuditLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArAuditLog, ar_audit_log_free)
/* The file of @stream's generation @gen (0: the current one). */
char *ar_audit_log_path(ArAuditLog *log, ArAuditStream stream, guint gen);
/* Appends @line (rotating first when the file would pass max_bytes).
 * FALSE on failure, logged once until a write works again. */
gboolean ar_audit_log_append(ArAuditLog *log, ArAuditStream stream, const char *line);
/* The listing: the last entries of each stream within their quotas, oldest
 * first, each with "stream". */
JsonArray *ar_audit_log_list(ArAuditLog *log);
/* Removes every generation of both streams (factory reset). */
void ar_audit_log_forget(ArAuditLog *log);

G_END_DECLS
