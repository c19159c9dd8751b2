/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: which URLs the meeting browser may request (ar-browser-origin.c). */
#include "ar-browser.h"

static const char *const allowed[] = {
    "https://meet.example.com",
    "https://*.teams.example",
    "https://127.0.0.1:9443",
    "https://[::1]:9444",
    "https://127.0.0.1:8443", /* allow-listed, but blocked below */
    "http://127.0.0.1:8000",  /* a meeting app on the room itself (loopback only) */
    NULL,
};
static const char *const blocked[] = {
    "https://127.0.0.1:8443",
    "localhost",
    "*.localhost",
    NULL,
};

static void
check(const char *url, gboolean expected)
{
  gboolean got = ar_browser_url_allowed(allowed, blocked, url);
  if (got != expected)
    g_error("%s: %s, expected %s", url, got ? "allowed" : "blocked",
            expected ? "allowed" : "blocked");
}

static void
test_exact(void)
{
  check("https://meet.example.com/abc?x=1", TRUE);
  check("https://meet.example.com:443/", TRUE);
  check("https://MEET.Example.COM/", TRUE);
  check("https://meet.example.com./", TRUE);
  check("wss://meet.example.com/socket", TRUE);
  check("https://meet.example.com:444/", FALSE);
  check("http://meet.example.com/", FALSE);
  check("ws://meet.example.com/", FALSE);
  check("https://evil-meet.example.com/", FALSE);
  check("https://meet.example.com.evil.org/", FALSE);
  check("https://user@meet.example.com.evil.org/", FALSE);
  check("https://127.0.0.1:9443/x", TRUE);
  check("https://127.0.0.1:9445/x", FALSE);
  check("https://[::1]:9444/", TRUE);
  /* http only to loopback, and only the port allowed; its WebSocket too. */
  check("http://127.0.0.1:8000/videoroomtest.html", TRUE);
  check("ws://127.0.0.1:8000/", TRUE);
  check("http://127.0.0.1:8001/", FALSE);
  check("https://127.0.0.1:8000/", FALSE);
}

static void
test_wildcard(void)
{
  check("https://a.teams.example/", TRUE);
  check("https://a.b.teams.example/", TRUE);
  check("https://teams.example/", FALSE);
  check("https://ateams.example/", FALSE);
  check("https://a.teams.example:8443/", FALSE);
}

static void
test_blocked(void)
{
  check("https://127.0.0.1:8443/api/status", FALSE);
  check("wss://127.0.0.1:8443/api/events", FALSE);
  check("https://localhost/", FALSE);
  check("https://x.localhost/", FALSE);
}

static void
test_not_network(void)
{
  check("file:///etc/passwd", FALSE);
  check("chrome://settings", FALSE);
  check("data:text/html,hi", FALSE);
  check("blob:https://meet.example.com/1234", FALSE);
  check("about:blank", FALSE);
  check("javascript:alert(1)", FALSE);
  check("", FALSE);
  check("https://", FALSE);
  check(NULL, FALSE);
}

static void
test_patterns(void)
{
  const char *good[] = {"https://a.example", "https://*.example.com", "https://1.2.3.4:5",
                        "https://[::1]:8443", NULL};
  const char *bad[] = {"http://a.example",
                       "https://a.example/",
                       "https://a.example/x",
                       "https://u@a.example",
                       "https://*.com",
                       "https://a..example",
                       "ftp://a.example",
                       "https://a.example?x",
                       "https://a.exa mple",
                       "https://a.example#top",
                       "a.example",
                       "",
                       "https://*",
                       "https://a.example:0x",
                       NULL};
  for (guint i = 0; good[i]; i++) {
    g_autoptr(GError) e = NULL;
    if (!ar_browser_check_pattern(good[i], FALSE, &e))
      g_error("%s refused: %s", good[i], e->message);
  }
  for (guint i = 0; bad[i]; i++) {
    g_autoptr(GError) e = NULL;
    if (ar_browser_check_pattern(bad[i], FALSE, &e))
      g_error("%s taken", bad[i]);
    g_assert_error(e, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS);
  }
  g_autoptr(GError) e = NULL;
  g_assert_true(ar_browser_check_pattern("localhost", TRUE, &e));
  g_assert_true(ar_browser_check_pattern("http://127.0.0.1:8080", TRUE, &e));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/browser/origin/exact", test_exact);
  g_test_add_func("/browser/origin/wildcard", test_wildcard);
  g_test_add_func("/browser/origin/blocked", test_blocked);
  g_test_add_func("/browser/origin/not-network", test_not_network);
  g_test_add_func("/browser/origin/patterns", test_patterns);
  return g_test_run();
}
