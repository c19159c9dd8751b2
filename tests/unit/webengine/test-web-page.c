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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web-page/stats/hostile", test_stats_hostile);
  g_test_add_func("/web-page/stats/bounded", test_stats_bounded);
  g_test_add_func("/web-page/results", test_results);
  g_test_add_func("/web-page/step-data-is-data", test_step_data_is_data);
  return g_test_run();
}
