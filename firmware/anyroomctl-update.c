/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* anyroomctl update install|status (docs/update.md): a bundle, a URL or the channel's release,
 * with progress from the event stream; the slots and the channel. */
#include <libsoup/soup.h>
#include <stdio.h>

#include "anyroomctl.h"

/* ---- update (docs/update.md) ---- */

typedef struct {
  GMainLoop *loop;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  SoupMessage *msg;
  char *body;
  char *last_line;
  int rc;
} UpdateCtx;

static void
update_event(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  UpdateCtx *ctx = data;
  gsize len;
  const char *text = g_bytes_get_data(message, &len);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return;
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  const char *ev = obj_string(o, "event");
  if (!ev || !g_str_equal(ev, "update-progress"))
    return;
  const char *m = obj_string(o, "message");
  g_autofree char *line =
      g_strdup_printf("%3" G_GINT64_FORMAT "%% %s",
                      json_object_get_int_member_with_default(o, "percent", 0), m ? m : "");
  if (ctx->last_line && g_str_equal(ctx->last_line, line))
    return;
  g_print("%s\n", line);
  g_free(ctx->last_line);
  ctx->last_line = g_steal_pointer(&line);
}

static void
update_answered(GObject *src, GAsyncResult *res, gpointer data)
{
  UpdateCtx *ctx = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);
  ctx->rc = EXIT_FAILED;
  if (!answer) {
    g_printerr("anyroomctl: update: cannot reach anyroomd: %s\n", error->message);
    ctx->rc = EXIT_UNREACHABLE;
  } else {
    gsize len;
    const char *text = g_bytes_get_data(answer, &len);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = NULL;
    if (json_parser_load_from_data(parser, text, (gssize)len, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
      o = json_node_get_object(json_parser_get_root(parser));
    if (o && soup_message_get_status(ctx->msg) == SOUP_STATUS_OK &&
        json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
      g_print("installed; reboot to run it\n");
      ctx->rc = EXIT_OK;
    } else {
      const char *err = o ? obj_string(o, "error") : NULL;
      g_printerr("update: %s\n", err ? err : "failed (no reason given)");
    }
  }
  g_main_loop_quit(ctx->loop);
}

static void
update_send(UpdateCtx *ctx)
{
  g_autoptr(GBytes) b = g_bytes_new(ctx->body, strlen(ctx->body));
  soup_message_set_request_body_from_bytes(ctx->msg, "application/json", b);
  soup_session_send_and_read_async(ctx->session, ctx->msg, G_PRIORITY_DEFAULT, NULL,
                                   update_answered, ctx);
}

static void
update_ws_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  UpdateCtx *ctx = data;
  /* Without the event stream the install still runs; only progress is missing. */
  ctx->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, NULL);
  if (ctx->ws)
    g_signal_connect(ctx->ws, "message", G_CALLBACK(update_event), ctx);
  update_send(ctx);
}

int
cmd_update_install(Ctl *c, const char *source, gboolean force)
{
  g_autofree char *resolved = NULL;
  /* "channel": the release the update channel offers (a file of that name: ./channel). */
  if (strstr(source, "://") || g_str_equal(source, "channel"))
    resolved = g_strdup(source);
  else
    resolved = g_canonicalize_filename(source, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, resolved);
  json_builder_set_member_name(b, "force_downgrade");
  json_builder_add_boolean_value(b, force);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  /* No timeout: anyroomd answers when the install ended (a download and the
   * write of a whole root filesystem take minutes); Ctrl-C stops waiting. */
  UpdateCtx ctx = {.loop = g_main_loop_new(NULL, FALSE),
                   .session = ctl_session(c, 0),
                   .msg =
                       soup_message_new("POST", "http://anyroomd/api/v1/commands/update-install"),
                   .body = json_to_string(n, FALSE),
                   .rc = EXIT_FAILED};
  g_autoptr(SoupMessage) wsmsg = soup_message_new("GET", "ws://anyroomd/api/v1/events");
  soup_session_websocket_connect_async(ctx.session, wsmsg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       update_ws_connected, &ctx);
  g_main_loop_run(ctx.loop);
  if (ctx.ws) {
    g_signal_handlers_disconnect_by_data(ctx.ws, &ctx);
    g_object_unref(ctx.ws);
  }
  g_object_unref(ctx.msg);
  g_object_unref(ctx.session);
  g_main_loop_unref(ctx.loop);
  g_free(ctx.body);
  g_free(ctx.last_line);
  return ctx.rc;
}

/* The update channel followed and its release's install (docs/fleet.md), if any. */
static void
print_channel(JsonObject *u)
{
  JsonNode *cn = json_object_get_member(u, "channel");
  JsonObject *ch = cn && JSON_NODE_HOLDS_OBJECT(cn) ? json_node_get_object(cn) : NULL;
  if (!ch)
    return;
  JsonNode *on = json_object_get_member(ch, "offered");
  JsonObject *off = on && JSON_NODE_HOLDS_OBJECT(on) ? json_node_get_object(on) : NULL;
  g_print("channel:     %s from %s: %s%s%s (serial %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
          " failures, last error: %s)\n",
          obj_string_or(ch, "name", "?"), obj_string_or(ch, "url_host", "?"),
          obj_string_or(ch, "state", "not read yet"), off ? " " : "",
          off ? obj_string_or(off, "version", "?") : "",
          json_object_get_int_member_with_default(ch, "serial", 0),
          json_object_get_int_member_with_default(ch, "failures", 0),
          obj_string_or(ch, "error", "-"));
  JsonNode *in = json_object_get_member(ch, "install");
  JsonObject *i = in && JSON_NODE_HOLDS_OBJECT(in) ? json_node_get_object(in) : NULL;
  if (!i)
    return;
  g_print("install:     %s, window %s (%s)%s, %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
          " bytes, last error: %s\n",
          obj_string_or(i, "state", "?"), obj_string_or(i, "window", "?"),
          json_object_get_boolean_member_with_default(i, "window_open", FALSE) ? "open" : "closed",
          json_object_get_boolean_member_with_default(i, "auto", FALSE) ? "" : ", by hand only",
          json_object_get_int_member_with_default(i, "downloaded_bytes", 0),
          json_object_get_int_member_with_default(i, "size", 0), obj_string_or(i, "error", "-"));
}

int
cmd_update_status(Ctl *c, gboolean json)
{
  guint status = 0;
  int rc = EXIT_OK;
  g_autoptr(JsonNode) answer =
      ctl_request(c, "POST", "/api/v1/commands/update-status", "{}", 15, &status, &rc);
  if (!answer)
    return rc;
  JsonObject *o = json_node_get_object(answer);
  if (status != SOUP_STATUS_OK || !json_object_has_member(o, "update")) {
    g_printerr("anyroomctl: update status: %s\n", obj_string_or(o, "error", "failed"));
    return EXIT_FAILED;
  }
  JsonNode *un = json_object_get_member(o, "update");
  if (json) {
    g_autofree char *text = json_to_string(un, TRUE);
    g_print("%s\n", text);
    return EXIT_OK;
  }
  JsonObject *u = JSON_NODE_HOLDS_OBJECT(un) ? json_node_get_object(un) : NULL;
  if (!u)
    return EXIT_FAILED;
  g_print("rauc:        %s\n", json_object_get_boolean_member_with_default(u, "rauc", FALSE)
                                   ? "running"
                                   : "not reachable");
  g_print("compatible:  %s\n", obj_string_or(u, "compatible", "-"));
  g_print("booted slot: %s\n", obj_string_or(u, "booted_slot", "-"));
  g_print("running:     %s (from %s)\n", obj_string_or(u, "running_version", "?"),
          obj_string_or(u, "running_version_from", "?"));
  g_print("marked good: %s\n",
          json_object_get_boolean_member_with_default(u, "marked_good", FALSE) ? "yes" : "no");
  g_print("phase:       %s\n", obj_string_or(u, "phase", "?"));
  g_print("last error:  %s\n", obj_string_or(u, "last_error", "-"));
  print_channel(u);
  JsonNode *sn = json_object_get_member(u, "slots");
  JsonArray *slots = sn && JSON_NODE_HOLDS_ARRAY(sn) ? json_node_get_array(sn) : NULL;
  for (guint i = 0; slots && i < json_array_get_length(slots); i++) {
    JsonNode *en = json_array_get_element(slots, i);
    JsonObject *s = JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
    if (!s)
      continue;
    g_print("slot %s (%s): %s, boot %s, version %s\n", obj_string_or(s, "name", "?"),
            obj_string_or(s, "bootname", "-"), obj_string_or(s, "state", "?"),
            obj_string_or(s, "boot_status", "?"), obj_string_or(s, "bundle_version", "-"));
  }
  return EXIT_OK;
}
