/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-web-page.c: what the web engine sends into a meeting page and reads
 * back (firmware/webengine/ar-web-page.c). The page's answers are untrusted:
 * wrong types, huge numbers, NaN, odd strings and too many entries must give
 * bounded, clean values or nothing. Recipe data must reach the page as JSON
 * data, never as code. (The runtime itself runs in a real Chromium in the
 * web-join and web-states integration tests.)
 */
#include <string.h>

#include "ar-web-page.h"

static JsonNode *
parse(const char *json)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void
test_stats_hostile(void)
{
  g_autoptr(JsonNode) a =
      parse("[{\"source\":\"pc0<script>\",\"kind\":\"video\",\"direction\":\"recv\",\"codec\":"
            "\"video/H264;evil\",\"width\":1e300,\"height\":-5,\"frames\":\"12\",\"packets\":10,"
            "\"bytes\":100,\"lost\":3,\"fps\":29.5,\"rtt\":12.5,\"level\":0.5,\"freezes\":1,"
            "\"freeze_ms\":1000},"
            "{\"kind\":\"screen\",\"direction\":\"recv\"},"
            "7, null, [], {\"kind\":\"audio\",\"direction\":\"send\",\"level\":0}]");
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  ar_web_page_stats_to_tracks(a, out);
  g_assert_cmpuint(out->len, ==, 2);
  ArTrackInfo *v = out->pdata[0];
  /* Only letters, digits and - _ . survive from a page's strings. */
  g_assert_cmpstr(v->source, ==, "pc0script");
  g_assert_cmpstr(v->stats.codec, ==, "videoH264evil");
  g_assert_cmpuint(v->stats.width, ==, 16384); /* clamped */
  g_assert_cmpuint(v->stats.height, ==, 0);
  g_assert_cmpuint(v->stats.frames, ==, 0); /* a string is not a number */
  g_assert_cmpuint(v->stats.packets_lost, ==, 3);
  g_assert_cmpfloat(v->stats.framerate, ==, 29.5);
  g_assert_cmpfloat_with_epsilon(v->stats.audio_level, -6.02, 0.01); /* 0.5 linear in dBov */
  ArTrackInfo *au = out->pdata[1];
  g_assert_cmpstr(au->stats.kind, ==, "audio");
  g_assert_cmpfloat(au->stats.audio_level, ==, -127);
  g_assert_cmpfloat(au->stats.rtt_ms, ==, -1);
}

static void
test_stats_bounded(void)
{
  GString *s = g_string_new("[");
  for (int i = 0; i < 1000; i++)
    g_string_append_printf(s, "%s{\"kind\":\"audio\",\"direction\":\"recv\"}", i ? "," : "");
  g_string_append(s, "]");
  g_autoptr(JsonNode) a = parse(s->str);
  g_string_free(s, TRUE);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  ar_web_page_stats_to_tracks(a, out);
  g_assert_cmpuint(out->len, ==, 32);
  /* Not an array: nothing. */
  g_autoptr(JsonNode) o = parse("{\"kind\":\"audio\"}");
  ar_web_page_stats_to_tracks(o, out);
  ar_web_page_stats_to_tracks(NULL, out);
  g_assert_cmpuint(out->len, ==, 32);
}

static void
test_stats_capture(void)
{
  guint restarted = 9, lost = 9;
  g_autoptr(JsonNode) a = parse("[{\"source\":\"page\",\"kind\":\"capture\",\"restarted\":2,"
                                "\"lost\":1},{\"kind\":\"video\",\"direction\":\"send\"}]");
  g_assert_true(ar_web_page_stats_capture(a, &restarted, &lost));
  g_assert_cmpuint(restarted, ==, 2);
  g_assert_cmpuint(lost, ==, 1);
  /* The capture entry is not a track. */
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  ar_web_page_stats_to_tracks(a, out);
  g_assert_cmpuint(out->len, ==, 1);
  g_assert_cmpstr(((ArTrackInfo *)out->pdata[0])->stats.kind, ==, "video");
  /* Hostile counts are clamped; a string is not a number; no entry: FALSE and 0. */
  g_autoptr(JsonNode) h = parse("[{\"kind\":\"capture\",\"restarted\":-1e300,\"lost\":1e300}]");
  g_assert_true(ar_web_page_stats_capture(h, &restarted, &lost));
  g_assert_cmpuint(restarted, ==, 0);
  g_assert_cmpuint(lost, ==, 1000000);
  g_autoptr(JsonNode) s = parse("[{\"kind\":\"capture\",\"restarted\":\"5\"}]");
  g_assert_true(ar_web_page_stats_capture(s, &restarted, &lost));
  g_assert_cmpuint(restarted, ==, 0);
  g_autoptr(JsonNode) none = parse("[{\"kind\":\"audio\"}]");
  g_assert_false(ar_web_page_stats_capture(none, &restarted, &lost));
  g_assert_false(ar_web_page_stats_capture(NULL, &restarted, &lost));
  g_assert_cmpuint(restarted + lost, ==, 0);
}

static void
test_results(void)
{
  ArRecipeState st = AR_RECIPE_STATE_PRE_JOIN;
  g_autoptr(JsonNode) in_call = parse("\"in-call\"");
  g_assert_true(ar_web_page_probe_result(in_call, &st));
  g_assert_cmpint(st, ==, AR_RECIPE_STATE_IN_CALL);
  const char *bad[] = {"\"in_call\"", "null", "1", "{\"state\":\"in-call\"}", "[\"lobby\"]"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonNode) n = parse(bad[i]);
    g_assert_false(ar_web_page_probe_result(n, &st));
  }
  g_autoptr(JsonNode) done = parse("{\"r\":\"done\"}");
  g_assert_cmpint(ar_web_page_step_result(done), ==, AR_WEB_STEP_DONE);
  g_autoptr(JsonNode) unknown = parse("{\"r\":\"unknown\"}");
  g_assert_cmpint(ar_web_page_step_result(unknown), ==, AR_WEB_STEP_UNKNOWN);
  g_autoptr(JsonNode) odd = parse("{\"r\":5}");
  g_assert_cmpint(ar_web_page_step_result(odd), ==, AR_WEB_STEP_NOT_FOUND);
  g_assert_cmpint(ar_web_page_step_result(NULL), ==, AR_WEB_STEP_NOT_FOUND);
}

/* A selector or a value with quotes, a closing parenthesis and a script tag
 * reaches the page as a JSON string argument of the fixed runtime. */
static void
test_step_data_is_data(void)
{
  char *selectors[] = {(char *)"button[aria-label=\"Join\"]'); alert(1); ('", NULL};
  char *none[] = {NULL};
  ArRecipeStep step = {
      .action = AR_RECIPE_ACTION_FILL,
      .selectors = selectors,
      .state_on = none,
      .state_off = none,
  };
  g_autofree char *expr = ar_web_page_step_expression(&step, "Room\"); fetch('x'); (\"</script>");
  const char *arg = strrchr(expr, '\n');
  g_assert_nonnull(arg);
  /* The request: the last line, "})({...})"; its argument parses as one JSON object. */
  const char *open = strstr(arg, "})(");
  g_assert_nonnull(open);
  g_autofree char *json = g_strndup(open + 3, strlen(open + 3) - 1);
  g_autoptr(JsonNode) req = parse(json);
  JsonObject *o = json_node_get_object(req);
  g_assert_cmpstr(json_object_get_string_member(o, "op"), ==, "step");
  g_assert_cmpstr(json_object_get_string_member(o, "action"), ==, "fill");
  g_assert_cmpstr(json_object_get_string_member(o, "value"), ==,
                  "Room\"); fetch('x'); (\"</script>");
  JsonArray *sel = json_object_get_array_member(o, "selectors");
  g_assert_cmpstr(json_array_get_string_element(sel, 0), ==, selectors[0]);
}

static const ArRecipeParticipants spec_with_self = {.count_includes_self = TRUE};

static GPtrArray *
read_participants(const char *json, const ArRecipeParticipants *spec, gboolean *ok)
{
  g_autoptr(JsonNode) a = json ? parse(json) : NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
  *ok = ar_web_page_participants_result(a, spec, out);
  return out;
}

/* Names from a page are untrusted: control and format characters go, white
 * space runs become one space, at most 64 characters; non-strings and empty
 * names are no name; ids keep letters, digits and - _ . : or become the
 * position, and stay unique. */
static void
test_participants_hostile(void)
{
  GString *s = g_string_new("{\"self\": 1, \"count\": null, \"list\": [");
  g_string_append(s, "{\"id\": \"p1\", \"name\": \"  Alice\\u0007 \\n\\t Smith\\u202e\\u0000 \"},");
  g_string_append(s, "{\"id\": \"<b>p2</b>\", \"name\": \"");
  for (int i = 0; i < 100; i++)
    g_string_append(s, "\\u00e9"); /* 100 characters, 200 bytes */
  g_string_append(s, "\"},");
  g_string_append(s, "{\"id\": 7, \"name\": 42},"); /* not strings */
  g_string_append(s,
                  "{\"id\": \"p1\", \"name\": \"\\u200b\\u0001 \"},"); /* a twin id, no name left */
  g_string_append(s, "{\"id\": \"web-3\", \"name\": [\"x\"]},");       /* looks like a position */
  g_string_append(s, "\"Bob\", null, 3,");                             /* not objects: skipped */
  g_string_append(s, "{\"name\": \"e\\u0301 x\"}]}");                  /* composed: NFC */
  gboolean ok = FALSE;
  g_autoptr(GPtrArray) out = read_participants(s->str, &spec_with_self, &ok);
  g_string_free(s, TRUE);
  g_assert_true(ok);
  g_assert_cmpuint(out->len, ==, 5);
  ArParticipant **p = (ArParticipant **)out->pdata;
  g_assert_cmpstr(p[0]->id, ==, "p1");
  g_assert_cmpstr(p[0]->display, ==, "Alice Smith");
  g_assert_cmpstr(p[1]->id, ==, "bp2b");
  g_assert_cmpuint(g_utf8_strlen(p[1]->display, -1), ==, AR_RECIPE_MAX_PARTICIPANT_NAME);
  g_assert_true(g_utf8_validate(p[1]->display, -1, NULL));
  g_assert_cmpstr(p[2]->id, ==, "web-3");
  g_assert_null(p[2]->display);
  /* p1 again: the same participant shown twice, listed once. */
  g_assert_cmpstr(p[3]->id, ==, "web-3-2"); /* "web-3" was taken: made unique */
  g_assert_null(p[3]->display);
  g_assert_cmpstr(p[4]->id, ==, "web-9");
  g_assert_cmpstr(p[4]->display, ==, "\xc3\xa9 x");
  for (guint i = 0; i < out->len; i++)
    for (const char *c = p[i]->display; c && *c; c = g_utf8_next_char(c))
      g_assert_false(g_unichar_iscntrl(g_utf8_get_char(c)));

  /* Not an answer: FALSE, nothing added (the engine keeps its list). */
  const char *bad[] = {"null", "[]", "{\"list\": {}}", "{\"count\": 3}", "\"alice\""};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GPtrArray) o = read_participants(bad[i], &spec_with_self, &ok);
    g_assert_false(ok);
    g_assert_cmpuint(o->len, ==, 0);
  }
  g_autoptr(GPtrArray) o = read_participants(NULL, &spec_with_self, &ok);
  g_assert_false(ok);
}

static void
test_participants_bounded(void)
{
  /* 1000 entries: 500 listed. */
  GString *s = g_string_new("{\"list\": [");
  for (int i = 0; i < 1000; i++)
    g_string_append_printf(s, "%s{\"id\": \"x%d\", \"name\": \"P %d\"}", i ? "," : "", i, i);
  g_string_append(s, "], \"count\": 1e300}");
  gboolean ok = FALSE;
  g_autoptr(GPtrArray) out = read_participants(s->str, &spec_with_self, &ok);
  g_string_free(s, TRUE);
  g_assert_true(ok);
  g_assert_cmpuint(out->len, ==, AR_RECIPE_MAX_PARTICIPANTS);

  /* A count above the list: the rest without names, less the room, bounded. */
  g_autoptr(GPtrArray) more =
      read_participants("{\"list\": [{\"name\": \"Ann\"}], \"count\": 4}", &spec_with_self, &ok);
  g_assert_true(ok);
  g_assert_cmpuint(more->len, ==, 3);
  g_assert_cmpstr(((ArParticipant *)more->pdata[1])->id, ==, "web-more-2");
  g_assert_null(((ArParticipant *)more->pdata[2])->display);
  ArRecipeParticipants others_only = {.count_includes_self = FALSE};
  g_autoptr(GPtrArray) more2 = read_participants("{\"list\": [], \"count\": 4}", &others_only, &ok);
  g_assert_cmpuint(more2->len, ==, 4);
  const char *counts[] = {"-5", "1e300", "\"500000\"", "NaN", "{}", "0.5"};
  const guint want[] = {0, AR_RECIPE_MAX_PARTICIPANTS, 0, 0, 0, 0};
  for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
    g_autofree char *j = g_strdup_printf("{\"list\": [], \"count\": %s}", counts[i]);
    JsonParser *jp = json_parser_new();
    gboolean parses = json_parser_load_from_data(jp, j, -1, NULL);
    g_object_unref(jp);
    if (!parses)
      continue; /* NaN is not JSON */
    g_autoptr(GPtrArray) c = read_participants(j, &spec_with_self, &ok);
    g_assert_true(ok);
    g_assert_cmpuint(c->len, ==, want[i]);
  }
  /* A count below the list changes nothing. */
  g_autoptr(GPtrArray) fewer = read_participants(
      "{\"list\": [{\"name\": \"A\"}, {\"name\": \"B\"}], \"count\": 1}", &spec_with_self, &ok);
  g_assert_cmpuint(fewer->len, ==, 2);
}

/* The recipe's participants probe reaches the page as data too. */
static void
test_participants_expression(void)
{
  char *selectors[] = {(char *)"li[data-x=\"')\"]", NULL};
  ArRecipeParticipants pp = {.selectors = selectors, .self = (char *)".me", .name = (char *)".n"};
  g_autofree char *expr = NULL;
  {
    /* Through a recipe: none without the probe. */
    const char *json =
        "{\"format\": 1, \"id\": \"t\", \"name\": \"T\", \"sources\": [\"https://e.org/s\"],"
        " \"serves\": {\"hosts\": [\"127.0.0.1\"]}, \"origins\": [\"{link}\"],"
        " \"join-url\": {\"base\": \"{origin}{path}\"}, \"needs-attention-at-once\": true,"
        " \"probes\": {\"captcha\": {\"not-applicable\": \"n\"}, \"sign-in-required\":"
        " {\"not-applicable\": \"n\"}, \"denied\": {\"not-applicable\": \"n\"}, \"removed\":"
        " {\"not-applicable\": \"n\"}, \"ended\": {\"not-applicable\": \"n\"}, \"error\":"
        " {\"not-applicable\": \"n\"}, \"in-call\": {\"not-applicable\": \"n\"}, \"lobby\":"
        " {\"not-applicable\": \"n\"}, \"pre-join\": {\"not-applicable\": \"n\"}},"
        " \"controls\": {\"mute\": {\"not-applicable\": \"n\"}, \"unmute\": {\"not-applicable\":"
        " \"n\"}, \"camera-off\": {\"not-applicable\": \"n\"}, \"camera-on\":"
        " {\"not-applicable\": \"n\"}}, \"leave\": []";
    g_autofree char *plain = g_strconcat(json, "}", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(ArRecipe) r = ar_recipe_new_from_data("t.json", plain, strlen(plain), &error);
    g_assert_no_error(error);
    g_assert_null(ar_web_page_participants_expression(r));
    g_autofree char *with =
        g_strconcat(json,
                    ", \"participants\": {\"selectors\": [\"li[data-x=\\\"')\\\"]\"], \"self\": "
                    "\".me\", \"name\": \".n\"}}",
                    NULL);
    g_autoptr(ArRecipe) r2 = ar_recipe_new_from_data("t.json", with, strlen(with), &error);
    g_assert_no_error(error);
    expr = ar_web_page_participants_expression(r2);
  }
  g_assert_nonnull(expr);
  const char *open = strstr(strrchr(expr, '\n'), "})(");
  g_assert_nonnull(open);
  g_autofree char *json = g_strndup(open + 3, strlen(open + 3) - 1);
  g_autoptr(JsonNode) req = parse(json);
  JsonObject *o = json_node_get_object(req);
  g_assert_cmpstr(json_object_get_string_member(o, "op"), ==, "participants");
  g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(o, "selectors"), 0),
                  ==, pp.selectors[0]);
  g_assert_cmpstr(json_object_get_string_member(o, "self"), ==, pp.self);
  g_assert_cmpstr(json_object_get_string_member(o, "name"), ==, pp.name);
  g_assert_cmpint(json_object_get_int_member(o, "max"), ==, AR_RECIPE_MAX_PARTICIPANTS);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web-page/stats/hostile", test_stats_hostile);
  g_test_add_func("/web-page/stats/bounded", test_stats_bounded);
  g_test_add_func("/web-page/stats/capture", test_stats_capture);
  g_test_add_func("/web-page/results", test_results);
  g_test_add_func("/web-page/step-data-is-data", test_step_data_is_data);
  g_test_add_func("/web-page/participants/hostile", test_participants_hostile);
  g_test_add_func("/web-page/participants/bounded", test_participants_bounded);
  g_test_add_func("/web-page/participants/data-is-data", test_participants_expression);
  return g_test_run();
}
