/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the strict RFC 8259 check (firmware/core/ar-json.c) that every
 * untrusted body goes through before json-glib (both APIs, Janus messages).
 * Invariants: it never crashes or reads past @size; what it passes, json-glib
 * reads; what it passes is within the depth bound (the old bracket counter
 * agrees); an integer it passes is read by json-glib as written. */
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "ar-janus-msg.h"
#include "ar-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH 16

/* Every integer node's value printed back must be the text json-glib read:
 * checked on whole-integer inputs only (a bare top-level integer). */
static void
check_integer_roundtrip(const char *text, gsize len, JsonNode *root)
{
  if (!JSON_NODE_HOLDS_VALUE(root) || json_node_get_value_type(root) != G_TYPE_INT64)
    return;
  g_autofree char *trimmed = g_strstrip(g_strndup(text, len));
  g_autofree char *printed = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(root));
  if (!g_str_equal(trimmed, printed) && !g_str_equal(trimmed, "-0"))
    g_error("json-glib read the integer %s as %s", trimmed, printed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 256 * 1024)
    return 0;
  const char *text = (const char *)data;
  g_autoptr(GError) error = NULL;
  if (!ar_json_check(text, size, DEPTH, &error)) {
    g_assert_nonnull(error);
    g_assert_true(error->domain == AR_JSON_ERROR);
    return 0;
  }
  if (!ar_json_depth_ok(text, size, DEPTH))
    g_error("passed, but nests deeper than %d", DEPTH);
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  g_autoptr(GError) perr = NULL;
  if (!json_parser_load_from_data(p, text, (gssize)size, &perr))
    g_error("passed, but json-glib cannot read it: %s", perr->message);
  check_integer_roundtrip(text, size, json_parser_get_root(p));
  return 0;
}
