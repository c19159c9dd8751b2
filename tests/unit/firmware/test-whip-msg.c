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

/* An offer as webrtcbin writes it (trimmed), BUNDLE: audio and video. */
static const char offer[] = "v=0\r\n"
                            "o=- 1 0 IN IP4 0.0.0.0\r\n"
                            "s=-\r\n"
                            "t=0 0\r\n"
                            "a=group:BUNDLE audio0 video1\r\n"
                            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                            "a=ice-ufrag:EsAw\r\n"
                            "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                            "a=mid:audio0\r\n"
                            "a=rtpmap:111 OPUS/48000/2\r\n"
                            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                            "a=ice-ufrag:EsAw\r\n"
                            "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                            "a=mid:video1\r\n";

static void
test_sdpfrag_build(void)
{
  const ArWhipCandidate c[] = {
      {0, "candidate:1 1 UDP 2122260223 192.0.2.1 61764 typ host"},
      {0, "candidate:2 1 UDP 1686052607 198.51.100.2 61765 typ srflx raddr 192.0.2.1 rport 61764"},
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *f = ar_whip_sdpfrag_build(offer, c, G_N_ELEMENTS(c), TRUE, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f, ==,
                  "a=ice-ufrag:EsAw\r\n"
                  "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                  "a=mid:audio0\r\n"
                  "a=candidate:1 1 UDP 2122260223 192.0.2.1 61764 typ host\r\n"
                  "a=candidate:2 1 UDP 1686052607 198.51.100.2 61765 typ srflx raddr 192.0.2.1 "
                  "rport 61764\r\n"
                  "a=end-of-candidates\r\n");
  /* Only the end: the first section carries it. */
  g_autofree char *e = ar_whip_sdpfrag_build(offer, NULL, 0, TRUE, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(e, ==,
                  "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio0\r\na=end-of-candidates\r\n");
  const ArWhipCandidate bad[] = {{5, "candidate:1 1 UDP 1 192.0.2.1 1 typ host"}};
  g_autofree char *b = ar_whip_sdpfrag_build(offer, bad, 1, FALSE, &error);
  g_assert_null(b);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
  g_clear_error(&error);
  g_autofree char *n = ar_whip_sdpfrag_build("v=0\r\nm=audio 9 X 0\r\n", c, 1, FALSE, &error);
  g_assert_null(n);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
}

static void
test_sdpfrag_parse(void)
{
  static const char text[] = "a=ice-ufrag:Srv1\r\n"
                             "a=ice-pwd:ServerPassword0123456789\r\n"
                             "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
                             "a=mid:0\r\n"
                             "a=candidate:1 1 udp 2130706431 203.0.113.5 40000 typ host\r\n"
                             "\n"
                             "a=mid:1\n"
                             "a=candidate:2 1 udp 2130706431 203.0.113.5 40002 typ host\n"
                             "a=end-of-candidates\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(ArWhipSdpfrag) f = ar_whip_sdpfrag_parse(text, strlen(text), &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f->ufrag, ==, "Srv1");
  g_assert_cmpstr(f->pwd, ==, "ServerPassword0123456789");
  g_assert_cmpuint(f->candidates->len, ==, 2);
  g_assert_cmpstr(f->mids->pdata[0], ==, "0");
  g_assert_cmpstr(f->mids->pdata[1], ==, "1");
  g_assert_cmpstr(f->candidates->pdata[1], ==,
                  "candidate:2 1 udp 2130706431 203.0.113.5 40002 typ host");
  g_assert_true(f->end);

  const char *bad[] = {"a=candidate:1 1 udp 1 192.0.2.1 1 typ host\r\n", "a=mid:0\r\na=x\x01y\r\n",
                       "a=mid:0\r\n\xc3\xa9\r\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ArWhipSdpfrag) r = ar_whip_sdpfrag_parse(bad[i], strlen(bad[i]), &e);
    g_assert_null(r);
    g_assert_error(e, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
  }
  g_autoptr(GString) many = g_string_new("a=mid:0\r\n");
  for (int i = 0; i <= AR_WHIP_MAX_FRAG_CANDIDATES; i++)
    g_string_append_printf(many, "a=candidate:%d 1 udp 1 192.0.2.1 %d typ host\r\n", i, i + 1);
  g_autoptr(ArWhipSdpfrag) m = ar_whip_sdpfrag_parse(many->str, many->len, &error);
  g_assert_null(m);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE);
  g_clear_error(&error);
  g_autoptr(ArWhipSdpfrag) big = ar_whip_sdpfrag_parse(many->str, AR_WHIP_MAX_SDPFRAG + 1, &error);
  g_assert_null(big);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE);
}

static void
test_offer_with_candidates(void)
{
  const ArWhipCandidate c[] = {
      {0, "candidate:1 1 UDP 2122260223 192.0.2.1 61764 typ host"},
      {1, "candidate:3 1 UDP 2122260223 192.0.2.1 61766 typ host"},
      {0, "candidate:2 1 TCP 1015022079 192.0.2.1 9 typ host tcptype active"},
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *o = ar_whip_offer_with_candidates(offer, c, G_N_ELEMENTS(c), TRUE, &error);
  g_assert_no_error(error);
  /* Audio's candidates before the video section, video's at the end; the rest unchanged. */
  const char *audio_cands = "a=rtpmap:111 OPUS/48000/2\r\n"
                            "a=candidate:1 1 UDP 2122260223 192.0.2.1 61764 typ host\r\n"
                            "a=candidate:2 1 TCP 1015022079 192.0.2.1 9 typ host tcptype active\r\n"
                            "a=end-of-candidates\r\n"
                            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
  g_assert_nonnull(strstr(o, audio_cands));
  g_assert_true(g_str_has_suffix(o, "a=mid:video1\r\n"
                                    "a=candidate:3 1 UDP 2122260223 192.0.2.1 61766 typ host\r\n"
                                    "a=end-of-candidates\r\n"));
  g_assert_true(g_str_has_prefix(o, "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\n"));
  /* No candidates: the offer as it was. */
  g_autofree char *same = ar_whip_offer_with_candidates(offer, NULL, 0, FALSE, &error);
  g_assert_cmpstr(same, ==, offer);
  const ArWhipCandidate bad[] = {{2, "candidate:9 1 UDP 1 192.0.2.1 1 typ host"}};
  g_autofree char *b = ar_whip_offer_with_candidates(offer, bad, 1, TRUE, &error);
  g_assert_null(b);
  g_assert_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID);
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
  g_test_add_func("/whip/sdpfrag-build", test_sdpfrag_build);
  g_test_add_func("/whip/sdpfrag-parse", test_sdpfrag_parse);
  g_test_add_func("/whip/offer-with-candidates", test_offer_with_candidates);
  return g_test_run();
}
