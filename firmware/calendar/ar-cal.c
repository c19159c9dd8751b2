/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cal.c: iCalendar parsing and expansion with libical (ar-cal.h, docs/calendar.md).
 *
 * The text is checked before libical sees it (size, BEGIN: count and nesting, NULs), then
 * parsed by libical; VTIMEZONEs whose rules could make libical expand without bound are
 * dropped; every VEVENT without RECURRENCE-ID is a series (DTSTART, RRULE, RDATE, minus
 * EXDATE and the instances an override replaces), every VEVENT with one an override that
 * stands on its own. Work is bounded by steps per series, occurrences per series and in
 * all, and a time budget for the whole text.
 */
#include "ar-cal.h"

#include "ar-ical.h"

#include <string.h>
#include <time.h>

G_DEFINE_QUARK(ar - cal - error - quark, ar_cal_error)

#define AR_CAL_DEFAULT_MAX_BYTES (8 * 1024 * 1024)
#define AR_CAL_DEFAULT_MAX_COMPONENTS 20000
#define AR_CAL_DEFAULT_MAX_OCCURRENCES 5000
#define AR_CAL_DEFAULT_MAX_STEPS 100000
#define AR_CAL_MAX_DEPTH 8
/* END: lines with nothing open, tolerated (libical warns on stderr for each). */
#define AR_CAL_MAX_STRAY_END 8
/* The whole expansion of one text, in microseconds (checked between libical calls). */
#define AR_CAL_TIME_BUDGET_US (5 * G_USEC_PER_SEC)
/* Text fields kept (bytes, cut at a character boundary). */
#define AR_CAL_MAX_FIELD 1024
/* Margin before the window when a long series is fast-forwarded (seconds). */
#define AR_CAL_SKIP_MARGIN (3 * 86400)

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

typedef struct {
  gint64 from, to;
  guint max_occurrences, max_steps, per_series;
  const ArLinkPolicy *policy;
  const char *room; /* without mailto:, or NULL */
  icalcomponent *cal;
  GPtrArray *out;
  GHashTable *templates;  /* icalcomponent* -> ArMeeting* (fields without times) */
  GHashTable *overridden; /* uid -> GHashTable of gint64* recurrence ids */
  gint64 deadline;
  gboolean cancel_all; /* METHOD:CANCEL */
  GError *error;
} ArCalCtx;

/* --- Before libical ------------------------------------------------------------------ */

/* The first @n characters of the logical line at @p, unfolded (CRLF/LF + space or tab). */
static gsize
line_head(const char *p, const char *end, char *buf, gsize n)
{
  gsize k = 0;
  while (p < end && k < n) {
    if (*p == '\r' && p + 2 < end && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
      p += 3;
      continue;
    }
    if (*p == '\n' && p + 1 < end && (p[1] == ' ' || p[1] == '\t')) {
      p += 2;
      continue;
    }
    if (*p == '\n')
      break;
    buf[k++] = g_ascii_toupper(*p++);
  }
  return k;
}

/* Counts components and their nesting the way libical will see them (lines start after
 * LF; a line starting with space or tab continues the previous one). BEGIN is counted
 * generously (also "BEGIN;..."), END strictly, so the depth is never under-estimated.
 * Returns a copy with NULs replaced by spaces, or NULL and @error. */
static char *
prescan(const char *data, gsize len, guint max_components, GError **error)
{
  const char *end = data + len;
  guint depth = 0, components = 0, stray = 0;
  gboolean calendar = FALSE;
  for (const char *p = data; p < end;) {
    char head[16];
    if (*p != ' ' && *p != '\t') {
      gsize k = line_head(p, end, head, sizeof head);
      if (k >= 6 && memcmp(head, "BEGIN", 5) == 0 && (head[5] == ':' || head[5] == ';')) {
        if (++depth > AR_CAL_MAX_DEPTH) {
          g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                      "The calendar nests components more than %d levels deep.", AR_CAL_MAX_DEPTH);
          return NULL;
        }
        if (++components > max_components) {
          g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                      "The calendar has more than %u components.", max_components);
          return NULL;
        }
        if (k >= 15 && memcmp(head + 6, "VCALENDAR", 9) == 0)
          calendar = TRUE;
      } else if (k >= 4 && memcmp(head, "END:", 4) == 0) {
        if (depth > 0) {
          depth--;
        } else if (++stray > AR_CAL_MAX_STRAY_END) {
          /* libical writes a line to stderr for each: a hostile text could flood the log */
          g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE,
                      "The calendar closes components it never opened (END: before BEGIN:).");
          return NULL;
        }
      }
    }
    const char *nl = memchr(p, '\n', end - p);
    p = nl ? nl + 1 : end;
  }
  if (!calendar) {
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE,
                "This is not an iCalendar calendar (no BEGIN:VCALENDAR).");
    return NULL;
  }
  char *copy = g_malloc(len + 1);
  for (gsize i = 0; i < len; i++)
    copy[i] = data[i] ? data[i] : ' ';
  copy[len] = '\0';
  return copy;
}

/* --- Text ---------------------------------------------------------------------------- */

/* Valid UTF-8, at most AR_CAL_MAX_FIELD bytes, or NULL for NULL/empty. */
static char *
clean_text(const char *s)
{
  if (!s || !*s)
    return NULL;
  char *v = g_utf8_make_valid(s, -1);
  if (strlen(v) > AR_CAL_MAX_FIELD) {
    char *cut = g_utf8_find_prev_char(v, v + AR_CAL_MAX_FIELD + 1);
    *cut = '\0';
  }
  return v;
}

static const char *
strip_mailto(const char *s)
{
  if (s && g_ascii_strncasecmp(s, "mailto:", 7) == 0)
    return s + 7;
  return s;
}

static const char *
prop_text(icalproperty *p)
{
  icalvalue *v = icalproperty_get_value(p);
  if (!v)
    return NULL;
  switch (icalvalue_isa(v)) {
  case ICAL_TEXT_VALUE:
    return icalvalue_get_text(v);
  case ICAL_URI_VALUE:
    return icalvalue_get_uri(v);
  case ICAL_X_VALUE:
    return icalvalue_get_x(v);
  default:
    return icalproperty_get_value_as_string(p);
  }
}

/* The properties a link is looked for in, in order (ar-cal.h). */
static const char *const link_props[] = {
    "CONFERENCE",
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-GOOGLE-CONFERENCE",
    "URL",
    "LOCATION",
    "DESCRIPTION",
    "X-ALT-DESC",
};

static void
find_link(icalcomponent *comp, const ArLinkPolicy *policy, ArMeeting *m)
{
  for (guint i = 0; i < G_N_ELEMENTS(link_props); i++) {
    for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(comp, ICAL_ANY_PROPERTY)) {
      const char *name = icalproperty_get_property_name(p);
      if (!name || g_ascii_strcasecmp(name, link_props[i]) != 0)
        continue;
      const char *text = prop_text(p);
      if (!text || !*text)
        continue;
      g_autofree char *valid = g_utf8_make_valid(text, -1);
      g_autoptr(GPtrArray) found = ar_link_find_all(valid, strlen(valid), policy);
      if (found->len > 0) {
        m->link = ar_link_copy(g_ptr_array_index(found, 0));
        m->link_text = g_strdup(m->link->join_url);
        return;
      }
    }
  }
}

/* The fields of one VEVENT that do not depend on the occurrence; @master (or NULL) gives
 * what an override leaves out. */
static ArMeeting *
get_template(ArCalCtx *c, icalcomponent *comp, icalcomponent *master)
{
  ArMeeting *t = g_hash_table_lookup(c->templates, comp);
  if (t)
    return t;
  t = g_new0(ArMeeting, 1);
  icalcomponent *from[2] = {comp, master};
  gboolean has_class = FALSE;
  for (guint i = 0; i < 2 && from[i]; i++) {
    icalcomponent *e = from[i];
    if (!t->title)
      t->title = clean_text(icalcomponent_get_summary(e));
    icalproperty *org = icalcomponent_get_first_property(e, ICAL_ORGANIZER_PROPERTY);
    if (!t->organizer && org) {
      icalparameter *cn = icalproperty_get_first_parameter(org, ICAL_CN_PARAMETER);
      const char *name = cn ? icalparameter_get_cn(cn) : NULL;
      t->organizer =
          clean_text(name && *name ? name : strip_mailto(icalproperty_get_organizer(org)));
    }
    icalproperty *cls = icalcomponent_get_first_property(e, ICAL_CLASS_PROPERTY);
    if (cls && !has_class) {
      icalproperty_class k = icalproperty_get_class(cls);
      t->is_private = k == ICAL_CLASS_PRIVATE || k == ICAL_CLASS_CONFIDENTIAL;
      has_class = TRUE;
    }
    if (!t->link)
      find_link(e, c->policy, t);
  }
  g_hash_table_insert(c->templates, comp, t);
  return t;
}

static gboolean
is_cancelled(icalcomponent *comp)
{
  return icalcomponent_get_status(comp) == ICAL_STATUS_CANCELLED;
}

/* The room is an ATTENDEE of @comp with PARTSTAT=DECLINED. */
static gboolean
room_declined(ArCalCtx *c, icalcomponent *comp)
{
  if (!c->room)
    return FALSE;
  for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY); p;
       p = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
    const char *addr = strip_mailto(icalproperty_get_attendee(p));
    if (!addr || g_ascii_strcasecmp(addr, c->room) != 0)
      continue;
    icalparameter *ps = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
    if (ps && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_DECLINED)
      return TRUE;
  }
  return FALSE;
}

/* --- Time ---------------------------------------------------------------------------- */

/* A TZID fit to be looked up among the system's zones (no path tricks). */
static gboolean
tzid_plausible(const char *tzid)
{
  gsize n = strlen(tzid);
  if (n == 0 || n > 64 || tzid[0] == '/' || strstr(tzid, ".."))
    return FALSE;
  for (const char *s = tzid; *s; s++)
    if (!g_ascii_isalnum(*s) && !strchr("/_+-", *s))
      return FALSE;
  return TRUE;
}

/* The zone of a DATE-TIME property: its TZID among the calendar's VTIMEZONEs, then
 * libical's builtin (system) zones. NULL = floating (or unknown zone: treated as floating). */
static icaltimezone *
prop_zone(ArCalCtx *c, icalproperty *prop)
{
  icalparameter *p = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
  const char *tzid = p ? icalparameter_get_tzid(p) : NULL;
  if (!tzid || !*tzid)
    return NULL;
  icaltimezone *z = icalcomponent_get_timezone(c->cal, tzid);
  if (!z && tzid_plausible(tzid))
    z = icaltimezone_get_builtin_timezone(tzid);
  return z;
}

/* Seconds since the epoch of a wall time @t in @zone (NULL: floating, the process's
 * local zone; dates: local midnight). FALSE for times out of range. */
static gboolean
to_epoch(struct icaltimetype t, icaltimezone *zone, gint64 *out)
{
  if (icaltime_is_null_time(t) || t.year < 1 || t.year > 9999)
    return FALSE;
  if (t.is_date || (!zone && !icaltime_is_utc(t))) {
    struct tm tm = {0};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.month - 1;
    tm.tm_mday = t.day;
    if (!t.is_date) {
      tm.tm_hour = t.hour;
      tm.tm_min = t.minute;
      tm.tm_sec = t.second;
    }
    tm.tm_isdst = -1;
    time_t r = mktime(&tm);
    if (r == (time_t)-1 && !(t.year == 1969 || t.year == 1970))
      return FALSE;
    *out = r;
    return TRUE;
  }
  icaltimezone *utc = icaltimezone_get_utc_timezone();
  if (icaltime_is_utc(t) || zone == utc) {
    *out = icaltime_as_timet_with_zone(t, utc);
    return TRUE;
  }
  *out = icaltime_as_timet_with_zone(t, zone);
  /* a wall time the zone skips (02:30 when clocks go forward) is read with the offset before
   * the gap (RFC 5545 3.3.5: 03:30 summer time); libical reads it with the one after */
  struct icaltimetype back = icaltime_from_timet_with_zone((time_t)*out, FALSE, zone);
  t.zone = back.zone = NULL;
  gint64 skew = (gint64)icaltime_as_timet(t) - (gint64)icaltime_as_timet(back);
  if (skew > 0 && skew <= 86400)
    *out += skew;
  return TRUE;
}

/* The wall time in @zone (NULL: local) of @epoch. */
static struct icaltimetype
from_epoch(gint64 epoch, gboolean is_date, icaltimezone *zone)
{
  if (zone)
    return icaltime_from_timet_with_zone((time_t)epoch, is_date, zone);
  time_t tt = (time_t)epoch;
  struct tm tm;
  if (!localtime_r(&tt, &tm))
    return icaltime_null_time();
  struct icaltimetype r = icaltime_null_time();
  r.year = tm.tm_year + 1900;
  r.month = tm.tm_mon + 1;
  r.day = tm.tm_mday;
  r.is_date = is_date;
  if (!is_date) {
    r.hour = tm.tm_hour;
    r.minute = tm.tm_min;
    r.second = tm.tm_sec;
  }
  return r;
}

/* A time property's value (DATE-TIME, DATE, or PERIOD start) and its zone. */
static gboolean
prop_time(ArCalCtx *c, icalproperty *p, struct icaltimetype *t, icaltimezone **zone)
{
  icalvalue *v = icalproperty_get_value(p);
  if (!v)
    return FALSE;
  switch (icalvalue_isa(v)) {
  case ICAL_DATETIME_VALUE:
  case ICAL_DATE_VALUE:
    *t = icalvalue_get_datetime(v);
    break;
  case ICAL_DATETIMEPERIOD_VALUE: {
    struct icaldatetimeperiodtype dp = icalvalue_get_datetimeperiod(v);
    *t = icaltime_is_null_time(dp.time) ? dp.period.start : dp.time;
    break;
  }
  case ICAL_PERIOD_VALUE:
    *t = icalvalue_get_period(v).start;
    break;
  default:
    return FALSE;
  }
  if (icaltime_is_null_time(*t))
    return FALSE;
  *zone = icaltime_is_utc(*t) ? icaltimezone_get_utc_timezone() : prop_zone(c, p);
  return TRUE;
}

static gint
date_key(struct icaltimetype t)
{
  return t.year * 10000 + t.month * 100 + t.day;
}

/* --- Occurrences --------------------------------------------------------------------- */

static gboolean
budget_left(ArCalCtx *c)
{
  if (c->error)
    return FALSE;
  if (g_get_monotonic_time() > c->deadline) {
    g_set_error(&c->error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                "The calendar takes too long to expand (more than %d s).",
                (int)(AR_CAL_TIME_BUDGET_US / G_USEC_PER_SEC));
    return FALSE;
  }
  return TRUE;
}

/* Keeps one occurrence if it overlaps the window. FALSE when no more may be added. */
static gboolean
emit(ArCalCtx *c, icalcomponent *comp, icalcomponent *master, const char *uid, gint64 start,
     gint64 end, gboolean all_day)
{
  gboolean overlaps =
      end > start ? (start < c->to && end > c->from) : (start >= c->from && start < c->to);
  if (!overlaps)
    return TRUE;
  if (c->out->len >= c->max_occurrences) {
    g_set_error(&c->error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                "The calendar has more than %u occurrences in the window.", c->max_occurrences);
    return FALSE;
  }
  ArMeeting *m = ar_meeting_copy(get_template(c, comp, master));
  m->uid = clean_text(uid);
  m->start = start;
  m->end = end;
  m->all_day = all_day;
  g_autofree char *key = g_strdup_printf("%s\n%" G_GINT64_FORMAT, uid, start);
  g_autofree char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
  m->id = g_strndup(sha, 16);
  g_ptr_array_add(c->out, m);
  return TRUE;
}

/* Start, zone and length of a VEVENT (length in days for all-day events, else seconds). */
typedef struct {
  struct icaltimetype start;
  icaltimezone *zone;
  gint64 start_epoch;
  gboolean all_day;
  gint64 length;
} ArCalSpan;

static gboolean
event_span(ArCalCtx *c, icalcomponent *e, icalcomponent *master, ArCalSpan *s)
{
  icalproperty *p = icalcomponent_get_first_property(e, ICAL_DTSTART_PROPERTY);
  if (!p)
    p = icalcomponent_get_first_property(e, ICAL_RECURRENCEID_PROPERTY);
  if (!p || !prop_time(c, p, &s->start, &s->zone) || !to_epoch(s->start, s->zone, &s->start_epoch))
    return FALSE;
  s->all_day = s->start.is_date;
  s->length = s->all_day ? 1 : 0;
  struct icaltimetype t;
  icaltimezone *z;
  gint64 end;
  icalproperty *dtend = icalcomponent_get_first_property(e, ICAL_DTEND_PROPERTY);
  icalproperty *dur = icalcomponent_get_first_property(e, ICAL_DURATION_PROPERTY);
  if (dtend && prop_time(c, dtend, &t, &z)) {
    if (s->all_day) {
      t.is_date = TRUE;
      struct icaltimetype a = s->start;
      s->length = (icaltime_as_timet(t) - icaltime_as_timet(a)) / 86400;
    } else if (to_epoch(t, z, &end)) {
      s->length = end - s->start_epoch;
    }
  } else if (dur) {
    gint64 secs = icaldurationtype_as_int(icalproperty_get_duration(dur));
    s->length = s->all_day ? secs / 86400 : secs;
  } else if (master && master != e) {
    ArCalSpan ms;
    if (event_span(c, master, NULL, &ms) && ms.all_day == s->all_day)
      s->length = ms.length;
  }
  if (s->all_day && s->length < 1)
    s->length = 1;
  if (s->length < 0)
    s->length = 0;
  s->length = MIN(s->length, (gint64)366 * 86400 * 10);
  return TRUE;
}

/* Start and end of an occurrence of @s starting at wall time @t (in s->zone). */
static gboolean
occurrence(const ArCalSpan *s, struct icaltimetype t, gint64 *start, gint64 *end)
{
  if (!s->all_day) {
    if (!to_epoch(t, s->zone, start))
      return FALSE;
    *end = *start + s->length;
    return TRUE;
  }
  t.is_date = TRUE;
  if (!to_epoch(t, NULL, start))
    return FALSE;
  icaltime_adjust(&t, (int)MIN(s->length, 3660), 0, 0, 0);
  return to_epoch(t, NULL, end);
}

static gboolean
is_subdaily(icalrecurrencetype_frequency f)
{
  return f == ICAL_SECONDLY_RECURRENCE || f == ICAL_MINUTELY_RECURRENCE ||
         f == ICAL_HOURLY_RECURRENCE;
}

/* Sub-daily rules with BY parts make libical search instant by instant (for an impossible
 * rule, until year 2582): such rules are left out. */
static gboolean
rule_by_parts(const struct icalrecurrencetype *r)
{
  return r->by_second[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_minute[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_hour[0] != ICAL_RECURRENCE_ARRAY_MAX || r->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ||
         r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

typedef struct {
  ArCalCtx *c;
  icalcomponent *e;
  const char *uid;
  ArCalSpan span;
  GHashTable *seen;     /* gint64 starts already made */
  GHashTable *exdates;  /* gint64 */
  GHashTable *exdays;   /* date_key of DATE EXDATEs */
  GHashTable *replaced; /* gint64 recurrence ids of overrides, or NULL */
  guint kept;
  gboolean full;
} ArCalSeries;

/* One instance of a series at wall time @t. FALSE to stop the series. */
static gboolean
series_add(ArCalSeries *s, struct icaltimetype t)
{
  gint64 start, end;
  if (!occurrence(&s->span, t, &start, &end))
    return TRUE;
  if (start >= s->c->to)
    return FALSE;
  if (g_hash_table_contains(s->seen, &start))
    return TRUE;
  gint64 *k = g_new(gint64, 1);
  *k = start;
  g_hash_table_add(s->seen, k);
  if (g_hash_table_contains(s->exdates, &start) ||
      g_hash_table_contains(s->exdays, GINT_TO_POINTER(date_key(t))) ||
      (s->replaced && g_hash_table_contains(s->replaced, &start)))
    return TRUE;
  guint before = s->c->out->len;
  if (!emit(s->c, s->e, NULL, s->uid, start, end, s->span.all_day))
    return FALSE;
  if (s->c->out->len > before && ++s->kept >= s->c->per_series) {
    g_debug("calendar: series %s cut at %u occurrences", s->uid, s->kept);
    s->full = TRUE;
    return FALSE;
  }
  return TRUE;
}

static void
series_rrule(ArCalSeries *s, struct icalrecurrencetype rule)
{
  ArCalCtx *c = s->c;
  if (rule.freq == ICAL_NO_RECURRENCE || rule.interval < 1)
    return;
  if (is_subdaily(rule.freq) && rule_by_parts(&rule)) {
    g_debug("calendar: %s: a sub-daily rule with BY parts is left out", s->uid);
    return;
  }
  struct icaltimetype dtstart = s->span.start;
  dtstart.zone = NULL; /* iterate in wall time; s->span.zone converts */
  if (icaltime_is_utc(s->span.start))
    dtstart = s->span.start;
  gint64 until;
  if (!icaltime_is_null_time(rule.until) && icaltime_is_utc(rule.until) &&
      !icaltime_is_utc(dtstart) && to_epoch(rule.until, NULL, &until)) {
    /* a UTC UNTIL of a zoned or floating series: compared in the series' wall time */
    rule.until = from_epoch(until, dtstart.is_date, s->span.zone);
    rule.until.zone = NULL;
  }
  gint64 target =
      c->from - (s->span.all_day ? s->span.length * 86400 : s->span.length) - AR_CAL_SKIP_MARGIN;
  gboolean skip = rule.count == 0 && s->span.start_epoch < target;
  if (skip && is_subdaily(rule.freq)) {
    /* libical's set_start keeps the time of day here: step DTSTART forward ourselves */
    gint64 unit = rule.freq == ICAL_SECONDLY_RECURRENCE   ? 1
                  : rule.freq == ICAL_MINUTELY_RECURRENCE ? 60
                                                          : 3600;
    gint64 step = unit * rule.interval;
    /* a wall-time step is off by at most an hour (DST): 2 h of margin, not days of steps */
    gint64 near = c->from - s->span.length - step - 7200;
    gint64 n = near > s->span.start_epoch ? (near - s->span.start_epoch) / step : 0;
    /* n whole steps in wall time, as libical steps */
    gint64 secs = n * step;
    icaltime_adjust(&dtstart, (int)(secs / 86400), 0, 0, (int)(secs % 86400));
    skip = FALSE;
  }
  icalrecur_iterator *it = icalrecur_iterator_new(rule, dtstart);
  if (!it)
    return;
  if (skip) {
    struct icaltimetype at = from_epoch(target, dtstart.is_date, s->span.zone);
    if (icaltime_is_utc(dtstart))
      at = icaltime_from_timet_with_zone((time_t)target, FALSE, icaltimezone_get_utc_timezone());
    else
      at.zone = NULL;
    if (!icaltime_is_null_time(at) && !icalrecur_iterator_set_start(it, at))
      g_debug("calendar: %s: could not skip ahead", s->uid);
  }
  for (guint steps = 0; steps < c->max_steps; steps++) {
    if ((steps & 63) == 0 && !budget_left(c))
      break;
    struct icaltimetype t = icalrecur_iterator_next(it);
    if (icaltime_is_null_time(t))
      break;
    if (!series_add(s, t))
      break;
  }
  icalrecur_iterator_free(it);
}

static void
expand_series(ArCalCtx *c, icalcomponent *e, const char *uid)
{
  ArCalSeries s = {.c = c, .e = e, .uid = uid};
  if (!event_span(c, e, NULL, &s.span))
    return;
  if (room_declined(c, e))
    return;
  s.seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  s.exdates = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  s.exdays = g_hash_table_new(NULL, NULL);
  s.replaced = g_hash_table_lookup(c->overridden, uid);
  for (icalproperty *p = icalcomponent_get_first_property(e, ICAL_EXDATE_PROPERTY); p;
       p = icalcomponent_get_next_property(e, ICAL_EXDATE_PROPERTY)) {
    struct icaltimetype t;
    icaltimezone *z;
    gint64 *k = g_new(gint64, 1);
    if (prop_time(c, p, &t, &z) && (t.is_date ? to_epoch(t, NULL, k) : to_epoch(t, z, k))) {
      if (t.is_date)
        g_hash_table_add(s.exdays, GINT_TO_POINTER(date_key(t)));
      g_hash_table_add(s.exdates, k);
    } else {
      g_free(k);
    }
  }
  /* FALSE: DTSTART is past the window (so is every RRULE instance), or the series is full */
  gboolean go = series_add(&s, s.span.start);
  for (icalproperty *p = icalcomponent_get_first_property(e, ICAL_RDATE_PROPERTY);
       p && !s.full && !c->error; p = icalcomponent_get_next_property(e, ICAL_RDATE_PROPERTY)) {
    struct icaltimetype t;
    icaltimezone *z;
    gint64 at;
    if (!prop_time(c, p, &t, &z) || !to_epoch(t, z, &at))
      continue;
    /* in the series' zone, so that its length applies the same way */
    t = s.span.all_day ? t : from_epoch(at, FALSE, s.span.zone);
    if (!s.span.zone && !s.span.all_day && icaltime_is_utc(s.span.start))
      t = icaltime_from_timet_with_zone((time_t)at, FALSE, icaltimezone_get_utc_timezone());
    series_add(&s, t);
  }
  for (icalproperty *p = icalcomponent_get_first_property(e, ICAL_RRULE_PROPERTY);
       p && go && !s.full && !c->error; p = icalcomponent_get_next_property(e, ICAL_RRULE_PROPERTY))
    series_rrule(&s, icalproperty_get_rrule(p));
  g_hash_table_unref(s.seen);
  g_hash_table_unref(s.exdates);
  g_hash_table_unref(s.exdays);
}

static void
expand_override(ArCalCtx *c, icalcomponent *e, icalcomponent *master, const char *uid)
{
  ArCalSpan span;
  if (is_cancelled(e) || room_declined(c, e) || !event_span(c, e, master, &span))
    return;
  gint64 start, end;
  if (occurrence(&span, span.start, &start, &end))
    emit(c, e, master, uid, start, end, span.all_day);
}

/* --- The calendar -------------------------------------------------------------------- */

/* libical expands a VTIMEZONE's rules from its first onset to 2037 at least: only yearly
 * rules without time-of-day parts are safe. Other VTIMEZONEs are dropped (their TZID then
 * falls back to the system's zone of that name, or floating). */
static void
drop_unsafe_zones(icalcomponent *cal)
{
  g_autoptr(GPtrArray) bad = g_ptr_array_new();
  for (icalcomponent *z = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); z;
       z = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
    gboolean ok = TRUE;
    for (icalcomponent *o = icalcomponent_get_first_component(z, ICAL_ANY_COMPONENT); o && ok;
         o = icalcomponent_get_next_component(z, ICAL_ANY_COMPONENT))
      for (icalproperty *p = icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY); p && ok;
           p = icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY)) {
        struct icalrecurrencetype r = icalproperty_get_rrule(p);
        ok = r.freq == ICAL_YEARLY_RECURRENCE && r.interval == 1 &&
             r.by_second[0] == ICAL_RECURRENCE_ARRAY_MAX &&
             r.by_minute[0] == ICAL_RECURRENCE_ARRAY_MAX &&
             r.by_hour[0] == ICAL_RECURRENCE_ARRAY_MAX &&
             r.by_year_day[0] == ICAL_RECURRENCE_ARRAY_MAX &&
             r.by_week_no[0] == ICAL_RECURRENCE_ARRAY_MAX;
      }
    if (!ok)
      g_ptr_array_add(bad, z);
  }
  for (guint i = 0; i < bad->len; i++) {
    g_debug("calendar: a VTIMEZONE with rules that are not yearly is ignored");
    icalcomponent_remove_component(cal, bad->pdata[i]);
    icalcomponent_free(bad->pdata[i]);
  }
}

static void
expand_calendar(ArCalCtx *c, icalcomponent *cal)
{
  c->cal = cal;
  drop_unsafe_zones(cal);
  icalproperty *method = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
  c->cancel_all = method && icalproperty_get_method(method) == ICAL_METHOD_CANCEL;
  if (c->cancel_all)
    return;
  g_autoptr(GPtrArray) events = g_ptr_array_new();
  g_autoptr(GHashTable) masters = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) uids = g_ptr_array_new_with_free_func(g_free);
  guint n = 0;
  for (icalcomponent *e = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); e;
       e = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), n++) {
    const char *uid = icalcomponent_get_uid(e);
    char *u = uid && *uid ? g_strdup(uid) : g_strdup_printf("no-uid-%u", n);
    g_ptr_array_add(uids, u);
    g_ptr_array_add(events, e);
    icalproperty *rid = icalcomponent_get_first_property(e, ICAL_RECURRENCEID_PROPERTY);
    if (!rid) {
      if (!g_hash_table_contains(masters, u))
        g_hash_table_insert(masters, u, e);
      continue;
    }
    struct icaltimetype t;
    icaltimezone *z;
    gint64 at;
    if (!prop_time(c, rid, &t, &z) || !to_epoch(t, t.is_date ? NULL : z, &at))
      continue;
    GHashTable *set = g_hash_table_lookup(c->overridden, u);
    if (!set) {
      set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
      g_hash_table_insert(c->overridden, g_strdup(u), set);
    }
    gint64 *k = g_new(gint64, 1);
    *k = at;
    g_hash_table_add(set, k);
  }
  for (guint i = 0; i < events->len && budget_left(c); i++) {
    icalcomponent *e = events->pdata[i];
    const char *uid = uids->pdata[i];
    icalcomponent *master = g_hash_table_lookup(masters, uid);
    if (master && is_cancelled(master))
      continue; /* a cancelled series takes its overrides with it */
    if (icalcomponent_get_first_property(e, ICAL_RECURRENCEID_PROPERTY))
      expand_override(c, e, master, uid);
    else if (!is_cancelled(e))
      expand_series(c, e, uid);
  }
}

static gint
compare_meetings(gconstpointer a, gconstpointer b)
{
  const ArMeeting *x = *(ArMeeting *const *)a, *y = *(ArMeeting *const *)b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return strcmp(x->id, y->id);
}

GPtrArray *
ar_cal_parse(const char *data, gsize len, gint64 from, gint64 to, const ArCalOptions *options,
             GError **error)
{
  ArCalOptions o = options ? *options : (ArCalOptions){0};
  gsize max_bytes = o.max_bytes ? o.max_bytes : AR_CAL_DEFAULT_MAX_BYTES;
  if (!data && len > 0) {
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE, "The calendar is empty.");
    return NULL;
  }
  if (len > max_bytes) {
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                "The calendar is larger than %" G_GSIZE_FORMAT " bytes.", max_bytes);
    return NULL;
  }
  g_autofree char *text =
      prescan(data ? data : "", len,
              o.max_components ? o.max_components : AR_CAL_DEFAULT_MAX_COMPONENTS, error);
  if (!text || !ar_ical_load(error))
    return NULL;
  icalcomponent *root = icalparser_parse_string(text);
  if (!root) {
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE,
                "The calendar could not be read as iCalendar.");
    return NULL;
  }
  ArCalCtx c = {
      .from = from,
      .to = to,
      .max_occurrences = o.max_occurrences ? o.max_occurrences : AR_CAL_DEFAULT_MAX_OCCURRENCES,
      .max_steps = o.max_steps ? o.max_steps : AR_CAL_DEFAULT_MAX_STEPS,
      .policy = o.policy,
      .room = o.room_address && *o.room_address ? strip_mailto(o.room_address) : NULL,
      .out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_meeting_free),
      .templates = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)ar_meeting_free),
      .overridden = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_hash_table_unref),
      .deadline = g_get_monotonic_time() + AR_CAL_TIME_BUDGET_US,
  };
  c.per_series = MAX(1, c.max_occurrences / 5);
  guint calendars = 0;
  if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
    calendars++;
    expand_calendar(&c, root);
  } else {
    for (icalcomponent *cal = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
         cal && !c.error; cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT)) {
      calendars++;
      g_hash_table_remove_all(c.overridden);
      expand_calendar(&c, cal);
    }
  }
  icalcomponent_free(root);
  g_hash_table_unref(c.templates);
  g_hash_table_unref(c.overridden);
  if (!c.error && calendars == 0)
    g_set_error(&c.error, AR_CAL_ERROR, AR_CAL_ERROR_PARSE,
                "The calendar could not be read as iCalendar (no VCALENDAR).");
  if (c.error) {
    g_propagate_error(error, c.error);
    g_ptr_array_unref(c.out);
    return NULL;
  }
  g_ptr_array_sort(c.out, compare_meetings);
  return c.out;
}
