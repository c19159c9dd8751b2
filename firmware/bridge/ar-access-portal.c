/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The room's portal Access backend: grants the camera only during a web call. */
#include "ar-access-portal.h"

G_DEFINE_QUARK(ar - access - portal - error - quark, ar_access_portal_error)

#define STORE_NAME "org.freedesktop.impl.portal.PermissionStore"
#define STORE_PATH "/org/freedesktop/impl/portal/PermissionStore"
/* Bounds on what the portal hands us (it is trusted, but a bug there must not hurt us). */
#define MAX_STRING 4096

static const char introspection_xml[] = "<node>"
                                        "  <interface name='org.freedesktop.impl.portal.Access'>"
                                        "    <method name='AccessDialog'>"
                                        "      <arg type='o' name='handle' direction='in'/>"
                                        "      <arg type='s' name='app_id' direction='in'/>"
                                        "      <arg type='s' name='parent_window' direction='in'/>"
                                        "      <arg type='s' name='title' direction='in'/>"
                                        "      <arg type='s' name='subtitle' direction='in'/>"
                                        "      <arg type='s' name='body' direction='in'/>"
                                        "      <arg type='a{sv}' name='options' direction='in'/>"
                                        "      <arg type='u' name='response' direction='out'/>"
                                        "      <arg type='a{sv}' name='results' direction='out'/>"
                                        "    </method>"
                                        "  </interface>"
                                        "</node>";

struct _ArAccessPortal {
  GDBusConnection *connection;
  GDBusNodeInfo *node;
  guint registration;
  ArAccessAllowFunc allow;
  gpointer user_data;
  GMainContext *allow_context; /* NULL: decide in the D-Bus dispatch context */
  guint requests;
  guint granted;
};

/* Portal responses: 0 granted, 1 cancelled by the user, 2 ended otherwise. */
enum { RESPONSE_GRANTED = 0, RESPONSE_DENIED = 1 };

/* Answers one AccessDialog call with the callback's decision. */
static void
decide(ArAccessPortal *self, GDBusMethodInvocation *invocation, const char *sender,
       const char *app_id, const char *icon)
{
  gboolean grant = FALSE;

  self->requests++;
  if (self->allow != NULL)
    grant = self->allow(app_id, icon, self->user_data);
  if (grant)
    self->granted++;
  g_debug("access request from %s for app '%s' (%s): %s", sender, app_id, icon,
          grant ? "granted" : "denied");
  g_dbus_method_invocation_return_value(
      invocation, g_variant_new("(u@a{sv})", grant ? RESPONSE_GRANTED : RESPONSE_DENIED,
                                g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)));
}

/* A request carried to the allow context. */
typedef struct {
  ArAccessPortal *self; /* a reference (GRcBox) */
  GDBusMethodInvocation *invocation;
  char *sender, *app_id, *icon;
} Decision;

static void
portal_clear(ArAccessPortal *self)
{
  g_clear_pointer(&self->node, g_dbus_node_info_unref);
  g_clear_object(&self->connection);
  g_clear_pointer(&self->allow_context, g_main_context_unref);
}

static void
decision_free(gpointer data)
{
  Decision *d = data;
  g_rc_box_release_full(d->self, (GDestroyNotify)portal_clear);
  g_object_unref(d->invocation);
  g_free(d->sender);
  g_free(d->app_id);
  g_free(d->icon);
  g_free(d);
}

static gboolean
decide_in_context(gpointer data)
{
  Decision *d = data;
  decide(d->self, g_object_ref(d->invocation), d->sender, d->app_id, d->icon);
  return G_SOURCE_REMOVE;
}

static void
method_call(GDBusConnection *connection, const char *sender, const char *path,
            const char *interface, const char *method, GVariant *params,
            GDBusMethodInvocation *invocation, gpointer user_data)
{
  ArAccessPortal *self = user_data;
  const char *handle = NULL, *app_id = NULL, *parent = NULL, *title = NULL;
  const char *subtitle = NULL, *body = NULL;
  g_autoptr(GVariant) options = NULL;
  const char *icon = "";

  if (g_strcmp0(method, "AccessDialog") != 0) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                          "No such method %s", method);
    return;
  }
  g_variant_get(params, "(&o&s&s&s&s&s@a{sv})", &handle, &app_id, &parent, &title, &subtitle, &body,
                &options);
  if (strlen(app_id) > MAX_STRING) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                          "app_id too long");
    return;
  }
  g_variant_lookup(options, "icon", "&s", &icon);
  if (strlen(icon) > MAX_STRING)
    icon = "";

  if (self->allow_context == NULL) {
    decide(self, invocation, sender, app_id, icon);
    return;
  }
  Decision *d = g_new0(Decision, 1);
  d->self = g_rc_box_acquire(self);
  d->invocation = invocation; /* method_call owns it (transfer full) */
  d->sender = g_strdup(sender);
  d->app_id = g_strdup(app_id);
  d->icon = g_strdup(icon);
  g_main_context_invoke_full(self->allow_context, G_PRIORITY_DEFAULT, decide_in_context, d,
                             decision_free);
}

static const GDBusInterfaceVTable vtable = {method_call, NULL, NULL, {0}};

gboolean
ar_access_portal_revoke(ArAccessPortal *self, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GVariant) reply = NULL;

  g_return_val_if_fail(self != NULL, FALSE);
  /* Delete the whole "camera" entry: only unsandboxed browsers ("") ever get one here. */
  reply = g_dbus_connection_call_sync(self->connection, STORE_NAME, STORE_PATH, STORE_NAME,
                                      "Delete", g_variant_new("(ss)", "devices", "camera"), NULL,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, &local);
  if (reply != NULL)
    return TRUE;
  /* Nothing stored, or no store at all: nothing is granted either way. */
  if (g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    return TRUE;
  if (g_dbus_error_is_remote_error(local)) {
    g_autofree char *remote = g_dbus_error_get_remote_error(local);
    if (g_strcmp0(remote, "org.freedesktop.portal.Error.NotFound") == 0)
      return TRUE;
  }
  g_propagate_prefixed_error(error, g_steal_pointer(&local),
                             "Cannot revoke the camera grant in the permission store: ");
  return FALSE;
}

ArAccessPortal *
ar_access_portal_new(GDBusConnection *connection, ArAccessAllowFunc allow, gpointer user_data,
                     GError **error)
{
  g_autoptr(ArAccessPortal) self = g_rc_box_new0(ArAccessPortal);
  g_autoptr(GVariant) reply = NULL;
  guint32 result = 0;

  g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), NULL);
  self->connection = g_object_ref(connection);
  self->allow = allow;
  self->user_data = user_data;
  self->node = g_dbus_node_info_new_for_xml(introspection_xml, error);
  if (self->node == NULL)
    return NULL;
  self->registration = g_dbus_connection_register_object(
      connection, AR_ACCESS_PORTAL_PATH, self->node->interfaces[0], &vtable, self, NULL, error);
  if (self->registration == 0)
    return NULL;
  if (!ar_access_portal_revoke(self, error))
    return NULL;
  /* Synchronous RequestName: the portal must find the backend as soon as it starts. */
  reply = g_dbus_connection_call_sync(
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "RequestName", g_variant_new("(su)", AR_ACCESS_PORTAL_BUS_NAME, 4 /* DO_NOT_QUEUE */),
      G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL) {
    g_prefix_error(error, "Cannot own %s: ", AR_ACCESS_PORTAL_BUS_NAME);
    return NULL;
  }
  g_variant_get(reply, "(u)", &result);
  if (result != 1 /* PRIMARY_OWNER */ && result != 4 /* ALREADY_OWNER */) {
    g_set_error(error, AR_ACCESS_PORTAL_ERROR, AR_ACCESS_PORTAL_ERROR_NAME_TAKEN,
                "Another process owns %s", AR_ACCESS_PORTAL_BUS_NAME);
    return NULL;
  }
  return g_steal_pointer(&self);
}

guint
ar_access_portal_get_requests(ArAccessPortal *self)
{
  return self->requests;
}

guint
ar_access_portal_get_granted(ArAccessPortal *self)
{
  return self->granted;
}

void
ar_access_portal_set_allow_context(ArAccessPortal *self, GMainContext *context)
{
  g_clear_pointer(&self->allow_context, g_main_context_unref);
  if (context != NULL)
    self->allow_context = g_main_context_ref(context);
}

void
ar_access_portal_free(ArAccessPortal *self)
{
  if (self == NULL)
    return;
  /* No new calls from here on; decisions still queued keep their reference. */
  if (self->registration != 0)
    g_dbus_connection_unregister_object(self->connection, self->registration);
  self->registration = 0;
  g_rc_box_release_full(self, (GDestroyNotify)portal_clear);
}
