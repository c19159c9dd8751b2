/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-cal-desk.c: the room's meetings, fetched, merged, joined (ar-cal-desk.h). */
#include "ar-cal-desk.h"

#include <string.h>

#define AR_CAL_DESK_TICK_S 1
/* A room that was busy at a meeting's start still auto-joins it this long after. */
#define AR_CAL_AUTO_JOIN_LATE_S (5 * 60)
/* Meetings kept from all sources together (the parser bounds each text). */
#define AR_CAL_DESK_MAX_MEETINGS 5000

typedef struct {
  ArCalDesk *desk;
  ArCalSource *source;
  ArCalSourceKind kind;
  char *key; /* what the source was made from: the same key keeps it (and its list) */
  char *server;
  GPtrArray *texts;    /* GBytes: the last good answer, expanded again when the day moves */
  GPtrArray *meetings; /* ArMeeting*: the last good list */
  gint64 window_from;  /* the window @meetings was expanded for */
  gint64 tried_from;   /* the window of the last fetch: a new day is fetched once */
  gboolean ok;
  char *error;
  gint64 updated, checked;
  GCancellable *cancel;
} Source;

struct _ArCalDesk {
  ArCallManager *calls;
  const ArConfig *config;
  gint64 clock_offset; /* ANYROOM_TEST_CLOCK - the real time at start, in s */
  GPtrArray *sources;  /* Source* */
  GPtrArray *merged;   /* ArMeeting* (borrowed from the sources' lists) */
  guint tick, refresh;
  guint refresh_min;
  char *joinable_sig; /* what was joinable at the last tick: a change is announced */
  char *auto_id;      /* the countdown's meeting, or NULL */
  gint64 auto_join_at;
  GHashTable *auto_done; /* ids joined or cancelled: never counted down again */
  ArCalDeskChangedFunc changed;
  gpointer changed_data;
};

static void
changed(ArCalDesk *d, ArCalDeskChange what)
{
  if (d->changed)
    d->changed(what, d->changed_data);
}

gint64
ar_cal_desk_now(ArCalDesk *d)
{
  return g_get_real_time() / G_USEC_PER_SEC + d->clock_offset;
}

const ArConfig *
ar_cal_desk_get_config(ArCalDesk *d)
{
  return d->config;
}

/* The window fetched and expanded: local midnight today to days-ahead days on. */
static void
window(ArCalDesk *d, gint64 *from, gint64 *to)
{
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_local(ar_cal_desk_now(d));
  g_autoptr(GDateTime) midnight =
      g_date_time_new_local(g_date_time_get_year(now), g_date_time_get_month(now),
                            g_date_time_get_day_of_month(now), 0, 0, 0);
  *from = midnight ? g_date_time_to_unix(midnight) : ar_cal_desk_now(d) - 86400;
  *to = *from + (gint64)(d->config->calendar_days_ahead + 1) * 86400;
}

static void
source_free(Source *s)
{
  if (!s)
    return;
  if (s->cancel) {
    g_cancellable_cancel(s->cancel);
    g_object_unref(s->cancel);
  }
  ar_cal_source_free(s->source);
  g_free(s->key);
  g_free(s->server);
  g_clear_pointer(&s->texts, g_ptr_array_unref);
  g_clear_pointer(&s->meetings, g_ptr_array_unref);
  g_free(s->error);
  g_free(s);
}

static gint
by_start(gconstpointer a, gconstpointer b)
{
  const ArMeeting *x = *(ArMeeting *const *)a, *y = *(ArMeeting *const *)b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return g_strcmp0(x->id, y->id);
}

/* Every source's last good list, one copy of a meeting in two sources, not ended. */
static void
merge(ArCalDesk *d)
{
  gint64 now = ar_cal_desk_now(d);
  g_ptr_array_set_size(d->merged, 0);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < d->sources->len; i++) {
    Source *s = d->sources->pdata[i];
    for (guint j = 0; s->meetings && j < s->meetings->len; j++) {
      ArMeeting *m = s->meetings->pdata[j];
      if (m->end <= now || d->merged->len >= AR_CAL_DESK_MAX_MEETINGS ||
          !g_hash_table_add(seen, m->id))
        continue;
      g_ptr_array_add(d->merged, m);
    }
  }
  g_ptr_array_sort(d->merged, by_start);
}

/* An expansion in a worker thread (a 5,000-event calendar takes 0.1 s; a hostile one up to the
 * parser's bounds): everything it needs is copied, the main loop goes on meanwhile. */
typedef struct {
  GPtrArray *texts; /* GBytes */
  gboolean fresh;   /* a new answer (else: the same one for another day) */
  gint64 from, to;
  char **jitsi, **pexip;
  gboolean allow_idn;
  char *room_address;
  guint days;
} Expansion;

static void
expansion_free(Expansion *x)
{
  g_ptr_array_unref(x->texts);
  g_strfreev(x->jitsi);
  g_strfreev(x->pexip);
  g_free(x->room_address);
  g_free(x);
}

/* libical is used by one thread at a time. */
G_LOCK_DEFINE_STATIC(libical);

static void
expand_in_thread(GTask *task, gpointer source_object, gpointer data, GCancellable *cancel)
{
  Expansion *x = data;
  ArLinkPolicy policy = {.jitsi_domains = (const char *const *)x->jitsi,
                         .pexip_domains = (const char *const *)x->pexip,
                         .allow_idn = x->allow_idn};
  ArCalOptions opt = {.policy = &policy, .room_address = x->room_address};
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)ar_meeting_free);
  for (guint i = 0; i < x->texts->len; i++) {
    gsize len = 0;
    const char *data_ = g_bytes_get_data(x->texts->pdata[i], &len);
    GError *error = NULL;
    G_LOCK(libical);
    g_autoptr(GPtrArray) one = ar_cal_parse(data_, len, x->from, x->to, &opt, &error);
    G_UNLOCK(libical);
    if (!one) {
      g_task_return_error(task, error);
      return;
    }
    for (guint j = 0; j < one->len; j++)
      g_ptr_array_add(all, g_steal_pointer(&one->pdata[j]));
    g_ptr_array_set_free_func(one, NULL);
    if (all->len > AR_CAL_DESK_MAX_MEETINGS) {
      g_task_return_new_error(task, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                              "the calendar has more than %d meetings in the next %u days",
                              AR_CAL_DESK_MAX_MEETINGS, x->days);
      return;
    }
  }
  g_task_return_pointer(task, g_steal_pointer(&all), (GDestroyNotify)g_ptr_array_unref);
}

static void on_expanded(GObject *obj, GAsyncResult *res, gpointer data);

/* Expands @texts for [@from, @to) in a worker; the source's fetch stays "under way" (its
 * cancellable) until on_expanded. */
static void
expand(Source *s, GPtrArray *texts, gboolean fresh, gint64 from, gint64 to)
{
  const ArConfig *c = s->desk->config;
  const ArLinkPolicy *policy = ar_link_config_get_policy(c->links);
  Expansion *x = g_new0(Expansion, 1);
  x->texts = g_ptr_array_ref(texts);
  x->fresh = fresh;
  x->from = from;
  x->to = to;
  x->jitsi = g_strdupv((char **)policy->jitsi_domains);
  x->pexip = g_strdupv((char **)policy->pexip_domains);
  x->allow_idn = policy->allow_idn;
  x->room_address = c->calendar_room_address && *c->calendar_room_address
                        ? g_strdup(c->calendar_room_address)
                        : NULL;
  x->days = c->calendar_days_ahead;
  if (!s->cancel)
    s->cancel = g_cancellable_new();
  g_autoptr(GTask) task = g_task_new(NULL, s->cancel, on_expanded, s);
  g_task_set_task_data(task, x, (GDestroyNotify)expansion_free);
  g_task_run_in_thread(task, expand_in_thread);
}

static void
source_failed(Source *s, const char *why)
{
  if (!s->error || !g_str_equal(s->error, why))
    g_warning("calendar: %s: %s (the last good list is kept)", s->server, why);
  g_free(s->error);
  s->error = g_strdup(why);
  s->ok = FALSE;
}

/* Cancelled: the source is gone (freed with its cancellable); touch nothing of it. */
static gboolean
dropped(GAsyncResult *res)
{
  GCancellable *cancel = g_task_get_cancellable(G_TASK(res));
  if (!cancel || !g_cancellable_is_cancelled(cancel))
    return FALSE;
  g_autoptr(GError) ignored = NULL;
  g_autoptr(GPtrArray) nothing = g_task_propagate_pointer(G_TASK(res), &ignored);
  return TRUE;
}

static void
on_expanded(GObject *obj, GAsyncResult *res, gpointer data)
{
  if (dropped(res))
    return;
  Source *s = data;
  Expansion *x = g_task_get_task_data(G_TASK(res));
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) meetings = g_task_propagate_pointer(G_TASK(res), &error);
  g_clear_object(&s->cancel);
  if (!meetings) {
    source_failed(s, error->message);
  } else {
    if (x->fresh) {
      g_clear_pointer(&s->texts, g_ptr_array_unref);
      s->texts = g_ptr_array_ref(x->texts);
      s->updated = s->checked;
      g_message("calendar: %s: %u meetings", s->server, meetings->len);
    }
    g_clear_pointer(&s->meetings, g_ptr_array_unref);
    s->meetings = g_steal_pointer(&meetings);
    s->window_from = x->from;
    s->ok = TRUE;
    g_clear_pointer(&s->error, g_free);
  }
  merge(s->desk);
  changed(s->desk, AR_CAL_DESK_CHANGED_MEETINGS);
}

static void
on_fetched(GObject *obj, GAsyncResult *res, gpointer data)
{
  if (dropped(res))
    return;
  Source *s = data;
  g_autoptr(GError) error = NULL;
  gboolean not_modified = FALSE;
  g_autoptr(GPtrArray) texts = ar_cal_source_fetch_finish(s->source, res, &not_modified, &error);
  ArCalDesk *d = s->desk;
  s->checked = ar_cal_desk_now(d);
  gint64 from, to;
  window(d, &from, &to);
  if (texts || (not_modified && s->texts && s->window_from != from)) {
    /* A new answer, or the same calendar on another day: expanded again (in a worker). */
    expand(s, texts ? texts : s->texts, texts != NULL, from, to);
    return;
  }
  g_clear_object(&s->cancel);
  if (not_modified) {
    s->ok = TRUE;
    g_clear_pointer(&s->error, g_free);
  } else {
    source_failed(s, error ? error->message : "no answer");
  }
  merge(d);
  changed(d, AR_CAL_DESK_CHANGED_MEETINGS);
}

static void
fetch(Source *s)
{
  if (!s->source || s->cancel) /* refused settings; or one at a time: the one under way answers */
    return;
  gint64 from, to;
  window(s->desk, &from, &to);
  s->tried_from = from;
  s->cancel = g_cancellable_new();
  ar_cal_source_fetch_async(s->source, from, to, s->cancel, on_fetched, s);
}

void
ar_cal_desk_refresh(ArCalDesk *d)
{
  for (guint i = 0; i < d->sources->len; i++)
    fetch(d->sources->pdata[i]);
}

static gboolean
on_refresh(gpointer data)
{
  ar_cal_desk_refresh(data);
  return G_SOURCE_CONTINUE;
}

/* The settings a source and its list depend on; the secret only as a hash. */
static char *
source_key(const ArCalDesk *d, ArCalSourceKind kind, const char *url, const char *user,
           const char *secret)
{
  const ArConfig *c = d->config;
  g_autofree char *hash =
      g_compute_checksum_for_string(G_CHECKSUM_SHA256, secret ? secret : "", -1);
  return g_strdup_printf("%d\n%s\n%s\n%s\n%s\n%s\n%u", kind, url, user ? user : "", hash,
                         c->calendar_ca ? c->calendar_ca : "",
                         c->calendar_room_address ? c->calendar_room_address : "",
                         c->calendar_days_ahead);
}

/* The source for these settings: the one there is if they did not change, else a new one. */
static void
add_source(ArCalDesk *d, GPtrArray *old, GPtrArray *to, ArCalSourceKind kind, const char *url,
           const char *user, const char *secret)
{
  if (!url || !*url)
    return;
  user = user && *user ? user : NULL;
  secret = secret && *secret ? secret : NULL;
  g_autofree char *key = source_key(d, kind, url, user, secret);
  for (guint i = 0; i < old->len; i++) {
    Source *kept = old->pdata[i];
    if (kept && g_str_equal(kept->key, key)) {
      g_ptr_array_add(to, g_steal_pointer(&old->pdata[i]));
      return;
    }
  }
  ArCalSourceSettings set = {
      .kind = kind, .url = url, .user = user, .secret = secret, .ca_file = d->config->calendar_ca};
  g_autoptr(GError) error = NULL;
  Source *s = g_new0(Source, 1);
  s->desk = d;
  s->kind = kind;
  s->key = g_steal_pointer(&key);
  s->source = ar_cal_source_new(&set, &error);
  s->server = s->source ? g_strdup(ar_cal_source_display(s->source))
                        : g_strdup(kind == AR_CAL_SOURCE_FEED ? "feed" : "CalDAV");
  s->ok = s->source != NULL;
  if (!s->source)
    source_failed(s, error->message);
  else
    fetch(s);
  g_ptr_array_add(to, s);
}

void
ar_cal_desk_reload(ArCalDesk *d)
{
  const ArConfig *c = d->config;
  /* Sources whose settings did not change keep their list (a change of auto-join, say). */
  GPtrArray *old = d->sources;
  d->sources = g_ptr_array_new_with_free_func((GDestroyNotify)source_free);
  add_source(d, old, d->sources, AR_CAL_SOURCE_FEED, c->calendar_feed_url, NULL, NULL);
  add_source(d, old, d->sources, AR_CAL_SOURCE_CALDAV, c->calendar_caldav_url,
             c->calendar_caldav_user, c->calendar_caldav_password);
  g_ptr_array_set_size(d->merged, 0);
  g_ptr_array_unref(old);
  merge(d);
  if (d->refresh_min != c->calendar_refresh_min) {
    if (d->refresh)
      g_source_remove(d->refresh);
    d->refresh_min = c->calendar_refresh_min;
    d->refresh = g_timeout_add_seconds(c->calendar_refresh_min * 60, on_refresh, d);
  }
  if (!c->calendar_auto_join)
    ar_cal_desk_cancel_auto_join(d);
  changed(d, AR_CAL_DESK_CHANGED_MEETINGS);
}

GPtrArray *
ar_cal_desk_get_meetings(ArCalDesk *d)
{
  return d->merged;
}

guint
ar_cal_desk_n_sources(ArCalDesk *d)
{
  return d->sources->len;
}

void
ar_cal_desk_get_source(ArCalDesk *d, guint i, ArCalSourceState *out)
{
  Source *s = d->sources->pdata[i];
  *out = (ArCalSourceState){.kind = s->kind,
                            .server = s->server,
                            .ok = s->ok,
                            .error = s->error,
                            .updated = s->updated,
                            .checked = s->checked,
                            .meetings = s->meetings ? s->meetings->len : 0};
}

gboolean
ar_cal_desk_joinable(ArCalDesk *d, const ArMeeting *m)
{
  gint64 now = ar_cal_desk_now(d);
  return m->link && now >= m->start - (gint64)d->config->calendar_join_before_min * 60 &&
         now < m->end;
}

const ArMeeting *
ar_cal_desk_next(ArCalDesk *d)
{
  gint64 now = ar_cal_desk_now(d);
  const ArMeeting *best = NULL;
  for (guint i = 0; i < d->merged->len; i++) {
    const ArMeeting *m = d->merged->pdata[i];
    if (!ar_cal_desk_joinable(d, m))
      continue;
    if (!best || ABS(m->start - now) < ABS(best->start - now))
      best = m;
  }
  return best;
}

static const ArMeeting *
find(ArCalDesk *d, const char *id)
{
  for (guint i = 0; id && i < d->merged->len; i++) {
    const ArMeeting *m = d->merged->pdata[i];
    if (g_str_equal(m->id, id))
      return m;
  }
  return NULL;
}

gboolean
ar_cal_desk_join(ArCalDesk *d, const char *id, ArCallDoneFunc done, gpointer user_data,
                 GError **error)
{
  const ArMeeting *m = id ? find(d, id) : ar_cal_desk_next(d);
  if (!m) {
    g_set_error_literal(error, AR_CALL_ERROR, AR_CALL_ERROR_INVALID,
                        id ? "no such meeting in the room's calendar"
                           : "no meeting is in progress or about to start");
    return FALSE;
  }
  if (!m->link) {
    g_set_error_literal(error, AR_CALL_ERROR, AR_CALL_ERROR_INVALID,
                        "this meeting has no link the room can join");
    return FALSE;
  }
  if (!ar_cal_desk_joinable(d, m)) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_INVALID,
                "this meeting can be joined from %u minutes before it starts until it ends",
                d->config->calendar_join_before_min);
    return FALSE;
  }
  /* A join by hand ends the countdown; that meeting is not counted down again. */
  g_hash_table_add(d->auto_done, g_strdup(m->id));
  if (d->auto_id) {
    g_clear_pointer(&d->auto_id, g_free);
    changed(d, AR_CAL_DESK_CHANGED_AUTO_JOIN);
  }
  return ar_call_manager_join_link(d->calls, m->link, m->link_text, done, user_data, error);
}

gboolean
ar_cal_desk_get_auto_join(ArCalDesk *d, ArCalAutoJoin *out)
{
  const ArMeeting *m = find(d, d->auto_id);
  if (!m)
    return FALSE;
  *out = (ArCalAutoJoin){.meeting = m, .join_at = d->auto_join_at};
  return TRUE;
}

gboolean
ar_cal_desk_cancel_auto_join(ArCalDesk *d)
{
  if (!d->auto_id)
    return FALSE;
  g_message("calendar: auto-join cancelled");
  g_hash_table_add(d->auto_done, g_steal_pointer(&d->auto_id));
  changed(d, AR_CAL_DESK_CHANGED_AUTO_JOIN);
  return TRUE;
}

static void
auto_join_done(const GError *error, gpointer data)
{
  if (error)
    g_message("calendar: auto-join: %s", error->message);
}

/* The countdown: from countdown seconds before the start, while the room is idle. */
static void
auto_join_tick(ArCalDesk *d, gint64 now)
{
  const ArConfig *c = d->config;
  ArCallState st = ar_call_manager_get_state(d->calls);
  gboolean idle = !ar_call_state_is_active(st);
  if (d->auto_id) {
    const ArMeeting *m = find(d, d->auto_id);
    if (!m || !idle || !c->calendar_auto_join) {
      g_hash_table_add(d->auto_done, g_steal_pointer(&d->auto_id));
      changed(d, AR_CAL_DESK_CHANGED_AUTO_JOIN);
    } else if (now >= d->auto_join_at) {
      g_autofree char *id = g_steal_pointer(&d->auto_id);
      g_hash_table_add(d->auto_done, g_strdup(id));
      g_message("calendar: auto-joining the meeting that starts now");
      g_autoptr(GError) error = NULL;
      if (!ar_call_manager_join_link(d->calls, m->link, m->link_text, auto_join_done, NULL, &error))
        g_message("calendar: auto-join: %s", error->message);
      changed(d, AR_CAL_DESK_CHANGED_AUTO_JOIN);
    }
    return;
  }
  if (!c->calendar_auto_join || !idle)
    return;
  gint64 countdown = c->calendar_auto_join_countdown_s;
  for (guint i = 0; i < d->merged->len; i++) {
    const ArMeeting *m = d->merged->pdata[i];
    if (!m->link || m->all_day || g_hash_table_contains(d->auto_done, m->id))
      continue;
    if (now >= m->start - countdown && now < m->end && now < m->start + AR_CAL_AUTO_JOIN_LATE_S) {
      d->auto_id = g_strdup(m->id);
      /* The whole countdown is always shown, even to a room that was busy at the start. */
      d->auto_join_at = MAX(m->start, now + countdown);
      g_message("calendar: auto-join in %" G_GINT64_FORMAT " s", d->auto_join_at - now);
      changed(d, AR_CAL_DESK_CHANGED_AUTO_JOIN);
      return;
    }
  }
}

static gboolean
on_tick(gpointer data)
{
  ArCalDesk *d = data;
  gint64 now = ar_cal_desk_now(d);
  gint64 from, to;
  window(d, &from, &to);
  /* Past midnight: the cached calendars are expanded for the new day. */
  for (guint i = 0; i < d->sources->len; i++) {
    Source *s = d->sources->pdata[i];
    if (s->source && s->tried_from != from && !s->cancel)
      fetch(s);
  }
  /* What is joinable (or in progress, or gone) changed: the screens look again. */
  guint before = d->merged->len;
  merge(d);
  g_autoptr(GString) sig = g_string_new(NULL);
  for (guint i = 0; i < d->merged->len; i++) {
    const ArMeeting *m = d->merged->pdata[i];
    g_string_append_printf(sig, "%s%c%c;", m->id, ar_cal_desk_joinable(d, m) ? 'j' : '-',
                           now >= m->start ? 'p' : '-');
  }
  if (before != d->merged->len || g_strcmp0(sig->str, d->joinable_sig) != 0) {
    g_free(d->joinable_sig);
    d->joinable_sig = g_string_free(g_steal_pointer(&sig), FALSE);
    changed(d, AR_CAL_DESK_CHANGED_MEETINGS);
  }
  auto_join_tick(d, now);
  /* Bounded: what was counted down for meetings no longer listed (ended) is forgotten. */
  if (g_hash_table_size(d->auto_done) > 64) {
    GHashTableIter it;
    gpointer id;
    g_hash_table_iter_init(&it, d->auto_done);
    while (g_hash_table_iter_next(&it, &id, NULL))
      if (!find(d, id))
        g_hash_table_iter_remove(&it);
  }
  return G_SOURCE_CONTINUE;
}

ArCalDesk *
ar_cal_desk_new(ArCallManager *calls, const ArConfig *config)
{
  ArCalDesk *d = g_new0(ArCalDesk, 1);
  d->calls = calls;
  d->config = config;
  d->sources = g_ptr_array_new_with_free_func((GDestroyNotify)source_free);
  d->merged = g_ptr_array_new();
  d->auto_done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const char *clock = g_getenv("ANYROOM_TEST_CLOCK");
  if (clock && *clock) {
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(clock, NULL);
    if (t) {
      d->clock_offset = g_date_time_to_unix(t) - g_get_real_time() / G_USEC_PER_SEC;
      g_message("calendar: the lab's clock: %s", clock);
    } else {
      g_warning("calendar: ANYROOM_TEST_CLOCK is not an ISO 8601 time with a zone: ignored");
    }
  }
  d->tick = g_timeout_add_seconds(AR_CAL_DESK_TICK_S, on_tick, d);
  ar_cal_desk_reload(d);
  return d;
}

void
ar_cal_desk_set_changed_func(ArCalDesk *d, ArCalDeskChangedFunc func, gpointer user_data)
{
  d->changed = func;
  d->changed_data = user_data;
}

void
ar_cal_desk_free(ArCalDesk *d)
{
  if (!d)
    return;
  if (d->tick)
    g_source_remove(d->tick);
  if (d->refresh)
    g_source_remove(d->refresh);
  g_ptr_array_unref(d->merged);
  g_ptr_array_unref(d->sources);
  g_free(d->joinable_sig);
  g_free(d->auto_id);
  g_hash_table_unref(d->auto_done);
  g_free(d);
}
