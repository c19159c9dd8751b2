/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-calendar.c: the iCalendar parser (firmware/calendar/ar-cal.c) on fixtures in the
 * shapes Teams, Zoom, Google, Webex and Exchange produce (ics/, each says so at its top)
 * and on hostile input. The process runs in Europe/Berlin (floating and all-day times).
 */
#include "ar-cal.h"

#include <string.h>
#include <time.h>

#define FROM "2026-03-01T00:00:00Z"
#define TO "2026-05-01T00:00:00Z"

static gint64
utc(const char *iso)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
  g_assert_nonnull(dt);
  return g_date_time_to_unix(dt);
}

static char *
fixture(const char *name, gsize *len)
{
  const char *dir = g_getenv("AR_CAL_FIXTURES");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, name, NULL);
  char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(path, &data, len, &error));
  return data;
}

/* Whether a file whose name holds @name is mapped into this process. */
static gboolean
mapped(const char *name)
{
  g_autofree char *maps = NULL;
  g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
  return strstr(maps, name) != NULL;
}

/* libical and the ICU it links are opened by the first parse, not at start (firmware/calendar/
 * ar-ical.h): a room without a calendar never maps them. Registered first: nothing has parsed. */
static void
test_libical_on_first_use(void)
{
  static const char text[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n"
                             "DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\n"
                             "SUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_assert_false(mapped("/libical.so"));
  g_assert_false(mapped("/libicui18n.so"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) r = ar_cal_parse(text, sizeof text - 1, utc(FROM), utc(TO), NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(r->len, ==, 1);
  g_assert_cmpstr(((ArMeeting *)r->pdata[0])->title, ==, "Standup");
  g_assert_true(mapped("/libical.so"));
}

static GPtrArray *
parse_text(const char *data, gsize len, const ArCalOptions *o, const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *r = ar_cal_parse(data, len, utc(from), utc(to), o, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
  for (guint i = 0; i < r->len; i++) {
    ArMeeting *m = r->pdata[i];
    g_autoptr(GDateTime) s = g_date_time_new_from_unix_utc(m->start);
    g_autofree char *ss = g_date_time_format_iso8601(s);
    g_test_message("%u: %s %s +%" G_GINT64_FORMAT " %s [%s]", i, ss, m->id, m->end - m->start,
                   m->title ? m->title : "(none)", m->link ? m->link->provider : "no link");
  }
  return r;
}

static GPtrArray *
parse_fixture(const char *name, const ArCalOptions *o)
{
  gsize len;
  g_autofree char *data = fixture(name, &len);
  return parse_text(data, len, o, FROM, TO);
}

static void
assert_error(const char *data, gsize len, const ArCalOptions *o, gint code)
{
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time();
  GPtrArray *r = ar_cal_parse(data, len, utc(FROM), utc(TO), o, &error);
  g_assert_null(r);
  g_assert_error(error, AR_CAL_ERROR, code);
  g_test_message("refused: %s", error->message);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
}

static ArMeeting *
only(GPtrArray *r)
{
  g_assert_cmpuint(r->len, ==, 1);
  return r->pdata[0];
}

static void
test_teams(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("teams.ics", NULL);
  ArMeeting *m = only(r);
  /* 15:00 "W. Europe Standard Time" (the file's VTIMEZONE) in April = 13:00Z */
  g_assert_cmpint(m->start, ==, utc("2026-04-14T13:00:00Z"));
  g_assert_cmpint(m->end, ==, m->start + 3600);
  g_assert_false(m->all_day);
  g_assert_cmpstr(m->title, ==, "Quarterly review");
  g_assert_cmpstr(m->organizer, ==, "Jane Doe");
  g_assert_false(m->is_private);
  /* the Teams property wins over the Zoom link in DESCRIPTION */
  g_assert_nonnull(m->link);
  g_assert_cmpstr(m->link->provider, ==, "teams");
  g_assert_true(g_str_has_prefix(m->link_text, "https://teams.microsoft.com/l/meetup-join/"));
  g_assert_cmpstr(m->uid, ==,
                  "040000008200E00074C5B7101A82E00800000000B0E5A2C1D4A9DA0100000000000000001000000"
                  "0F1E2D3C4B5A69788");
  g_autofree char *key = g_strdup_printf("%s\n%" G_GINT64_FORMAT, m->uid, m->start);
  g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
  g_assert_cmpuint(strlen(m->id), ==, 16);
  g_assert_true(strncmp(m->id, sha, 16) == 0);
}

static void
test_teams_alt_desc(void)
{
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:alt@x\r\n"
      "DTSTART:20260310T100000Z\r\nDTEND:20260310T110000Z\r\nSUMMARY:HTML only\r\n"
      "DESCRIPTION:See the HTML part.\r\n"
      "X-ALT-DESC;FMTTYPE=text/html:<html><body><a href=\"https://teams.microsoft.com/meet/"
      "2345678901234?p=AbCdEf12\">Join the meeting now</a></body></html>\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r = parse_text(ics, strlen(ics), NULL, FROM, TO);
  g_assert_nonnull(only(r)->link);
  g_assert_cmpstr(only(r)->link->provider, ==, "teams");
}

static void
test_zoom(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("zoom.ics", NULL);
  ArMeeting *m = only(r);
  g_assert_cmpint(m->start, ==, utc("2026-03-10T14:00:00Z"));
  g_assert_cmpint(m->end, ==, utc("2026-03-10T14:45:00Z"));
  g_assert_nonnull(m->link);
  g_assert_cmpstr(m->link->provider, ==, "zoom");
  g_assert_cmpstr(m->link->meeting_id, ==, "81234567890");
}

static void
test_meet(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("meet.ics", NULL);
  ArMeeting *m = only(r);
  /* TZID=Europe/Berlin with no VTIMEZONE: the system's zone, CET in March */
  g_assert_cmpint(m->start, ==, utc("2026-03-11T10:00:00Z"));
  g_assert_cmpint(m->end, ==, utc("2026-03-11T10:30:00Z"));
  g_assert_cmpstr(m->link->provider, ==, "google-meet");
  g_assert_cmpstr(m->link_text, ==, "https://meet.google.com/abc-defg-hij");
  /* CN is the address itself in Google's invitations */
  g_assert_cmpstr(m->organizer, ==, "bob@acme.example");
}

static void
test_webex(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("webex.ics", NULL);
  ArMeeting *m = only(r);
  g_assert_nonnull(m->link);
  g_assert_cmpstr(m->link->provider, ==, "webex");
  g_assert_true(strstr(m->link_text, "acme.webex.com") != NULL);
  g_assert_cmpstr(m->organizer, ==, "host@acme.example");
}

static void
test_safelinks(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("safelinks.ics", NULL);
  ArMeeting *m = only(r);
  g_assert_nonnull(m->link);
  g_assert_cmpstr(m->link->provider, ==, "teams");
  g_assert_true(g_str_has_prefix(m->link_text, "https://teams.microsoft.com/"));
  g_assert_null(strstr(m->link_text, "safelinks"));
}

static void
test_lookalike(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("lookalike.ics", NULL);
  ArMeeting *m = only(r);
  g_assert_cmpstr(m->title, ==, "Urgent: join now");
  g_assert_null(m->link);
  g_assert_null(m->link_text);
}

static void
test_link_order(void)
{
  /* CONFERENCE (RFC 7986) comes before LOCATION and DESCRIPTION */
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:order@x\r\n"
      "DTSTART:20260310T100000Z\r\nDTEND:20260310T110000Z\r\n"
      "LOCATION:https://us02web.zoom.us/j/81234567890\r\n"
      "DESCRIPTION:Join Zoom Meeting\\nhttps://us02web.zoom.us/j/81234567890\r\n"
      "CONFERENCE;VALUE=URI;FEATURE=VIDEO:https://meet.google.com/abc-defg-hij\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r = parse_text(ics, strlen(ics), NULL, FROM, TO);
  g_assert_cmpstr(only(r)->link->provider, ==, "google-meet");
}

static void
test_dst(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("recurrence-dst.ics", NULL);
  /* Mondays 09:00 Berlin: 9 Mar, (16 excluded), 23 moved to Tue 24 10:00, 30 Mar,
   * (6 Apr cancelled), 13 Apr, 20 Apr (UNTIL) */
  static const char *const starts[] = {
      "2026-03-09T08:00:00Z", "2026-03-24T09:00:00Z", "2026-03-30T07:00:00Z",
      "2026-04-13T07:00:00Z", "2026-04-20T07:00:00Z",
  };
  g_assert_cmpuint(r->len, ==, G_N_ELEMENTS(starts));
  for (guint i = 0; i < r->len; i++) {
    ArMeeting *m = r->pdata[i];
    g_assert_cmpint(m->start, ==, utc(starts[i]));
    g_assert_cmpint(m->end, ==, m->start + 1800);
    g_assert_cmpstr(m->uid, ==, "weekly-standup@google.com");
    g_assert_cmpstr(m->link->provider, ==, "google-meet");
    g_assert_cmpstr(m->title, ==, i == 1 ? "Weekly standup (moved)" : "Weekly standup");
  }
  g_assert_cmpstr(((ArMeeting *)r->pdata[0])->id, !=, ((ArMeeting *)r->pdata[2])->id);
}

static void
test_window(void)
{
  gsize len;
  g_autofree char *data = fixture("recurrence-dst.ics", &len);
  /* the occurrence in progress at `from` is kept, the one starting at `to` is not */
  g_autoptr(GPtrArray) r =
      parse_text(data, len, NULL, "2026-03-30T07:10:00Z", "2026-04-13T07:00:00Z");
  g_assert_cmpint(only(r)->start, ==, utc("2026-03-30T07:00:00Z"));
}

static void
test_skip_ahead(void)
{
  /* a series from 2020 every other Monday and Wednesday: the fast-forward keeps its phase */
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:old@x\r\n"
      "DTSTART;TZID=Europe/Berlin:20200106T090000\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r =
      parse_text(ics, strlen(ics), NULL, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
  static const char *const starts[] = {"2026-03-09T08:00:00Z", "2026-03-11T08:00:00Z",
                                       "2026-03-23T08:00:00Z", "2026-03-25T08:00:00Z"};
  g_assert_cmpuint(r->len, ==, G_N_ELEMENTS(starts));
  for (guint i = 0; i < r->len; i++)
    g_assert_cmpint(((ArMeeting *)r->pdata[i])->start, ==, utc(starts[i]));
}

static void
test_rdate(void)
{
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:rdate@x\r\n"
      "DTSTART:20260302T100000Z\r\nDTEND:20260302T103000Z\r\n"
      "RDATE:20260305T150000Z,20260306T150000Z\r\nRDATE;TZID=Europe/Berlin:20260401T120000\r\n"
      "EXDATE:20260306T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r = parse_text(ics, strlen(ics), NULL, FROM, TO);
  g_assert_cmpuint(r->len, ==, 3);
  g_assert_cmpint(((ArMeeting *)r->pdata[1])->start, ==, utc("2026-03-05T15:00:00Z"));
  g_assert_cmpint(((ArMeeting *)r->pdata[2])->start, ==, utc("2026-04-01T10:00:00Z"));
  g_assert_cmpint(((ArMeeting *)r->pdata[2])->end, ==, utc("2026-04-01T10:30:00Z"));
}

static void
test_minutely(void)
{
  gsize len;
  g_autofree char *data = fixture("minutely.ics", &len);
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(GPtrArray) r =
      parse_text(data, len, NULL, "2026-03-10T00:00:00Z", "2026-04-09T00:00:00Z");
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
  /* the series is cut at max_occurrences / 5 and the other meeting is still there */
  g_assert_cmpuint(r->len, ==, 1000 + 1);
  guint minutely = 0;
  gboolean normal = FALSE;
  for (guint i = 0; i < r->len; i++) {
    ArMeeting *m = r->pdata[i];
    if (g_strcmp0(m->uid, "normal@example.org") == 0) {
      normal = TRUE;
      continue;
    }
    g_assert_cmpint(m->start, ==, utc("2026-03-10T00:00:00Z") + 60 * minutely);
    minutely++;
  }
  g_assert_true(normal);

  /* every 7 minutes of Berlin wall time since 1990 (as libical steps), fast-forwarded across
   * 36 years of DST changes without losing the phase or leaving a gap at the window's start */
  static const char ics[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:m7@x\r\n"
                            "DTSTART;TZID=Europe/Berlin:19900101T090000\r\nDURATION:PT1M\r\n"
                            "RRULE:FREQ=MINUTELY;INTERVAL=7\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) m7 =
      parse_text(ics, strlen(ics), NULL, "2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z");
  g_autoptr(GDateTime) origin = g_date_time_new_utc(1990, 1, 1, 9, 0, 0);
  g_assert_cmpuint(m7->len, >=, 120 / 7);
  g_assert_cmpint(((ArMeeting *)m7->pdata[0])->start, <, utc("2026-03-28T23:07:00Z"));
  for (guint i = 0; i < m7->len; i++) {
    g_autoptr(GDateTime) local =
        g_date_time_new_from_unix_local(((ArMeeting *)m7->pdata[i])->start);
    g_autoptr(GDateTime) wall =
        g_date_time_new_utc(g_date_time_get_year(local), g_date_time_get_month(local),
                            g_date_time_get_day_of_month(local), g_date_time_get_hour(local),
                            g_date_time_get_minute(local), g_date_time_get_second(local));
    g_assert_cmpint(g_date_time_difference(wall, origin) / G_TIME_SPAN_MINUTE % 7, ==, 0);
  }
}

static void
test_dst_gap(void)
{
  /* 02:30 Berlin does not exist on 2026-03-29: read with the offset before the gap
   * (RFC 5545 3.3.5), 03:30 summer time = 01:30Z; the days around are plain */
  static const char ics[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:gap@x\r\n"
                            "DTSTART;TZID=Europe/Berlin:20260328T023000\r\nDURATION:PT15M\r\n"
                            "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r = parse_text(ics, strlen(ics), NULL, FROM, TO);
  g_assert_cmpuint(r->len, ==, 3);
  g_assert_cmpint(((ArMeeting *)r->pdata[0])->start, ==, utc("2026-03-28T01:30:00Z"));
  g_assert_cmpint(((ArMeeting *)r->pdata[1])->start, ==, utc("2026-03-29T01:30:00Z"));
  g_assert_cmpint(((ArMeeting *)r->pdata[2])->start, ==, utc("2026-03-30T00:30:00Z"));
}

static void
test_allday(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("allday.ics", NULL);
  g_assert_cmpuint(r->len, ==, 2);
  ArMeeting *a = r->pdata[0], *b = r->pdata[1];
  g_assert_true(a->all_day && b->all_day);
  /* local (Europe/Berlin) midnight to midnight, DTEND exclusive */
  g_assert_cmpint(a->start, ==, utc("2026-03-11T23:00:00Z"));
  g_assert_cmpint(a->end, ==, utc("2026-03-13T23:00:00Z"));
  /* no DTEND: one day (in summer time) */
  g_assert_cmpint(b->start, ==, utc("2026-04-02T22:00:00Z"));
  g_assert_cmpint(b->end, ==, utc("2026-04-03T22:00:00Z"));
}

static void
test_floating(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("floating.ics", NULL);
  g_assert_cmpuint(r->len, ==, 3);
  ArMeeting *a = r->pdata[0], *b = r->pdata[1], *c = r->pdata[2];
  g_assert_cmpint(a->start, ==, utc("2026-04-01T07:00:00Z"));
  g_assert_cmpint(a->end, ==, utc("2026-04-01T08:00:00Z"));
  g_assert_cmpint(b->end - b->start, ==, 45 * 60);
  /* neither DTEND nor DURATION: it ends when it starts */
  g_assert_cmpint(c->start, ==, utc("2026-04-03T07:00:00Z"));
  g_assert_cmpint(c->end, ==, c->start);
}

static void
test_declined(void)
{
  g_autoptr(GPtrArray) all = parse_fixture("declined.ics", NULL);
  g_assert_cmpuint(all->len, ==, 4);
  ArCalOptions o = {.room_address = "mailto:ROOM4@acme.example"};
  g_autoptr(GPtrArray) r = parse_fixture("declined.ics", &o);
  g_assert_cmpuint(r->len, ==, 2);
  g_assert_cmpint(((ArMeeting *)r->pdata[0])->start, ==, utc("2026-03-18T12:00:00Z"));
  g_assert_cmpint(((ArMeeting *)r->pdata[1])->start, ==, utc("2026-03-20T12:00:00Z"));
}

static void
test_private(void)
{
  g_autoptr(GPtrArray) r = parse_fixture("private.ics", NULL);
  g_assert_cmpuint(r->len, ==, 3);
  g_assert_true(((ArMeeting *)r->pdata[0])->is_private);
  g_assert_true(((ArMeeting *)r->pdata[1])->is_private);
  g_assert_false(((ArMeeting *)r->pdata[2])->is_private);
  for (guint i = 0; i < r->len; i++)
    g_assert_cmpstr(((ArMeeting *)r->pdata[i])->uid, !=, "cancelled-1@acme.example");
}

static void
test_too_big(void)
{
  gsize len;
  g_autofree char *data = fixture("zoom.ics", &len);
  ArCalOptions o = {.max_bytes = len - 1};
  assert_error(data, len, &o, AR_CAL_ERROR_TOO_BIG);
  /* the default: 8 MiB */
  gsize big = 9 * 1024 * 1024;
  g_autofree char *huge = g_malloc(big);
  memset(huge, 'A', big);
  memcpy(huge, "BEGIN:VCALENDAR\n", 16);
  assert_error(huge, big, NULL, AR_CAL_ERROR_TOO_BIG);
  /* components */
  g_autoptr(GString) s = g_string_new("BEGIN:VCALENDAR\r\n");
  for (int i = 0; i < 20; i++)
    g_string_append_printf(s,
                           "BEGIN:VEVENT\r\nUID:%d\r\nDTSTART:20260310T100000Z\r\n"
                           "END:VEVENT\r\n",
                           i);
  g_string_append(s, "END:VCALENDAR\r\n");
  ArCalOptions oc = {.max_components = 10};
  assert_error(s->str, s->len, &oc, AR_CAL_ERROR_TOO_BIG);
  /* occurrences: 20 events, at most 10 kept */
  ArCalOptions oo = {.max_occurrences = 10};
  assert_error(s->str, s->len, &oo, AR_CAL_ERROR_TOO_BIG);
  ArCalOptions ok = {.max_occurrences = 20};
  g_autoptr(GPtrArray) r = parse_text(s->str, s->len, &ok, FROM, TO);
  g_assert_cmpuint(r->len, ==, 20);
}

static void
test_too_deep(void)
{
  g_autoptr(GString) s = g_string_new("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n");
  for (int i = 0; i < 10000; i++)
    g_string_append(s, "BEGIN:VALARM\r\n");
  assert_error(s->str, s->len, NULL, AR_CAL_ERROR_TOO_BIG);
  /* a BEGIN folded over two lines is still a BEGIN to libical */
  g_autoptr(GString) f = g_string_new("BEGIN:VCALENDAR\r\n");
  for (int i = 0; i < 9; i++)
    g_string_append(f, "BEG\r\n IN:X-A\r\n");
  assert_error(f->str, f->len, NULL, AR_CAL_ERROR_TOO_BIG);
  /* END: lines with nothing open: a few are tolerated, not a flood */
  g_autoptr(GString) e = g_string_new("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
  for (int i = 0; i < 8; i++)
    g_string_append(e, "END:VEVENT\r\n");
  g_autoptr(GPtrArray) few = parse_text(e->str, e->len, NULL, FROM, TO);
  g_assert_cmpuint(few->len, ==, 0);
  for (int i = 0; i < 1000; i++)
    g_string_append(e, "END:VEVENT\r\n");
  assert_error(e->str, e->len, NULL, AR_CAL_ERROR_PARSE);
  /* 8 levels are fine */
  g_autoptr(GString) o = g_string_new("BEGIN:VCALENDAR\r\n");
  for (int i = 0; i < 7; i++)
    g_string_append(o, "BEGIN:X-A\r\n");
  for (int i = 0; i < 7; i++)
    g_string_append(o, "END:X-A\r\n");
  g_string_append(o, "END:VCALENDAR\r\n");
  g_autoptr(GPtrArray) r = parse_text(o->str, o->len, NULL, FROM, TO);
  g_assert_cmpuint(r->len, ==, 0);
}

static void
test_garbage(void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(13);
  for (int round = 0; round < 200; round++) {
    gsize len = g_rand_int_range(rand, 0, 4096);
    g_autofree guint8 *buf = g_malloc(len + 32);
    for (gsize i = 0; i < len; i++)
      buf[i] = g_rand_int_range(rand, 0, 256);
    g_autoptr(GError) error = NULL;
    GPtrArray *r = ar_cal_parse((char *)buf, len, utc(FROM), utc(TO), NULL, &error);
    g_assert_null(r);
    g_assert_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE);
    /* the same after a calendar's first line */
    memmove(buf + 17, buf, len);
    memcpy(buf, "BEGIN:VCALENDAR\r\n", 17);
    g_clear_error(&error);
    r = ar_cal_parse((char *)buf, len + 17, utc(FROM), utc(TO), NULL, &error);
    g_assert_true((r == NULL) == (error != NULL));
    if (r)
      g_ptr_array_unref(r);
  }
}

static void
test_invalid_utf8(void)
{
  static const char ics[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u\xff@x\r\n"
                            "DTSTART:20260310T100000Z\r\nDTEND:20260310T110000Z\r\n"
                            "SUMMARY:Caf\xc3 \xfe\xff r\xe9union\0with a NUL\r\n"
                            "ORGANIZER;CN=\xed\xa0\x80:mailto:a@b\r\n"
                            "END:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(GPtrArray) r = parse_text(ics, sizeof ics - 1, NULL, FROM, TO);
  ArMeeting *m = only(r);
  g_assert_true(g_utf8_validate(m->title, -1, NULL));
  g_assert_true(g_str_has_prefix(m->title, "Caf"));
  g_assert_nonnull(strstr(m->title, "with a NUL"));
  g_assert_true(g_utf8_validate(m->uid, -1, NULL));
  g_assert_true(g_utf8_validate(m->organizer, -1, NULL));
}

static void
test_impossible_rules(void)
{
  /* rules libical would search for instant by instant until year 2582, and a VTIMEZONE
   * whose rule it would expand every second from 1601 */
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
      "BEGIN:VTIMEZONE\r\nTZID:Evil\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
      "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=SECONDLY\r\nEND:STANDARD\r\n"
      "END:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:a@x\r\nDTSTART:20200101T090000Z\r\n"
      "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b@x\r\nDTSTART:20200101T090000Z\r\n"
      "RRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:c@x\r\nDTSTART;TZID=Evil:20260310T090000\r\nDURATION:PT1H\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(GPtrArray) r = parse_text(ics, strlen(ics), NULL, FROM, TO);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
  /* the two series keep their first instance (2020, outside); c@x, its zone dropped,
   * is floating: 09:00 Berlin */
  g_assert_cmpint(only(r)->start, ==, utc("2026-03-10T08:00:00Z"));
}

int
main(int argc, char **argv)
{
  g_setenv("TZ", "Europe/Berlin", TRUE);
  tzset();
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/calendar/libical-on-first-use", test_libical_on_first_use);
  g_test_add_func("/calendar/links/teams", test_teams);
  g_test_add_func("/calendar/links/teams-html-only", test_teams_alt_desc);
  g_test_add_func("/calendar/links/zoom-location", test_zoom);
  g_test_add_func("/calendar/links/google-meet", test_meet);
  g_test_add_func("/calendar/links/webex-description", test_webex);
  g_test_add_func("/calendar/links/safelinks", test_safelinks);
  g_test_add_func("/calendar/links/lookalike", test_lookalike);
  g_test_add_func("/calendar/links/order", test_link_order);
  g_test_add_func("/calendar/recurrence/dst", test_dst);
  g_test_add_func("/calendar/recurrence/window", test_window);
  g_test_add_func("/calendar/recurrence/skip-ahead", test_skip_ahead);
  g_test_add_func("/calendar/recurrence/rdate", test_rdate);
  g_test_add_func("/calendar/recurrence/minutely", test_minutely);
  g_test_add_func("/calendar/recurrence/dst-gap", test_dst_gap);
  g_test_add_func("/calendar/times/all-day", test_allday);
  g_test_add_func("/calendar/times/floating", test_floating);
  g_test_add_func("/calendar/skipped/declined", test_declined);
  g_test_add_func("/calendar/skipped/private-cancelled", test_private);
  g_test_add_func("/calendar/hostile/too-big", test_too_big);
  g_test_add_func("/calendar/hostile/too-deep", test_too_deep);
  g_test_add_func("/calendar/hostile/garbage", test_garbage);
  g_test_add_func("/calendar/hostile/invalid-utf8", test_invalid_utf8);
  g_test_add_func("/calendar/hostile/impossible-rules", test_impossible_rules);
  return g_test_run();
}
