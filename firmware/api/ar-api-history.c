/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-api-history.h"

#include <glib/gstdio.h>
#include <string.h>

#include "ar-janus-msg.h"

struct _ArApiHistory {
  char *path;
  JsonArray *calls;    /* newest first */
  JsonObject *current; /* the open entry (also calls[0]), or NULL */
  gint64 connected_us; /* 0: not connected */
};

static char *
now_iso(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

static void
save(ArApiHistory *h)
{
  g_autoptr(JsonNode) node = json_node_init_array(json_node_alloc(), h->calls);
  g_autofree char *text = json_to_string(node, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname(h->path);
  g_mkdir_with_parents(dir, 0700);
  if (!g_file_set_contents_full(h->path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning("history: cannot save: %s", error->message);
}

static void
load(ArApiHistory *h)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(h->path, &data, &len, NULL))
    return;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > 1024 * 1024 || !ar_json_depth_ok(data, len, 4) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
    g_warning("history: %s is not a call list: starting a new one", h->path);
    return;
  }
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  for (guint i = 0; i < json_array_get_length(a) && i < AR_API_HISTORY_MAX; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *o = json_node_get_object(e);
    /* An entry left open by a crash ended then, unknown how. */
    if (json_object_has_member(o, "result") && json_object_get_null_member(o, "result") == FALSE) {
      json_array_add_element(h->calls, json_node_copy(e));
    } else {
      JsonNode *c = json_node_copy(e);
      json_object_set_string_member(json_node_get_object(c), "result", "interrupted");
      json_array_add_element(h->calls, c);
    }
  }
}

ArApiHistory *
ar_api_history_new(const char *state_dir)
{
  ArApiHistory *h = g_new0(ArApiHistory, 1);
  h->path = g_build_filename(state_dir, "history.json", NULL);
  h->calls = json_array_new();
  load(h);
  return h;
}

void
ar_api_history_free(ArApiHistory *h)
{
  if (!h)
    return;
  g_free(h->path);
  json_array_unref(h->calls);
  g_free(h);
}

static void
close_current(ArApiHistory *h, const char *result, const char *error)
{
  JsonObject *o = h->current;
  g_autofree char *end = now_iso();
  json_object_set_string_member(o, "end", end);
  double dur = h->connected_us ? (g_get_monotonic_time() - h->connected_us) / 1e6 : 0.0;
  json_object_set_double_member(o, "duration_s", (gint64)(dur * 10) / 10.0);
  json_object_set_string_member(o, "result", result);
  if (error)
    json_object_set_string_member(o, "error", error);
  else
    json_object_set_null_member(o, "error");
  h->current = NULL;
  h->connected_us = 0;
  save(h);
}

void
ar_api_history_on_event(ArApiHistory *h, const ArCallEvent *event)
{
  if (!h || event->kind != AR_CALL_EVENT_STATE)
    return;
  const char *provider = event->provider;
  const char *error = event->error;
  if (event->state == AR_CALL_JOINING && !h->current) {
    JsonObject *o = json_object_new();
    g_autofree char *start = now_iso();
    json_object_set_string_member(o, "start", start);
    json_object_set_null_member(o, "end");
    if (provider)
      json_object_set_string_member(o, "provider", provider);
    else
      json_object_set_null_member(o, "provider");
    json_object_set_double_member(o, "duration_s", 0);
    json_object_set_null_member(o, "result");
    json_object_set_null_member(o, "error");
    /* Newest first, bounded. */
    JsonArray *a = json_array_sized_new(AR_API_HISTORY_MAX);
    json_array_add_object_element(a, o);
    for (guint i = 0; i < json_array_get_length(h->calls) && i + 1 < AR_API_HISTORY_MAX; i++)
      json_array_add_element(a, json_node_copy(json_array_get_element(h->calls, i)));
    json_array_unref(h->calls);
    h->calls = a;
    h->current = o;
    h->connected_us = 0;
    save(h);
  } else if (event->state == AR_CALL_CONNECTED && h->current) {
    if (!h->connected_us)
      h->connected_us = g_get_monotonic_time();
  } else if (event->state == AR_CALL_FAILED && h->current) {
    close_current(h, "failed", error);
  } else if (event->state == AR_CALL_IDLE && h->current) {
    close_current(h, h->connected_us ? "ended" : "cancelled", NULL);
  }
}

JsonNode *
ar_api_history_get(ArApiHistory *h)
{
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "calls", json_array_ref(h->calls));
  if (h->current && h->connected_us)
    json_object_set_double_member(
        json_node_get_object(json_array_get_element(h->calls, 0)), "duration_s",
        (gint64)((g_get_monotonic_time() - h->connected_us) / 1e5) / 10.0);
  JsonNode *n = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  /* A copy: the live entry goes on changing. */
  JsonNode *copy = json_node_copy(n);
  json_node_unref(n);
  return copy;
}

void
ar_api_history_forget(ArApiHistory *h)
{
  json_array_unref(h->calls);
  h->calls = json_array_new();
  h->current = NULL;
  h->connected_us = 0;
  g_unlink(h->path);
}
