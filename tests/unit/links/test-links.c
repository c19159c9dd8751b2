/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-links.c: meeting links: native forms (janus, whip), hostile input,
 * JSON output. Providers: test-links-providers.c; scanner: test-links-find.c.
 */
#include "test-links.h"

#include <json-glib/json-glib.h>
#include <string.h>

void
check_link(const char *text, const ArLinkPolicy *policy, const char *provider, ArEngine engine,
           const char *meeting_id, const char *passcode, const char *join_url, const char *sip_uri)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(text, policy, &error);
  if (link == NULL)
    g_test_message("refused: %s: %s", text, error->message);
  g_assert_no_error(error);
  g_assert_nonnull(link);
  if (link == NULL)
    return;
  g_assert_cmpstr(link->provider, ==, provider);
  g_assert_cmpstr(ar_engine_to_string(link->engine), ==, ar_engine_to_string(engine));
  g_assert_cmpstr(link->meeting_id, ==, meeting_id);
  g_assert_cmpstr(link->passcode, ==, passcode);
  g_assert_cmpstr(link->join_url, ==, join_url);
  g_assert_cmpstr(link->sip_uri, ==, sip_uri);
}

void
check_refused(const char *text, const ArLinkPolicy *policy, int code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(text, policy, &error);
  if (link != NULL)
    g_test_message("accepted: %s as %s %s", text, link->provider, link->join_url);
  g_assert_null(link);
  g_assert_nonnull(error);
  if (error == NULL)
    return;
  g_assert_true(error->domain == AR_LINK_ERROR);
  if (code >= 0 && error->code != code)
    g_test_message("%s: %s", text, error->message);
  if (code >= 0)
    g_assert_cmpint(error->code, ==, code);
  /* A reason a person understands: a sentence, not a code. */
  g_assert_cmpuint(strlen(error->message), >, 10);
}

/* ---- janus ---- */

static void
test_janus_ws_default_port(void)
{
  check_link("janus+ws://127.0.0.1/?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234", NULL,
             "ws://127.0.0.1:8188/", NULL);
  check_link("janus+ws://127.0.0.1?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234", NULL,
             "ws://127.0.0.1:8188/", NULL);
  check_link("janus+ws://janus.example.org?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234",
             NULL, "ws://janus.example.org:8188/", NULL);
}

static void
test_janus_ws_explicit_port(void)
{
  check_link("janus+ws://127.0.0.1:8188/?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234", NULL,
             "ws://127.0.0.1:8188/", NULL);
  check_link("janus+ws://10.97.0.1:9000/janus-ws?room=42", NULL, "janus", AR_ENGINE_NATIVE, "42",
             NULL, "ws://10.97.0.1:9000/janus-ws", NULL);
}

static void
test_janus_wss_default_port(void)
{
  check_link("janus+wss://janus.example.org/?room=5", NULL, "janus", AR_ENGINE_NATIVE, "5", NULL,
             "wss://janus.example.org:8989/", NULL);
  check_link("janus+wss://janus.example.org:443/ws?room=5", NULL, "janus", AR_ENGINE_NATIVE, "5",
             NULL, "wss://janus.example.org:443/ws", NULL);
}

static void
test_janus_http_default_path(void)
{
  check_link("janus+http://127.0.0.1?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234", NULL,
             "http://127.0.0.1:8088/janus", NULL);
  check_link("janus+http://127.0.0.1/?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234", NULL,
             "http://127.0.0.1:8088/janus", NULL);
  check_link("janus+http://127.0.0.1:8088/janus?room=1234", NULL, "janus", AR_ENGINE_NATIVE, "1234",
             NULL, "http://127.0.0.1:8088/janus", NULL);
  check_link("janus+http://127.0.0.1:8080/gw/janus?room=1234", NULL, "janus", AR_ENGINE_NATIVE,
             "1234", NULL, "http://127.0.0.1:8080/gw/janus", NULL);
}

static void
test_janus_https_default_port(void)
{
  check_link("janus+https://janus.example.org?room=77", NULL, "janus", AR_ENGINE_NATIVE, "77", NULL,
             "https://janus.example.org:8089/janus", NULL);
  check_link("JANUS+HTTPS://Janus.Example.ORG?room=77", NULL, "janus", AR_ENGINE_NATIVE, "77", NULL,
             "https://janus.example.org:8089/janus", NULL);
}

static void
test_janus_pin_display(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(
      "janus+ws://127.0.0.1:8188/?room=1234&pin=s3cr%26t&display=Room+4%C3%A9", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(link->meeting_id, ==, "1234");
  g_assert_cmpstr(link->passcode, ==, "s3cr&t");
  g_assert_cmpstr(link->display, ==, "Room 4\xc3\xa9");
  g_assert_cmpstr(link->join_url, ==, "ws://127.0.0.1:8188/");
  /* order does not matter, unknown parameters are ignored */
  check_link("janus+ws://127.0.0.1:8188/?display=x&foo=bar&pin=1&room=9", NULL, "janus",
             AR_ENGINE_NATIVE, "9", "1", "ws://127.0.0.1:8188/", NULL);
}

static void
test_janus_string_room(void)
{
  check_link("janus+wss://j.example.org/?room=standup-team_a.2", NULL, "janus", AR_ENGINE_NATIVE,
             "standup-team_a.2", NULL, "wss://j.example.org:8989/", NULL);
}

static void
test_janus_ipv6(void)
{
  check_link("janus+ws://[::1]:8188/?room=1", NULL, "janus", AR_ENGINE_NATIVE, "1", NULL,
             "ws://[::1]:8188/", NULL);
  check_link("janus+ws://[fd00::1]?room=1", NULL, "janus", AR_ENGINE_NATIVE, "1", NULL,
             "ws://[fd00::1]:8188/", NULL);
}

static void
test_janus_refused(void)
{
  check_refused("janus+ws://127.0.0.1:8188/", NULL, AR_LINK_ERROR_INVALID);       /* no room */
  check_refused("janus+ws://127.0.0.1:8188/?room=", NULL, AR_LINK_ERROR_INVALID); /* empty */
  check_refused("janus+ws://127.0.0.1:8188/?room=1&room=2", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:8188/?room=1%202", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:8188/?room=%00", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:8188/?room=1&display=%0a", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:0/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:65536/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:+80/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1:008188/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://user:pw@127.0.0.1/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ftp://127.0.0.1/?room=1", NULL, AR_LINK_ERROR_SCHEME);
  check_refused("janus+ws:?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws:///?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://[::1/?room=1", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://[fe80::1%25eth0]/?room=1", NULL, AR_LINK_ERROR_INVALID);
}

/* ---- a room's call link (ar-link-roomcall.c) ---- */

#define TOK "arc_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PIN "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void
test_room_call(void)
{
  check_link("https://10.97.0.1:8443/call#t=" TOK "&fp=" PIN, NULL, "anyroom", AR_ENGINE_NATIVE,
             NULL, TOK, "https://10.97.0.1:8443/api/v1/call", NULL);
  check_link("https://anyroom-2.local/call#t=" TOK, NULL, "anyroom", AR_ENGINE_NATIVE, NULL, TOK,
             "https://anyroom-2.local/api/v1/call", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) pinned = ar_link_parse("https://10.0.0.5/call#fp=" PIN "&t=" TOK, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(pinned->tls_pin, ==, PIN);
  g_autoptr(ArLink) copy = ar_link_copy(pinned);
  g_assert_cmpstr(copy->tls_pin, ==, PIN);
  g_autoptr(ArLink) unpinned = ar_link_parse("https://10.0.0.5/call#t=" TOK, NULL, &error);
  g_assert_no_error(error);
  g_assert_null(unpinned->tls_pin);
  g_assert_true(ar_link_room_call_token_ok(TOK));
  g_assert_false(ar_link_room_call_token_ok("arc_0123"));
  g_assert_false(ar_link_room_call_token_ok(NULL));
  g_assert_false(ar_link_room_call_token_ok("art_0123456789abcdef0123456789abcdef0123456789abcdef"
                                            "0123456789abcdef"));
  /* refused with a clear error, never handed to another form */
  check_refused("http://10.0.0.5/call#t=" TOK, NULL, AR_LINK_ERROR_SCHEME);
  check_refused("https://10.0.0.5/call#t=arc_12", NULL, AR_LINK_ERROR_INVALID);
  check_refused("https://10.0.0.5/call#t=" TOK "&fp=zz", NULL, AR_LINK_ERROR_INVALID);
  check_refused("https://10.0.0.5/call?x=1#t=" TOK, NULL, AR_LINK_ERROR_INVALID);
  check_refused("https://10.0.0.5/call#t=" TOK "&t=" TOK, NULL, AR_LINK_ERROR_INVALID);
  check_refused("https://u@10.0.0.5/call#t=" TOK, NULL, AR_LINK_ERROR_HOST);
  /* upper-case hex is not what a room hands out */
  check_refused("https://10.0.0.5/call#t=arc_0123456789ABCDEF0123456789abcdef0123456789abcdef"
                "0123456789abcdef",
                NULL, AR_LINK_ERROR_INVALID);
}

/* ---- whip ---- */

static void
test_whip_basic(void)
{
  check_link("whip+https://whip.example.org/whip/endpoint/abc", NULL, "whip", AR_ENGINE_NATIVE,
             NULL, NULL, "https://whip.example.org/whip/endpoint/abc", NULL);
  check_link("whip+https://whip.example.org:8443/whip?app=live#token=eyJhbGciOi.J9-_x", NULL,
             "whip", AR_ENGINE_NATIVE, NULL, "eyJhbGciOi.J9-_x",
             "https://whip.example.org:8443/whip?app=live", NULL);
  check_link("whip+http://10.97.0.1:8080/whip/room1", NULL, "whip", AR_ENGINE_NATIVE, NULL, NULL,
             "http://10.97.0.1:8080/whip/room1", NULL);
}

static void
test_whep(void)
{
  check_link("whep+https://sfu.example.org/whep/stream/1#token=abc", NULL, "whep", AR_ENGINE_NATIVE,
             NULL, "abc", "https://sfu.example.org/whep/stream/1", NULL);
  check_link("whep+http://10.97.0.1:8080/whep", NULL, "whep", AR_ENGINE_NATIVE, NULL, NULL,
             "http://10.97.0.1:8080/whep", NULL);
  check_refused("whep+https://sfu.example.org", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whep+wss://sfu.example.org/whep", NULL, AR_LINK_ERROR_SCHEME);
  check_refused("whep+https://x@sfu.example.org/w", NULL, AR_LINK_ERROR_HOST);
}

/* One call with media both ways: whip+...#whep=URL (the WHEP endpoint on the same origin). */
static void
test_whip_whep(void)
{
  static const struct {
    const char *text, *join, *token, *whep, *whep_token;
  } ok[] = {
      {"whip+https://sfu.example.org/whip/"
       "room1#token=abc&whep=https%3A%2F%2Fsfu.example.org%2Fwhep%2Froom1",
       "https://sfu.example.org/whip/room1", "abc", "https://sfu.example.org/whep/room1", NULL},
      /* Not encoded (a fragment may hold ':' and '/'), a token of its own, a query of its own. */
      {"whip+https://sfu.example.org:8443/whip?app=x#whep=https://sfu.example.org:8443/"
       "whep%3Fapp%3Dx"
       "&whep-token=viewer.1",
       "https://sfu.example.org:8443/whip?app=x", NULL, "https://sfu.example.org:8443/whep?app=x",
       "viewer.1"},
      /* The default port written or not is the same origin. */
      {"whip+https://sfu.example.org/whip#whep=https%3A%2F%2FSFU.example.org%3A443%2Fwhep",
       "https://sfu.example.org/whip", NULL, "https://sfu.example.org/whep", NULL},
      {"whip+http://10.97.0.1:8080/whip/ep#token=t&whep=http%3A%2F%2F10.97.0.1%3A8080%2Fwhep%2Fep",
       "http://10.97.0.1:8080/whip/ep", "t", "http://10.97.0.1:8080/whep/ep", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArLink) link = ar_link_parse(ok[i].text, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(link->provider, ==, "whip");
    g_assert_cmpstr(link->join_url, ==, ok[i].join);
    g_assert_cmpstr(link->passcode, ==, ok[i].token);
    g_assert_cmpstr(link->whep_url, ==, ok[i].whep);
    g_assert_cmpstr(link->whep_token, ==, ok[i].whep_token);
    g_autoptr(ArLink) copy = ar_link_copy(link);
    g_assert_cmpstr(copy->whep_url, ==, ok[i].whep);
    g_assert_cmpstr(copy->whep_token, ==, ok[i].whep_token);
    g_autofree char *json = ar_link_to_json(link);
    g_assert_nonnull(strstr(json, "\"whep_url\""));
    if (ok[i].whep_token != NULL)
      g_assert_null(strstr(json, ok[i].whep_token));
  }
  /* A plain WHIP link has no whep_url, in JSON neither. */
  g_autoptr(ArLink) plain = ar_link_parse("whip+https://sfu.example.org/whip", NULL, NULL);
  g_assert_null(plain->whep_url);
  g_autofree char *json = ar_link_to_json(plain);
  g_assert_null(strstr(json, "whep_url"));

  /* Another host, scheme or port: the token would go elsewhere. */
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fevil.example%2Fwhep", NULL,
                AR_LINK_ERROR_HOST);
  check_refused(
      "whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org.evil.example%2Fw", NULL,
      AR_LINK_ERROR_HOST);
  check_refused("whip+https://sfu.example.org/whip#whep=http%3A%2F%2Fsfu.example.org%2Fwhep", NULL,
                AR_LINK_ERROR_HOST);
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org%3A8443%2Fw",
                NULL, AR_LINK_ERROR_HOST);
  check_refused("whip+https://sfu.example.org/whip#whep=whep%2Bhttps%3A%2F%2Fsfu.example.org%2Fw",
                NULL, AR_LINK_ERROR_HOST);
  /* User info, no path, a fragment, not a URL, twice, a token without a URL, a bad token. */
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fx%40sfu.example.org%2Fw",
                NULL, -1);
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org%2F", NULL,
                AR_LINK_ERROR_INVALID);
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org%2Fw%23x",
                NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+https://sfu.example.org/whip#whep=%20", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org%2Fa"
                "&whep=https%3A%2F%2Fsfu.example.org%2Fb",
                NULL, -1);
  check_refused("whip+https://sfu.example.org/whip#whep-token=abc", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+https://sfu.example.org/whip#whep=https%3A%2F%2Fsfu.example.org%2Fw"
                "&whep-token=a%20b",
                NULL, AR_LINK_ERROR_INVALID);
  /* A WHEP link names no other WHEP URL. */
  check_refused("whep+https://sfu.example.org/whep#whep=https%3A%2F%2Fsfu.example.org%2Fw", NULL,
                AR_LINK_ERROR_INVALID);
}

static void
test_whip_refused(void)
{
  check_refused("whip+https://whip.example.org", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+https://whip.example.org/", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+ws://whip.example.org/whip", NULL, AR_LINK_ERROR_SCHEME);
  check_refused("whip+https://whip.example.org/w#token=a%20b", NULL, AR_LINK_ERROR_INVALID);
  check_refused("whip+https://x@whip.example.org/w", NULL, AR_LINK_ERROR_HOST);
}

/* ---- hostile input, independent of providers ---- */

static void
test_hostile_userinfo(void)
{
  check_refused("https://zoom.us@evil.example/j/123456789", NULL, AR_LINK_ERROR_HOST);
  check_refused("https://teams.microsoft.com:443@evil.example/l/meetup-join/x", NULL,
                AR_LINK_ERROR_HOST);
  check_refused("https://@zoom.us/j/123456789", NULL, AR_LINK_ERROR_HOST);
}

static void
test_hostile_backslash(void)
{
  check_refused("https://evil.example\\@zoom.us/j/123456789", NULL, AR_LINK_ERROR_INVALID);
  check_refused("https://zoom.us\\.evil.example/j/123", NULL, AR_LINK_ERROR_INVALID);
}

static void
test_hostile_idn(void)
{
  /* Cyrillic 'о' in zoom */
  check_refused("https://z\xd0\xbe\xd0\xbem.us/j/123456789", NULL, AR_LINK_ERROR_HOST);
  check_refused("https://xn--zm-dmca.us/j/123456789", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://xn--80ak6aa92e.com/?room=1", NULL, AR_LINK_ERROR_HOST);
  /* allowed by policy: converted to ASCII, still matched exactly */
  ArLinkPolicy p = {.allow_idn = TRUE};
  check_link("janus+ws://b\xc3\xbc"
             "cher.example/?room=1",
             &p, "janus", AR_ENGINE_NATIVE, "1", NULL, "ws://xn--bcher-kva.example:8188/", NULL);
}

static void
test_hostile_host_syntax(void)
{
  check_refused("janus+ws://exa%6dple.org/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://exa_mple.org/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://-example.org/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://a..b/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://0x7f.1/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://127.1/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://0177.0.0.1/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://2130706433/?room=1", NULL, AR_LINK_ERROR_HOST);
  check_refused("janus+ws://1.2.3.256/?room=1", NULL, AR_LINK_ERROR_HOST);
  /* trailing dot is the same host */
  check_link("janus+ws://janus.example.org./?room=1", NULL, "janus", AR_ENGINE_NATIVE, "1", NULL,
             "ws://janus.example.org:8188/", NULL);
}

static void
test_hostile_controls(void)
{
  check_refused("janus+ws://127.0.0.1/?room=1\n&pin=2", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1/?room=1 2", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1/?room=1%zz", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1/?room=1%4", NULL, AR_LINK_ERROR_INVALID);
  check_refused("janus+ws://127.0.0.1/?room=1\xff", NULL, AR_LINK_ERROR_INVALID);
  check_refused("", NULL, AR_LINK_ERROR_INVALID);
  check_refused("   ", NULL, AR_LINK_ERROR_INVALID);
  check_refused("not a link", NULL, AR_LINK_ERROR_INVALID);
  check_refused("//zoom.us/j/123", NULL, AR_LINK_ERROR_INVALID);
  check_refused("javascript:alert(1)", NULL, AR_LINK_ERROR_SCHEME);
  check_refused("data:text/html,hello", NULL, AR_LINK_ERROR_SCHEME);
  check_refused("file:///etc/passwd", NULL, -1);
  /* surrounding whitespace is trimmed */
  check_link("  janus+ws://127.0.0.1/?room=1\n", NULL, "janus", AR_ENGINE_NATIVE, "1", NULL,
             "ws://127.0.0.1:8188/", NULL);
}

static void
test_hostile_too_long(void)
{
  GString *s = g_string_new("janus+ws://127.0.0.1/?room=1&x=");
  while (s->len <= AR_LINK_MAX_LEN)
    g_string_append_c(s, 'a');
  check_refused(s->str, NULL, AR_LINK_ERROR_TOO_LONG);
  g_string_truncate(s, AR_LINK_MAX_LEN);
  g_autoptr(ArLink) link = ar_link_parse(s->str, NULL, NULL);
  g_assert_nonnull(link);
  g_string_free(s, TRUE);
}

static void
test_hostile_unknown_host(void)
{
  check_refused("https://example.com/meeting/123", NULL, AR_LINK_ERROR_HOST);
  check_refused("https://teams.microsoft.com.evil.example/l/meetup-join/x", NULL,
                AR_LINK_ERROR_HOST);
}

/* ---- JSON ---- */

static void
test_json_ok(void)
{
  gboolean ok = FALSE;
  g_autofree char *json =
      ar_link_url_info_json("janus+ws://127.0.0.1:8188/?room=1234&pin=a\"b", NULL, &ok);
  g_assert_true(ok);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  g_assert_true(json_object_get_boolean_member(o, "ok"));
  g_assert_cmpstr(json_object_get_string_member(o, "provider"), ==, "janus");
  g_assert_cmpstr(json_object_get_string_member(o, "engine"), ==, "native");
  g_assert_cmpstr(json_object_get_string_member(o, "meeting_id"), ==, "1234");
  g_assert_cmpstr(json_object_get_string_member(o, "passcode"), ==, "a\"b");
  g_assert_cmpstr(json_object_get_string_member(o, "join_url"), ==, "ws://127.0.0.1:8188/");
  g_assert_true(json_object_has_member(o, "sip_uri"));
  g_assert_true(json_object_get_null_member(o, "sip_uri"));
}

static void
test_json_error(void)
{
  gboolean ok = TRUE;
  g_autofree char *json = ar_link_url_info_json("https://zoom.us@evil.example/j/1", NULL, &ok);
  g_assert_false(ok);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  g_assert_false(json_object_get_boolean_member(o, "ok"));
  g_assert_nonnull(strstr(json_object_get_string_member(o, "error"), "user name"));
  g_autofree char *json2 = ar_link_url_info_json(NULL, NULL, NULL);
  g_assert_nonnull(strstr(json2, "\"ok\":false"));
}

/* ---- [links] configuration ---- */

static ArLinkConfig *
load_config(const char *text, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
  return ar_link_config_new_from_keyfile(kf, NULL, error);
}

static void
test_config_domains(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLinkConfig) cfg = load_config("[links]\n"
                                            "jitsi-domains=Meet.Example.ORG; *.jitsi.example.net\n"
                                            "pexip-domains=video.example.com\n",
                                            &error);
  g_assert_no_error(error);
  const ArLinkPolicy *p = ar_link_config_get_policy(cfg);
  g_assert_cmpstr(p->jitsi_domains[0], ==, "meet.example.org");
  g_assert_cmpstr(p->jitsi_domains[1], ==, "*.jitsi.example.net");
  g_assert_null(p->jitsi_domains[2]);
  g_assert_false(p->allow_idn);
  check_link("https://meet.example.org/standup", p, "jitsi", AR_ENGINE_WEB, "standup", NULL,
             "https://meet.example.org/standup", NULL);
  check_link("https://a.jitsi.example.net/standup", p, "jitsi", AR_ENGINE_WEB, "standup", NULL,
             "https://a.jitsi.example.net/standup", NULL);
  check_link("https://video.example.com/webapp/m/alice", p, "pexip", AR_ENGINE_WEB, "alice", NULL,
             "https://video.example.com/webapp/m/alice", "sip:alice@video.example.com");
  /* exact: a lookalike of a configured domain is still unknown */
  check_refused("https://meet.example.org.evil.example/standup", p, AR_LINK_ERROR_HOST);
  check_refused("https://evilmeet.example.org/standup", p, AR_LINK_ERROR_HOST);
}

static void
test_config_defaults(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLinkConfig) cfg = load_config("[device]\nboard=host\n", &error);
  g_assert_no_error(error);
  const ArLinkPolicy *p = ar_link_config_get_policy(cfg);
  g_assert_null(p->jitsi_domains[0]);
  g_assert_null(p->pexip_domains[0]);
  g_assert_false(p->allow_idn);
}

static void
test_config_refused(void)
{
  static const char *const bad[] = {
      "[links]\njitsi-domain=meet.example.org\n", /* unknown key */
      "[links]\njitsi-domains=localhost\n",       /* one label */
      "[links]\njitsi-domains=10.0.0.1\n",        /* an address */
      "[links]\njitsi-domains=*\n",
      "[links]\njitsi-domains=https://meet.example.org/\n",
      ("[links]\npexip-domains=b\xc3\xbc"
       "cher.example\n"), /* IDN without allow-idn */
      "[links]\nallow-idn=maybe\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArLinkConfig) cfg = load_config(bad[i], &error);
    g_assert_null(cfg);
    g_assert_nonnull(error);
    if (error != NULL)
      g_assert_true(g_str_has_prefix(error->message, "[links]"));
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLinkConfig) idn = load_config("[links]\nallow-idn=true\n"
                                            "jitsi-domains=b\xc3\xbc"
                                            "cher.example\n",
                                            &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ar_link_config_get_policy(idn)->jitsi_domains[0], ==, "xn--bcher-kva.example");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* report every mismatch of a case, not only the first */
  g_test_set_nonfatal_assertions();

  g_test_add_func("/links/janus/ws-default-port", test_janus_ws_default_port);
  g_test_add_func("/links/janus/ws-explicit-port", test_janus_ws_explicit_port);
  g_test_add_func("/links/janus/wss-default-port", test_janus_wss_default_port);
  g_test_add_func("/links/janus/http-default-path", test_janus_http_default_path);
  g_test_add_func("/links/janus/https-default-port", test_janus_https_default_port);
  g_test_add_func("/links/janus/pin-display", test_janus_pin_display);
  g_test_add_func("/links/janus/string-room", test_janus_string_room);
  g_test_add_func("/links/janus/ipv6", test_janus_ipv6);
  g_test_add_func("/links/janus/refused", test_janus_refused);
  g_test_add_func("/links/whip/basic", test_whip_basic);
  g_test_add_func("/links/whip/refused", test_whip_refused);
  g_test_add_func("/links/whep", test_whep);
  g_test_add_func("/links/room-call", test_room_call);
  g_test_add_func("/links/whip/two-way", test_whip_whep);
  g_test_add_func("/links/hostile/userinfo", test_hostile_userinfo);
  g_test_add_func("/links/hostile/backslash", test_hostile_backslash);
  g_test_add_func("/links/hostile/idn", test_hostile_idn);
  g_test_add_func("/links/hostile/host-syntax", test_hostile_host_syntax);
  g_test_add_func("/links/hostile/controls", test_hostile_controls);
  g_test_add_func("/links/hostile/too-long", test_hostile_too_long);
  g_test_add_func("/links/hostile/unknown-host", test_hostile_unknown_host);
  g_test_add_func("/links/json/ok", test_json_ok);
  g_test_add_func("/links/json/error", test_json_error);
  g_test_add_func("/links/config/domains", test_config_domains);
  g_test_add_func("/links/config/defaults", test_config_defaults);
  g_test_add_func("/links/config/refused", test_config_refused);
  test_links_add_provider_tests();
  test_links_add_find_tests();

  return g_test_run();
}
