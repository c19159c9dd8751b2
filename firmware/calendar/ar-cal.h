/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cal.h: the room's calendar, parsed and expanded with libical (docs/calendar.md), which is
 * loaded the first time a calendar is parsed (ar-ical.h).
 *
 * An iCalendar text (RFC 5545: a published feed, or one CalDAV object) is untrusted input:
 * its size, the number of its components, their nesting and the occurrences a recurrence
 * may make are bounded, text is made valid UTF-8, and a hostile calendar gets an
 * AR_CAL_ERROR, never a crash or a hang.
 *
 * Expansion gives the occurrences that overlap a window [from, to): RRULE, RDATE, EXDATE,
 * moved and cancelled occurrences (RECURRENCE-ID), VTIMEZONE and IANA zone names, all-day
 * events (local midnight to midnight), floating times (the room's local zone). Cancelled
 * events (STATUS:CANCELLED) and occurrences the room declined (its ATTENDEE with
 * PARTSTAT=DECLINED, when the room's address is known) are left out.
 *
 * The meeting link is looked for with the link module (ar_link_find_all, best first), in
 * order: CONFERENCE, X-MICROSOFT-SKYPETEAMSMEETINGURL, X-GOOGLE-CONFERENCE, URL, LOCATION,
 * DESCRIPTION, X-ALT-DESC (HTML); the first property that holds a link wins.
 */
#pragma once

#include <glib.h>

#include "ar-link.h"

G_BEGIN_DECLS

#define AR_CAL_ERROR (ar_cal_error_quark())
GQuark ar_cal_error_quark(void);

typedef enum {
  AR_CAL_ERROR_TOO_BIG,     /* more bytes, components, nesting or occurrences than allowed */
  AR_CAL_ERROR_PARSE,       /* not an iCalendar object */
  AR_CAL_ERROR_FETCH,       /* (ar-cal-source.h) the server could not be reached or refused */
  AR_CAL_ERROR_AUTH,        /* (ar-cal-source.h) 401/403 */
  AR_CAL_ERROR_TLS,         /* (ar-cal-source.h) the certificate is not trusted */
  AR_CAL_ERROR_UNAVAILABLE, /* libical (loaded when first needed) cannot be loaded */
} ArCalError;

/* Limits (defaults in brackets; 0 = the default). */
typedef struct {
  gsize max_bytes;            /* one text [8 MiB] */
  guint max_components;       /* VEVENT + VTIMEZONE + ... in one text [20000] */
  guint max_occurrences;      /* occurrences kept in the window, in all [5000] */
  guint max_steps;            /* recurrence iterations per series [100000] */
  const ArLinkPolicy *policy; /* for finding links; NULL = defaults */
  const char *room_address;   /* "room@example.com": its declined occurrences are left out */
} ArCalOptions;

/* One occurrence of a meeting. */
typedef struct {
  char *uid;         /* UID (+ the occurrence start): stable id below */
  char *id;          /* 16 hex characters: SHA-256 of "UID\nSTART" (START in decimal) */
  gint64 start, end; /* UTC seconds since the epoch; end >= start (equal only for a timed
                      * event with neither DTEND nor DURATION) */
  gboolean all_day;
  char *title;         /* SUMMARY, or NULL */
  char *organizer;     /* ORGANIZER's CN, else its address without mailto:, or NULL */
  gboolean is_private; /* CLASS:PRIVATE or CONFIDENTIAL */
  ArLink *link;        /* the best meeting link found, or NULL */
  char *link_text;     /* the link's join URL (a mail scanner's wrapper taken off), or NULL */
} ArMeeting;

void ar_meeting_free(ArMeeting *m);
ArMeeting *ar_meeting_copy(const ArMeeting *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArMeeting, ar_meeting_free)

/* The occurrences of @data (one VCALENDAR) overlapping [@from, @to), sorted by start then
 * id, as a GPtrArray of ArMeeting* (free func set). NULL and @error on hostile input. */
GPtrArray *ar_cal_parse(const char *data, gsize len, gint64 from, gint64 to,
                        const ArCalOptions *options, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
