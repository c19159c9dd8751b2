/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: GET /metrics's writer (firmware/web/ar-web-metrics.c) on any
 * JSON in place of the status object (it reads the status as untrusted: a
 * member of another type, a huge list, a string that breaks a label).
 * Properties: the text stays within AR_WEB_METRICS_MAX_BYTES, every line is a
 * comment or a sample of an anyroom_ family ending in a number, and no line
 * feed or unescaped quote of the input reaches a label. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-call.h"
#include "ar-janus-msg.h"
#include "ar-web-metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *l)
{
  if (g_str_has_prefix(l, "# HELP anyroom_") || g_str_has_prefix(l, "# TYPE anyroom_"))
    return;
  if (!g_str_has_prefix(l, "anyroom_"))
    abort();
  const char *brace = strchr(l, '{');
  if (brace) {
    /* Labels: name="value" pairs; inside a value only \\, \" and \n escapes. */
    const char *p = brace + 1;
    while (*p && *p != '}') {
      while (g_ascii_isalnum(*p) || *p == '_')
        p++;
      if (p[0] != '=' || p[1] != '"')
        abort();
      p += 2;
      while (*p && *p != '"') {
        if (*p == '\\') {
          if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
            abort();
          p++;
        }
        p++;
      }
      if (*p != '"')
        abort();
      p++;
      if (*p == ',')
        p++;
    }
    if (*p != '}')
      abort();
  }
  const char *value = strrchr(l, ' ');
  char *end = NULL;
  if (!value)
    abort();
  g_ascii_strtod(value + 1, &end);
  if (end == value + 1 || *end != '\0')
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 256 * 1024 || !ar_json_depth_ok((const char *)data, size, 32))
    return 0;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!json_parser_load_from_data(p, (const char *)data, (gssize)size, NULL))
    return 0;
  static const guint64 joins[AR_JOIN_N_OUTCOMES] = {G_MAXUINT64, 1};
  const char *names[AR_JOIN_N_OUTCOMES];
  for (guint i = 0; i < AR_JOIN_N_OUTCOMES; i++)
    names[i] = ar_join_outcome_to_string(i);
  static const char *const providers[] = {"janus", "teams", NULL};
  ArWebMetricsInput in = {.status = json_parser_get_root(p),
                          .joins = joins,
                          .join_names = names,
                          .n_joins = AR_JOIN_N_OUTCOMES,
                          .uptime_s = 1,
                          .rss_bytes = 1,
                          .providers = providers};
  gsize len = 0;
  g_autofree char *text = ar_web_metrics_render(&in, &len);
  if (len > AR_WEB_METRICS_MAX_BYTES || strlen(text) != len || (len && text[len - 1] != '\n'))
    abort();
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] && lines[i + 1]; i++)
    check_line(lines[i]);
  return 0;
}
