/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log without a server (firmware/web/ar-web-audit.h): streams,
 * the budget of the unauthenticated stream (an injected clock), summaries,
 * rotation across generations, the listing's quotas, hostile files. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-web-audit.h"

#define SEC G_GINT64_CONSTANT(1000000)
#define T0 (G_GINT64_CONSTANT(1000) * SEC) /* any monotonic start */

static void
test_stream_of(void)
{
  g_assert_cmpint(ar_audit_stream_of("join", TRUE), ==, AR_AUDIT_AUTHENTICATED);
  g_assert_cmpint(ar_audit_stream_of("pairing-started", TRUE), ==, AR_AUDIT_AUTHENTICATED);
  for (const char *const *e =
           (const char *const[]){"login", "setup", "panel-paired", "factory_reset", NULL};
       *e; e++)
    g_assert_cmpint(ar_audit_stream_of(*e, FALSE), ==, AR_AUDIT_AUTHENTICATED);
  for (const char *const *e =
           (const char *const[]){"login_failed", "login_failed_locked", "login_refused_locked",
                                 "pairing-started", "pairing-failed", "setup_code_refused", "join",
                                 "anything-new", NULL};
       *e; e++)
    g_assert_cmpint(ar_audit_stream_of(*e, FALSE), ==, AR_AUDIT_UNAUTHENTICATED);
  g_assert_cmpint(ar_audit_stream_of(NULL, FALSE), ==, AR_AUDIT_UNAUTHENTICATED);
  g_assert_true(ar_audit_kind_is_credential("login_failed"));
  g_assert_true(ar_audit_kind_is_credential("setup_code_refused"));
  g_assert_false(ar_audit_kind_is_credential("pairing-started"));
  g_assert_false(ar_audit_kind_is_credential(NULL));
}

static char *
addr(guint i)
{
  return g_strdup_printf("10.98.%u.%u", 1 + i / 256, i % 256);
}

/* A flood of one kind from many addresses gets its per-minute budget; every
 * other kind, failed logins first, still gets its own. */
static void
test_budget_per_kind(void)
{
  g_autoptr(ArAuditBudget) b = ar_audit_budget_new();
  guint admitted = 0;
  for (guint i = 0; i < 500; i++) {
    g_autofree char *a = addr(i % 30);
    admitted += ar_audit_budget_admit(b, "pairing-started", a, T0 + i * 1000);
  }
  g_assert_cmpuint(admitted, ==, AR_AUDIT_KIND_PER_MINUTE);
  for (guint i = 0; i < AR_AUDIT_KIND_PER_MINUTE; i++)
    g_assert_true(ar_audit_budget_admit(b, "login_failed", "10.98.9.9", T0 + SEC));
  g_assert_false(ar_audit_budget_admit(b, "login_failed", "10.98.9.9", T0 + SEC));
  g_assert_true(ar_audit_budget_admit(b, "pairing-failed", "10.98.9.9", T0 + SEC));
  /* A minute later, a new minute budget. */
  g_assert_true(ar_audit_budget_admit(b, "pairing-started", "10.98.1.1", T0 + 61 * SEC));
}

/* Sustained: at most AR_AUDIT_KIND_PER_HOUR an hour, whatever the minutes say. */
static void
test_budget_per_hour(void)
{
  g_autoptr(ArAuditBudget) b = ar_audit_budget_new();
  guint admitted = 0;
  gint64 t = T0;
  for (guint min = 0; min < 60; min++)
    for (guint i = 0; i < 100; i++)
      admitted +=
          ar_audit_budget_admit(b, "pairing-started", "10.98.1.1", t + min * 60 * SEC + i * 100000);
  g_assert_cmpuint(admitted, ==, AR_AUDIT_KIND_PER_HOUR);
  /* The next hour starts at the first entry after an hour. */
  g_assert_true(ar_audit_budget_admit(b, "pairing-started", "10.98.1.1", t + 3600 * SEC));
}

static void
test_budget_summaries(void)
{
  g_autoptr(ArAuditBudget) b = ar_audit_budget_new();
  g_assert_cmpint(ar_audit_budget_next_due(b), ==, 0);
  for (guint i = 0; i < AR_AUDIT_KIND_PER_MINUTE + 412; i++) {
    g_autofree char *a = addr(i % 30);
    ar_audit_budget_admit(b, "pairing-started", a, T0 + 2 * SEC + i * 1000);
  }
  gint64 first = T0 + 2 * SEC + AR_AUDIT_KIND_PER_MINUTE * 1000;
  g_assert_cmpint(ar_audit_budget_next_due(b), ==, first + AR_AUDIT_WINDOW_US);
  /* Not due yet. */
  g_autoptr(GPtrArray) none = ar_audit_budget_take_summaries(b, first + 59 * SEC, FALSE);
  g_assert_cmpuint(none->len, ==, 0);
  g_autoptr(GPtrArray) due = ar_audit_budget_take_summaries(b, first + 60 * SEC, FALSE);
  g_assert_cmpuint(due->len, ==, 1);
  ArAuditSummary *s = due->pdata[0];
  g_assert_cmpstr(s->kind, ==, "pairing-started");
  g_assert_cmpuint(s->count, ==, 412);
  g_assert_cmpuint(s->addresses, ==, 30);
  g_assert_false(s->capped);
  g_assert_cmpint(s->seconds, ==, 60);
  g_autofree char *text = ar_audit_summary_text(s);
  g_assert_cmpstr(text, ==, "412 pairing-started from 30 addresses suppressed in 60 s");
  /* Taken: nothing pending until the next suppressed entry. */
  g_assert_cmpint(ar_audit_budget_next_due(b), ==, 0);
  g_autoptr(GPtrArray) again = ar_audit_budget_take_summaries(b, first + 600 * SEC, TRUE);
  g_assert_cmpuint(again->len, ==, 0);
}

static void
test_budget_address_cap(void)
{
  g_autoptr(ArAuditBudget) b = ar_audit_budget_new();
  for (guint i = 0; i < 1200 + AR_AUDIT_KIND_PER_MINUTE; i++) {
    g_autofree char *a = addr(i % 1200);
    ar_audit_budget_admit(b, "pairing-started", a, T0);
  }
  g_autoptr(GPtrArray) all = ar_audit_budget_take_summaries(b, T0, TRUE);
  g_assert_cmpuint(all->len, ==, 1);
  ArAuditSummary *s = all->pdata[0];
  g_assert_cmpuint(s->count, ==, 1200);
  g_assert_cmpuint(s->addresses, ==, AR_AUDIT_MAX_ADDRESSES);
  g_assert_true(s->capped);
  g_autofree char *text = ar_audit_summary_text(s);
  g_assert_cmpstr(text, ==, "1200 pairing-started from more than 256 addresses suppressed in 0 s");
}

/* Kinds are bounded: past AR_AUDIT_MAX_KINDS they share "other". */
static void
test_budget_kinds_bounded(void)
{
  g_autoptr(ArAuditBudget) b = ar_audit_budget_new();
  guint admitted = 0;
  for (guint k = 0; k < 1000; k++) {
    g_autofree char *kind = g_strdup_printf("kind-%u", k);
    admitted += ar_audit_budget_admit(b, kind, "10.98.1.1", T0);
  }
  g_assert_cmpuint(admitted, ==, AR_AUDIT_MAX_KINDS + AR_AUDIT_KIND_PER_MINUTE);
  g_autoptr(GPtrArray) all = ar_audit_budget_take_summaries(b, T0, TRUE);
  g_assert_cmpuint(all->len, ==, 1);
  g_assert_cmpstr(((ArAuditSummary *)all->pdata[0])->kind, ==, "other");
}

static void
test_format_bounded_no_secrets(void)
{
  g_autofree char *line = ar_audit_format_line(
      "2026-11-21T00:46:14.123Z", "update-install", "10.0.0.5", "token:crestron",
      "https://user:hunter22@updates.example.org/b/anyroom.raucb?sig=SECRETSIG#frag and "
      "art_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_assert_null(strstr(line, "hunter22"));
  g_assert_null(strstr(line, "SECRETSIG"));
  g_assert_null(strstr(line, "0123456789abcdef0123456789abcdef"));
  g_assert_nonnull(strstr(line, "https://updates.example.org/b/anyroom.raucb"));
  g_assert_null(strchr(line, '\n'));
  /* Huge and invalid values are cut, valid UTF-8, one parsable line. */
  g_autofree char *huge = g_strnfill(100000, 'x');
  char bad[] = {'a', (char)0xff, (char)0xfe, 'b', '\n', '"', 0};
  g_autofree char *l2 = ar_audit_format_line("t", huge, bad, huge, huge);
  g_assert_cmpuint(strlen(l2), <, AR_AUDIT_LINE_MAX);
  g_assert_true(g_utf8_validate(l2, -1, NULL));
  g_assert_null(strchr(l2, '\n'));
  g_autoptr(JsonObject) o = ar_audit_parse_line(l2, strlen(l2));
  g_assert_nonnull(o);
  /* A multi-byte character is never cut in half. */
  g_autoptr(GString) e = g_string_new(NULL);
  for (guint i = 0; i < 400; i++)
    g_string_append(e, "é");
  g_autofree char *l3 = ar_audit_format_line("t", "x", NULL, NULL, e->str);
  g_assert_true(g_utf8_validate(l3, -1, NULL));
  g_autoptr(JsonObject) o3 = ar_audit_parse_line(l3, strlen(l3));
  g_assert_cmpuint(strlen(json_object_get_string_member(o3, "detail")), ==, AR_AUDIT_DETAIL_MAX);
}

static void
test_parse_hostile(void)
{
  const char *good = "{\"time\":\"2026-11-21T00:46:14.123Z\",\"event\":\"login\"}";
  g_autoptr(JsonObject) ok = ar_audit_parse_line(good, strlen(good));
  g_assert_nonnull(ok);
  const char *bad[] = {
      "",
      "not json",
      "{\"time\":\"t\"}",
      "{\"time\":1,\"event\":\"login\"}",
      "{\"time\":\"t\",\"event\":{\"a\":1}}",
      "[\"time\",\"event\"]",
      "{\"time\":\"t\",\"event\":\"x\",\"d\":[[[[[[[[1]]]]]]]]}",
      "{\"time\":\"t\",\"event\":\"x\"",
      "\x89PNG\r\n\x1a\n",
      "{\"time\":\"t\",\"event\":\"\xff\xfe\"}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonObject) o = ar_audit_parse_line(bad[i], strlen(bad[i]));
    g_assert_null(o);
  }
  const char nul[] = "{\"time\":\"t\",\"event\":\"lo\0gin\"}";
  g_assert_null(ar_audit_parse_line(nul, sizeof nul - 1));
  g_autoptr(GString) big = g_string_new("{\"time\":\"t\",\"event\":\"");
  while (big->len < AR_AUDIT_LINE_MAX + 10)
    g_string_append_c(big, 'a');
  g_string_append(big, "\"}");
  g_assert_null(ar_audit_parse_line(big->str, big->len));
}

static gboolean
collect_events(JsonObject *o, gpointer data)
{
  GPtrArray *events = data;
  g_ptr_array_add(events, g_strdup(json_object_get_string_member(o, "event")));
  return events->len < 4;
}

static char *
events_of(const char *data, gssize len, gboolean partial)
{
  g_autoptr(GPtrArray) ev = g_ptr_array_new_with_free_func(g_free);
  ar_audit_parse_lines_backwards(data, len < 0 ? strlen(data) : (gsize)len, partial, collect_events,
                                 ev);
  g_ptr_array_add(ev, NULL);
  return g_strjoinv(" ", (char **)ev->pdata);
}

static void
test_parse_backwards(void)
{
  const char *data = "{\"time\":\"t\",\"event\":\"first\"}\n"
                     "garbage\n"
                     "{\"time\":\"t\",\"event\":\"a\"}\n"
                     "\n"
                     "{\"time\":\"t\",\"event\":\"b\"}\n"
                     "{\"time\":\"t\",\"event\":\"c\"}\n";
  g_autofree char *all = events_of(data, -1, FALSE);
  g_assert_cmpstr(all, ==, "c b a first");
  /* A partial first line (a read that started mid-file) is skipped, even
   * when what is left of it parses. */
  g_autofree char *cut = events_of(data, -1, TRUE);
  g_assert_cmpstr(cut, ==, "c b a");
  /* The callback stops the walk. */
  g_autofree char *more = g_strconcat(data, "{\"time\":\"t\",\"event\":\"d\"}", NULL);
  g_autofree char *four = events_of(more, -1, FALSE);
  g_assert_cmpstr(four, ==, "d c b a");
  g_autofree char *none1 = events_of("no newline at all", -1, TRUE);
  g_autofree char *none2 = events_of("", 0, FALSE);
  g_autofree char *none3 = events_of("\n\n\n", -1, FALSE);
  g_assert_cmpstr(none1, ==, "");
  g_assert_cmpstr(none2, ==, "");
  g_assert_cmpstr(none3, ==, "");
}

static char *
tmp_dir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("ar-audit-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static void
rm_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

static void
append(ArAuditLog *log, ArAuditStream stream, guint i, const char *event)
{
  /* Increasing times, one second apart. */
  g_autofree char *t =
      g_strdup_printf("2026-11-21T%02u:%02u:%02u.000Z", i / 3600, i / 60 % 60, i % 60);
  g_autofree char *detail = g_strdup_printf("entry %u", i);
  g_autofree char *line = ar_audit_format_line(t, event, "10.0.0.1", NULL, detail);
  g_assert_true(ar_audit_log_append(log, stream, line));
}

static guint
count_event(JsonArray *a, const char *event, const char *stream)
{
  guint n = 0;
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    if (g_str_equal(json_object_get_string_member(o, "event"), event) &&
        (!stream || g_str_equal(json_object_get_string_member(o, "stream"), stream)))
      n++;
  }
  return n;
}

/* Rotation keeps AR_AUDIT_GENERATIONS files, each bounded, 0600; the listing
 * reads across them: the last 200 authenticated entries, in order. */
static void
test_log_rotation(void)
{
  g_autofree char *dir = tmp_dir();
  const gsize max = 16 * 1024;
  g_autoptr(ArAuditLog) log = ar_audit_log_new(dir, max);
  for (guint i = 0; i < 1000; i++)
    append(log, AR_AUDIT_AUTHENTICATED, i, "config");
  for (guint gen = 0; gen < AR_AUDIT_GENERATIONS; gen++) {
    g_autofree char *p = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, gen);
    GStatBuf st;
    g_assert_cmpint(g_stat(p, &st), ==, 0);
    g_assert_cmpint(st.st_size, <=, max);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  }
  g_autofree char *beyond = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, AR_AUDIT_GENERATIONS);
  g_assert_false(g_file_test(beyond, G_FILE_TEST_EXISTS));
  /* Generation 0 holds fewer than 200 lines: the listing reaches back. */
  g_autofree char *cur = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, 0);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(cur, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), <, AR_AUDIT_LIST_AUTHENTICATED);
  g_autoptr(JsonArray) a = ar_audit_log_list(log);
  g_assert_cmpuint(json_array_get_length(a), ==, AR_AUDIT_LIST_AUTHENTICATED);
  for (guint i = 0; i < AR_AUDIT_LIST_AUTHENTICATED; i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    g_autofree char *want = g_strdup_printf("entry %u", 1000 - AR_AUDIT_LIST_AUTHENTICATED + i);
    g_assert_cmpstr(json_object_get_string_member(o, "detail"), ==, want);
    g_assert_cmpstr(json_object_get_string_member(o, "stream"), ==, "authenticated");
  }
  rm_dir(dir);
}

/* However many unauthenticated lines are written (here with no budget at
 * all), the authenticated entries and the failed logins stay listed. */
static void
test_log_flood_cannot_evict(void)
{
  g_autofree char *dir = tmp_dir();
  g_autoptr(ArAuditLog) log = ar_audit_log_new(dir, 16 * 1024);
  guint t = 0;
  for (guint i = 0; i < 10; i++)
    append(log, AR_AUDIT_AUTHENTICATED, t++, i % 2 ? "config" : "token_created");
  for (guint i = 0; i < 5; i++)
    append(log, AR_AUDIT_UNAUTHENTICATED, t++, "login_failed");
  for (guint i = 0; i < 150; i++)
    append(log, AR_AUDIT_UNAUTHENTICATED, t++, "pairing-started");
  g_autoptr(JsonArray) a = ar_audit_log_list(log);
  g_assert_cmpuint(count_event(a, "config", "authenticated"), ==, 5);
  g_assert_cmpuint(count_event(a, "token_created", "authenticated"), ==, 5);
  g_assert_cmpuint(count_event(a, "login_failed", "unauthenticated"), ==, 5);
  g_assert_cmpuint(count_event(a, "pairing-started", "unauthenticated"), ==, AR_AUDIT_LIST_OTHER);
  /* Oldest first, merged by time. */
  const char *prev = "";
  for (guint i = 0; i < json_array_get_length(a); i++) {
    const char *tm = json_object_get_string_member(json_array_get_object_element(a, i), "time");
    g_assert_cmpstr(prev, <=, tm);
    prev = tm;
  }
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(a, 0), "event"), ==,
                  "token_created");
  rm_dir(dir);
}

static void
write_file(const char *path, const char *data, gssize len)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_set_contents(path, data, len, &error));
  g_assert_no_error(error);
}

/* Hostile files on disk: skipped, never fatal; a write that fails is said once. */
static void
test_log_hostile_files(void)
{
  g_autofree char *dir = tmp_dir();
  g_autoptr(ArAuditLog) log = ar_audit_log_new(dir, 16 * 1024);
  g_autofree char *cur = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, 0);
  g_autofree char *g1 = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, 1);
  g_autofree char *g2 = ar_audit_log_path(log, AR_AUDIT_AUTHENTICATED, 2);
  /* .2: binary; .1: one huge line then a good one; current: bad JSON around a good line. */
  g_autofree char *bin = g_malloc(100000);
  for (guint i = 0; i < 100000; i++)
    bin[i] = (char)(i * 7919 % 256);
  write_file(g2, bin, 100000);
  g_autoptr(GString) huge = g_string_new("{\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"");
  while (huge->len < 4 * 1024 * 1024)
    g_string_append(huge, "aaaaaaaaaaaaaaaa");
  g_string_append(huge, "\"}\n{\"time\":\"2026-01-01T00:00:01.000Z\",\"event\":\"old-good\"}\n");
  write_file(g1, huge->str, (gssize)huge->len);
  write_file(cur,
             "{\"time\":\"2026-01-01T00:00:02.000Z\",\"event\":\"new-good\"}\n{oops\n\x01\x02\x03\n"
             "{\"time\":\"2026-01-01T00:00:03.000Z\",\"event\":\"x\",\"stream\":\"forged\"}\n",
             -1);
  g_autoptr(JsonArray) a = ar_audit_log_list(log);
  g_assert_cmpuint(count_event(a, "old-good", "authenticated"), ==, 1);
  g_assert_cmpuint(count_event(a, "new-good", "authenticated"), ==, 1);
  g_assert_cmpuint(count_event(a, "x", "authenticated"), ==, 1); /* the stream is the file's */
  g_assert_cmpuint(json_array_get_length(a), ==, 3);
  /* A symlink in place of the current file is not followed, and the
   * failure is logged once, not per entry. */
  g_autofree char *target = g_build_filename(dir, "elsewhere", NULL);
  write_file(target, "", 0);
  g_autofree char *u = ar_audit_log_path(log, AR_AUDIT_UNAUTHENTICATED, 0);
  g_assert_cmpint(symlink(target, u), ==, 0);
  g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, "*cannot write the audit log*");
  const char *line = "{\"time\":\"t\",\"event\":\"login_failed\"}";
  g_assert_false(ar_audit_log_append(log, AR_AUDIT_UNAUTHENTICATED, line));
  g_test_assert_expected_messages();
  for (guint i = 0; i < 10; i++) /* a second warning would abort the test */
    g_assert_false(ar_audit_log_append(log, AR_AUDIT_UNAUTHENTICATED, line));
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(target, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "");
  g_unlink(u);
  g_assert_true(ar_audit_log_append(log, AR_AUDIT_UNAUTHENTICATED, line));
  /* A file left 0644 by someone else is made 0600 at the next write. */
  g_chmod(cur, 0644);
  g_assert_true(ar_audit_log_append(log, AR_AUDIT_AUTHENTICATED, line));
  GStatBuf st;
  g_assert_cmpint(g_stat(cur, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  /* A huge current file is rotated away at the next write, not appended to. */
  write_file(cur, huge->str, (gssize)huge->len);
  g_assert_true(ar_audit_log_append(log, AR_AUDIT_AUTHENTICATED, line));
  g_assert_cmpint(g_stat(cur, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, (goffset)strlen(line) + 1);
  ar_audit_log_forget(log);
  for (int s = 0; s < 2; s++)
    for (guint gen = 0; gen < AR_AUDIT_GENERATIONS; gen++) {
      g_autofree char *p = ar_audit_log_path(log, s, gen);
      g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
    }
  rm_dir(dir);
}

/* The summary line: one parsable line with the counts. */
static void
test_summary_line(void)
{
  ArAuditSummary s = {
      .kind = (char *)"pairing-started", .count = 412, .addresses = 30, .seconds = 60};
  g_autofree char *line = ar_audit_format_summary("2026-11-21T00:46:14.123Z", &s);
  g_autoptr(JsonObject) o = ar_audit_parse_line(line, strlen(line));
  g_assert_nonnull(o);
  g_assert_cmpstr(json_object_get_string_member(o, "event"), ==, "suppressed");
  g_assert_cmpstr(json_object_get_string_member(o, "suppressed_event"), ==, "pairing-started");
  g_assert_cmpint(json_object_get_int_member(o, "count"), ==, 412);
  g_assert_cmpint(json_object_get_int_member(o, "addresses"), ==, 30);
  g_assert_cmpstr(json_object_get_string_member(o, "detail"), ==,
                  "412 pairing-started from 30 addresses suppressed in 60 s");
  g_autofree char *now = ar_audit_now_text();
  g_assert_cmpuint(strlen(now), ==, strlen("2026-11-21T00:46:14.123Z"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web/audit/stream-of", test_stream_of);
  g_test_add_func("/web/audit/budget/per-kind", test_budget_per_kind);
  g_test_add_func("/web/audit/budget/per-hour", test_budget_per_hour);
  g_test_add_func("/web/audit/budget/summaries", test_budget_summaries);
  g_test_add_func("/web/audit/budget/address-cap", test_budget_address_cap);
  g_test_add_func("/web/audit/budget/kinds-bounded", test_budget_kinds_bounded);
  g_test_add_func("/web/audit/format/bounded-no-secrets", test_format_bounded_no_secrets);
  g_test_add_func("/web/audit/format/summary", test_summary_line);
  g_test_add_func("/web/audit/parse/hostile", test_parse_hostile);
  g_test_add_func("/web/audit/parse/backwards", test_parse_backwards);
  g_test_add_func("/web/audit/log/rotation", test_log_rotation);
  g_test_add_func("/web/audit/log/flood-cannot-evict", test_log_flood_cannot_evict);
  g_test_add_func("/web/audit/log/hostile-files", test_log_hostile_files);
  return g_test_run();
}
