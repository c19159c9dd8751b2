/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cal-bench.c: the room's calendar, parsed and expanded (ar_cal_parse).
 *
 *   cal-bench [--runs N]
 *
 * Builds in memory a calendar of 5,000 events: 200 recurring series (DAILY and WEEKLY,
 * with EXDATEs, started up to a year before the window, some with COUNT, some in a
 * VTIMEZONE of the file, some in a bare IANA zone, some in UTC) and 4,800 single events
 * spread over a year, each with a meeting link in its description, as Exchange and Google
 * feeds carry them. Times ar_cal_parse() over a 30-day window N times (default 7) and
 * prints the median, and the process's peak memory growth (VmHWM after the runs minus
 * VmRSS before the first one), in one thread, with the default limits.
 */
#include "ar-cal.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SERIES 200
#define EVENTS 5000
#define FROM G_GINT64_CONSTANT(1772323200) /* 2026-03-01T00:00:00Z */
#define WINDOW_DAYS 30

static const char vtimezones[] =
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\n"
    "DTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
    "DTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

static const char *const links[] = {
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZDk4YTc2NjUtMmQ2Zi00OGFkLWFlYjYtMDk2"
    "NjY1ZmEzMmU1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22"
    "%2c%22Oid%22%3a%223c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d",
    "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09",
    "https://meet.google.com/abc-defg-hij",
    "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c",
};

static const char *const zones[] = {"W. Europe Standard Time", "America/New_York", "Europe/Berlin",
                                    NULL};

static void
stamp(GString *s, gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  g_autofree char *f = g_date_time_format(dt, "%Y%m%dT%H%M%S");
  g_string_append(s, f);
}

static char *
make_calendar(gsize *len)
{
  GString *s =
      g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Anyroom//cal-bench//EN\r\n");
  g_string_append(s, vtimezones);
  for (guint i = 0; i < EVENTS; i++) {
    gboolean series = i < SERIES;
    const char *zone = zones[i % G_N_ELEMENTS(zones)];
    /* series start up to a year before the window, single events over a year around it */
    gint64 start =
        series ? FROM - (gint64)(1 + i % 365) * 86400 + 3600 * (7 + i % 10)
               : FROM - 180 * 86400 + (gint64)(i * 7919 % 365) * 86400 + 1800 * (16 + i % 18);
    g_string_append_printf(
        s, "BEGIN:VEVENT\r\nUID:bench-%u@anyroom.example\r\nDTSTAMP:20260201T000000Z\r\n", i);
    g_string_append(s, zone ? "DTSTART;TZID=" : "DTSTART:");
    if (zone) {
      g_string_append_printf(s, "%s:", zone);
      stamp(s, start);
      g_string_append(s, "\r\nDTEND;TZID=");
      g_string_append_printf(s, "%s:", zone);
      stamp(s, start + 1800 * (1 + i % 4));
      g_string_append(s, "\r\n");
    } else {
      stamp(s, start);
      g_string_append(s, "Z\r\nDTEND:");
      stamp(s, start + 1800 * (1 + i % 4));
      g_string_append(s, "Z\r\n");
    }
    if (series) {
      if (i % 2 == 0)
        g_string_append(s, i % 8 == 0 ? "RRULE:FREQ=DAILY;COUNT=500\r\n" : "RRULE:FREQ=DAILY\r\n");
      else
        g_string_append(s, "RRULE:FREQ=WEEKLY;BYDAY=TU,TH\r\n");
      for (guint k = 1; k <= 3; k++) {
        g_string_append(s, zone ? "EXDATE;TZID=" : "EXDATE:");
        if (zone)
          g_string_append_printf(s, "%s:", zone);
        stamp(s, start + (gint64)(k * 7 * (i % 5 + 1)) * 86400);
        g_string_append(s, zone ? "\r\n" : "Z\r\n");
      }
    }
    g_string_append_printf(
        s,
        "SUMMARY:Meeting %u\r\nORGANIZER;CN=Person %u:mailto:p%u@acme.example\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:room4@acme.example\r\n"
        "DESCRIPTION:Agenda for meeting %u\\n\\nJoin: %s\\n\r\n"
        "LOCATION:Room 4\r\nCLASS:%s\r\nEND:VEVENT\r\n",
        i, i % 50, i % 50, i, links[i % G_N_ELEMENTS(links)], i % 10 == 0 ? "PRIVATE" : "PUBLIC");
  }
  g_string_append(s, "END:VCALENDAR\r\n");
  *len = s->len;
  return g_string_free(s, FALSE);
}

/* A field of /proc/self/status in KiB, or 0. */
static guint64
status_kib(const char *field)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
    return 0;
  const char *p = strstr(text, field);
  return p ? g_ascii_strtoull(p + strlen(field) + 1, NULL, 10) : 0;
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
  guint runs = 7;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = (guint)MAX(1, atoi(argv[i + 1])), i++;
    else {
      fprintf(stderr, "usage: cal-bench [--runs N]\n");
      return 2;
    }
  }
  gsize len;
  g_autofree char *text = make_calendar(&len);
  ArCalOptions options = {.room_address = "room4@acme.example"};
  guint64 rss_before = status_kib("VmRSS:");
  g_autofree double *ms = g_new(double, runs);
  guint occurrences = 0, linked = 0;
  for (guint r = 0; r < runs; r++) {
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) list =
        ar_cal_parse(text, len, FROM, FROM + WINDOW_DAYS * 86400, &options, &error);
    ms[r] = (g_get_monotonic_time() - t0) / 1000.0;
    if (!list) {
      fprintf(stderr, "cal-bench: %s\n", error->message);
      return 1;
    }
    occurrences = list->len;
    linked = 0;
    for (guint i = 0; i < list->len; i++)
      linked += ((ArMeeting *)list->pdata[i])->link != NULL;
  }
  guint64 hwm_after = status_kib("VmHWM:");
  /* What anyroomd keeps once a fetch is parsed: the text (to expand it again the next day) and
   * the list; libical's tree is freed. Live heap bytes, not RSS (malloc keeps freed pages). */
  struct mallinfo2 heap0 = mallinfo2();
  g_autoptr(GPtrArray) kept =
      ar_cal_parse(text, len, FROM, FROM + WINDOW_DAYS * 86400, &options, NULL);
  struct mallinfo2 heap1 = mallinfo2();
  double kept_mib = ((double)heap1.uordblks - (double)heap0.uordblks + len) / 1048576.0;
  qsort(ms, runs, sizeof *ms, compare_double);
  printf("calendar: %u events (%u recurring series), %.1f MiB of iCalendar, a %d-day window\n",
         EVENTS, SERIES, len / 1048576.0, WINDOW_DAYS);
  printf("  %-34s %10s\n", "measure", "value");
  printf("  %-34s %7.1f ms  (min %.1f, max %.1f, %u runs)\n", "parse + expand, median",
         ms[runs / 2], ms[0], ms[runs - 1], runs);
  printf("  %-34s %10u  (%u with a meeting link)\n", "occurrences in the window", occurrences,
         linked);
  printf("  %-34s %7.1f MiB (VmHWM %" G_GUINT64_FORMAT " KiB - VmRSS before %" G_GUINT64_FORMAT
         " KiB)\n",
         "peak memory growth", hwm_after > rss_before ? (hwm_after - rss_before) / 1024.0 : 0.0,
         hwm_after, rss_before);
  printf("  %-34s %7.1f MiB (the text and %u meetings; live heap)\n", "kept while the list is used",
         kept_mib, kept ? kept->len : 0);
  return 0;
}
