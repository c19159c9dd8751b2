/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure security functions of the admin API (firmware/web/ar-web-auth.h). */
#include <string.h>

#include "ar-config.h"
#include "ar-web-auth.h"

static void
test_password_hash(void)
{
  g_autofree char *h = ar_web_password_hash("correct horse battery", 1000);
  g_assert_nonnull(h);
  g_assert_true(g_str_has_prefix(h, "pbkdf2-sha256$1000$"));
  g_assert_null(strstr(h, "correct"));
  g_assert_true(ar_web_password_verify("correct horse battery", h));
  g_assert_false(ar_web_password_verify("correct horse batterY", h));
  g_assert_false(ar_web_password_verify("", h));
  /* Salted: the same password hashes differently. */
  g_autofree char *h2 = ar_web_password_hash("correct horse battery", 1000);
  g_assert_cmpstr(h, !=, h2);
  g_assert_true(ar_web_password_verify("correct horse battery", h2));
}

static void
test_password_hash_default_iterations(void)
{
  g_autofree char *h = ar_web_password_hash("correct horse battery", AR_WEB_PBKDF2_ITERATIONS);
  g_autofree char *prefix = g_strdup_printf("pbkdf2-sha256$%u$", AR_WEB_PBKDF2_ITERATIONS);
  g_assert_true(g_str_has_prefix(h, prefix));
  g_assert_cmpuint(AR_WEB_PBKDF2_ITERATIONS, >=, 200000);
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(ar_web_password_verify("correct horse battery", h));
  g_test_message("one verification: %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);
}

static void
test_password_malformed(void)
{
  const char *bad[] = {
      "",
      "pbkdf2-sha256",
      "pbkdf2-sha256$1000$00$00",
      "pbkdf2-sha256$10$00112233445566778899aabbccddeeff$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "pbkdf2-sha256$999999999$00112233445566778899aabbccddeeff$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "pbkdf2-sha1$1000$00112233445566778899aabbccddeeff$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "pbkdf2-sha256$1000$zz112233445566778899aabbccddeeff$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$00$extra",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(ar_web_password_verify("anything at all", bad[i]));
  g_assert_false(ar_web_password_verify(NULL, "x"));
  g_assert_false(ar_web_password_verify("x", NULL));
}

static void
test_password_acceptable(void)
{
  const char *why = NULL;
  g_assert_false(ar_web_password_acceptable("short", &why));
  g_assert_nonnull(why);
  g_assert_false(ar_web_password_acceptable("123456789", &why));
  g_assert_true(ar_web_password_acceptable("1234567890", &why));
  g_assert_null(why);
  /* Ten characters, not ten bytes. */
  g_assert_false(ar_web_password_acceptable("ééééé", &why));
  g_assert_true(ar_web_password_acceptable("éééééééééé", &why));
  g_assert_false(ar_web_password_acceptable("with\nnewline!", &why));
  g_assert_false(ar_web_password_acceptable("\xff\xfe invalid utf8", &why));
  g_autofree char *huge = g_strnfill(1025, 'a');
  g_assert_false(ar_web_password_acceptable(huge, &why));
  g_assert_false(ar_web_password_acceptable(NULL, &why));
}

/* The global budget: a burst, then one unit per refill interval, whatever
 * the addresses; debt bounded; a clock that goes back grants nothing. */
static void
test_budget(void)
{
  ArBudget b;
  gint64 t = 1000 * G_USEC_PER_SEC;
  const gint64 hour = G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
  ar_budget_init(&b, 10, 20, t);
  for (int i = 0; i < 10; i++) {
    g_assert_cmpint(ar_budget_wait_us(&b, t), ==, 0);
    ar_budget_spend(&b, t);
  }
  /* Empty: the next unit in 1/20 hour = 180 s. */
  gint64 w = ar_budget_wait_us(&b, t);
  g_assert_cmpint(w, >, 179 * G_USEC_PER_SEC);
  g_assert_cmpint(w, <=, 180 * G_USEC_PER_SEC + 1);
  g_assert_cmpint(ar_budget_wait_us(&b, t + 180 * G_USEC_PER_SEC + 1), ==, 0);
  /* An hour of guessing as fast as allowed yields the refill, not more. */
  ar_budget_init(&b, 10, 20, t);
  int spent = 0;
  for (gint64 now = t; now < t + hour; now += G_USEC_PER_SEC)
    if (ar_budget_wait_us(&b, now) == 0) {
      ar_budget_spend(&b, now);
      spent++;
    }
  g_assert_cmpint(spent, >=, 29);
  g_assert_cmpint(spent, <=, 30);
  /* Debt is bounded by the capacity: a stuck attacker waits at most two
   * refills of the bucket, not forever. */
  ar_budget_init(&b, 10, 20, t);
  for (int i = 0; i < 1000; i++)
    ar_budget_spend(&b, t);
  g_assert_cmpfloat(b.tokens, ==, -10);
  g_assert_cmpint(ar_budget_wait_us(&b, t), <=, hour * 11 / 20 + 1);
  /* The clock going back grants nothing. */
  ar_budget_init(&b, 1, 20, t);
  ar_budget_spend(&b, t);
  g_assert_cmpint(ar_budget_wait_us(&b, t - hour), >, 0);
}

static void
test_throttle(void)
{
  ArThrottlePolicy p = {
      .base_delay_ms = 1000, .max_delay_ms = 4000, .max_failures = 5, .lockout_s = 60};
  ArThrottleEntry e = {0};
  gint64 t = 1000 * G_USEC_PER_SEC, wait = 0;
  g_assert_cmpint(ar_throttle_check(&e, t, &wait), ==, AR_THROTTLE_OK);
  ar_throttle_failed(&e, &p, t);
  /* 1 s after the first failure, 2 s after the second, then 4 s (the cap). */
  g_assert_cmpint(ar_throttle_check(&e, t + 500000, &wait), ==, AR_THROTTLE_WAIT);
  g_assert_cmpint(wait, ==, 500000);
  g_assert_cmpint(ar_throttle_check(&e, t + 1000000, &wait), ==, AR_THROTTLE_OK);
  t += 1000000;
  ar_throttle_failed(&e, &p, t);
  g_assert_cmpint(ar_throttle_check(&e, t + 1999999, &wait), ==, AR_THROTTLE_WAIT);
  g_assert_cmpint(ar_throttle_check(&e, t + 2000000, &wait), ==, AR_THROTTLE_OK);
  t += 2000000;
  ar_throttle_failed(&e, &p, t);
  g_assert_cmpint(ar_throttle_check(&e, t + 3999999, &wait), ==, AR_THROTTLE_WAIT);
  t += 4000000;
  ar_throttle_failed(&e, &p, t);
  g_assert_cmpint(ar_throttle_check(&e, t + 3999999, &wait), ==, AR_THROTTLE_WAIT);
  g_assert_cmpint(wait, ==, 1);
  t += 4000000;
  /* The fifth failure in a row locks for a minute, whatever comes. */
  ar_throttle_failed(&e, &p, t);
  g_assert_cmpint(ar_throttle_check(&e, t + 59 * G_USEC_PER_SEC, &wait), ==, AR_THROTTLE_LOCKED);
  g_assert_cmpint(wait, ==, G_USEC_PER_SEC);
  /* After the lockout: a fresh start. */
  g_assert_cmpint(ar_throttle_check(&e, t + 60 * G_USEC_PER_SEC, &wait), ==, AR_THROTTLE_OK);
  g_assert_cmpuint(e.failures, ==, 0);
  ar_throttle_failed(&e, &p, t + 61 * G_USEC_PER_SEC);
  g_assert_cmpuint(e.failures, ==, 1);
  ar_throttle_succeeded(&e);
  g_assert_cmpint(ar_throttle_check(&e, t + 61 * G_USEC_PER_SEC, &wait), ==, AR_THROTTLE_OK);
  g_assert_cmpuint(e.failures, ==, 0);
}

static void
test_hosts(void)
{
  const char *names[] = {"room-12.example.com", "10.1.2.3:9443", "bad name", NULL};
  g_auto(GStrv) allowed = ar_web_allowed_hosts(8443, "192.168.1.20", names);
  const char *const *a = (const char *const *)allowed;
  g_assert_true(ar_web_host_ok("127.0.0.1:8443", a));
  g_assert_true(ar_web_host_ok("localhost:8443", a));
  g_assert_true(ar_web_host_ok("LOCALHOST:8443", a));
  g_assert_true(ar_web_host_ok("[::1]:8443", a));
  g_assert_true(ar_web_host_ok("192.168.1.20:8443", a));
  g_assert_true(ar_web_host_ok("room-12.example.com:8443", a));
  g_assert_true(ar_web_host_ok("10.1.2.3:9443", a));
  /* DNS rebinding: a foreign name that resolves to us is still foreign. */
  g_assert_false(ar_web_host_ok("evil.example:8443", a));
  g_assert_false(ar_web_host_ok("127.0.0.1", a));
  g_assert_false(ar_web_host_ok("127.0.0.1:8080", a));
  g_assert_false(ar_web_host_ok("room-12.example.com", a));
  g_assert_false(ar_web_host_ok("room-12.example.com.evil.example:8443", a));
  g_assert_false(ar_web_host_ok("bad name:8443", a));
  g_assert_false(ar_web_host_ok("", a));
  g_assert_false(ar_web_host_ok(NULL, a));
  g_assert_false(ar_web_host_ok("127.0.0.1:8443\r\nX: y", a));

  g_auto(GStrv) on443 = ar_web_allowed_hosts(443, "0.0.0.0", (const char *[]){"room.lan", NULL});
  g_assert_true(ar_web_host_ok("room.lan", (const char *const *)on443));
  g_assert_true(ar_web_host_ok("room.lan:443", (const char *const *)on443));
  g_assert_false(ar_web_host_ok("0.0.0.0:443", (const char *const *)on443));
  /* Browsers leave the default port out: https://127.0.0.1/ sends "Host: 127.0.0.1". */
  g_assert_true(ar_web_host_ok("127.0.0.1", (const char *const *)on443));
  g_assert_true(ar_web_host_ok("localhost", (const char *const *)on443));
  g_assert_true(ar_web_host_ok("[::1]", (const char *const *)on443));
  g_auto(GStrv) fixed443 = ar_web_allowed_hosts(443, "192.168.1.20", NULL);
  g_assert_true(ar_web_host_ok("192.168.1.20", (const char *const *)fixed443));
  g_auto(GStrv) more = ar_web_hosts_with((const char *const *)fixed443, "10.9.8.7:443");
  g_assert_true(ar_web_host_ok("10.9.8.7:443", (const char *const *)more));
  g_assert_true(ar_web_host_ok("192.168.1.20", (const char *const *)more));
}

static GSocketAddress *
sockaddr(const char *ip, guint16 port)
{
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string(ip);
  return g_inet_socket_address_new(a, port);
}

/* A server on every address: the address the client connected to, as a literal, is the
 * device's own; names (DNS rebinding) and other addresses are not. */
static void
test_host_local_address(void)
{
  g_autoptr(GSocketAddress) v4 = sockaddr("192.168.1.20", 8443);
  g_assert_true(ar_web_host_is_local_address("192.168.1.20:8443", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20", 8443, v4)); /* port 443 implied */
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:443", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.21:8443", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("room.example:8443", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:8443x", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:99999", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:", 8443, v4));
  g_assert_false(ar_web_host_is_local_address("", 8443, v4));
  g_assert_false(ar_web_host_is_local_address(NULL, 8443, v4));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:8443", 8443, NULL));
  g_assert_false(ar_web_host_is_local_address("192.168.1.20:8443\r\nX: y", 8443, v4));
  g_autoptr(GSocketAddress) v4on443 = sockaddr("10.0.0.5", 443);
  g_assert_true(ar_web_host_is_local_address("10.0.0.5", 443, v4on443));
  g_assert_true(ar_web_host_is_local_address("10.0.0.5:443", 443, v4on443));
  /* An IPv4 client of a dual-stack socket. */
  g_autoptr(GSocketAddress) mapped = sockaddr("::ffff:10.0.0.5", 443);
  g_assert_true(ar_web_host_is_local_address("10.0.0.5", 443, mapped));
  g_assert_false(ar_web_host_is_local_address("10.0.0.6", 443, mapped));
  g_autoptr(GSocketAddress) v6 = sockaddr("fd00::20", 443);
  g_assert_true(ar_web_host_is_local_address("[fd00::20]", 443, v6));
  g_assert_true(ar_web_host_is_local_address("[FD00::20]:443", 443, v6));
  g_assert_false(ar_web_host_is_local_address("fd00::20", 443, v6)); /* no brackets */
  g_assert_false(ar_web_host_is_local_address("[fd00::20", 443, v6));
  g_assert_false(ar_web_host_is_local_address("[fd00::20]x", 443, v6));
  g_assert_false(ar_web_host_is_local_address("[fd00::21]", 443, v6));
}

static void
test_origins(void)
{
  g_auto(GStrv) allowed = ar_web_allowed_hosts(8443, "127.0.0.1", NULL);
  const char *const *a = (const char *const *)allowed;
  g_assert_true(ar_web_origin_ok("https://127.0.0.1:8443", a));
  g_assert_true(ar_web_origin_ok("https://localhost:8443", a));
  g_assert_false(ar_web_origin_ok("http://127.0.0.1:8443", a));
  g_assert_false(ar_web_origin_ok("https://127.0.0.1:8080", a));
  g_assert_false(ar_web_origin_ok("http://127.0.0.1:8080", a));
  g_assert_false(ar_web_origin_ok("https://evil.example:8443", a));
  g_assert_false(ar_web_origin_ok("null", a));
  g_assert_false(ar_web_origin_ok("https://127.0.0.1:8443/", a));

  const char *ours = "https://127.0.0.1:8443";
  /* Reads: fine without Origin; refused with a foreign one. */
  g_assert_cmpint(ar_web_origin_check("GET", NULL, NULL, FALSE, a), ==, AR_WEB_ORIGIN_OK);
  g_assert_cmpint(ar_web_origin_check("GET", "http://evil.example", NULL, FALSE, a), ==,
                  AR_WEB_ORIGIN_FOREIGN);
  g_assert_cmpint(ar_web_origin_check("GET", NULL, "cross-site", FALSE, a), ==,
                  AR_WEB_ORIGIN_FOREIGN);
  g_assert_cmpint(ar_web_origin_check("GET", NULL, "none", FALSE, a), ==, AR_WEB_ORIGIN_OK);
  /* Changes with ambient credentials need proof of our own origin. */
  g_assert_cmpint(ar_web_origin_check("POST", NULL, NULL, FALSE, a), ==,
                  AR_WEB_ORIGIN_NOT_SAME_SITE);
  g_assert_cmpint(ar_web_origin_check("POST", ours, NULL, FALSE, a), ==, AR_WEB_ORIGIN_OK);
  g_assert_cmpint(ar_web_origin_check("PUT", NULL, "same-origin", FALSE, a), ==, AR_WEB_ORIGIN_OK);
  g_assert_cmpint(ar_web_origin_check("POST", NULL, "same-site", FALSE, a), ==,
                  AR_WEB_ORIGIN_FOREIGN);
  g_assert_cmpint(ar_web_origin_check("DELETE", "null", NULL, FALSE, a), ==, AR_WEB_ORIGIN_FOREIGN);
  /* Tokens are not ambient: no Origin needed, but a foreign one still fails. */
  g_assert_cmpint(ar_web_origin_check("POST", NULL, NULL, TRUE, a), ==, AR_WEB_ORIGIN_OK);
  g_assert_cmpint(ar_web_origin_check("POST", "https://evil.example", NULL, TRUE, a), ==,
                  AR_WEB_ORIGIN_FOREIGN);
  g_assert_true(ar_web_method_changes_state("POST"));
  g_assert_true(ar_web_method_changes_state("PATCH"));
  g_assert_false(ar_web_method_changes_state("GET"));
  g_assert_false(ar_web_method_changes_state("HEAD"));
}

static void
test_csrf(void)
{
  g_autofree char *tok = ar_web_random_hex(NULL);
  g_assert_cmpuint(strlen(tok), ==, 64);
  g_autofree char *other = ar_web_random_hex(NULL);
  g_assert_cmpstr(tok, !=, other);
  g_assert_true(ar_web_csrf_ok(tok, tok));
  g_assert_false(ar_web_csrf_ok(tok, other));
  g_assert_false(ar_web_csrf_ok(tok, NULL));
  g_assert_false(ar_web_csrf_ok(tok, ""));
  g_autofree char *prefix = g_strndup(tok, 63);
  g_assert_false(ar_web_csrf_ok(tok, prefix));
  g_assert_false(ar_web_csrf_ok(NULL, tok));
  g_assert_false(ar_web_csrf_ok("", ""));
}

static void
test_cookies(void)
{
  g_autofree char *id = ar_web_random_hex(NULL);
  g_autofree char *c = ar_web_session_cookie(id);
  g_assert_true(g_str_has_prefix(c, "__Host-ar_session="));
  g_assert_nonnull(strstr(c, id));
  g_assert_nonnull(strstr(c, "; Secure"));
  g_assert_nonnull(strstr(c, "; HttpOnly"));
  g_assert_nonnull(strstr(c, "; SameSite=Strict"));
  g_assert_nonnull(strstr(c, "; Path=/"));
  g_assert_null(strstr(c, "Domain"));
  g_autofree char *clear = ar_web_session_cookie(NULL);
  g_assert_nonnull(strstr(clear, "Max-Age=0"));
  g_assert_nonnull(strstr(clear, "; Secure"));

  g_autofree char *header = g_strdup_printf("a=b; __Host-ar_session=%s; c=d", id);
  g_autofree char *got = ar_web_session_from_cookie_header(header);
  g_assert_cmpstr(got, ==, id);
  g_assert_null(ar_web_session_from_cookie_header("__Host-ar_session=short"));
  g_assert_null(ar_web_session_from_cookie_header("ar_session="
                                                  "00112233445566778899aabbccddeeff"
                                                  "00112233445566778899aabbccddeeff"));
  g_assert_null(ar_web_session_from_cookie_header(NULL));

  g_autofree char *b = ar_web_bearer_token("Bearer art_0123abcd");
  g_assert_cmpstr(b, ==, "art_0123abcd");
  g_assert_null(ar_web_bearer_token("Basic dXNlcjpwYXNz"));
  g_assert_null(ar_web_bearer_token("Bearer "));
  g_assert_null(ar_web_bearer_token("Bearer a b"));
}

static void
test_listen(void)
{
  g_autofree char *h = NULL;
  guint port = 0;
  g_assert_true(ar_web_parse_listen("127.0.0.1:8443", &h, &port, NULL));
  g_assert_cmpstr(h, ==, "127.0.0.1");
  g_assert_cmpuint(port, ==, 8443);
  g_clear_pointer(&h, g_free);
  g_assert_true(ar_web_parse_listen("[::]:443", &h, &port, NULL));
  g_assert_cmpstr(h, ==, "::");
  g_assert_cmpuint(port, ==, 443);
  g_clear_pointer(&h, g_free);
  const char *bad[] = {"",
                       "8443",
                       ":8443",
                       "127.0.0.1:",
                       "127.0.0.1:0",
                       "127.0.0.1:70000",
                       "localhost:8443",
                       "[::1:8443",
                       "1.2.3.4:84x3"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_assert_false(ar_web_parse_listen(bad[i], &h, &port, &e));
    g_assert_nonnull(e);
  }
}

static void
test_config_admin(void)
{
  g_autoptr(ArConfig) d = ar_config_new_default();
  g_assert_cmpstr(d->admin_listen, ==, "127.0.0.1:8443");
  g_assert_cmpuint(d->admin_session_idle_min, ==, 15);
  g_assert_cmpuint(d->admin_login_max_failures, ==, 5);
  g_assert_true(d->admin_metrics);
  const char *good = "[admin]\nlisten=0.0.0.0:443\nhostnames=room4.example.org;10.1.2.3\n"
                     "session-idle-minutes=30\nmax-sessions=4\nlogin-max-failures=3\n"
                     "login-lockout-minutes=60\nmetrics=false\n";
  g_autoptr(GError) e = NULL;
  g_autoptr(ArConfig) c = ar_config_load_data(good, strlen(good), "t.conf", &e);
  g_assert_no_error(e);
  g_assert_cmpstr(c->admin_listen, ==, "0.0.0.0:443");
  g_assert_cmpuint(g_strv_length(c->admin_hostnames), ==, 2);
  g_assert_cmpstr(c->admin_hostnames[1], ==, "10.1.2.3");
  g_assert_cmpuint(c->admin_session_idle_min, ==, 30);
  g_assert_cmpuint(c->admin_max_sessions, ==, 4);
  g_assert_cmpuint(c->admin_login_max_failures, ==, 3);
  g_assert_cmpuint(c->admin_login_lockout_min, ==, 60);
  g_assert_false(c->admin_metrics);
  const char *bad[] = {"[admin]\nsession-idle-minutes=0\n", "[admin]\nmax-sessions=65\n",
                       "[admin]\npassword=admin\n",         "[admin]\nlogin-max-failures=x\n",
                       "[admin]\nmetrics=maybe\n",          "[admin]\nmetric=true\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) be = NULL;
    g_autoptr(ArConfig) bc = ar_config_load_data(bad[i], strlen(bad[i]), "t.conf", &be);
    g_assert_null(bc);
    g_assert_nonnull(be);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web/password/hash", test_password_hash);
  g_test_add_func("/web/password/default-iterations", test_password_hash_default_iterations);
  g_test_add_func("/web/password/malformed", test_password_malformed);
  g_test_add_func("/web/password/acceptable", test_password_acceptable);
  g_test_add_func("/web/budget", test_budget);
  g_test_add_func("/web/throttle", test_throttle);
  g_test_add_func("/web/hosts", test_hosts);
  g_test_add_func("/web/hosts/local-address", test_host_local_address);
  g_test_add_func("/web/origins", test_origins);
  g_test_add_func("/web/csrf", test_csrf);
  g_test_add_func("/web/cookies", test_cookies);
  g_test_add_func("/web/listen", test_listen);
  g_test_add_func("/web/config-admin", test_config_admin);
  return g_test_run();
}
