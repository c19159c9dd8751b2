/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ar-janus-msg.h"

static ArJanusMsg *
parse(const char *text, GError **error)
{
  return ar_janus_msg_parse(text, strlen(text), error);
}

static void
test_success(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArJanusMsg) m =
      parse("{\"janus\":\"success\",\"transaction\":\"t1\",\"data\":{\"id\":4242424242}}", &error);
  g_assert_no_error(error);
  g_assert_cmpint(m->type, ==, AR_JANUS_MSG_SUCCESS);
  g_assert_cmpstr(m->transaction, ==, "t1");
  g_assert_cmpuint(m->data_id, ==, 4242424242u);
}

static void
test_joined(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArJanusMsg) m = parse(
      "{\"janus\":\"event\",\"session_id\":11,\"sender\":22,\"transaction\":\"t2\","
      "\"plugindata\":{\"plugin\":\"janus.plugin.videoroom\",\"data\":{\"videoroom\":\"joined\","
      "\"room\":1234,\"id\":777,\"private_id\":888,\"publishers\":[{\"id\":555,\"display\":"
      "\"alice\",\"streams\":[]},{\"id\":\"bob-1\",\"display\":\"bob\"},{\"nope\":1},17]}}}",
      &error);
  g_assert_no_error(error);
  g_assert_cmpint(m->type, ==, AR_JANUS_MSG_EVENT);
  g_assert_cmpuint(m->session_id, ==, 11);
  g_assert_cmpuint(m->sender, ==, 22);
  g_assert_cmpstr(m->videoroom, ==, "joined");
  g_assert_cmpstr(m->id.str, ==, "777");
  g_assert_true(m->id.numeric);
  g_assert_cmpstr(m->private_id.str, ==, "888");
  /* junk entries are skipped, string ids kept */
  g_assert_cmpuint(m->publishers->len, ==, 2);
  ArJanusPublisher *p0 = m->publishers->pdata[0], *p1 = m->publishers->pdata[1];
  g_assert_cmpstr(p0->id.str, ==, "555");
  g_assert_cmpstr(p0->display, ==, "alice");
  g_assert_cmpstr(p1->id.str, ==, "bob-1");
  g_assert_false(p1->id.numeric);
}

static void
test_jsep_and_trickle(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArJanusMsg) m =
      parse("{\"janus\":\"event\",\"sender\":3,\"plugindata\":{\"plugin\":\"janus.plugin."
            "videoroom\",\"data\":{\"videoroom\":\"attached\"}},\"jsep\":{\"type\":\"offer\","
            "\"sdp\":\"v=0\\r\\n\"}}",
            &error);
  g_assert_no_error(error);
  g_assert_cmpstr(m->jsep_type, ==, "offer");
  g_assert_cmpstr(m->jsep_sdp, ==, "v=0\r\n");

  g_autoptr(ArJanusMsg) t = parse(
      "{\"janus\":\"trickle\",\"sender\":3,\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 "
      "10.97.0.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":1}}",
      &error);
  g_assert_no_error(error);
  g_assert_cmpint(t->type, ==, AR_JANUS_MSG_TRICKLE);
  g_assert_cmpint(t->mline_index, ==, 1);
  g_assert_nonnull(strstr(t->candidate, "10.97.0.1"));

  g_autoptr(ArJanusMsg) c =
      parse("{\"janus\":\"trickle\",\"sender\":3,\"candidate\":{\"completed\":true}}", &error);
  g_assert_no_error(error);
  g_assert_true(c->completed);
  g_assert_null(c->candidate);
}

static void
test_unpublished_leaving(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArJanusMsg) m = parse("{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":"
                                  "\"event\",\"unpublished\":555,\"leaving\":\"ok\"}}}",
                                  &error);
  g_assert_no_error(error);
  g_assert_cmpstr(m->unpublished.str, ==, "555");
  g_assert_false(m->unpublished_self);
  g_assert_null(m->leaving.str);
  g_assert_true(m->leaving_self);
}

static void
test_errors(void)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(ArJanusMsg) room = parse("{\"janus\":\"event\",\"plugindata\":{\"data\":{"
                                     "\"videoroom\":\"event\",\"error_code\":426,\"error\":"
                                     "\"No such room (999)\"}}}",
                                     &e);
  g_assert_no_error(e);
  g_assert_true(ar_janus_msg_to_error(room, &e));
  g_assert_error(e, AR_JANUS_ERROR, AR_JANUS_ERROR_NO_SUCH_ROOM);
  g_assert_nonnull(strstr(e->message, "does not exist"));
  g_clear_error(&e);

  g_autoptr(ArJanusMsg) pin = parse("{\"janus\":\"event\",\"plugindata\":{\"data\":{"
                                    "\"error_code\":433,\"error\":\"Unauthorized\"}}}",
                                    &e);
  g_assert_true(ar_janus_msg_to_error(pin, &e));
  g_assert_error(e, AR_JANUS_ERROR, AR_JANUS_ERROR_UNAUTHORIZED);
  g_assert_nonnull(strstr(e->message, "PIN"));
  g_clear_error(&e);

  g_autoptr(ArJanusMsg) core =
      parse("{\"janus\":\"error\",\"error\":{\"code\":458,\"reason\":\"No such session\"}}", &e);
  g_assert_true(ar_janus_msg_to_error(core, &e));
  g_assert_nonnull(strstr(e->message, "No such session"));
  g_clear_error(&e);

  g_autoptr(ArJanusMsg) ok = parse("{\"janus\":\"ack\"}", &e);
  g_assert_false(ar_janus_msg_to_error(ok, &e));
  g_assert_no_error(e);
}

static void
test_malformed(void)
{
  const char *bad[] = {
      "",
      "nope",
      "[]",
      "42",
      "{}",
      "{\"janus\":7}",
      "{\"janus\":\"event\",\"jsep\":{\"type\":\"offer\"}}",
      "{\"janus\":\"event\",\"jsep\":{\"type\":\"pranswer\",\"sdp\":\"v=0\"}}",
      "{\"janus\":\"event\",\"jsep\":{\"type\":\"offer\",\"sdp\":5}}",
      "{\"janus\":\"trickle\"}",
      "{\"janus\":\"trickle\",\"candidate\":{\"candidate\":\"x\",\"sdpMLineIndex\":-1}}",
      "{\"janus\":\"trickle\",\"candidate\":{\"candidate\":\"x\",\"sdpMLineIndex\":\"0\"}}",
      "{\"janus\":\"success\"",
      "{\"janus\":\"success\",}",
      /* Not RFC 8259 (ar-json.h): json-glib would have read something else. */
      "{\"janus\":\"success\",\"session_id\":0x10}",
      "{\"janus\":\"success\",\"session_id\":-18446744073709551566}",
      "{\"janus\":\"ack\",\"transaction\":\"a\\u0000b\"}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArJanusMsg) m = parse(bad[i], &error);
    if (m)
      g_error("accepted malformed message %s", bad[i]);
    g_assert_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED);
  }
}

static void
test_hostile(void)
{
  /* Deep nesting: refused before json-glib recurses. */
  GString *deep = g_string_new("{\"janus\":\"event\",\"x\":");
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, '[');
  g_autoptr(GError) e1 = NULL;
  g_assert_null(ar_janus_msg_parse(deep->str, deep->len, &e1));
  g_assert_error(e1, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE);
  g_string_free(deep, TRUE);

  /* Over the size limit. */
  gsize big = AR_JANUS_MAX_MESSAGE + 1;
  g_autofree char *huge = g_malloc(big);
  memset(huge, ' ', big);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(ar_janus_msg_parse(huge, big, &e2));
  g_assert_error(e2, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE);

  /* Too many publishers. */
  GString *many = g_string_new("{\"janus\":\"event\",\"plugindata\":{\"data\":{\"publishers\":[");
  for (int i = 0; i < AR_JANUS_MAX_PUBLISHERS + 1; i++)
    g_string_append_printf(many, "%s{\"id\":%d}", i ? "," : "", i + 1);
  g_string_append(many, "]}}}");
  g_autoptr(GError) e3 = NULL;
  g_assert_null(ar_janus_msg_parse(many->str, many->len, &e3));
  g_assert_error(e3, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE);
  g_string_free(many, TRUE);

  /* Oversized SDP. */
  GString *sdp = g_string_new("{\"janus\":\"event\",\"jsep\":{\"type\":\"offer\",\"sdp\":\"");
  for (int i = 0; i < AR_JANUS_MAX_SDP + 10; i++)
    g_string_append_c(sdp, 'a');
  g_string_append(sdp, "\"}}");
  g_autoptr(GError) e4 = NULL;
  g_assert_null(ar_janus_msg_parse(sdp->str, sdp->len, &e4));
  g_assert_error(e4, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE);
  g_string_free(sdp, TRUE);

  /* Invalid UTF-8, embedded NUL. */
  g_autoptr(GError) e5 = NULL;
  g_assert_null(parse("{\"janus\":\"\xff\"}", &e5));
  g_assert_nonnull(e5);
  const char nul[] = "{\"janus\":\"ack\"}\0{}";
  g_autoptr(GError) e6 = NULL;
  g_autoptr(ArJanusMsg) m6 = ar_janus_msg_parse(nul, sizeof nul - 1, &e6);
  g_assert_null(m6);

  /* Ids out of range or of the wrong type are not taken. */
  g_autoptr(GError) e7 = NULL;
  g_autoptr(ArJanusMsg) m7 = parse("{\"janus\":\"success\",\"session_id\":-5,\"sender\":1e300,"
                                   "\"data\":{\"id\":9007199254740993}}",
                                   &e7);
  g_assert_no_error(e7);
  g_assert_cmpuint(m7->session_id, ==, 0);
  g_assert_cmpuint(m7->sender, ==, 0);
  g_assert_cmpuint(m7->data_id, ==, 0);

  /* Long display names are cut, at a character boundary. */
  GString *longname = g_string_new("{\"janus\":\"event\",\"plugindata\":{\"data\":{\"publishers\":"
                                   "[{\"id\":1,\"display\":\"");
  for (int i = 0; i < 1000; i++)
    g_string_append(longname, "\xc3\xa9");
  g_string_append(longname, "\"}]}}}");
  g_autoptr(GError) e8 = NULL;
  g_autoptr(ArJanusMsg) m8 = ar_janus_msg_parse(longname->str, longname->len, &e8);
  g_assert_no_error(e8);
  ArJanusPublisher *p = m8->publishers->pdata[0];
  g_assert_cmpuint(strlen(p->display), <=, AR_JANUS_MAX_DISPLAY);
  g_assert_true(g_utf8_validate(p->display, -1, NULL));
  g_string_free(longname, TRUE);
}

static void
test_many(void)
{
  const char *text = "[{\"janus\":\"keepalive\"},{\"janus\":\"webrtcup\",\"sender\":5}]";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) msgs = ar_janus_msg_parse_many(text, strlen(text), &error);
  g_assert_no_error(error);
  g_assert_cmpuint(msgs->len, ==, 2);
  g_assert_cmpint(((ArJanusMsg *)msgs->pdata[1])->type, ==, AR_JANUS_MSG_WEBRTCUP);
  g_autoptr(GPtrArray) bad = ar_janus_msg_parse_many("[1]", 3, &error);
  g_assert_null(bad);
  g_assert_nonnull(error);
}

static void
test_build(void)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "request");
  json_builder_add_string_value(b, "join");
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  g_autofree char *text =
      ar_janus_build("message", "tx", 11, 22, body, "offer", "v=0\r\n\"quoted\"");
  /* Round trip: what we build parses back with the same fields. */
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  g_assert_cmpstr(json_object_get_string_member(o, "janus"), ==, "message");
  g_assert_cmpint(json_object_get_int_member(o, "session_id"), ==, 11);
  g_assert_cmpint(json_object_get_int_member(o, "handle_id"), ==, 22);
  JsonObject *jsep = json_object_get_object_member(o, "jsep");
  g_assert_cmpstr(json_object_get_string_member(jsep, "sdp"), ==, "v=0\r\n\"quoted\"");

  g_autofree char *tr = ar_janus_build_trickle("t", 1, 2, 0, NULL);
  g_assert_nonnull(strstr(tr, "\"completed\":true"));
}

static void
test_ids(void)
{
  ArJanusId id = {0};
  g_assert_true(ar_janus_id_from_string(&id, "1234"));
  g_assert_true(id.numeric);
  g_assert_true(ar_janus_id_from_string(&id, "team-room_1"));
  g_assert_false(id.numeric);
  g_assert_false(ar_janus_id_from_string(&id, ""));
  g_assert_false(ar_janus_id_from_string(&id, "a b"));
  g_assert_false(ar_janus_id_from_string(&id, "x\"y"));
  g_assert_true(ar_janus_id_from_string(&id, "0123")); /* leading zero: a string id */
  g_assert_false(id.numeric);
  ar_janus_id_clear(&id);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/janus/msg/success", test_success);
  g_test_add_func("/janus/msg/joined", test_joined);
  g_test_add_func("/janus/msg/jsep-and-trickle", test_jsep_and_trickle);
  g_test_add_func("/janus/msg/unpublished-leaving", test_unpublished_leaving);
  g_test_add_func("/janus/msg/errors", test_errors);
  g_test_add_func("/janus/msg/malformed", test_malformed);
  g_test_add_func("/janus/msg/hostile", test_hostile);
  g_test_add_func("/janus/msg/many", test_many);
  g_test_add_func("/janus/msg/build", test_build);
  g_test_add_func("/janus/msg/ids", test_ids);
  return g_test_run();
}
