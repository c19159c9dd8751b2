/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The log forwarder's pure parts: RFC 5424 formatting, RFC 5425 framing, the
 * journal export format and the receiver's answer, the address and level,
 * the bounded queue, and the client key's checks. */
#include <glib/gstdio.h>
#include <string.h>

#include "ar-log-journal.h"
#include "ar-log-remote.h"
#include "ar-log.h"

static void
test_format(void)
{
  /* 2026-01-02T03:04:05.000042Z */
  gint64 t = (gint64)1767323045 * G_USEC_PER_SEC + 42;
  g_autofree char *m =
      ar_log_remote_format(G_LOG_LEVEL_MESSAGE, t, "Board-Room-4", 1234, NULL, "admin: hello");
  g_assert_cmpstr(m, ==,
                  "<29>1 2026-01-02T03:04:05.000042Z Board-Room-4 anyroomd 1234 - - "
                  "admin: hello");
  g_autofree char *d = ar_log_remote_format(G_LOG_LEVEL_DEBUG, t, "h", 1, "Ar Web", "x");
  g_assert_true(g_str_has_prefix(d, "<31>1 "));
  g_assert_nonnull(strstr(d, " anyroomd 1 Ar-Web - x"));
  /* Severities as journald's, facility daemon (3). */
  g_assert_cmpuint(ar_log_remote_pri(G_LOG_LEVEL_ERROR), ==, 27);
  g_assert_cmpuint(ar_log_remote_pri(G_LOG_LEVEL_CRITICAL), ==, 28);
  g_assert_cmpuint(ar_log_remote_pri(G_LOG_LEVEL_WARNING), ==, 28);
  g_assert_cmpuint(ar_log_remote_pri(G_LOG_LEVEL_INFO), ==, 30);
}

static void
test_frame(void)
{
  gsize n = 0;
  g_autofree char *f = ar_log_remote_frame("<29>1 - - anyroomd 1 - - é", &n);
  /* Octets, not characters: é is two. */
  g_assert_cmpstr(f, ==, "27 <29>1 - - anyroomd 1 - - é");
  g_assert_cmpuint(n, ==, strlen(f));
}

static void
test_hostname(void)
{
  g_autofree char *a = ar_log_remote_hostname("Board Room 4");
  g_assert_cmpstr(a, ==, "Board-Room-4");
  g_autofree char *b = ar_log_remote_hostname("Salle Été");
  g_assert_cmpstr(b, ==, "Salle---t--"); /* byte by byte */
  g_autofree char *c = ar_log_remote_hostname("   ");
  g_assert_cmpstr(c, !=, "---");
  g_assert_cmpuint(strlen(c), >, 0);
  for (const char *p = c; *p; p++)
    g_assert_true(*p >= 33 && *p <= 126);
  g_autofree char *longname = g_strnfill(300, 'x');
  g_autofree char *d = ar_log_remote_hostname(longname);
  g_assert_cmpuint(strlen(d), ==, 255);
}

static void
test_url(void)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  ArLogRemoteKind kind = AR_LOG_REMOTE_JOURNAL_HTTPS;
  g_assert_true(
      ar_log_remote_parse_url("syslog-tls://logs.example.org:6514", &kind, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "logs.example.org");
  g_assert_cmpuint(port, ==, 6514);
  g_assert_cmpint(kind, ==, AR_LOG_REMOTE_SYSLOG_TLS);
  g_clear_pointer(&host, g_free);
  g_assert_true(ar_log_remote_parse_url("syslog-tls://[::1]", NULL, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "::1");
  g_assert_cmpuint(port, ==, AR_LOG_REMOTE_DEFAULT_PORT);
  g_clear_pointer(&host, g_free);
  g_assert_true(
      ar_log_remote_parse_url("journal-https://logs.example.org", &kind, &host, &port, NULL));
  g_assert_cmpint(kind, ==, AR_LOG_REMOTE_JOURNAL_HTTPS);
  g_assert_cmpuint(port, ==, 19532);
  g_clear_pointer(&host, g_free);
  g_assert_true(
      ar_log_remote_parse_url("journal-https://[fd00::5]:443", &kind, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "fd00::5");
  g_assert_cmpuint(port, ==, 443);
  const char *bad[] = {"syslog://h:514",
                       "journal-https://h:19532/upload",
                       "journal-http://h:19532",
                       "journal-https://h?x",
                       "journal-https://u@h",
                       "syslog-tls://",
                       "syslog-tls://u:p@h:6514",
                       "syslog-tls://h:6514/x",
                       "syslog-tls://h:0",
                       "https://h",
                       "h:6514"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    char *h = (char *)"untouched";
    g_assert_false(ar_log_remote_parse_url(bad[i], &kind, &h, &port, &e));
    g_assert_error(e, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID);
    g_assert_cmpstr(h, ==, "untouched");
  }
  GLogLevelFlags l = 0;
  g_assert_true(ar_log_remote_parse_level("warning", &l));
  g_assert_cmpint(l, ==, G_LOG_LEVEL_WARNING);
  g_assert_false(ar_log_remote_parse_level("loud", &l));
}

static GBytes *
b(char *s)
{
  return g_bytes_new_take(s, strlen(s));
}

static char *
str(GBytes *m)
{
  char *s = g_strndup(g_bytes_get_data(m, NULL), g_bytes_get_size(m));
  g_bytes_unref(m);
  return s;
}

static void
test_queue(void)
{
  g_autoptr(ArLogQueue) q = ar_log_queue_new(3, 1024);
  for (int i = 0; i < 5; i++)
    ar_log_queue_push(q, b(g_strdup_printf("line %d", i)));
  /* Oldest dropped, counted once. */
  g_assert_cmpuint(ar_log_queue_length(q), ==, 3);
  g_assert_cmpuint(ar_log_queue_take_dropped(q), ==, 2);
  g_assert_cmpuint(ar_log_queue_take_dropped(q), ==, 0);
  GBytes *first = ar_log_queue_pop(q);
  g_assert_cmpmem(g_bytes_get_data(first, NULL), g_bytes_get_size(first), "line 2", 6);
  ar_log_queue_push_front(q, first);
  g_assert_cmpuint(ar_log_queue_bytes(q), ==, 18);

  /* The byte bound. */
  g_autoptr(ArLogQueue) bq = ar_log_queue_new(1000, 100);
  for (int i = 0; i < 20; i++)
    ar_log_queue_push(bq, b(g_strnfill(30, 'a' + i)));
  g_assert_cmpuint(ar_log_queue_bytes(bq), <=, 100);
  g_assert_cmpuint(ar_log_queue_length(bq), ==, 3);
  g_assert_cmpuint(ar_log_queue_take_dropped(bq), ==, 17);
  ar_log_queue_push(bq, b(g_strnfill(101, 'z'))); /* larger than the queue: dropped */
  g_assert_cmpuint(ar_log_queue_take_dropped(bq), ==, 1);
  g_autofree char *head = str(ar_log_queue_pop(bq));
  g_assert_cmpint(head[0], ==, 'r');
}

/* What the writer forwards is cleaned as the ring is: one line, redacted. */
static void
test_clean(void)
{
  ar_log_ring_add_secret("room-turn-secret");
  g_autofree char *c = ar_log_clean("a\nb room-turn-secret turn://u:pw123456@h:3478");
  g_assert_null(strstr(c, "room-turn-secret"));
  g_assert_null(strstr(c, "pw123456"));
  g_assert_null(strchr(c, '\n'));
  g_assert_nonnull(strstr(c, "***"));
}

/* The export format: text fields, and the binary-safe form for a value with a
 * newline or a control byte (a 64-bit little-endian length before it). */
static void
test_journal_field(void)
{
  g_autoptr(GString) o = g_string_new(NULL);
  ar_log_journal_append_field(o, "MESSAGE", "admin: hello é\tx", -1);
  g_assert_cmpstr(o->str, ==, "MESSAGE=admin: hello é\tx\n");
  g_string_truncate(o, 0);
  ar_log_journal_append_field(o, "MESSAGE", "two\nlines", -1);
  static const char want[] = "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n";
  g_assert_cmpmem(o->str, o->len, want, sizeof want - 1);
  /* Bytes that are not UTF-8, a NUL inside: binary, length exact. */
  g_string_truncate(o, 0);
  ar_log_journal_append_field(o, "X", "a\0\xff", 3);
  static const char want2[] = "X\n\x03\0\0\0\0\0\0\0a\0\xff\n";
  g_assert_cmpmem(o->str, o->len, want2, sizeof want2 - 1);
  /* An empty value is text. */
  g_string_truncate(o, 0);
  ar_log_journal_append_field(o, "GLIB_DOMAIN", "", -1);
  g_assert_cmpstr(o->str, ==, "GLIB_DOMAIN=\n");
}

static void
test_journal_entry(void)
{
  gint64 t = (gint64)1767323045 * G_USEC_PER_SEC + 42;
  g_autoptr(GBytes) e =
      ar_log_journal_format(G_LOG_LEVEL_MESSAGE, t, 5000000, "0123456789abcdef0123456789abcdef",
                            "Board-Room-4", 1234, "ar-web", "admin: hello");
  g_autofree char *s = g_strndup(g_bytes_get_data(e, NULL), g_bytes_get_size(e));
  g_assert_cmpstr(s, ==,
                  "__REALTIME_TIMESTAMP=1767323045000042\n"
                  "__MONOTONIC_TIMESTAMP=5000000\n"
                  "_BOOT_ID=0123456789abcdef0123456789abcdef\n"
                  "_HOSTNAME=Board-Room-4\n"
                  "PRIORITY=5\n"
                  "SYSLOG_FACILITY=3\n"
                  "SYSLOG_IDENTIFIER=anyroomd\n"
                  "SYSLOG_PID=1234\n"
                  "GLIB_DOMAIN=ar-web\n"
                  "MESSAGE=admin: hello\n"
                  "\n");
  /* No domain, a bad boot id: neither field; priorities as the journal's. */
  g_autoptr(GBytes) w =
      ar_log_journal_format(G_LOG_LEVEL_WARNING, t, 1, "not-an-id", "h", 1, NULL, "x\ny");
  g_autofree char *ws = g_strndup(g_bytes_get_data(w, NULL), g_bytes_get_size(w));
  g_assert_null(strstr(ws, "_BOOT_ID"));
  g_assert_null(strstr(ws, "GLIB_DOMAIN"));
  g_assert_nonnull(strstr(ws, "PRIORITY=4\n"));
  g_assert_cmpuint(g_bytes_get_size(w), >, strlen(ws)); /* the binary MESSAGE's length has NULs */
  g_autofree char *id = ar_log_journal_boot_id();
  if (id)
    g_assert_cmpuint(strlen(id), ==, 32);
}

static void
test_journal_answer(void)
{
  guint status = 0;
  gint64 len = 0;
  gboolean keep = FALSE;
  g_autofree char *reason = NULL;
  const char ok[] = "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: "
                    "4\r\n\r\n";
  g_assert_true(ar_log_journal_parse_response(ok, strlen(ok), &status, &len, &keep, &reason, NULL));
  g_assert_cmpuint(status, ==, 202);
  g_assert_cmpint(len, ==, 4);
  g_assert_true(keep);
  g_assert_cmpstr(reason, ==, "Accepted");
  g_clear_pointer(&reason, g_free);
  /* Closed after: "Connection: close", no length, HTTP/1.0, a body over the bound. */
  const char *closing[] = {
      "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(closing); i++) {
    keep = TRUE;
    g_assert_true(ar_log_journal_parse_response(closing[i], strlen(closing[i]), &status, &len,
                                                &keep, &reason, NULL));
    g_assert_false(keep);
    g_clear_pointer(&reason, g_free);
  }
  /* Not HTTP: an error, outputs untouched; a reason phrase made printable. */
  const char *bad[] = {"", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2000 X\r\n\r\n",
                       "HTTP/1.1 99 X\r\n\r\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    status = 7;
    g_assert_false(
        ar_log_journal_parse_response(bad[i], strlen(bad[i]), &status, &len, &keep, &reason, &e));
    g_assert_error(e, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_RECEIVER);
    g_assert_cmpuint(status, ==, 7);
    g_assert_null(reason);
  }
  const char odd[] = "HTTP/1.1 500 \x01\x7f\xc3\xa9 bad\r\n\r\n";
  g_assert_true(
      ar_log_journal_parse_response(odd, strlen(odd), &status, &len, &keep, &reason, NULL));
  for (const char *p = reason; *p; p++)
    g_assert_true(*p >= 32 && *p <= 126);
}

/* A client key others may read is refused, and a certificate without its key. */
static void
test_client_key(void)
{
  g_autofree char *dir = g_dir_make_tmp("ar-log-remote-XXXXXX", NULL);
  g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
  g_assert_true(g_file_set_contents(key, "not a key", -1, NULL));
  g_chmod(key, 0644);
  ArLogRemoteOptions opt = {.url = "journal-https://127.0.0.1", .cert_file = key, .key_file = key};
  g_autoptr(GError) e = NULL;
  g_assert_false(ar_log_remote_check(&opt, &e));
  g_assert_nonnull(strstr(e->message, "chmod 600"));
  g_clear_error(&e);
  g_chmod(key, 0600);
  g_assert_false(ar_log_remote_check(&opt, &e)); /* not PEM */
  g_assert_nonnull(strstr(e->message, "remote-cert/remote-key"));
  g_clear_error(&e);
  opt.key_file = NULL;
  g_assert_false(ar_log_remote_check(&opt, &e));
  g_assert_nonnull(strstr(e->message, "go together"));
  g_clear_error(&e);
  opt.cert_file = NULL;
  g_assert_true(ar_log_remote_check(&opt, NULL));
  g_unlink(key);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log-remote/format", test_format);
  g_test_add_func("/log-remote/frame", test_frame);
  g_test_add_func("/log-remote/hostname", test_hostname);
  g_test_add_func("/log-remote/url", test_url);
  g_test_add_func("/log-remote/queue", test_queue);
  g_test_add_func("/log-remote/clean", test_clean);
  g_test_add_func("/log-remote/journal-field", test_journal_field);
  g_test_add_func("/log-remote/journal-entry", test_journal_entry);
  g_test_add_func("/log-remote/journal-answer", test_journal_answer);
  g_test_add_func("/log-remote/client-key", test_client_key);
  return g_test_run();
}
