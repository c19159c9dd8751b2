/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-window.c: the room's maintenance window ([update] window, e.g.
 * "02:00-05:00"), in the room's wall-clock time (docs/fleet.md "Installing
 * the offered release"). Pure: the time zone and the time are arguments.
 *
 * The window is wall-clock time: on a day the clocks go forward through it,
 * it is shorter (02:00-05:00 in Europe/Berlin on the last Sunday of March is
 * 03:00-05:00, two hours); on a day they go back, the repeated hour is in it
 * twice. A window whose end is before its start crosses midnight.
 */
#include <string.h>

#include "ar-update-priv.h"

/* "HH:MM" at @s (00:00-24:00), as minutes of the day. */
static gboolean
parse_hhmm(const char *s, guint *minutes)
{
  if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]) || s[2] != ':' || !g_ascii_isdigit(s[3]) ||
      !g_ascii_isdigit(s[4]))
    return FALSE;
  guint h = (guint)(s[0] - '0') * 10 + (guint)(s[1] - '0');
  guint m = (guint)(s[3] - '0') * 10 + (guint)(s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return FALSE;
  *minutes = h * 60 + m;
  return TRUE;
}

gboolean
ar_update_window_parse(const char *text, ArUpdateWindow *out, GError **error)
{
  guint start = 0, end = 0;
  if (!text || strlen(text) != 11 || text[5] != '-' || !parse_hhmm(text, &start) ||
      !parse_hhmm(text + 6, &end) || start == 1440 || start == end) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "update.window: \"HH:MM-HH:MM\" (e.g. 02:00-05:00; 00:00-24:00 for any time), "
                "start and end different");
    return FALSE;
  }
  out->start_min = start;
  out->end_min = end == 1440 ? 0 : end;
  out->always = start == 0 && end == 1440;
  return TRUE;
}

gboolean
ar_update_window_contains(const ArUpdateWindow *w, GTimeZone *tz, gint64 now)
{
  if (w->always)
    return TRUE;
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
  if (!utc)
    return FALSE;
  g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, tz);
  if (!local)
    return FALSE;
  guint m = (guint)(g_date_time_get_hour(local) * 60 + g_date_time_get_minute(local));
  if (w->start_min < w->end_min)
    return m >= w->start_min && m < w->end_min;
  /* crosses midnight (end 0 = 24:00) */
  return m >= w->start_min || m < w->end_min;
}

gint64
ar_update_window_wait(const ArUpdateWindow *w, GTimeZone *tz, gint64 now)
{
  if (ar_update_window_contains(w, tz, now))
    return 0;
  /* Minute by minute from the next whole minute: simple and right across any
   * time-zone change; a window opens within 25 wall-clock hours. */
  gint64 t = now - (now % 60 + 60) % 60 + 60;
  for (int i = 0; i < 50 * 60; i++, t += 60)
    if (ar_update_window_contains(w, tz, t))
      return t - now;
  return -1;
}
