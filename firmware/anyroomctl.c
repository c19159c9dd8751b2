/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* anyroomctl: drive anyroomd over its Unix socket; parse links offline. See docs/cli.md. */
#include <gio/gunixinputstream.h>
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "anyroomctl.h"
#include "ar-api.h"
#include "ar-config.h"
#include "ar-link.h"

static const char usage[] =
    "Usage: anyroomctl [--socket PATH] COMMAND\n"
    "  join LINK [--timeout SECONDS]  join a meeting; returns once connected or failed\n"
    "  join --next | --meeting ID     join the calendar's meeting in progress or about to\n"
    "                                 start, or the meeting ID of `meetings`\n"
    "  meetings [--json]              today's and upcoming meetings of the room's calendar\n"
    "  meetings refresh               fetch the calendars now\n"
    "  cancel-auto-join               stop the auto-join countdown\n"
    "  leave                          leave the meeting\n"
    "  call LINK                      call another room from its call link (rings there)\n"
    "  accept | decline               answer the call that rings in this room\n"
    "  mute | unmute                  mute or unmute the room's microphone\n"
    "  camera on|off                  send the camera, or a black picture\n"
    "  volume LEVEL                   speaker volume, 0 to 100\n"
    "  self-view on|off               show the room's own camera on the room screen\n"
    "  status [--json]                call state and per-track counters\n"
    "  history [--json]               the last calls (start, service, duration, result)\n"
    "  config                         the settings of the configuration API (JSON)\n"
    "  config set GROUP.KEY=VALUE...  change settings (lists: a;b; empty: unset)\n"
    "  update install FILE|URL|channel [--force-downgrade]\n"
    "                                 install a signed bundle (channel: the release\n"
    "                                 the update channel offers, now); prints progress\n"
    "  update status [--json]         booted slot, slot states, versions, last error\n"
    "  recipes [--json]               the web engine's join recipes and refused files\n"
    "  recipes add FILE               add or replace an administrator's recipe\n"
    "  recipes remove ID              remove an administrator's recipe\n"
    "  events                         print events (one JSON object per line)\n"
    "  url-info LINK                  what a meeting link is (no daemon needed)\n"
    "  find-links FILE|-              meeting links in an invitation (no daemon needed)\n";

SoupSession *
ctl_session(Ctl *c, guint timeout_s)
{
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(c->socket_path);
  return soup_session_new_with_options("remote-connectable", addr, "timeout", timeout_s, NULL);
}

/* Sends a request; returns the parsed JSON answer or NULL (exit code in *rc). */
JsonNode *
ctl_request(Ctl *c, const char *method, const char *path, const char *body, guint timeout_s,
            guint *status, int *rc)
{
  return ctl_request_len(c, method, path, body, body ? strlen(body) : 0, timeout_s, status, rc);
}

JsonNode *
ctl_request_len(Ctl *c, const char *method, const char *path, const char *body, gsize body_len,
                guint timeout_s, guint *status, int *rc)
{
  g_autoptr(SoupSession) session = ctl_session(c, timeout_s);
  g_autofree char *url = g_strdup_printf("http://anyroomd%s", path);
  g_autoptr(SoupMessage) msg = soup_message_new(method, url);
  if (body) {
    g_autoptr(GBytes) b = g_bytes_new(body, body_len);
    soup_message_set_request_body_from_bytes(msg, "application/json", b);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = soup_session_send_and_read(session, msg, NULL, &error);
  if (!answer) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      /* Reached, but no answer in time: a join goes on meanwhile (slow boards). */
      g_printerr("anyroomctl: anyroomd did not answer within %u s (a join goes on: see "
                 "`anyroomctl status`; `join --timeout SECONDS` waits longer)\n",
                 timeout_s);
    else
      g_printerr("anyroomctl: cannot reach anyroomd at %s: %s\n", c->socket_path, error->message);
    *rc = EXIT_UNREACHABLE;
    return NULL;
  }
  *status = soup_message_get_status(msg);
  gsize len;
  const char *data = g_bytes_get_data(answer, &len);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_printerr("anyroomctl: anyroomd answered HTTP %u without JSON\n", *status);
    *rc = EXIT_FAILED;
    return NULL;
  }
  return json_node_copy(json_parser_get_root(parser));
}

const char *
obj_string(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

const char *
obj_string_or(JsonObject *o, const char *name, const char *fallback)
{
  const char *v = o ? obj_string(o, name) : NULL;
  return v ? v : fallback;
}

static int cmd_command_body(Ctl *c, const char *what, const char *body, guint timeout_s);

/* A command with {"MEMBER": VALUE} (a string) or {}. */
static int
cmd_command_with(Ctl *c, const char *what, const char *member, const char *value, guint timeout_s)
{
  g_autofree char *body = NULL;
  if (value) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, member);
    json_builder_add_string_value(b, value);
    json_builder_end_object(b);
    g_autoptr(JsonNode) n = json_builder_get_root(b);
    body = json_to_string(n, FALSE);
  } else {
    body = g_strdup("{}");
  }
  return cmd_command_body(c, what, body, timeout_s);
}

static int
cmd_command(Ctl *c, const char *what, const char *link, guint timeout_s)
{
  return cmd_command_with(c, what, "link", link, timeout_s);
}

static int
cmd_command_body(Ctl *c, const char *what, const char *body, guint timeout_s)
{
  g_autofree char *path = g_strdup_printf("/api/v1/commands/%s", what);
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "POST", path, body, timeout_s, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (status == SOUP_STATUS_OK && json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
    g_print("%s\n", g_str_equal(what, "join") || g_str_equal(what, "call") ? "connected"
                    : g_str_equal(what, "accept")                          ? "accepted"
                    : g_str_equal(what, "decline")                         ? "declined"
                    : g_str_equal(what, "cancel-auto-join")                ? "cancelled"
                    : g_str_equal(what, "calendar-refresh")                ? "refreshing"
                                                                           : "left");
    return EXIT_OK;
  }
  if (status == SOUP_STATUS_ACCEPTED &&
      json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
    /* The join waits for a host (lobby) or a person on the room screen. */
    const char *state = obj_string(o, "state");
    const char *message = obj_string(o, "message");
    g_print("%s: %s\n", state ? state : "waiting", message ? message : "");
    return EXIT_OK;
  }
  const char *err = obj_string(o, "error");
  g_printerr("anyroomctl: %s failed: %s\n", what, err ? err : "unknown error");
  return EXIT_FAILED;
}

/* mute/unmute/camera/volume/self-view: POST, print the controls. */
static int
cmd_control(Ctl *c, const char *what, const char *body)
{
  g_autofree char *path = g_strdup_printf("/api/v1/commands/%s", what);
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "POST", path, body, 10, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (status != SOUP_STATUS_OK || !json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
    const char *err = obj_string(o, "error");
    g_printerr("anyroomctl: %s failed: %s\n", what, err ? err : "unknown error");
    return EXIT_FAILED;
  }
  JsonObject *k = json_object_get_object_member(o, "controls");
  if (k) {
    g_print("microphone %s, camera %s, volume %" G_GINT64_FORMAT ", self view %s\n",
            json_object_get_boolean_member_with_default(k, "microphone_muted", FALSE) ? "muted"
                                                                                      : "on",
            json_object_get_boolean_member_with_default(k, "camera_enabled", TRUE) ? "on" : "off",
            json_object_get_int_member_with_default(k, "speaker_volume", 0),
            json_object_get_boolean_member_with_default(k, "self_view", TRUE) ? "on" : "off");
  }
  return EXIT_OK;
}

/* GET @path, an object with @member: returned for the caller to print, or printed as JSON
 * (--json) or refused with a message: NULL, *rc says how it ended. */
static JsonNode *
ctl_get_object(Ctl *c, const char *path, const char *member, const char *what, gboolean json,
               int *rc)
{
  guint status = 0;
  *rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "GET", path, NULL, 10, &status, rc);
  if (!answer)
    return NULL;
  JsonObject *o = json_node_get_object(answer);
  if (status != SOUP_STATUS_OK || !json_object_has_member(o, member)) {
    const char *err = obj_string(o, "error");
    g_printerr("anyroomctl: %s failed: %s\n", what, err ? err : "unknown error");
    *rc = EXIT_FAILED;
    return NULL;
  }
  if (json) {
    g_autofree char *text = json_to_string(answer, TRUE);
    g_print("%s\n", text);
    return NULL;
  }
  return g_steal_pointer(&answer);
}

/* history: one line per call, newest first (or the JSON). */
static int
cmd_history(Ctl *c, gboolean json)
{
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_get_object(c, "/api/v1/history", "calls", "history", json, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  JsonArray *a = json_object_get_array_member(o, "calls");
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *call = json_node_get_object(e);
    const char *result = obj_string(call, "result");
    const char *error = obj_string(call, "error");
    const char *start = obj_string(call, "start");
    const char *provider = obj_string(call, "provider");
    g_print("%s  %-10s %7.1f s  %s%s%s\n", start ? start : "?", provider ? provider : "?",
            json_object_get_double_member_with_default(call, "duration_s", 0),
            result ? result : "in progress", error ? ": " : "", error ? error : "");
  }
  return EXIT_OK;
}

/* meetings: one line per meeting (or the JSON), then the sources that failed. */
static int
cmd_meetings(Ctl *c, gboolean json)
{
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer =
      ctl_get_object(c, "/api/v1/meetings", "meetings", "meetings", json, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  JsonArray *a = json_object_get_array_member(o, "meetings");
  guint n = a ? json_array_get_length(a) : 0;
  if (n == 0)
    g_print("no meetings\n");
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *m = json_node_get_object(e);
    JsonNode *link = json_object_get_member(m, "link");
    const char *provider = link && JSON_NODE_HOLDS_OBJECT(link)
                               ? obj_string(json_node_get_object(link), "provider")
                               : NULL;
    gboolean priv = json_object_get_boolean_member_with_default(m, "private", FALSE);
    const char *title = obj_string(m, "title");
    g_print("%s  %s  %s  %-8s %s%s\n", obj_string_or(m, "start", "?"), obj_string_or(m, "end", "?"),
            obj_string_or(m, "id", "?"), provider ? provider : "no link",
            title  ? title
            : priv ? "Private meeting"
                   : "(no title)",
            json_object_get_boolean_member_with_default(m, "in_progress", FALSE) ? "  [in progress]"
            : json_object_get_boolean_member_with_default(m, "joinable", FALSE)  ? "  [join now]"
                                                                                 : "");
  }
  JsonArray *src = json_object_get_array_member(o, "sources");
  for (guint i = 0; src && i < json_array_get_length(src); i++) {
    JsonNode *e = json_array_get_element(src, i);
    JsonObject *so = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    if (so && !json_object_get_boolean_member_with_default(so, "ok", TRUE))
      g_print("calendar %s (%s): %s\n", obj_string_or(so, "server", "?"),
              obj_string_or(so, "kind", "?"), obj_string_or(so, "error", "failed"));
  }
  return EXIT_OK;
}

/* GET /api/v1/config, or NULL (message printed, *rc set). */
static JsonNode *
config_get(Ctl *c, int *rc)
{
  guint status = 0;
  g_autoptr(JsonNode) answer = ctl_request(c, "GET", "/api/v1/config", NULL, 10, &status, rc);
  if (!answer)
    return NULL;
  if (status != SOUP_STATUS_OK) {
    const char *err = obj_string(json_node_get_object(answer), "error");
    g_printerr("anyroomctl: config failed: %s\n", err ? err : "unknown error");
    *rc = EXIT_FAILED;
    return NULL;
  }
  return g_steal_pointer(&answer);
}

/* config: print the settings; config set K=V...: PATCH them. A value takes
 * the type the key has now (list: "a;b", boolean: true/false); an empty
 * value unsets the key. */
static int
cmd_config(Ctl *c, int argc, char **argv)
{
  int rc = EXIT_OK;
  g_autoptr(JsonNode) current = config_get(c, &rc);
  if (!current)
    return rc;
  if (argc == 0) {
    g_autofree char *text = json_to_string(current, TRUE);
    g_print("%s\n", text);
    return EXIT_OK;
  }
  JsonObject *cur = json_node_get_object(current);
  g_autoptr(JsonObject) patch = json_object_new();
  for (int i = 0; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    const char *dot = strchr(argv[i], '.');
    if (!eq || !dot || dot > eq) {
      g_printerr("anyroomctl: config set: '%s' is not GROUP.KEY=VALUE\n", argv[i]);
      return EXIT_USAGE;
    }
    g_autofree char *group = g_strndup(argv[i], dot - argv[i]);
    g_autofree char *key = g_strndup(dot + 1, eq - dot - 1);
    const char *value = eq + 1;
    if (!json_object_has_member(patch, group))
      json_object_set_object_member(patch, group, json_object_new());
    JsonObject *g = json_object_get_object_member(patch, group);
    JsonObject *cg = json_object_get_object_member(cur, group);
    JsonNode *was = cg ? json_object_get_member(cg, key) : NULL;
    if (!*value) {
      json_object_set_null_member(g, key);
    } else if (was && JSON_NODE_HOLDS_ARRAY(was)) {
      g_auto(GStrv) items = g_strsplit(value, ";", -1);
      JsonArray *a = json_array_new();
      for (gsize k = 0; items[k]; k++)
        if (*g_strstrip(items[k]))
          json_array_add_string_element(a, items[k]);
      json_object_set_array_member(g, key, a);
    } else if (was && JSON_NODE_HOLDS_VALUE(was) &&
               json_node_get_value_type(was) == G_TYPE_BOOLEAN) {
      if (!g_str_equal(value, "true") && !g_str_equal(value, "false")) {
        g_printerr("anyroomctl: config set: %s.%s is true or false\n", group, key);
        return EXIT_USAGE;
      }
      json_object_set_boolean_member(g, key, g_str_equal(value, "true"));
    } else {
      json_object_set_string_member(g, key, value);
    }
  }
  g_autoptr(JsonNode) body_node = json_node_init_object(json_node_alloc(), patch);
  g_autofree char *body = json_to_string(body_node, FALSE);
  guint status = 0;
  g_autoptr(JsonNode) answer = ctl_request(c, "PATCH", "/api/v1/config", body, 10, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (status != SOUP_STATUS_OK || !json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
    const char *err = obj_string(o, "error");
    g_printerr("anyroomctl: config set failed: %s\n", err ? err : "unknown error");
    return EXIT_FAILED;
  }
  g_print("saved%s\n", json_object_get_boolean_member_with_default(o, "restart_required", FALSE)
                           ? "; the device settings apply after a restart of anyroomd"
                           : "");
  return EXIT_OK;
}

/* "on"/"off" -> body {"on": bool}; NULL for anything else. */
static char *
on_off_body(const char *arg)
{
  if (g_str_equal(arg, "on") || g_str_equal(arg, "off"))
    return g_strdup_printf("{\"on\": %s}", g_str_equal(arg, "on") ? "true" : "false");
  return NULL;
}

static void
print_status(JsonObject *o)
{
  const char *state = obj_string(o, "state");
  g_print("state:     %s\n", state ? state : "?");
  const char *items[][2] = {{"message", "waiting:   "},  {"engine", "engine:    "},
                            {"provider", "provider:  "}, {"room", "room:      "},
                            {"link", "link:      "},     {"encoder", "encoder:   "},
                            {"error", "error:     "}};
  for (gsize i = 0; i < G_N_ELEMENTS(items); i++) {
    const char *v = obj_string(o, items[i][0]);
    if (v)
      g_print("%s%s\n", items[i][1], v);
  }
  JsonObject *k =
      json_object_has_member(o, "controls") ? json_object_get_object_member(o, "controls") : NULL;
  if (k)
    g_print("controls:  microphone %s, camera %s, volume %" G_GINT64_FORMAT ", self view %s\n",
            json_object_get_boolean_member_with_default(k, "microphone_muted", FALSE) ? "muted"
                                                                                      : "on",
            json_object_get_boolean_member_with_default(k, "camera_enabled", TRUE) ? "on" : "off",
            json_object_get_int_member_with_default(k, "speaker_volume", 0),
            json_object_get_boolean_member_with_default(k, "self_view", TRUE) ? "on" : "off");
  JsonObject *rec = json_object_get_member(o, "recovery") &&
                            JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "recovery"))
                        ? json_object_get_object_member(o, "recovery")
                        : NULL;
  if (rec && obj_string(rec, "reason"))
    g_print("reconnecting: attempt %" G_GINT64_FORMAT " (%s)\n",
            json_object_get_int_member_with_default(rec, "attempt", 0), obj_string(rec, "reason"));
  if (rec && json_object_get_int_member_with_default(rec, "reconnects", 0) > 0)
    g_print("reconnects: %" G_GINT64_FORMAT " (last back after %.0f ms)\n",
            json_object_get_int_member_with_default(rec, "reconnects", 0),
            json_object_get_double_member_with_default(rec, "last_recovery_ms", 0));
  JsonArray *parts = json_object_get_array_member(o, "participants");
  for (guint i = 0; parts && i < json_array_get_length(parts); i++) {
    JsonObject *p = json_array_get_object_element(parts, i);
    const char *display = obj_string(p, "display");
    g_print("participant: %s (%s)\n", display ? display : "?", obj_string(p, "id"));
  }
  JsonArray *tracks = json_object_get_array_member(o, "tracks");
  if (tracks && json_array_get_length(tracks) > 0)
    g_print("%-22s %-5s %-4s %-5s %-9s %8s %8s %9s %7s\n", "peer", "kind", "dir", "codec", "size",
            "frames", "packets", "kbit/s", "rtt ms");
  for (guint i = 0; tracks && i < json_array_get_length(tracks); i++) {
    JsonObject *t = json_array_get_object_element(tracks, i);
    g_autofree char *size = g_strdup_printf("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
                                            json_object_get_int_member(t, "width"),
                                            json_object_get_int_member(t, "height"));
    double rtt = json_object_get_double_member(t, "rtt_ms");
    g_autofree char *rtts = rtt >= 0 ? g_strdup_printf("%.1f", rtt) : g_strdup("-");
    g_print("%-22.22s %-5s %-4s %-5s %-9s %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT " %9.0f %7s\n",
            obj_string(t, "peer"), obj_string(t, "kind"), obj_string(t, "direction"),
            obj_string(t, "codec"), g_str_equal(obj_string(t, "kind"), "video") ? size : "-",
            json_object_get_int_member(t, "frames"), json_object_get_int_member(t, "packets"),
            json_object_get_double_member(t, "bitrate_bps") / 1000.0, rtts);
  }
}

static int
cmd_status(Ctl *c, gboolean json)
{
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "GET", "/api/v1/status", NULL, 10, &status, &rc);
  if (!answer)
    return rc;
  if (json) {
    g_autofree char *text = json_to_string(answer, TRUE);
    g_print("%s\n", text);
  } else {
    print_status(json_node_get_object(answer));
  }
  return status == SOUP_STATUS_OK ? EXIT_OK : EXIT_FAILED;
}

/* ---- recipes (docs/recipes.md) ---- */

static char *
strv_member_joined(JsonObject *o, const char *name)
{
  JsonArray *a = json_object_get_array_member(o, name);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    const char *s = json_array_get_string_element(a, i);
    if (s)
      g_strv_builder_add(b, s);
  }
  g_auto(GStrv) v = g_strv_builder_end(b);
  return g_strjoinv(" ", v);
}

static gboolean
answer_ok(guint status, JsonObject *o, const char *what)
{
  if (status >= 200 && status < 300 && json_object_get_boolean_member_with_default(o, "ok", FALSE))
    return TRUE;
  const char *err = obj_string(o, "error");
  g_printerr("anyroomctl: %s: %s\n", what, err ? err : "unknown error");
  return FALSE;
}

static int
cmd_recipes(Ctl *c, gboolean json)
{
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "GET", "/api/v1/recipes", NULL, 10, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (!answer_ok(status, o, "recipes"))
    return EXIT_FAILED;
  if (json) {
    g_autofree char *text = json_to_string(answer, TRUE);
    g_print("%s\n", text);
    return EXIT_OK;
  }
  g_print("%-20s %-9s %-36s %s\n", "ID", "ORIGIN", "SERVES", "NAME");
  JsonArray *list = json_object_get_array_member(o, "recipes");
  for (guint i = 0; list && i < json_array_get_length(list); i++) {
    JsonObject *r = json_array_get_object_element(list, i);
    if (!r)
      continue;
    g_autofree char *hosts = strv_member_joined(r, "hosts");
    g_autofree char *providers = strv_member_joined(r, "providers");
    g_autofree char *serves = json_object_get_boolean_member_with_default(r, "fallback", FALSE)
                                  ? g_strdup("any other web link")
                              : hosts[0] ? g_strconcat("hosts ", hosts, NULL)
                                         : g_strdup(providers);
    gboolean overrides =
        json_object_get_boolean_member_with_default(r, "overrides_built_in", FALSE);
    g_print("%-20s %-9s %-36s %s%s\n", obj_string_or(r, "id", "?"), obj_string_or(r, "origin", "?"),
            serves, obj_string_or(r, "name", ""), overrides ? " (overrides the built-in one)" : "");
  }
  JsonArray *errors = json_object_get_array_member(o, "errors");
  for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
    JsonObject *e = json_array_get_object_element(errors, i);
    if (e)
      g_print("refused (%s): %s\n", obj_string_or(e, "origin", "?"), obj_string_or(e, "error", ""));
  }
  g_print("administrator's folder: %s\n", obj_string_or(o, "admin_folder", "?"));
  return EXIT_OK;
}

/* The recipe's id: its "id", else the file name without ".json". */
static char *
recipe_file_id(const char *file, const char *data, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (json_parser_load_from_data(parser, data, (gssize)len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    const char *id = obj_string(json_node_get_object(json_parser_get_root(parser)), "id");
    if (id)
      return g_strdup(id);
  }
  g_autofree char *base = g_path_get_basename(file);
  if (g_str_has_suffix(base, ".json"))
    base[strlen(base) - 5] = '\0';
  return g_steal_pointer(&base);
}

static int
cmd_recipe_add(Ctl *c, const char *file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = g_mapped_file_new(file, FALSE, &error);
  if (!mapped) {
    g_printerr("anyroomctl: %s\n", error->message);
    return EXIT_FAILED;
  }
  gsize len = g_mapped_file_get_length(mapped);
  const char *data = g_mapped_file_get_contents(mapped);
  if (len > 1024 * 1024) {
    /* anyroomd takes 64 KiB; past 1 MiB it is surely not a recipe. */
    g_printerr("anyroomctl: %s: larger than 1 MiB\n", file);
    return EXIT_FAILED;
  }
  g_autofree char *id = recipe_file_id(file, data ? data : "", len);
  g_autofree char *escaped = g_uri_escape_string(id, NULL, FALSE);
  g_autofree char *path = g_strconcat("/api/v1/recipes/", escaped, NULL);
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer =
      ctl_request_len(c, "PUT", path, data ? data : "", len, 15, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  g_autofree char *what = g_strdup_printf("%s refused", file);
  if (!answer_ok(status, o, what))
    return EXIT_FAILED;
  JsonObject *r = json_object_get_object_member(o, "recipe");
  gboolean overrides =
      r && json_object_get_boolean_member_with_default(r, "overrides_built_in", FALSE);
  g_print("%s %s%s: the next join uses it\n",
          json_object_get_boolean_member_with_default(o, "replaced", FALSE) ? "replaced" : "added",
          id, overrides ? " (overrides the built-in one)" : "");
  return EXIT_OK;
}

static int
cmd_recipe_remove(Ctl *c, const char *id)
{
  g_autofree char *escaped = g_uri_escape_string(id, NULL, FALSE);
  g_autofree char *path = g_strconcat("/api/v1/recipes/", escaped, NULL);
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer = ctl_request(c, "DELETE", path, NULL, 15, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (!answer_ok(status, o, "recipes remove"))
    return EXIT_FAILED;
  g_print("removed %s%s\n", id,
          json_object_get_boolean_member_with_default(o, "built_in_restored", FALSE)
              ? ": the built-in recipe is back"
              : "");
  return EXIT_OK;
}

/* ---- events ---- */

typedef struct {
  GMainLoop *loop;
  int rc;
} EventsCtx;

static void
events_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  gsize len;
  const char *text = g_bytes_get_data(message, &len);
  fwrite(text, 1, len, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

static void
events_closed(SoupWebsocketConnection *ws, gpointer data)
{
  g_main_loop_quit(((EventsCtx *)data)->loop);
}

static void
events_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  EventsCtx *ctx = data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &error);
  if (!ws) {
    g_printerr("anyroomctl: cannot reach anyroomd: %s\n", error->message);
    ctx->rc = EXIT_UNREACHABLE;
    g_main_loop_quit(ctx->loop);
    return;
  }
  g_signal_connect(ws, "message", G_CALLBACK(events_message), ctx);
  g_signal_connect(ws, "closed", G_CALLBACK(events_closed), ctx);
}

static int
cmd_events(Ctl *c)
{
  g_autoptr(SoupSession) session = ctl_session(c, 0);
  g_autoptr(SoupMessage) msg = soup_message_new("GET", "ws://anyroomd/api/v1/events");
  EventsCtx ctx = {g_main_loop_new(NULL, FALSE), EXIT_OK};
  soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       events_connected, &ctx);
  g_main_loop_run(ctx.loop);
  g_main_loop_unref(ctx.loop);
  return ctx.rc;
}

/* ---- offline link commands ---- */

/* The offline link commands read the daemon's config file for the [links]
 * section (self-hosted Jitsi/Pexip domains, IDN policy), so they answer the
 * way anyroomd would. */
static ArConfig *
load_config(const char *path, int *rc)
{
  g_autofree char *def = NULL;
  if (!path) {
    def = g_build_filename(g_get_user_config_dir(), "anyroom", "anyroom.conf", NULL);
    if (!g_file_test(def, G_FILE_TEST_EXISTS))
      return ar_config_new_default();
    path = def;
  }
  g_autoptr(GError) error = NULL;
  ArConfig *c = ar_config_load_file(path, &error);
  if (!c) {
    g_printerr("anyroomctl: %s\n", error->message);
    *rc = EXIT_FAILED;
  }
  return c;
}

static int
cmd_url_info(const ArConfig *config, const char *link)
{
  gboolean ok = FALSE;
  g_autofree char *json =
      ar_link_url_info_json(link, ar_link_config_get_policy(config->links), &ok);
  g_print("%s\n", json);
  return ok ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_find_links(const ArConfig *config, const char *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (g_str_equal(file, "-")) {
    g_autoptr(GInputStream) in = g_unix_input_stream_new(0, FALSE);
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    /* Bounded: an invitation over 4 MiB is refused. */
    gssize n = g_output_stream_splice(out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
    if (n < 0) {
      g_printerr("anyroomctl: cannot read stdin: %s\n", error->message);
      return EXIT_FAILED;
    }
    len = g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out));
    data = g_memory_output_stream_steal_data(G_MEMORY_OUTPUT_STREAM(out));
  } else if (!g_file_get_contents(file, &data, &len, &error)) {
    g_printerr("anyroomctl: %s\n", error->message);
    return EXIT_FAILED;
  }
  if (len > 4 * 1024 * 1024) {
    g_printerr("anyroomctl: %s: larger than 4 MiB\n", file);
    return EXIT_FAILED;
  }
  g_autofree char *json =
      ar_link_find_links_json(data ? data : "", len, ar_link_config_get_policy(config->links));
  g_print("%s\n", json);
  return EXIT_OK;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  g_autofree char *socket_path = NULL;
  g_autofree char *config_path = NULL;
  gboolean json = FALSE;
  int timeout = 30;
  gboolean force_downgrade = FALSE;
  gboolean next = FALSE;
  g_autofree char *meeting = NULL;
  GOptionEntry entries[] = {
      {"next", 'n', 0, G_OPTION_ARG_NONE, &next,
       "join: the calendar's meeting in progress or about to start", NULL},
      {"meeting", 'm', 0, G_OPTION_ARG_STRING, &meeting,
       "join: this meeting of the calendar (its id in `meetings`)", "ID"},
      {"force-downgrade", 0, 0, G_OPTION_ARG_NONE, &force_downgrade,
       "update install: allow a bundle older than the running version", NULL},
      {"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path, "anyroomd's socket", "PATH"},
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
       "url-info/find-links: config file for [links] (default: anyroomd's)", "FILE"},
      {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "status, history, meetings, recipes: print JSON",
       NULL},
      {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout, "join: seconds to wait (default 30)", "S"},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS]");
  g_option_context_set_summary(ctx, usage);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc < 2) {
    g_printerr("%s%s%s", error ? "anyroomctl: " : "", error ? error->message : "",
               error ? "\n" : usage);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if ((g_str_equal(cmd, "url-info") || g_str_equal(cmd, "find-links")) && argc == 3) {
    int rc = EXIT_OK;
    g_autoptr(ArConfig) config = load_config(config_path, &rc);
    if (!config)
      return rc;
    return g_str_equal(cmd, "url-info") ? cmd_url_info(config, argv[2])
                                        : cmd_find_links(config, argv[2]);
  }
  Ctl c = {.socket_path = socket_path ? g_strdup(socket_path) : ar_api_default_socket_path()};
  int rc = EXIT_USAGE;
  if (g_str_equal(cmd, "join") && argc == 3 && !next && !meeting)
    rc = cmd_command(&c, "join", argv[2], (guint)CLAMP(timeout, 1, 600) + 5);
  else if (g_str_equal(cmd, "join") && argc == 2 && next && !meeting)
    rc = cmd_command_body(&c, "join", "{\"next\": true}", (guint)CLAMP(timeout, 1, 600) + 5);
  else if (g_str_equal(cmd, "join") && argc == 2 && meeting && !next)
    rc = cmd_command_with(&c, "join", "meeting", meeting, (guint)CLAMP(timeout, 1, 600) + 5);
  else if (g_str_equal(cmd, "meetings") && argc == 2)
    rc = cmd_meetings(&c, json);
  else if (g_str_equal(cmd, "meetings") && argc == 3 && g_str_equal(argv[2], "refresh"))
    rc = cmd_command(&c, "calendar-refresh", NULL, 10);
  else if (g_str_equal(cmd, "cancel-auto-join") && argc == 2)
    rc = cmd_command(&c, "cancel-auto-join", NULL, 10);
  else if (g_str_equal(cmd, "call") && argc == 3)
    /* the called room rings up to 45 s before someone answers */
    rc = cmd_command(&c, "call", argv[2], (guint)CLAMP(MAX(timeout, 90), 1, 600) + 5);
  else if ((g_str_equal(cmd, "accept") || g_str_equal(cmd, "decline")) && argc == 2)
    rc = cmd_command(&c, cmd, NULL, 15);
  else if (g_str_equal(cmd, "leave") && argc == 2)
    rc = cmd_command(&c, "leave", NULL, 15);
  else if ((g_str_equal(cmd, "mute") || g_str_equal(cmd, "unmute")) && argc == 2)
    rc = cmd_control(&c, cmd, "{}");
  else if ((g_str_equal(cmd, "camera") || g_str_equal(cmd, "self-view")) && argc == 3 &&
           on_off_body(argv[2])) {
    g_autofree char *body = on_off_body(argv[2]);
    rc = cmd_control(&c, cmd, body);
  } else if (g_str_equal(cmd, "volume") && argc == 3) {
    guint64 level = 0;
    if (g_ascii_string_to_unsigned(argv[2], 10, 0, 100, &level, NULL)) {
      g_autofree char *body = g_strdup_printf("{\"level\": %" G_GUINT64_FORMAT "}", level);
      rc = cmd_control(&c, cmd, body);
    } else {
      g_printerr("anyroomctl: volume: a level from 0 to 100\n");
    }
  } else if (g_str_equal(cmd, "update") && argc == 4 && g_str_equal(argv[2], "install"))
    rc = cmd_update_install(&c, argv[3], force_downgrade);
  else if (g_str_equal(cmd, "update") && argc == 3 && g_str_equal(argv[2], "status"))
    rc = cmd_update_status(&c, json);
  else if (g_str_equal(cmd, "status") && argc == 2)
    rc = cmd_status(&c, json);
  else if (g_str_equal(cmd, "history") && argc == 2)
    rc = cmd_history(&c, json);
  else if (g_str_equal(cmd, "config") && argc == 2)
    rc = cmd_config(&c, 0, NULL);
  else if (g_str_equal(cmd, "config") && argc >= 4 && g_str_equal(argv[2], "set"))
    rc = cmd_config(&c, argc - 3, argv + 3);
  else if (g_str_equal(cmd, "recipes") && argc == 2)
    rc = cmd_recipes(&c, json);
  else if (g_str_equal(cmd, "recipes") && argc == 4 && g_str_equal(argv[2], "add"))
    rc = cmd_recipe_add(&c, argv[3]);
  else if (g_str_equal(cmd, "recipes") && argc == 4 && g_str_equal(argv[2], "remove"))
    rc = cmd_recipe_remove(&c, argv[3]);
  else if (g_str_equal(cmd, "events") && argc == 2)
    rc = cmd_events(&c);
  else
    g_printerr("%s", usage);
  g_free(c.socket_path);
  return rc;
}
