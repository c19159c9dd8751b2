/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ICE server URIs: RFC 7064/7065 forms checked and turned into webrtcbin's. */
#include <string.h>

#include "ar-media.h"

static char *
conv(const char *uri, const char *user, const char *pass)
{
  g_autoptr(GError) error = NULL;
  char *w = ar_ice_uri_to_webrtcbin(uri, user, pass, &error);
  g_assert_no_error(error);
  return w;
}

static void
test_stun(void)
{
  g_autofree char *a = conv("stun:stun.example.org:19302", NULL, NULL);
  g_assert_cmpstr(a, ==, "stun://stun.example.org:19302");
  g_autofree char *b = conv("stun:10.0.0.1", NULL, NULL);
  g_assert_cmpstr(b, ==, "stun://10.0.0.1:3478");
  g_autofree char *c = conv("stun:[2001:db8::1]:3479", NULL, NULL);
  g_assert_cmpstr(c, ==, "stun://[2001:db8::1]:3479");
}

static void
test_turn(void)
{
  g_autofree char *a =
      conv("turn:turn.example.org:3478?transport=tcp", "1700000000:room", "p@ss/w:rd+=");
  g_assert_cmpstr(
      a, ==, "turn://1700000000%3Aroom:p%40ss%2Fw%3Ard%2B%3D@turn.example.org:3478?transport=tcp");
  g_autofree char *b = conv("turn:10.1.2.3", "u", "p");
  g_assert_cmpstr(b, ==, "turn://u:p@10.1.2.3:3478");
  g_autofree char *c = conv("turn:10.1.2.3?transport=udp", "u", "p");
  g_assert_cmpstr(c, ==, "turn://u:p@10.1.2.3:3478?transport=udp");
  g_autofree char *d = conv("turns:turn.example.org:443?transport=tcp", "u", "p");
  g_assert_cmpstr(d, ==, "turns://u:p@turn.example.org:443");
  g_autofree char *e = conv("turns:turn.example.org", "u", "p");
  g_assert_cmpstr(e, ==, "turns://u:p@turn.example.org:5349");
}

static void
test_parse(void)
{
  g_autoptr(GError) error = NULL;
  ArIceUri u;
  g_assert_true(ar_ice_uri_parse("turns:[::1]:443", &u, &error));
  g_assert_no_error(error);
  g_assert_cmpint(u.scheme, ==, AR_ICE_TURNS);
  g_assert_cmpstr(u.host, ==, "::1");
  g_assert_true(u.ipv6);
  g_assert_cmpuint(u.port, ==, 443);
  g_assert_cmpint(u.transport, ==, AR_ICE_TRANSPORT_TCP);
}

static void
test_bad(void)
{
  const char *bad[] = {
      "",
      "http://x",
      "stuns:x",
      "stun://x:1",
      "turn:",
      "turn::3478",
      "turn:x:0",
      "turn:x:65536",
      "turn:x:12ab",
      "turn:x:3478?transport=sctp",
      "turn:x?foo=bar",
      "stun:x?transport=udp",
      "turns:x?transport=udp",
      "turn:user:pass@x:3478",
      "turn:[::1",
      "turn:bad_host:1",
      "turn:x y:1",
      "turn:x:1:2",
      "turn:[zz]:1",
      "turn:x\n:1",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    ArIceUri u = {.port = 7};
    g_test_message("refused: %s", bad[i]);
    g_assert_false(ar_ice_uri_parse(bad[i], &u, &error));
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
    g_assert_cmpuint(u.port, ==, 7); /* untouched */
  }
  g_autofree char *longhost = g_strnfill(600, 'a');
  g_autofree char *longuri = g_strconcat("turn:", longhost, NULL);
  g_autoptr(GError) error = NULL;
  ArIceUri u;
  g_assert_false(ar_ice_uri_parse(longuri, &u, &error));
}

static void
test_credentials(void)
{
  /* TURN needs both, and the password never shows in an error. */
  g_autoptr(GError) e1 = NULL;
  g_assert_null(ar_ice_uri_to_webrtcbin("turn:x:1", "user", NULL, &e1));
  g_assert_nonnull(e1);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(ar_ice_uri_to_webrtcbin("turn:x:1", "user", "sec\nret", &e2));
  g_assert_nonnull(e2);
  g_assert_null(strstr(e2->message, "sec"));
  g_autoptr(GError) e3 = NULL;
  g_assert_null(ar_ice_uri_to_webrtcbin("turn:x:1?transport=bogus", "u", "topsecret", &e3));
  g_assert_null(strstr(e3->message, "topsecret"));
}

static void
test_redact(void)
{
  g_autofree char *a = ar_ice_redact("turn://u%3Ax:secret@host:3478?transport=tcp");
  g_assert_cmpstr(a, ==, "turn://u%3Ax:***@host:3478?transport=tcp");
  g_autofree char *b = ar_ice_redact("stun://host:3478");
  g_assert_cmpstr(b, ==, "stun://host:3478");
}

static void
test_config(void)
{
  g_autoptr(GError) error = NULL;
  ArIceConfig ice = {0};
  const char *stun[] = {"stun:10.0.0.1:3478", "stun:10.0.0.2", NULL};
  const char *turn[] = {"turn:10.0.0.1?transport=udp", "turns:t.example.org:443", NULL};
  g_assert_true(ar_ice_config_build(&ice, stun, turn, "u", "p", TRUE, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(ice.stun, ==, "stun://10.0.0.1:3478");
  g_assert_cmpuint(g_strv_length(ice.turn), ==, 2);
  g_assert_true(ice.relay_only);

  /* A failure leaves the previous config as it was. */
  const char *bad[] = {"stun:10.0.0.1", NULL};
  g_assert_false(ar_ice_config_build(&ice, NULL, bad, "u", "p", FALSE, &error));
  g_clear_error(&error);
  g_assert_cmpuint(g_strv_length(ice.turn), ==, 2);
  /* relay-only without TURN is refused */
  g_assert_false(ar_ice_config_build(&ice, stun, NULL, NULL, NULL, TRUE, &error));
  g_clear_error(&error);
  /* Too many TURN servers */
  const char *many[AR_ICE_MAX_TURN + 2];
  for (int i = 0; i < AR_ICE_MAX_TURN + 1; i++)
    many[i] = "turn:10.0.0.1";
  many[AR_ICE_MAX_TURN + 1] = NULL;
  g_assert_false(ar_ice_config_build(&ice, NULL, many, "u", "p", FALSE, &error));
  g_clear_error(&error);
  ar_ice_config_clear(&ice);
  g_assert_null(ice.turn);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/ice/stun", test_stun);
  g_test_add_func("/media/ice/turn", test_turn);
  g_test_add_func("/media/ice/parse", test_parse);
  g_test_add_func("/media/ice/bad", test_bad);
  g_test_add_func("/media/ice/credentials", test_credentials);
  g_test_add_func("/media/ice/redact", test_redact);
  g_test_add_func("/media/ice/config", test_config);
  return g_test_run();
}
