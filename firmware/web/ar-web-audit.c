/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-audit.c: the audit log (ar-web-audit.h): two streams of JSON lines,
 * the budget of the unauthenticated one, rotation, the reader, and
 * GET /api/v1/audit. Never a secret in an entry. */
#include "ar-web-audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-janus-msg.h"
#include "ar-log.h"
#include "ar-web-priv.h"

#define FIELD_MAX 96 /* bytes of event, client or actor written */

/* ---- streams and kinds ---- */

ArAuditStream
ar_audit_stream_of(const char *event, gboolean authenticated_caller)
{
  /* These prove a credential (the password, the pairing code) or follow an
   * admin session that ended with them: no one without one can make them. */
  static const char *const proven[] = {"login", "setup", "panel-paired", "factory_reset"};
  if (authenticated_caller)
    return AR_AUDIT_AUTHENTICATED;
  for (gsize i = 0; event && i < G_N_ELEMENTS(proven); i++)
    if (g_str_equal(event, proven[i]))
      return AR_AUDIT_AUTHENTICATED;
  return AR_AUDIT_UNAUTHENTICATED;
}

gboolean
ar_audit_kind_is_credential(const char *kind)
{
  return kind && (g_str_has_prefix(kind, "login") || g_str_has_prefix(kind, "setup"));
}

const char *
ar_audit_stream_name(ArAuditStream stream)
{
  return stream == AR_AUDIT_AUTHENTICATED ? "authenticated" : "unauthenticated";
}

/* ---- budget ---- */

typedef struct {
  char *kind;
  gint64 minute_start_us;
  guint minute_used;
  gint64 hour_start_us;
  guint hour_used;
  guint suppressed;
  gint64 first_suppressed_us;
  GHashTable *addresses; /* distinct clients of the suppressed entries */
  gboolean capped;
} KindBudget;

struct _ArAuditBudget {
  GPtrArray *kinds; /* KindBudget*; at most AR_AUDIT_MAX_KINDS + 1 ("other") */
};

static void
kind_budget_free(KindBudget *k)
{
  if (!k)
    return;
  g_free(k->kind);
  g_hash_table_unref(k->addresses);
  g_free(k);
}

ArAuditBudget *
ar_audit_budget_new(void)
{
  ArAuditBudget *b = g_new0(ArAuditBudget, 1);
  b->kinds = g_ptr_array_new_with_free_func((GDestroyNotify)kind_budget_free);
  return b;
}

void
ar_audit_budget_free(ArAuditBudget *b)
{
  if (!b)
    return;
  g_ptr_array_unref(b->kinds);
  g_free(b);
}

void
ar_audit_summary_free(ArAuditSummary *sum)
{
  if (!sum)
    return;
  g_free(sum->kind);
  g_free(sum);
}

static KindBudget *
kind_budget(ArAuditBudget *b, const char *kind)
{
  for (guint i = 0; i < b->kinds->len; i++) {
    KindBudget *k = b->kinds->pdata[i];
    if (g_str_equal(k->kind, kind))
      return k;
  }
  /* Event names come from our code, but a bound is a bound: past
   * AR_AUDIT_MAX_KINDS the rest share one budget. */
  if (b->kinds->len >= AR_AUDIT_MAX_KINDS && !g_str_equal(kind, "other"))
    return kind_budget(b, "other");
  KindBudget *k = g_new0(KindBudget, 1);
  k->kind = g_strdup(kind);
  k->addresses = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  k->minute_start_us = G_MININT64;
  k->hour_start_us = G_MININT64;
  g_ptr_array_add(b->kinds, k);
  return k;
}

gboolean
ar_audit_budget_admit(ArAuditBudget *b, const char *kind, const char *client, gint64 now_us)
{
  KindBudget *k = kind_budget(b, kind ? kind : "other");
  if (k->minute_start_us == G_MININT64 || now_us - k->minute_start_us >= AR_AUDIT_WINDOW_US) {
    k->minute_start_us = now_us;
    k->minute_used = 0;
  }
  if (k->hour_start_us == G_MININT64 || now_us - k->hour_start_us >= AR_AUDIT_HOUR_US) {
    k->hour_start_us = now_us;
    k->hour_used = 0;
  }
  if (k->minute_used < AR_AUDIT_KIND_PER_MINUTE && k->hour_used < AR_AUDIT_KIND_PER_HOUR) {
    k->minute_used++;
    k->hour_used++;
    return TRUE;
  }
  if (k->suppressed == 0)
    k->first_suppressed_us = now_us;
  if (k->suppressed < G_MAXUINT)
    k->suppressed++;
  const char *c = client ? client : "-";
  if (!g_hash_table_contains(k->addresses, c)) {
    if (g_hash_table_size(k->addresses) < AR_AUDIT_MAX_ADDRESSES)
      g_hash_table_add(k->addresses, g_strndup(c, FIELD_MAX));
    else
      k->capped = TRUE;
  }
  return FALSE;
}

GPtrArray *
ar_audit_budget_take_summaries(ArAuditBudget *b, gint64 now_us, gboolean all)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_audit_summary_free);
  for (guint i = 0; i < b->kinds->len; i++) {
    KindBudget *k = b->kinds->pdata[i];
    if (k->suppressed == 0 || (!all && now_us < k->first_suppressed_us + AR_AUDIT_WINDOW_US))
      continue;
    ArAuditSummary *sum = g_new0(ArAuditSummary, 1);
    sum->kind = g_strdup(k->kind);
    sum->count = k->suppressed;
    sum->addresses = g_hash_table_size(k->addresses);
    sum->capped = k->capped;
    sum->seconds = MAX(0, (now_us - k->first_suppressed_us) / G_USEC_PER_SEC);
    g_ptr_array_add(out, sum);
    k->suppressed = 0;
    k->capped = FALSE;
    g_hash_table_remove_all(k->addresses);
  }
  return out;
}

gint64
ar_audit_budget_next_due(ArAuditBudget *b)
{
  gint64 due = 0;
  for (guint i = 0; i < b->kinds->len; i++) {
    KindBudget *k = b->kinds->pdata[i];
    if (k->suppressed == 0)
      continue;
    gint64 d = k->first_suppressed_us + AR_AUDIT_WINDOW_US;
    if (!due || d < due)
      due = d;
  }
  return due;
}

char *
ar_audit_summary_text(const ArAuditSummary *sum)
{
  return g_strdup_printf("%u %s from %s%u address%s suppressed in %" G_GINT64_FORMAT " s",
                         sum->count, sum->kind, sum->capped ? "more than " : "", sum->addresses,
                         sum->addresses == 1 && !sum->capped ? "" : "es", sum->seconds);
}

/* ---- lines ---- */

char *
ar_audit_now_text(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *base = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf("%s.%03dZ", base, g_date_time_get_microsecond(now) / 1000);
}

/* At most @max bytes of valid UTF-8 from @s, cut at a character boundary. */
static char *
bounded_text(const char *s, gsize max)
{
  if (!s)
    return NULL;
  g_autofree char *valid = g_utf8_make_valid(s, -1);
  gsize len = strlen(valid);
  if (len <= max)
    return g_steal_pointer(&valid);
  const char *end = g_utf8_find_prev_char(valid, valid + max + 1);
  while (end && (gsize)(end - valid) > max)
    end = g_utf8_find_prev_char(valid, end);
  return g_strndup(valid, end ? (gsize)(end - valid) : 0);
}

/* Defence in depth: callers pass no secrets, but a URL in a detail (an
 * update source) loses its userinfo, query and fragment, and what the log
 * ring blanks (API tokens, TURN passwords) is blanked here too. */
static char *
blank_credentials(const char *detail)
{
  g_autofree char *r = ar_log_redact(detail);
  GString *out = g_string_new(NULL);
  const char *p = r;
  const char *scheme;
  while ((scheme = strstr(p, "://"))) {
    const char *host = scheme + 3;
    gsize span = strcspn(host, " \t\"'<>");
    const char *end = host + span;
    g_string_append_len(out, p, host - p);
    const char *path = host + strcspn(host, "/?# \t\"'<>");
    const char *at = memchr(host, '@', (gsize)(MIN(path, end) - host));
    const char *h = at ? at + 1 : host;
    gsize keep = strcspn(h, "?# \t\"'<>");
    if (h + keep > end)
      keep = (gsize)(end - h);
    g_string_append_len(out, h, (gssize)keep);
    p = end;
  }
  g_string_append(out, p);
  return g_string_free(out, FALSE);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value, gsize max)
{
  g_autofree char *v = bounded_text(value, max);
  json_builder_set_member_name(b, name);
  if (v)
    json_builder_add_string_value(b, v);
  else
    json_builder_add_null_value(b);
}

static char *
builder_line(JsonBuilder *b)
{
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  return json_to_string(node, FALSE);
}

char *
ar_audit_format_line(const char *time, const char *event, const char *client, const char *actor,
                     const char *detail)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "time", time, 64);
  add_string(b, "event", event ? event : "unknown", FIELD_MAX);
  add_string(b, "client", client, FIELD_MAX);
  add_string(b, "actor", actor, FIELD_MAX);
  if (detail) {
    g_autofree char *clean = blank_credentials(detail);
    add_string(b, "detail", clean, AR_AUDIT_DETAIL_MAX);
  }
  json_builder_end_object(b);
  return builder_line(b);
}

char *
ar_audit_format_summary(const char *time, const ArAuditSummary *sum)
{
  g_autofree char *text = ar_audit_summary_text(sum);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "time", time, 64);
  add_string(b, "event", "suppressed", FIELD_MAX);
  add_string(b, "client", NULL, 0);
  add_string(b, "actor", NULL, 0);
  add_string(b, "detail", text, AR_AUDIT_DETAIL_MAX);
  add_string(b, "suppressed_event", sum->kind, FIELD_MAX);
  json_builder_set_member_name(b, "count");
  json_builder_add_int_value(b, sum->count);
  json_builder_set_member_name(b, "addresses");
  json_builder_add_int_value(b, sum->addresses);
  json_builder_set_member_name(b, "seconds");
  json_builder_add_int_value(b, sum->seconds);
  json_builder_end_object(b);
  return builder_line(b);
}

JsonObject *
ar_audit_parse_line(const char *line, gsize len)
{
  if (len == 0 || len > AR_AUDIT_LINE_MAX || memchr(line, '\0', len) ||
      !g_utf8_validate(line, (gssize)len, NULL) || !ar_json_depth_ok(line, len, 2))
    return NULL;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!json_parser_load_from_data(p, line, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonObject *o = json_node_get_object(root);
  JsonNode *t = json_object_get_member(o, "time");
  JsonNode *e = json_object_get_member(o, "event");
  if (!t || !e || json_node_get_value_type(t) != G_TYPE_STRING ||
      json_node_get_value_type(e) != G_TYPE_STRING)
    return NULL;
  return json_object_ref(o);
}

void
ar_audit_parse_lines_backwards(const char *data, gsize len, gboolean partial_start,
                               ArAuditEntryFunc func, gpointer user_data)
{
  const char *first = data;
  if (partial_start) {
    const char *nl = memchr(data, '\n', len);
    if (!nl)
      return;
    first = nl + 1;
  }
  const char *end = data + len;
  while (end > first) {
    const char *start = end;
    while (start > first && start[-1] != '\n')
      start--;
    g_autoptr(JsonObject) o = ar_audit_parse_line(start, (gsize)(end - start));
    if (o && !func(o, user_data))
      return;
    end = start > first ? start - 1 : first;
  }
}

/* ---- files ---- */

typedef struct {
  gboolean failed; /* the last write failed: said once */
} StreamState;

struct _ArAuditLog {
  char *dir;
  gsize max_bytes;
  StreamState streams[2];
};

ArAuditLog *
ar_audit_log_new(const char *dir, gsize max_bytes)
{
  ArAuditLog *log = g_new0(ArAuditLog, 1);
  log->dir = g_strdup(dir);
  log->max_bytes = max_bytes;
  return log;
}

void
ar_audit_log_free(ArAuditLog *log)
{
  if (!log)
    return;
  g_free(log->dir);
  g_free(log);
}

char *
ar_audit_log_path(ArAuditLog *log, ArAuditStream stream, guint gen)
{
  const char *base = stream == AR_AUDIT_AUTHENTICATED ? "audit.log" : "audit-unauth.log";
  g_autofree char *name = gen ? g_strdup_printf("%s.%u", base, gen) : g_strdup(base);
  return g_build_filename(log->dir, name, NULL);
}

static void
rotate(ArAuditLog *log, ArAuditStream stream)
{
  for (guint gen = AR_AUDIT_GENERATIONS - 1; gen > 0; gen--) {
    g_autofree char *from = ar_audit_log_path(log, stream, gen - 1);
    g_autofree char *to = ar_audit_log_path(log, stream, gen);
    if (rename(from, to) != 0 && errno != ENOENT)
      g_debug("audit: cannot rename %s: %s", from, g_strerror(errno));
  }
}

static int
open_for_append(const char *path, struct stat *st)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0)
    return -1;
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  if ((st->st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

gboolean
ar_audit_log_append(ArAuditLog *log, ArAuditStream stream, const char *line)
{
  StreamState *ss = &log->streams[stream];
  g_autofree char *path = ar_audit_log_path(log, stream, 0);
  g_autofree char *text = g_strconcat(line, "\n", NULL);
  gsize len = strlen(text);
  struct stat st;
  int fd = open_for_append(path, &st);
  if (fd >= 0 && st.st_size > 0 && (gsize)st.st_size + len > log->max_bytes) {
    close(fd);
    rotate(log, stream);
    fd = open_for_append(path, &st);
  }
  gboolean ok = fd >= 0;
  int err = errno;
  if (ok) {
    ssize_t n = write(fd, text, len);
    err = errno;
    ok = n == (ssize_t)len;
    if (n >= 0 && !ok)
      err = ENOSPC;
    close(fd);
  }
  if (!ok && !ss->failed)
    g_warning("admin: cannot write the audit log %s: %s (said once until it works again)", path,
              g_strerror(err));
  else if (ok && ss->failed)
    g_message("admin: the audit log %s is written again", path);
  ss->failed = !ok;
  return ok;
}

/* The last @limit bytes of a regular file (not a link, FIFO or device). */
static char *
read_tail(const char *path, gsize limit, gsize *len, gboolean *partial)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return NULL;
  }
  gsize size = (gsize)st.st_size;
  off_t off = size > limit ? (off_t)(size - limit) : 0;
  gsize want = size > limit ? limit : size;
  char *buf = g_malloc(want + 1);
  gsize got = 0;
  while (got < want) {
    ssize_t n = pread(fd, buf + got, want - got, off + (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (gsize)n;
  }
  close(fd);
  buf[got] = '\0';
  *len = got;
  *partial = off > 0;
  return buf;
}

typedef struct {
  ArAuditStream stream;
  GPtrArray *auth;  /* JsonObject*, newest first */
  GPtrArray *creds; /* unauthenticated credential guesses */
  GPtrArray *other; /* the rest of the unauthenticated stream */
} Collect;

static const char *
kind_of(JsonObject *o)
{
  const char *event = json_object_get_string_member_with_default(o, "event", NULL);
  if (g_strcmp0(event, "suppressed") == 0)
    return json_object_get_string_member_with_default(o, "suppressed_event", NULL);
  return event;
}

static gboolean
collect_entry(JsonObject *o, gpointer data)
{
  Collect *c = data;
  GPtrArray *into;
  guint max;
  if (c->stream == AR_AUDIT_AUTHENTICATED) {
    into = c->auth;
    max = AR_AUDIT_LIST_AUTHENTICATED;
  } else if (ar_audit_kind_is_credential(kind_of(o))) {
    into = c->creds;
    max = AR_AUDIT_LIST_CREDENTIALS;
  } else {
    into = c->other;
    max = AR_AUDIT_LIST_OTHER;
  }
  if (into->len < max)
    g_ptr_array_add(into, json_object_ref(o));
  if (c->stream == AR_AUDIT_AUTHENTICATED)
    return c->auth->len < AR_AUDIT_LIST_AUTHENTICATED;
  return c->creds->len < AR_AUDIT_LIST_CREDENTIALS || c->other->len < AR_AUDIT_LIST_OTHER;
}

static gboolean
collect_full(Collect *c)
{
  if (c->stream == AR_AUDIT_AUTHENTICATED)
    return c->auth->len >= AR_AUDIT_LIST_AUTHENTICATED;
  return c->creds->len >= AR_AUDIT_LIST_CREDENTIALS && c->other->len >= AR_AUDIT_LIST_OTHER;
}

/* Newest first, across generations. */
static void
collect_stream(ArAuditLog *log, Collect *c)
{
  for (guint gen = 0; gen < AR_AUDIT_GENERATIONS && !collect_full(c); gen++) {
    g_autofree char *path = ar_audit_log_path(log, c->stream, gen);
    gsize len = 0;
    gboolean partial = FALSE;
    /* A generation is at most max_bytes plus one line; a bigger file was
     * not written by us: only its tail is read. */
    g_autofree char *data = read_tail(path, log->max_bytes + AR_AUDIT_LINE_MAX, &len, &partial);
    if (data)
      ar_audit_parse_lines_backwards(data, len, partial, collect_entry, c);
  }
}

static void
mark(GPtrArray *a, const char *stream)
{
  for (guint i = 0; i < a->len; i++)
    json_object_set_string_member(a->pdata[i], "stream", stream);
}

/* Takes the oldest of the tails of @lists (each newest first, consumed from
 * the end). */
static JsonObject *
take_oldest(GPtrArray **lists, gsize n)
{
  GPtrArray *best = NULL;
  const char *best_time = NULL;
  for (gsize i = 0; i < n; i++) {
    if (!lists[i]->len)
      continue;
    JsonObject *o = lists[i]->pdata[lists[i]->len - 1];
    const char *t = json_object_get_string_member_with_default(o, "time", "");
    if (!best || strcmp(t, best_time) < 0) {
      best = lists[i];
      best_time = t;
    }
  }
  return best ? g_ptr_array_steal_index(best, best->len - 1) : NULL;
}

JsonArray *
ar_audit_log_list(ArAuditLog *log)
{
  GDestroyNotify unref = (GDestroyNotify)json_object_unref;
  g_autoptr(GPtrArray) auth = g_ptr_array_new_with_free_func(unref);
  g_autoptr(GPtrArray) creds = g_ptr_array_new_with_free_func(unref);
  g_autoptr(GPtrArray) other = g_ptr_array_new_with_free_func(unref);
  Collect c = {AR_AUDIT_AUTHENTICATED, auth, creds, other};
  collect_stream(log, &c);
  c.stream = AR_AUDIT_UNAUTHENTICATED;
  collect_stream(log, &c);
  mark(auth, ar_audit_stream_name(AR_AUDIT_AUTHENTICATED));
  mark(creds, ar_audit_stream_name(AR_AUDIT_UNAUTHENTICATED));
  mark(other, ar_audit_stream_name(AR_AUDIT_UNAUTHENTICATED));
  GPtrArray *lists[] = {auth, creds, other};
  JsonArray *out = json_array_new();
  JsonObject *o;
  while ((o = take_oldest(lists, G_N_ELEMENTS(lists))))
    json_array_add_object_element(out, o);
  return out;
}

void
ar_audit_log_forget(ArAuditLog *log)
{
  for (int stream = 0; stream < 2; stream++)
    for (guint gen = 0; gen < AR_AUDIT_GENERATIONS; gen++) {
      g_autofree char *path = ar_audit_log_path(log, stream, gen);
      if (unlink(path) != 0 && errno != ENOENT)
        g_warning("admin: factory reset: cannot remove %s: %s", path, g_strerror(errno));
    }
  log->streams[0].failed = log->streams[1].failed = FALSE;
}

/* ---- the server's side ---- */

struct _ArWebAudit {
  ArAuditLog *log;
  ArAuditBudget *budget;
  guint timer; /* writes the summaries when they are due */
};

static void write_summaries(ArWebServer *s, gboolean all);

static gboolean
summary_due(gpointer data)
{
  ArWebServer *s = data;
  s->audit->timer = 0;
  write_summaries(s, FALSE);
  return G_SOURCE_REMOVE;
}

static void
arm_timer(ArWebServer *s)
{
  ArWebAudit *a = s->audit;
  gint64 due = ar_audit_budget_next_due(a->budget);
  if (a->timer || !due)
    return;
  gint64 ms = MAX(0, (due - g_get_monotonic_time() + 999) / 1000);
  a->timer = g_timeout_add((guint)MIN(ms, AR_AUDIT_WINDOW_US / 1000) + 10, summary_due, s);
}

static void
write_summaries(ArWebServer *s, gboolean all)
{
  ArWebAudit *a = s->audit;
  g_autoptr(GPtrArray) sums =
      ar_audit_budget_take_summaries(a->budget, g_get_monotonic_time(), all);
  g_autofree char *now = ar_audit_now_text();
  for (guint i = 0; i < sums->len; i++) {
    ArAuditSummary *sum = sums->pdata[i];
    g_autofree char *line = ar_audit_format_summary(now, sum);
    g_autofree char *text = ar_audit_summary_text(sum);
    ar_audit_log_append(a->log, AR_AUDIT_UNAUTHENTICATED, line);
    g_message("admin: audit: %s", text);
  }
  arm_timer(s);
}

static void
audit_write(ArWebServer *s, const char *client, const char *actor, const char *event,
            const char *detail, gboolean authenticated)
{
  ArWebAudit *a = s->audit;
  if (!a)
    return;
  ArAuditStream stream = ar_audit_stream_of(event, authenticated);
  if (stream == AR_AUDIT_UNAUTHENTICATED &&
      !ar_audit_budget_admit(a->budget, event, client, g_get_monotonic_time())) {
    g_debug("admin: audit %s from %s suppressed (budget)", event, client ? client : "-");
    arm_timer(s);
    return;
  }
  g_autofree char *now = ar_audit_now_text();
  g_autofree char *line = ar_audit_format_line(now, event, client, actor, detail);
  ar_audit_log_append(a->log, stream, line);
  g_message("admin: audit %s from %s", event, client ? client : "-");
}

void
ar_web_audit(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller, const char *event,
             const char *detail)
{
  g_autofree char *actor = NULL;
  if (caller && caller->token)
    actor = g_strdup_printf("token:%s", caller->token->name);
  else if (caller && caller->session)
    actor = g_strdup("admin");
  else if (caller && caller->panel && g_str_has_prefix(caller->owner, "panel:"))
    actor = g_strdup(caller->owner);
  else if (caller && caller->room)
    actor = g_strdup("room screen");
  else if (g_strcmp0(event, "login") == 0 || g_strcmp0(event, "setup") == 0 ||
           g_strcmp0(event, "factory_reset") == 0)
    actor = g_strdup("admin");
  else if (g_strcmp0(event, "panel-paired") == 0 && detail)
    actor = g_strconcat("panel:", detail, NULL);
  gboolean authenticated =
      caller && (caller->token || caller->session || caller->panel || caller->room);
  audit_write(s, msg ? ar_web_client_of(msg) : NULL, actor, event, detail, authenticated);
}

/* Changes made over the local socket (anyroomctl), from the hub. */
void
ar_web_audit_local(const char *event, const char *detail, gpointer data)
{
  audit_write(data, "local socket", "owner", event, detail, TRUE);
}

void
ar_web_audit_forget(ArWebServer *s)
{
  if (!s->audit)
    return;
  ar_audit_log_forget(s->audit->log);
  g_clear_pointer(&s->audit->budget, ar_audit_budget_free);
  s->audit->budget = ar_audit_budget_new();
  g_clear_handle_id(&s->audit->timer, g_source_remove);
}

static void
handle_audit(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  /* What was suppressed so far is written now: the admin sees it at once. */
  write_summaries(s, TRUE);
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "entries", ar_audit_log_list(s->audit->log));
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

void
ar_web_audit_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/audit", "GET", AR_WEB_AUTH_SESSION, handle_audit},
  };
  s->audit = g_new0(ArWebAudit, 1);
  s->audit->log = ar_audit_log_new(s->state_dir, AR_WEB_AUDIT_MAX_BYTES);
  s->audit->budget = ar_audit_budget_new();
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}

void
ar_web_audit_free(ArWebServer *s)
{
  if (!s->audit)
    return;
  /* What was suppressed is on disk before anyroomd stops. */
  write_summaries(s, TRUE);
  g_clear_handle_id(&s->audit->timer, g_source_remove);
  ar_audit_budget_free(s->audit->budget);
  ar_audit_log_free(s->audit->log);
  g_clear_pointer(&s->audit, g_free);
}
