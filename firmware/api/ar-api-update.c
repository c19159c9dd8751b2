/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-update.c: the update commands of the API hub, shared by the Unix
 * socket and the HTTPS scripting API (docs/update.md, docs/api.md).
 */
#include <glib/gstdio.h>
#include <string.h>

#include "ar-api-hub.h"

typedef struct {
  ArUpdater *updater;
  SoupServerMessage *msg;
  gboolean gone;
} UpdateWaiter;

static guint
status_for_update_error(const GError *e)
{
  if (e->domain != AR_UPDATE_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch ((ArUpdateError)e->code) {
  case AR_UPDATE_ERROR_BUSY:
    return SOUP_STATUS_CONFLICT;
  case AR_UPDATE_ERROR_INVALID:
    return SOUP_STATUS_BAD_REQUEST;
  case AR_UPDATE_ERROR_TOO_LARGE:
    return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
  case AR_UPDATE_ERROR_INCOMPATIBLE:
  case AR_UPDATE_ERROR_DOWNGRADE:
  case AR_UPDATE_ERROR_BAD_VERSION:
  case AR_UPDATE_ERROR_REFUSED:
    return SOUP_STATUS_UNPROCESSABLE_ENTITY;
  case AR_UPDATE_ERROR_DISABLED:
  case AR_UPDATE_ERROR_NO_RAUC:
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  case AR_UPDATE_ERROR_DOWNLOAD:
    return SOUP_STATUS_BAD_GATEWAY;
  case AR_UPDATE_ERROR_FAILED:
  default:
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  }
}

static void
waiter_disconnected(SoupServerMessage *msg, gpointer data)
{
  UpdateWaiter *w = data;
  /* The install goes on; nobody waits for its answer any more. */
  ar_updater_forget_waiter(w->updater, w);
  g_signal_handlers_disconnect_by_data(w->msg, w);
  g_object_unref(w->msg);
  g_free(w);
}

static void
install_done(const GError *error, gpointer data)
{
  UpdateWaiter *w = data;
  g_signal_handlers_disconnect_by_data(w->msg, w);
  ar_api_respond_result(w->msg, error ? status_for_update_error(error) : SOUP_STATUS_OK,
                        error ? error->message : NULL);
  soup_server_message_unpause(w->msg);
  g_object_unref(w->msg);
  g_free(w);
}

static void
start_install(ArApiHub *hub, SoupServerMessage *msg, const char *source, gboolean force,
              gboolean delete_after)
{
  ArUpdater *updater = ar_api_hub_get_updater(hub);
  if (!updater) {
    if (delete_after)
      g_unlink(source);
    ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "updates are not available");
    return;
  }
  UpdateWaiter *w = g_new0(UpdateWaiter, 1);
  w->updater = updater;
  w->msg = g_object_ref(msg);
  g_autoptr(GError) error = NULL;
  if (!ar_updater_install(updater, source, force, delete_after, install_done, w, &error)) {
    if (delete_after)
      g_unlink(source);
    g_object_unref(w->msg);
    g_free(w);
    ar_api_respond_result(msg, status_for_update_error(error), error->message);
    return;
  }
  g_signal_connect(msg, "disconnected", G_CALLBACK(waiter_disconnected), w);
  soup_server_message_pause(msg);
}

void
ar_api_hub_update_install_file(ArApiHub *hub, SoupServerMessage *msg, const char *path,
                               gboolean force_downgrade)
{
  start_install(hub, msg, path, force_downgrade, TRUE);
}

/* ---- update-status ---- */

typedef struct {
  ArApiHub *hub;
  SoupServerMessage *msg;
  gboolean gone; /* the client went away: answer nobody */
} StatusWaiter;

static void
status_client_gone(SoupServerMessage *msg, gpointer data)
{
  ((StatusWaiter *)data)->gone = TRUE;
}

static void
status_refreshed(const GError *error, gpointer data)
{
  StatusWaiter *w = data;
  ArUpdater *updater = ar_api_hub_get_updater(w->hub);
  g_signal_handlers_disconnect_by_data(w->msg, w);
  if (w->gone) {
    g_object_unref(w->msg);
    g_free(w);
    return;
  }
  if (updater) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "update");
    json_builder_add_value(b, ar_updater_status(updater));
    json_builder_end_object(b);
    g_autoptr(JsonNode) n = json_builder_get_root(b);
    ar_api_respond_json(w->msg, SOUP_STATUS_OK, n);
  } else {
    ar_api_respond_result(w->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "updates are not available");
  }
  soup_server_message_unpause(w->msg);
  g_object_unref(w->msg);
  g_free(w);
}

/* ---- the command group ---- */

static gboolean
parse_install_body(SoupServerMessage *msg, gsize max_body, char **source, gboolean *force,
                   GError **error)
{
  g_autoptr(JsonNode) root = ar_api_body_object(msg, max_body, FALSE, error);
  if (!root)
    return FALSE;
  JsonObject *o = json_node_get_object(root);
  JsonNode *n = json_object_get_member(o, "source");
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request needs \"source\": a bundle's absolute path or https:// URL");
    return FALSE;
  }
  JsonNode *f = json_object_get_member(o, "force_downgrade");
  if (f && (!JSON_NODE_HOLDS_VALUE(f) || json_node_get_value_type(f) != G_TYPE_BOOLEAN)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "\"force_downgrade\" must be true or false");
    return FALSE;
  }
  *force = f ? json_node_get_boolean(f) : FALSE;
  *source = g_strdup(json_node_get_string(n));
  return TRUE;
}

void
ar_api_hub_update_command(ArApiHub *hub, SoupServerMessage *msg, const char *name, gsize max_body)
{
  ArUpdater *updater = ar_api_hub_get_updater(hub);
  if (!updater) {
    ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "updates are not available");
    return;
  }
  if (g_str_equal(name, "update-status")) {
    StatusWaiter *w = g_new0(StatusWaiter, 1);
    w->hub = hub;
    w->msg = g_object_ref(msg);
    g_signal_connect(msg, "disconnected", G_CALLBACK(status_client_gone), w);
    soup_server_message_pause(msg);
    ar_updater_refresh(updater, status_refreshed, w);
    return;
  }
  if (g_str_equal(name, "update-install")) {
    g_autoptr(GError) error = NULL;
    g_autofree char *source = NULL;
    gboolean force = FALSE;
    if (!parse_install_body(msg, max_body, &source, &force, &error)) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    start_install(hub, msg, source, force, FALSE);
    return;
  }
  ar_api_respond_result(msg, SOUP_STATUS_NOT_FOUND, "no such command");
}
