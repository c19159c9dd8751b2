/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cal-desk.h: the room's meetings (docs/calendar.md). Fetches the [calendar] sources on
 * their refresh interval, keeps each source's last good list (a source that fails says why
 * and keeps it), merges them, tells when a meeting can be joined, joins one by id or "the
 * next", and runs the optional auto-join countdown. JSON is the API's business
 * (ar-api-meetings.c).
 */
#pragma once

#include "ar-cal-source.h"
#include "ar-cal.h"
#include "ar-call.h"

G_BEGIN_DECLS

typedef struct _ArCalDesk ArCalDesk;

typedef struct {
  ArCalSourceKind kind;
  const char *server; /* ar_cal_source_display(): never the feed's path */
  gboolean ok;        /* the last fetch worked (or none happened yet) */
  const char *error;  /* why the last fetch failed, or NULL */
  gint64 updated;     /* when the list last came from the server (UTC s), or 0 */
  gint64 checked;     /* the last fetch (UTC s), or 0 */
  guint meetings;     /* in the last good list */
} ArCalSourceState;

typedef struct {
  const ArMeeting *meeting; /* borrowed */
  gint64 join_at;           /* UTC s: the countdown's end */
} ArCalAutoJoin;

typedef enum {
  AR_CAL_DESK_CHANGED_MEETINGS = 1 << 0,  /* the list, a source's state, or what is joinable */
  AR_CAL_DESK_CHANGED_AUTO_JOIN = 1 << 1, /* a countdown began, ended or was cancelled */
} ArCalDeskChange;

typedef void (*ArCalDeskChangedFunc)(ArCalDeskChange what, gpointer user_data);

/* @calls and @config are borrowed and must outlive the desk; @config is read again on
 * ar_cal_desk_reload(). Starts fetching at once. The clock is the system's, unless
 * ANYROOM_TEST_CLOCK=ISO8601 (a lab's clock: that time when anyroomd started). */
ArCalDesk *ar_cal_desk_new(ArCallManager *calls, const ArConfig *config);
void ar_cal_desk_free(ArCalDesk *desk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCalDesk, ar_cal_desk_free)

void ar_cal_desk_set_changed_func(ArCalDesk *desk, ArCalDeskChangedFunc func, gpointer user_data);
/* [calendar] changed: new sources, fetched now. */
void ar_cal_desk_reload(ArCalDesk *desk);
/* Fetches every source now (the admin's "Refresh"). */
void ar_cal_desk_refresh(ArCalDesk *desk);

/* The desk's clock (UTC seconds). */
gint64 ar_cal_desk_now(ArCalDesk *desk);
const ArConfig *ar_cal_desk_get_config(ArCalDesk *desk);
/* Meetings that have not ended, within [calendar] days-ahead, by start (borrowed). */
GPtrArray *ar_cal_desk_get_meetings(ArCalDesk *desk);
guint ar_cal_desk_n_sources(ArCalDesk *desk);
void ar_cal_desk_get_source(ArCalDesk *desk, guint i, ArCalSourceState *out);
/* From join-before-minutes before the start until the end, with a link. */
gboolean ar_cal_desk_joinable(ArCalDesk *desk, const ArMeeting *m);
/* The meeting in progress or about to start: the joinable one whose start is nearest. */
const ArMeeting *ar_cal_desk_next(ArCalDesk *desk);
/* Joins meeting @id (NULL: the next). Errors: AR_CALL_ERROR_INVALID (no such meeting, not
 * joinable now, no link), or the call manager's. */
gboolean ar_cal_desk_join(ArCalDesk *desk, const char *id, ArCallDoneFunc done, gpointer user_data,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The auto-join countdown under way, or FALSE. */
gboolean ar_cal_desk_get_auto_join(ArCalDesk *desk, ArCalAutoJoin *out);
/* Stops the countdown; that meeting is not auto-joined again. FALSE: none was running. */
gboolean ar_cal_desk_cancel_auto_join(ArCalDesk *desk);

G_END_DECLS
