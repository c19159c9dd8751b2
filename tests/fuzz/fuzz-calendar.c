/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-calendar.c: the room's calendar (ar_cal_parse): whatever an iCalendar feed or a
 * CalDAV server sends, expanded over a fixed window (March and April 2026) with the link
 * module's default policy, the room's address set (declined occurrences) and the process
 * in Europe/Berlin (floating and all-day times).
 *
 * Besides memory errors, checks: a result xor an error, the default limits held, the list
 * sorted by start then id, end >= start, every occurrence overlapping the window, 16 hex
 * characters of id and valid UTF-8 text.
 */
#include "ar-cal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FROM G_GINT64_CONSTANT(1772323200) /* 2026-03-01T00:00:00Z */
#define TO G_GINT64_CONSTANT(1777593600)   /* 2026-05-01T00:00:00Z */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  g_setenv("TZ", "Europe/Berlin", TRUE);
  tzset();
  return 0;
}

static void
check_text(const char *s)
{
  if (s && !g_utf8_validate(s, -1, NULL)) {
    g_printerr("invalid UTF-8 in a field\n");
    abort();
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ArCalOptions options = {.room_address = "room4@acme.example"};
  GError *error = NULL;
  GPtrArray *r = ar_cal_parse((const char *)data, size, FROM, TO, &options, &error);
  if ((r == NULL) == (error == NULL)) {
    g_printerr("a result and an error, or neither\n");
    abort();
  }
  if (!r) {
    if (error->domain != AR_CAL_ERROR || !error->message[0])
      abort();
    g_error_free(error);
    return 0;
  }
  if (r->len > 5000)
    abort();
  for (guint i = 0; i < r->len; i++) {
    const ArMeeting *m = r->pdata[i];
    if (m->end < m->start || m->start >= TO || (m->end <= FROM && m->end != m->start) ||
        (m->end == m->start && m->start < FROM)) {
      g_printerr("occurrence %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " out of the window\n",
                 m->start, m->end);
      abort();
    }
    if (!m->id || strlen(m->id) != 16 || strspn(m->id, "0123456789abcdef") != 16)
      abort();
    if (i > 0) {
      const ArMeeting *p = r->pdata[i - 1];
      if (p->start > m->start || (p->start == m->start && strcmp(p->id, m->id) > 0)) {
        g_printerr("not sorted\n");
        abort();
      }
    }
    check_text(m->uid);
    check_text(m->title);
    check_text(m->organizer);
    check_text(m->link_text);
    if ((m->link == NULL) != (m->link_text == NULL))
      abort();
  }
  g_ptr_array_unref(r);
  return 0;
}
