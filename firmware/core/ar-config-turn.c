/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The answer of a TURN REST credentials URL ([network] turn-credentials-url, ar-config.h):
 * untrusted JSON, bounded and checked before it is used. */
#include "ar-config.h"

#include <json-glib/json-glib.h>
#include <string.h>

static gboolean
creds_depth_ok(const char *data, gsize len, guint max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  for (gsize i = 0; i < len; i++) {
    char ch = data[i];
    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (ch == '\\')
        escaped = TRUE;
      else if (ch == '"')
        in_string = FALSE;
    } else if (ch == '"') {
      in_string = TRUE;
    } else if (ch == '{' || ch == '[') {
      if (++depth > max_depth)
        return FALSE;
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      depth--;
    }
  }
  return TRUE;
}

static gboolean
creds_text_ok(const char *s)
{
  if (s == NULL || *s == '\0' || strlen(s) > 512)
    return FALSE;
  for (const char *p = s; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

void
ar_turn_credentials_free(ArTurnCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free(creds->username);
  if (creds->password)
    memset(creds->password, 0, strlen(creds->password));
  g_free(creds->password);
  g_strfreev(creds->uris);
  g_free(creds);
}

ArTurnCredentials *
ar_turn_credentials_parse(const char *data, gsize len, GError **error)
{
#define CREDS_FAIL(...)                                                                            \
  do {                                                                                             \
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,                             \
                "TURN credentials: " __VA_ARGS__);                                                 \
    return NULL;                                                                                   \
  } while (0)
  if (data == NULL || len == 0)
    CREDS_FAIL("empty answer");
  if (len > AR_TURN_CREDENTIALS_MAX_SIZE)
    CREDS_FAIL("answer larger than %d bytes", AR_TURN_CREDENTIALS_MAX_SIZE);
  if (memchr(data, '\0', len) || !g_utf8_validate(data, len, NULL))
    CREDS_FAIL("answer is not UTF-8 text");
  if (!creds_depth_ok(data, len, 4))
    CREDS_FAIL("answer nested deeper than 4");
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL))
    CREDS_FAIL("answer is not JSON");
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    CREDS_FAIL("answer is not a JSON object");
  JsonObject *o = json_node_get_object(root);
  g_autoptr(ArTurnCredentials) c = g_new0(ArTurnCredentials, 1);
  JsonNode *n = json_object_get_member(o, "username");
  if (n == NULL || json_node_get_value_type(n) != G_TYPE_STRING ||
      !creds_text_ok(json_node_get_string(n)))
    CREDS_FAIL("\"username\" missing or not printable text of at most 512 bytes");
  c->username = g_strdup(json_node_get_string(n));
  n = json_object_get_member(o, "password");
  if (n == NULL || json_node_get_value_type(n) != G_TYPE_STRING ||
      !creds_text_ok(json_node_get_string(n)))
    CREDS_FAIL("\"password\" missing or not printable text of at most 512 bytes");
  c->password = g_strdup(json_node_get_string(n));
  n = json_object_get_member(o, "ttl");
  if (n == NULL || json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 30 ||
      json_node_get_int(n) > 7 * 86400)
    CREDS_FAIL("\"ttl\" missing or not a whole number of seconds from 30 to 604800");
  c->ttl_s = (guint)json_node_get_int(n);
  n = json_object_get_member(o, "uris");
  if (n != NULL && !JSON_NODE_HOLDS_NULL(n)) {
    if (!JSON_NODE_HOLDS_ARRAY(n))
      CREDS_FAIL("\"uris\" is not an array");
    JsonArray *a = json_node_get_array(n);
    if (json_array_get_length(a) > 2 * AR_ICE_MAX_TURN)
      CREDS_FAIL("more than %d \"uris\"", 2 * AR_ICE_MAX_TURN);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    guint n_turn = 0;
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *u = json_array_get_element(a, i);
      ArIceUri parsed;
      g_autoptr(GError) local = NULL;
      if (json_node_get_value_type(u) != G_TYPE_STRING)
        CREDS_FAIL("\"uris\"[%u] is not a string", i);
      if (!ar_ice_uri_parse(json_node_get_string(u), &parsed, &local))
        CREDS_FAIL("\"uris\"[%u]: %s", i, local->message);
      if (parsed.scheme == AR_ICE_STUN)
        continue;
      if (++n_turn > AR_ICE_MAX_TURN)
        CREDS_FAIL("more than %d TURN \"uris\"", AR_ICE_MAX_TURN);
      g_strv_builder_add(b, json_node_get_string(u));
    }
    c->uris = g_strv_builder_end(b);
  }
#undef CREDS_FAIL
  return g_steal_pointer(&c);
}
