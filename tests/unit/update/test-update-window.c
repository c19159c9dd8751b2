/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests: installing the channel's release (docs/fleet.md "Installing the
 * offered release"): the maintenance window in a room's time zone (windows
 * crossing midnight, the days the clocks change), the server's Content-Range
 * on a resumed download, and the record kept beside a partial download.
 */
#include <string.h>

#include "ar-update-priv.h"

static ArUpdateWindow
window(const char *text)
{
  ArUpdateWindow w;
  g_autoptr(GError) error = NULL;
  if (!ar_update_window_parse(text, &w, &error))
    g_error("%s: %s", text, error->message);
  return w;
}

/* Unix seconds of an RFC 3339 UTC time. */
static gint64
at(const char *iso)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
  g_assert_nonnull(dt);
  return g_date_time_to_unix(dt);
}

static GTimeZone *
zone(const char *id)
{
  GTimeZone *tz = g_time_zone_new_identifier(id);
  if (!tz)
    g_error("time zone %s is not installed (tzdata)", id);
  return tz;
}

static void
test_parse(void)
{
  ArUpdateWindow w = window("02:00-05:00");
  g_assert_cmpuint(w.start_min, ==, 120);
  g_assert_cmpuint(w.end_min, ==, 300);
  g_assert_false(w.always);
  w = window("22:30-01:15");
  g_assert_cmpuint(w.start_min, ==, 22 * 60 + 30);
  g_assert_cmpuint(w.end_min, ==, 75);
  w = window("00:00-24:00");
  g_assert_true(w.always);
  w = window("23:00-24:00");
  g_assert_cmpuint(w.end_min, ==, 0);
  const char *bad[] = {"",
                       "2:00-05:00",
                       "02:00-02:00",
                       "24:00-01:00",
                       "02:60-03:00",
                       "02:00-25:00",
                       "02:00-24:01",
                       "02:00 - 05:00",
                       "02:00-05:00 ",
                       "02:00_05:00",
                       "0a:00-05:00",
                       "02:00-05:0",
                       "-02:00-05:00",
                       "02:00-05:00\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    ArUpdateWindow out = {.start_min = 7};
    g_autoptr(GError) error = NULL;
    if (ar_update_window_parse(bad[i], &out, &error))
      g_error("'%s' accepted", bad[i]);
    g_assert_cmpuint(out.start_min, ==, 7); /* untouched */
    g_assert_null(strchr(error->message, '\n'));
  }
  g_assert_false(ar_update_window_parse(NULL, &w, NULL));
}

static void
test_contains(void)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  ArUpdateWindow w = window("02:00-05:00");
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-01T01:59:59Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-01T02:00:00Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-01T04:59:59Z")));
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-01T05:00:00Z")));
  /* Crossing midnight. */
  w = window("22:00-02:00");
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-01T21:59:00Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-01T22:00:00Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-01T23:59:59Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-02T00:00:00Z")));
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-02T01:59:00Z")));
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-02T02:00:00Z")));
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-02T12:00:00Z")));
  /* Up to midnight. */
  w = window("23:00-24:00");
  g_assert_true(ar_update_window_contains(&w, utc, at("2026-06-01T23:30:00Z")));
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-02T00:00:00Z")));
  g_assert_false(ar_update_window_contains(&w, utc, at("2026-06-01T22:59:00Z")));
  /* Any time. */
  w = window("00:00-24:00");
  for (gint64 t = at("2026-06-01T00:00:00Z"); t < at("2026-06-02T00:00:00Z"); t += 600)
    g_assert_true(ar_update_window_contains(&w, utc, t));
}

static void
test_time_zones(void)
{
  ArUpdateWindow w = window("02:00-05:00");
  g_autoptr(GTimeZone) berlin = zone("Europe/Berlin");
  g_autoptr(GTimeZone) ny = zone("America/New_York");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  /* 01:30 UTC in January: 02:30 in Berlin (inside), 20:30 in New York (not), 01:30 UTC (not). */
  gint64 t = at("2026-01-15T01:30:00Z");
  g_assert_true(ar_update_window_contains(&w, berlin, t));
  g_assert_false(ar_update_window_contains(&w, ny, t));
  g_assert_false(ar_update_window_contains(&w, utc, t));
  /* 08:00 UTC in July: 04:00 in New York (EDT, inside), 10:00 in Berlin (not). */
  t = at("2026-07-15T08:00:00Z");
  g_assert_true(ar_update_window_contains(&w, ny, t));
  g_assert_false(ar_update_window_contains(&w, berlin, t));
}

/* Minutes of the UTC day starting at @day_utc that are inside @w in @tz. */
static guint
minutes_inside(const ArUpdateWindow *w, GTimeZone *tz, gint64 from, gint64 to)
{
  guint n = 0;
  for (gint64 t = from; t < to; t += 60)
    n += ar_update_window_contains(w, tz, t);
  return n;
}

static void
test_dst(void)
{
  g_autoptr(GTimeZone) berlin = zone("Europe/Berlin");
  ArUpdateWindow w = window("02:00-05:00");
  /* 2026-03-29: at 01:00 UTC Berlin goes from 02:00 CET to 03:00 CEST: 02:00-03:00 does not
   * exist; the window is 03:00-05:00 CEST (01:00-03:00 UTC): two hours. */
  g_assert_false(ar_update_window_contains(&w, berlin, at("2026-03-29T00:59:00Z")));
  g_assert_true(ar_update_window_contains(&w, berlin, at("2026-03-29T01:00:00Z")));
  g_assert_true(ar_update_window_contains(&w, berlin, at("2026-03-29T02:59:00Z")));
  g_assert_false(ar_update_window_contains(&w, berlin, at("2026-03-29T03:00:00Z")));
  g_assert_cmpuint(
      minutes_inside(&w, berlin, at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z")), ==, 120);
  /* The night before: three hours. */
  g_assert_cmpuint(
      minutes_inside(&w, berlin, at("2026-03-27T12:00:00Z"), at("2026-03-28T12:00:00Z")), ==, 180);
  /* 2026-10-25: at 01:00 UTC Berlin goes from 03:00 CEST back to 02:00 CET: 02:00-03:00 comes
   * twice; the window is 00:00-04:00 UTC: four hours. */
  g_assert_cmpuint(
      minutes_inside(&w, berlin, at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z")), ==, 240);
  /* A window inside the missing hour does not open that day at all... */
  ArUpdateWindow gap = window("02:15-02:45");
  g_assert_cmpuint(
      minutes_inside(&gap, berlin, at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z")), ==, 0);
  /* ...and the wait for it goes to the next night (02:15 CEST on the 30th = 00:15 UTC). */
  gint64 from = at("2026-03-28T23:00:00Z"); /* 00:00 CET on the 29th */
  g_assert_cmpint(ar_update_window_wait(&gap, berlin, from), ==, at("2026-03-30T00:15:00Z") - from);
}

static void
test_wait(void)
{
  g_autoptr(GTimeZone) berlin = zone("Europe/Berlin");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  ArUpdateWindow w = window("02:00-05:00");
  g_assert_cmpint(ar_update_window_wait(&w, utc, at("2026-06-01T03:00:00Z")), ==, 0);
  g_assert_cmpint(ar_update_window_wait(&w, utc, at("2026-06-01T05:00:00Z")), ==, 21 * 3600);
  g_assert_cmpint(ar_update_window_wait(&w, utc, at("2026-06-01T01:59:30Z")), ==, 30);
  /* Spring forward: from 00:00 CET the window opens at 03:00 CEST (01:00 UTC): two hours. */
  gint64 from = at("2026-03-28T23:00:00Z");
  g_assert_cmpint(ar_update_window_wait(&w, berlin, from), ==, 2 * 3600);
  /* Every wait is at most a day and lands inside the window, a minute earlier is not. */
  for (gint64 t = at("2026-03-27T00:00:00Z"); t < at("2026-03-31T00:00:00Z"); t += 7 * 60 + 13) {
    gint64 d = ar_update_window_wait(&w, berlin, t);
    g_assert_cmpint(d, >=, 0);
    g_assert_cmpint(d, <=, 25 * 3600);
    g_assert_true(ar_update_window_contains(&w, berlin, t + d));
    if (d >= 60)
      g_assert_false(ar_update_window_contains(&w, berlin, t + d - 60));
  }
}

static void
test_content_range(void)
{
  guint64 f = 1, l = 1, t = 1;
  g_assert_true(ar_update_parse_content_range("bytes 100-999/1000", &f, &l, &t, NULL));
  g_assert_cmpuint(f, ==, 100);
  g_assert_cmpuint(l, ==, 999);
  g_assert_cmpuint(t, ==, 1000);
  g_assert_true(ar_update_parse_content_range("Bytes 0-0/1", &f, &l, &t, NULL));
  g_assert_cmpuint(t, ==, 1);
  g_assert_true(ar_update_parse_content_range(" bytes 5-9/10 ", &f, &l, &t, NULL));
  g_assert_true(ar_update_parse_content_range("bytes 0-18446744073709551614/18446744073709551615",
                                              &f, &l, &t, NULL));
  g_assert_cmpuint(t, ==, G_MAXUINT64);
  const char *bad[] = {"",
                       "bytes",
                       "bytes 100-999/*",
                       "bytes */1000",
                       "bytes 100-99/1000",
                       "bytes 100-1000/1000",
                       "bytes -1-2/3",
                       "bytes 1-2/3 x",
                       "bytes 1-2/3,4",
                       "bytes +1-2/3",
                       "bytes 1 - 2/3",
                       "items 1-2/3",
                       "bytes 0-1/18446744073709551616",
                       "bytes 0-1/0000000000000000000000002",
                       "bytes=1-2/3",
                       "bytes 0x1-2/3"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    guint64 a = 7, b = 7, c = 7;
    g_autoptr(GError) error = NULL;
    if (ar_update_parse_content_range(bad[i], &a, &b, &c, &error))
      g_error("'%s' accepted", bad[i]);
    g_assert_true(a == 7 && b == 7 && c == 7);
    g_assert_null(strchr(error->message, '\n'));
  }
  g_assert_false(ar_update_parse_content_range(NULL, &f, &l, &t, NULL));
  g_autofree char *longer = g_strnfill(200, ' ');
  g_assert_false(ar_update_parse_content_range(longer, &f, &l, &t, NULL));
}

static void
test_partial_record(void)
{
  ArUpdatePartial p = {.url = g_strdup("https://cdn.example.org/b.raucb?token=x"), .size = 4242};
  memset(p.sha256, 'a', 64);
  g_autofree char *text = ar_update_partial_format(&p);
  ArUpdatePartial q = {0};
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_update_partial_parse(text, strlen(text), &q, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(q.url, ==, p.url);
  g_assert_cmpstr(q.sha256, ==, p.sha256);
  g_assert_cmpuint(q.size, ==, 4242);
  ar_update_partial_clear(&q);
  const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const char *bad[] = {
      "",
      "garbage",
      "[download]\nurl=http://cdn.example.org/b\nsha256=%s\nsize=1\n",
      "[download]\nurl=https://u:p@cdn.example.org/b\nsha256=%s\nsize=1\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%.63s\nsize=1\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%sA\nsize=1\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=0\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=-1\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=68719476737\n",
      "[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=1x\n",
      "[download]\nsha256=%s\nsize=1\n",
      "[other]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=1\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    /* %s in the templates: the good SHA-256 (a bad one is spelled out). */
    g_autoptr(GString) s = g_string_new(bad[i]);
    g_string_replace(s, "%.63s", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
                     0);
    g_string_replace(s, "%s", sha, 0);
    const char *t = s->str;
    ArUpdatePartial out = {.size = 7};
    g_autoptr(GError) e = NULL;
    if (ar_update_partial_parse(t, strlen(t), &out, &e))
      g_error("record %zu accepted: %s", i, t);
    g_assert_cmpuint(out.size, ==, 7);
    g_assert_null(out.url);
  }
  /* Upper-case hex is not what we write. */
  g_autofree char *upper =
      g_strdup_printf("[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=1\n",
                      "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
  g_assert_false(ar_update_partial_parse(upper, strlen(upper), &q, NULL));
  /* A NUL byte, and more than 4 KiB. */
  g_autofree char *good =
      g_strdup_printf("[download]\nurl=https://cdn.example.org/b\nsha256=%s\nsize=1\n", sha);
  g_assert_true(ar_update_partial_parse(good, strlen(good), &q, NULL));
  ar_update_partial_clear(&q);
  g_assert_false(ar_update_partial_parse(good, strlen(good) + 1, &q, NULL));
  g_autoptr(GString) big = g_string_new(good);
  while (big->len <= AR_UPDATE_PARTIAL_MAX)
    g_string_append(big, "# padding\n");
  g_assert_false(ar_update_partial_parse(big->str, big->len, &q, NULL));
  ar_update_partial_clear(&p);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/update/window/parse", test_parse);
  g_test_add_func("/update/window/contains", test_contains);
  g_test_add_func("/update/window/time-zones", test_time_zones);
  g_test_add_func("/update/window/dst", test_dst);
  g_test_add_func("/update/window/wait", test_wait);
  g_test_add_func("/update/resume/content-range", test_content_range);
  g_test_add_func("/update/resume/partial-record", test_partial_record);
  return g_test_run();
}
