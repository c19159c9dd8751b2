/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-scopes.c: token scopes, their names and the rule (ar-web-creds.h). */
#include "ar-web-creds.h"

#include <string.h>

static const struct {
  guint bit;
  const char *name;
} scope_names[] = {
    {AR_WEB_SCOPE_STATUS, "status"},
    {AR_WEB_SCOPE_COMMANDS, "commands"},
    {AR_WEB_SCOPE_CONFIGURATION, "configuration"},
    {AR_WEB_SCOPE_MEDIA, "media"},
    {AR_WEB_SCOPE_UPDATE, "update"},
    {AR_WEB_SCOPE_METRICS, "metrics"},
};

guint
ar_web_scope_from_name(const char *name)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS(scope_names); i++)
    if (strcmp(name, scope_names[i].name) == 0)
      return scope_names[i].bit;
  return 0;
}

const char *
ar_web_scope_name(guint scope)
{
  for (gsize i = 0; i < G_N_ELEMENTS(scope_names); i++)
    if (scope == scope_names[i].bit)
      return scope_names[i].name;
  return NULL;
}

gboolean
ar_web_scopes_from_json(JsonNode *node, guint *scopes, const char **why)
{
  if (!node || !JSON_NODE_HOLDS_ARRAY(node)) {
    *why = "scopes: a list of status, commands, configuration, media, update, metrics";
    return FALSE;
  }
  JsonArray *a = json_node_get_array(node);
  guint set = 0;
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    guint bit = 0;
    if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
      bit = ar_web_scope_from_name(json_node_get_string(e));
    if (!bit) {
      *why =
          "scopes: unknown scope (known: status, commands, configuration, media, update, metrics)";
      return FALSE;
    }
    set |= bit;
  }
  if (!set) {
    *why = "scopes: choose at least one of status, commands, configuration, media, update, metrics";
    return FALSE;
  }
  *scopes = set;
  return TRUE;
}

JsonNode *
ar_web_scopes_to_json(guint scopes)
{
  JsonArray *a = json_array_new();
  for (gsize i = 0; i < G_N_ELEMENTS(scope_names); i++)
    if (scopes & scope_names[i].bit)
      json_array_add_string_element(a, scope_names[i].name);
  JsonNode *n = json_node_init_array(json_node_alloc(), a);
  json_array_unref(a);
  return n;
}

gboolean
ar_web_scopes_allow(guint held, guint needed)
{
  return needed != 0 && (held & needed) == needed;
}

char *
ar_web_scopes_missing(guint held, guint needed)
{
  GString *s = g_string_new(NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(scope_names); i++)
    if ((needed & scope_names[i].bit) && !(held & scope_names[i].bit))
      g_string_append_printf(s, "%s%s", s->len ? ", " : "", scope_names[i].name);
  return g_string_free(s, FALSE);
}

ArWebPanelLife
ar_web_panel_life(gint64 expires, gint64 now, gint64 life)
{
  if (now >= expires)
    return AR_WEB_PANEL_EXPIRED;
  return expires - now < life / 2 ? AR_WEB_PANEL_RENEW : AR_WEB_PANEL_VALID;
}
