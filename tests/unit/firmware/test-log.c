/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin log ring: bounded, one line each, secrets blanked. */
#include <string.h>

#include "ar-log.h"

static void
test_redact(void)
{
  const struct {
    const char *in, *secret, *kept;
  } cases[] = {
      {"ice: turn://room4:p4ss%40word@10.0.0.1:3478?transport=udp", "p4ss%40word", "room4"},
      {"turns://u:verysecret@turn.example.org:443", "verysecret", "turn.example.org"},
      {"token art_0123456789abcdef0123456789abcdef used", "0123456789abcdef", "used"},
      {"login with password=hunter22 from x", "hunter22", "from x"},
      {"{\"password\": \"abc123def\"}", "abc123def", "password"},
      {"credential: s3cr3tvalue;", "s3cr3tvalue", "credential"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = ar_log_redact(cases[i].in);
    g_test_message("%s -> %s", cases[i].in, out);
    g_assert_null(strstr(out, cases[i].secret));
    g_assert_nonnull(strstr(out, cases[i].kept));
  }
  ar_log_ring_add_secret("static-turn-pass");
  g_autofree char *out = ar_log_redact("oops: static-turn-pass in a message");
  g_assert_null(strstr(out, "static-turn-pass"));
  ar_log_ring_add_secret("abc"); /* too short to blank everywhere: ignored */
  g_autofree char *out2 = ar_log_redact("abcdef");
  g_assert_cmpstr(out2, ==, "abcdef");
}

static void
test_ring(void)
{
  ar_log_ring_clear();
  for (int i = 0; i < AR_LOG_RING_LINES + 10; i++) {
    g_autofree char *m = g_strdup_printf("line %d\nsecond part", i);
    ar_log_ring_append(G_LOG_LEVEL_MESSAGE, "test", m);
  }
  g_auto(GStrv) all = ar_log_ring_lines(G_MAXUINT);
  g_assert_cmpuint(g_strv_length(all), ==, AR_LOG_RING_LINES);
  g_assert_nonnull(strstr(all[0], "line 10 second part")); /* the oldest ones went */
  g_assert_nonnull(strstr(all[AR_LOG_RING_LINES - 1], "MESSAGE test: line 2009"));
  g_auto(GStrv) last = ar_log_ring_lines(3);
  g_assert_cmpuint(g_strv_length(last), ==, 3);
  g_assert_nonnull(strstr(last[2], "line 2009"));
  /* Long and invalid lines: bounded, valid UTF-8. */
  g_autofree char *big = g_strnfill(5000, 'x');
  big[100] = '\xff';
  ar_log_ring_append(G_LOG_LEVEL_WARNING, NULL, big);
  g_auto(GStrv) one = ar_log_ring_lines(1);
  g_assert_true(g_utf8_validate(one[0], -1, NULL));
  g_assert_cmpuint(strlen(one[0]), <=, AR_LOG_LINE_MAX + 8);
  ar_log_ring_clear();
  g_auto(GStrv) none = ar_log_ring_lines(10);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/log/redact", test_redact);
  g_test_add_func("/log/ring", test_ring);
  return g_test_run();
}
