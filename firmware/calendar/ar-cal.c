/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-cal.c: iCalendar parsing and expansion with libical (ar-cal.h). */
#include "ar-cal.h"

G_DEFINE_QUARK(ar - cal - error - quark, ar_cal_error)

void
ar_meeting_free(ArMeeting *m)
{
  if (!m)
    return;
  g_free(m->uid);
  g_free(m->id);
  g_free(m->title);
  g_free(m->organizer);
  ar_link_free(m->link);
  g_free(m->link_text);
  g_free(m);
}

ArMeeting *
ar_meeting_copy(const ArMeeting *m)
{
  if (!m)
    return NULL;
  ArMeeting *c = g_new0(ArMeeting, 1);
  *c = *m;
  c->uid = g_strdup(m->uid);
  c->id = g_strdup(m->id);
  c->title = g_strdup(m->title);
  c->organizer = g_strdup(m->organizer);
  c->link = ar_link_copy(m->link);
  c->link_text = g_strdup(m->link_text);
  return c;
}

GPtrArray *
ar_cal_parse(const char *data, gsize len, gint64 from, gint64 to, const ArCalOptions *options,
             GError **error)
{
  g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE, "calendars are not parsed yet");
  return NULL;
}
