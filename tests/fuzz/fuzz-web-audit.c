/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the audit log reader (firmware/web/ar-web-audit.c) on whatever
 * a corrupted or hostile audit file holds, and the writer on hostile values.
 * Input: the bytes of a file; its first byte also picks the partial-start
 * flag. Properties: every entry read has string "time" and "event"; every
 * line the writer makes, from any detail, reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-web-audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean
check_entry(JsonObject *o, gpointer user_data)
{
  guint *n = user_data;
  JsonNode *t = json_object_get_member(o, "time");
  JsonNode *e = json_object_get_member(o, "event");
  if (!t || !e || json_node_get_value_type(t) != G_TYPE_STRING ||
      json_node_get_value_type(e) != G_TYPE_STRING)
    abort();
  return ++*n < 1000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1024 * 1024)
    return 0;
  guint n = 0;
  gboolean partial = size > 0 && (data[0] & 1);
  ar_audit_parse_lines_backwards((const char *)data, size, partial, check_entry, &n);
  g_autoptr(JsonObject) one = ar_audit_parse_line((const char *)data, size);
  if (size <= 64 * 1024) {
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autofree char *line =
        ar_audit_format_line("2026-11-21T00:46:14.123Z", text, text, text, text);
    if (strlen(line) > AR_AUDIT_LINE_MAX || strchr(line, '\n'))
      abort();
    g_autoptr(JsonObject) back = ar_audit_parse_line(line, strlen(line));
    if (!back)
      abort();
  }
  return 0;
}
