/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-whip-msg.c: reading WHIP/WHEP answers (firmware/whip/ar-whip-msg.c): the ICE servers of
 * Link headers (RFC 9725 section 4.6 shapes, RFC 8288 syntax), the session URL from Location,
 * Retry-After, and the plain words of error statuses. */
#include <string.h>

#include "ar-whip-msg.h"

static GPtrArray *
links(const char *const *values, GString *skipped)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *out = ar_whip_parse_ice_links(values, skipped, &error);
  g_assert_no_error(error);
  g_assert_nonnull(out);
  return out;
}

static void
test_ice_links(void)
{
  /* The RFC's own example shapes, two in one value and one more in a second header. */
  const char *values[] = {
      "<stun:stun.example.net>; rel=\"ice-server\", "
      "<turn:turn.example.net?transport=udp>; rel=\"ice-server\"; username=\"user\"; "
      "credential=\"myPassword\"; credential-type=\"password\"",
      "<turns:turn.example.net:5349>; rel=ice-server; username=u2; credential=\"p\\\"w\"", NULL};
  g_autoptr(GString) skipped = g_string_new(NULL);
  g_autoptr(GPtrArray) s = links(values, skipped);

  g_assert_cmpuint(s->len, ==, 3);
  ArWhipIceServer *a = s->pdata[0], *b = s->pdata[1], *c = s->pdata[2];
  g_assert_cmpstr(a->uri, ==, "stun:stun.example.net");
  g_assert_null(a->username);
  g_assert_cmpstr(b->uri, ==, "turn:turn.example.net?transport=udp");
  g_assert_cmpstr(b->username, ==, "user");
  g_assert_cmpstr(b->credential, ==, "myPassword");
  g_assert_cmpstr(c->uri, ==, "turns:turn.example.net:5349");
  g_assert_cmpstr(c->credential, ==, "p\"w");
  g_assert_cmpstr(skipped->str, ==, "");
}

static void
test_ice_links_skipped(void)
{
  const char *values[] = {
      "<https://example.net/next>; rel=\"next\"", /* another relation */
      "<turn:t.example.net>; rel=\"ice-server\"", /* no credentials */
      "<turn:t.example.net>; rel=\"ice-server\"; username=u; credential=c; "
      "credential-type=oauth",                                        /* not a password */
      "<http://t.example.net>; rel=\"ice-server\"",                   /* not STUN/TURN */
      "<stun:ok.example.net>; REL=\"preload ICE-SERVER\"; rel=other", /* the first rel counts */
      NULL};
  g_autoptr(GString) skipped = g_string_new(NULL);
  g_autoptr(GPtrArray) s = links(values, skipped);

  g_assert_cmpuint(s->len, ==, 1);
  g_assert_cmpstr(((ArWhipIceServer *)s->pdata[0])->uri, ==, "stun:ok.example.net");
  g_test_message("%s", skipped->str);
  g_assert_nonnull(strstr(skipped->str, "no username and credential"));
  g_assert_nonnull(strstr(skipped->str, "credential-type"));
  g_assert_null(strstr(skipped->str, "c;")); /* no credential in the reasons */
  g_auto(GStrv) lines = g_strsplit(skipped->str, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 4);
}

static void
test_ice_links_bounds(void)
{
  g_autoptr(GString) many = g_string_new(NULL);
  for (int i = 0; i < 12; i++)
    g_string_append_printf(many, "<stun:s%d.example.net>; rel=ice-server,", i);
  const char *values[] = {many->str, NULL};
  g_autoptr(GString) skipped = g_string_new(NULL);
  g_autoptr(GPtrArray) s = links(values, skipped);
  g_assert_cmpuint(s->len, ==, AR_WHIP_MAX_ICE_SERVERS);
  g_assert_nonnull(strstr(skipped->str, "more than"));

  const char *bad[][2] = {
      {"stun:x; rel=ice-server", "does not start with <URI>"},
      {"<stun:x", "not closed"},
      {"<stun:x>; rel=\"ice-server", "not closed"},
      {"<stun:x> rel=ice-server", "introduced by ';'"},
      {"<stun:x>; =a", "no name"},
      {"<st un:x>; rel=a", "cannot have"},
      {"<stun:x>; a=\"\x01\"", "control character"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    const char *v[] = {bad[i][0], NULL};
    g_autoptr(GPtrArray) r = ar_whip_parse_ice_links(v, NULL, &error);
    g_assert_null(r);
    g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, bad[i][1]));
  }
  g_autofree char *huge = g_strnfill(AR_WHIP_MAX_LINK_BYTES + 1, ' ');
  const char *v[] = {huge, NULL};
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_whip_parse_ice_links(v, NULL, &error));
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE);
  g_autofree char *long_value = g_strdup_printf("<stun:x>; a=\"%0600d\"", 0);
  const char *v2[] = {long_value, NULL};
  g_clear_error(&error);
  g_assert_null(ar_whip_parse_ice_links(v2, NULL, &error));
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE);
  /* No values at all: no servers, no error. */
  g_autoptr(GPtrArray) none = ar_whip_parse_ice_links(NULL, NULL, &error);
  g_assert_nonnull(none);
  g_assert_cmpuint(none->len, ==, 0);
}

static void
test_location(void)
{
  const char *ep = "https://sfu.example.net:8443/whip/endpoint/room1?token=a";
  const char *ok[][2] = {
      {"/whip/resource/abc", "https://sfu.example.net:8443/whip/resource/abc"},
      {"resource/abc", "https://sfu.example.net:8443/whip/endpoint/resource/abc"},
      {"https://other.example.net/s/1", "https://other.example.net/s/1"},
      {"../r?x=1", "https://sfu.example.net:8443/whip/r?x=1"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *u = ar_whip_resolve_location(ep, ok[i][0], &error);
    g_assert_no_error(error);
    g_assert_cmpstr(u, ==, ok[i][1]);
  }
  const char *bad[] = {"",      "http://sfu.example.net/x", "ftp://x/y", "https://u:p@x/y", "/a b",
                       "/\x7f", "javascript:alert(1)"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *u = ar_whip_resolve_location(ep, bad[i], &error);
    g_assert_null(u);
    g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
  }
  g_autofree char *huge = g_strdup_printf("/%0*d", AR_WHIP_MAX_URL, 0);
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_whip_resolve_location(ep, huge, &error));
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE);
  /* An http endpoint (the lab) may be told an http or https session. */
  g_clear_error(&error);
  g_autofree char *h = ar_whip_resolve_location("http://10.0.0.1/whip", "/s/1", &error);
  g_assert_cmpstr(h, ==, "http://10.0.0.1/s/1");
}

static void
test_retry_after(void)
{
  /* Sun, 06 Nov 1994 08:49:37 GMT */
  const gint64 t = 784111777;
  guint s = 0;
  g_assert_true(ar_whip_parse_retry_after("120", t, &s));
  g_assert_cmpuint(s, ==, 120);
  g_assert_true(ar_whip_parse_retry_after("0", t, &s));
  g_assert_cmpuint(s, ==, 1);
  g_assert_true(ar_whip_parse_retry_after("99999999999999999999", t, &s));
  g_assert_cmpuint(s, ==, 3600);
  g_assert_true(ar_whip_parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", t, &s));
  g_assert_cmpuint(s, ==, 30);
  g_assert_true(ar_whip_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", t, &s));
  g_assert_cmpuint(s, ==, 1); /* in the past */
  const char *bad[] = {NULL,
                       "",
                       "-5",
                       "12abc",
                       "soon",
                       "Sun, 06 Nov 1994 08:49:37 UTC",
                       "Sun, 31 Feb 1994 08:49:37 GMT",
                       "Sun, 06 Xyz 1994 08:49:37 GMT"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(ar_whip_parse_retry_after(bad[i], t, &s));
}

static void
test_status_message(void)
{
  g_autofree char *m401 = ar_whip_status_message(401, "WHIP publish");
  g_assert_cmpstr(
      m401, ==, "WHIP publish: the endpoint refused the token (check the link's token) (HTTP 401)");
  g_autofree char *m503 = ar_whip_status_message(503, "WHEP receive");
  g_assert_nonnull(strstr(m503, "the endpoint failed (HTTP 503)"));
  g_autofree char *m418 = ar_whip_status_message(418, NULL);
  g_assert_nonnull(strstr(m418, "WHIP: the endpoint answered an error (HTTP 418)"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/whip/ice-links", test_ice_links);
  g_test_add_func("/whip/ice-links-skipped", test_ice_links_skipped);
  g_test_add_func("/whip/ice-links-bounds", test_ice_links_bounds);
  g_test_add_func("/whip/location", test_location);
  g_test_add_func("/whip/retry-after", test_retry_after);
  g_test_add_func("/whip/status-message", test_status_message);
  return g_test_run();
}
