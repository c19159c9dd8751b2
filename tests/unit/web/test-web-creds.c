/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules of long-lived credentials (firmware/web/ar-web-creds.h): token
 * scopes (names, parsing, the rule: a route without a scope is not open to
 * tokens) and the touch panel credential's life. */
#include "ar-web-creds.h"

static JsonNode *
parse(const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

static void
test_scope_names(void)
{
  const char *names[] = {"status", "commands", "configuration", "media", "update", "metrics"};
  guint all = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    guint bit = ar_web_scope_from_name(names[i]);
    g_assert_cmpuint(bit, !=, 0);
    g_assert_cmpstr(ar_web_scope_name(bit), ==, names[i]);
    g_assert_cmpuint(all & bit, ==, 0);
    all |= bit;
  }
  g_assert_cmpuint(all, ==, AR_WEB_SCOPE_ALL);
  g_assert_cmpuint(ar_web_scope_from_name("Status"), ==, 0);
  g_assert_cmpuint(ar_web_scope_from_name("admin"), ==, 0);
  g_assert_cmpuint(ar_web_scope_from_name(""), ==, 0);
  g_assert_cmpuint(ar_web_scope_from_name(NULL), ==, 0);
  g_assert_null(ar_web_scope_name(AR_WEB_SCOPE_STATUS | AR_WEB_SCOPE_MEDIA));
  g_assert_cmpuint(AR_WEB_SCOPE_LEGACY_DEFAULT, ==, AR_WEB_SCOPE_STATUS);
}

static void
test_scopes_json(void)
{
  struct {
    const char *json;
    gboolean ok;
    guint scopes;
  } cases[] = {
      {"[\"status\"]", TRUE, AR_WEB_SCOPE_STATUS},
      {"[\"status\",\"commands\",\"status\"]", TRUE, AR_WEB_SCOPE_STATUS | AR_WEB_SCOPE_COMMANDS},
      {"[\"media\",\"update\",\"configuration\"]", TRUE,
       AR_WEB_SCOPE_MEDIA | AR_WEB_SCOPE_UPDATE | AR_WEB_SCOPE_CONFIGURATION},
      {"[\"metrics\"]", TRUE, AR_WEB_SCOPE_METRICS},
      {"[]", FALSE, 0},
      {"[\"admin\"]", FALSE, 0},
      {"[\"status\",\"everything\"]", FALSE, 0},
      {"[1]", FALSE, 0},
      {"[null]", FALSE, 0},
      {"[[\"status\"]]", FALSE, 0},
      {"\"status\"", FALSE, 0},
      {"{\"status\":true}", FALSE, 0},
      {"31", FALSE, 0},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(JsonNode) n = parse(cases[i].json);
    guint scopes = 0xdead;
    const char *why = NULL;
    gboolean ok = ar_web_scopes_from_json(n, &scopes, &why);
    g_assert_cmpint(ok, ==, cases[i].ok);
    if (ok) {
      g_assert_cmpuint(scopes, ==, cases[i].scopes);
    } else {
      g_assert_cmpuint(scopes, ==, 0xdead); /* untouched on failure */
      g_assert_nonnull(why);
    }
  }
  guint scopes = 0;
  const char *why = NULL;
  g_assert_false(ar_web_scopes_from_json(NULL, &scopes, &why));
  /* Round trip, in a fixed order. */
  g_autoptr(JsonNode) out = ar_web_scopes_to_json(AR_WEB_SCOPE_UPDATE | AR_WEB_SCOPE_STATUS);
  g_autofree char *text = json_to_string(out, FALSE);
  g_assert_cmpstr(text, ==, "[\"status\",\"update\"]");
  g_autoptr(JsonNode) none = ar_web_scopes_to_json(0);
  g_autofree char *none_text = json_to_string(none, FALSE);
  g_assert_cmpstr(none_text, ==, "[]");
}

static void
test_scopes_allow(void)
{
  /* A route without a scope is open to no token, whatever it holds. */
  g_assert_false(ar_web_scopes_allow(AR_WEB_SCOPE_ALL, 0));
  g_assert_false(ar_web_scopes_allow(0, 0));
  g_assert_true(ar_web_scopes_allow(AR_WEB_SCOPE_STATUS, AR_WEB_SCOPE_STATUS));
  g_assert_false(ar_web_scopes_allow(AR_WEB_SCOPE_STATUS, AR_WEB_SCOPE_MEDIA));
  g_assert_false(
      ar_web_scopes_allow(AR_WEB_SCOPE_COMMANDS | AR_WEB_SCOPE_CONFIGURATION, AR_WEB_SCOPE_MEDIA));
  /* Every scope a route names is needed (pairing: status and commands). */
  guint pair = AR_WEB_SCOPE_STATUS | AR_WEB_SCOPE_COMMANDS;
  g_assert_false(ar_web_scopes_allow(AR_WEB_SCOPE_STATUS, pair));
  g_assert_false(ar_web_scopes_allow(AR_WEB_SCOPE_COMMANDS, pair));
  g_assert_true(ar_web_scopes_allow(pair | AR_WEB_SCOPE_MEDIA, pair));
  g_autofree char *missing = ar_web_scopes_missing(AR_WEB_SCOPE_STATUS, pair | AR_WEB_SCOPE_MEDIA);
  g_assert_cmpstr(missing, ==, "commands, media");
  g_autofree char *nothing = ar_web_scopes_missing(AR_WEB_SCOPE_ALL, pair);
  g_assert_cmpstr(nothing, ==, "");
}

static void
test_panel_life(void)
{
  const gint64 life = AR_WEB_PANEL_LIFE_S, day = 86400;
  g_assert_cmpint(life, ==, 30 * day);
  const gint64 paired = 1700000000, expires = paired + life;
  g_assert_cmpint(ar_web_panel_life(expires, paired, life), ==, AR_WEB_PANEL_VALID);
  g_assert_cmpint(ar_web_panel_life(expires, paired + 14 * day, life), ==, AR_WEB_PANEL_VALID);
  g_assert_cmpint(ar_web_panel_life(expires, paired + 15 * day, life), ==, AR_WEB_PANEL_VALID);
  g_assert_cmpint(ar_web_panel_life(expires, paired + 15 * day + 1, life), ==, AR_WEB_PANEL_RENEW);
  g_assert_cmpint(ar_web_panel_life(expires, expires - 1, life), ==, AR_WEB_PANEL_RENEW);
  g_assert_cmpint(ar_web_panel_life(expires, expires, life), ==, AR_WEB_PANEL_EXPIRED);
  g_assert_cmpint(ar_web_panel_life(expires, expires + 365 * day, life), ==, AR_WEB_PANEL_EXPIRED);
  /* A clock set back (no RTC yet) does not expire anything. */
  g_assert_cmpint(ar_web_panel_life(expires, 0, life), ==, AR_WEB_PANEL_VALID);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web/creds/scope-names", test_scope_names);
  g_test_add_func("/web/creds/scopes-json", test_scopes_json);
  g_test_add_func("/web/creds/scopes-allow", test_scopes_allow);
  g_test_add_func("/web/creds/panel-life", test_panel_life);
  return g_test_run();
}
