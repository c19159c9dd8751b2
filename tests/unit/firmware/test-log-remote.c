/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The remote syslog forwarder's pure parts: RFC 5424 formatting, RFC 5425
 * framing, the address and level, and the bounded queue. */
#include <string.h>

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
  g_assert_true(ar_log_remote_parse_url("syslog-tls://logs.example.org:6514", &host, &port, NULL));
  g_assert_cmpstr(host, ==, "logs.example.org");
  g_assert_cmpuint(port, ==, 6514);
  g_clear_pointer(&host, g_free);
  g_assert_true(ar_log_remote_parse_url("syslog-tls://[::1]", &host, &port, NULL));
  g_assert_cmpstr(host, ==, "::1");
  g_assert_cmpuint(port, ==, AR_LOG_REMOTE_DEFAULT_PORT);
  const char *bad[] = {"syslog://h:514",
                       "syslog-tls://",
                       "syslog-tls://u:p@h:6514",
                       "syslog-tls://h:6514/x",
                       "syslog-tls://h:0",
                       "https://h",
                       "h:6514"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    char *h = (char *)"untouched";
    g_assert_false(ar_log_remote_parse_url(bad[i], &h, &port, &e));
    g_assert_error(e, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID);
    g_assert_cmpstr(h, ==, "untouched");
  }
  GLogLevelFlags l = 0;
  g_assert_true(ar_log_remote_parse_level("warning", &l));
  g_assert_cmpint(l, ==, G_LOG_LEVEL_WARNING);
  g_assert_false(ar_log_remote_parse_level("loud", &l));
}

static void
test_queue(void)
{
  g_autoptr(ArLogQueue) q = ar_log_queue_new(3, 1024);
  for (int i = 0; i < 5; i++)
    ar_log_queue_push(q, g_strdup_printf("line %d", i));
  /* Oldest dropped, counted once. */
  g_assert_cmpuint(ar_log_queue_length(q), ==, 3);
  g_assert_cmpuint(ar_log_queue_take_dropped(q), ==, 2);
  g_assert_cmpuint(ar_log_queue_take_dropped(q), ==, 0);
  g_autofree char *first = ar_log_queue_pop(q);
  g_assert_cmpstr(first, ==, "line 2");
  ar_log_queue_push_front(q, g_steal_pointer(&first));
  g_assert_cmpuint(ar_log_queue_bytes(q), ==, 18);

  /* The byte bound. */
  g_autoptr(ArLogQueue) b = ar_log_queue_new(1000, 100);
  for (int i = 0; i < 20; i++)
    ar_log_queue_push(b, g_strnfill(30, 'a' + i));
  g_assert_cmpuint(ar_log_queue_bytes(b), <=, 100);
  g_assert_cmpuint(ar_log_queue_length(b), ==, 3);
  g_assert_cmpuint(ar_log_queue_take_dropped(b), ==, 17);
  ar_log_queue_push(b, g_strnfill(101, 'z')); /* larger than the queue: dropped */
  g_assert_cmpuint(ar_log_queue_take_dropped(b), ==, 1);
  g_autofree char *head = ar_log_queue_pop(b);
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
  return g_test_run();
}
