/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The room's portal Access backend on a private session bus (GTestDBus, a real dbus-daemon):
 * xdg-desktop-portal's AccessDialog call is granted only while the callback says a web call is
 * active; the bus name is exclusive; revoking with no permission store is not an error. */
#include "ar-access-portal.h"

typedef struct {
  GThread *allow_thread; /* where the last callback ran */
  GTestDBus *bus;
  GDBusConnection *conn;   /* the backend's side */
  GDBusConnection *portal; /* plays xdg-desktop-portal */
  gboolean call_active;
  guint asked;
} Fixture;

static gboolean
allow(const char *app_id, const char *icon, gpointer data)
{
  Fixture *f = data;
  f->asked++;
  f->allow_thread = g_thread_self();
  return f->call_active;
}

static void
setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
  g_test_dbus_up(f->bus);
  f->conn =
      g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(f->bus),
                                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                             NULL, NULL, &error);
  g_assert_no_error(error);
  f->portal =
      g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(f->bus),
                                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                             NULL, NULL, &error);
  g_assert_no_error(error);
}

static void
teardown(Fixture *f, gconstpointer data)
{
  g_dbus_connection_close_sync(f->conn, NULL, NULL);
  g_dbus_connection_close_sync(f->portal, NULL, NULL);
  g_clear_object(&f->conn);
  g_clear_object(&f->portal);
  g_test_dbus_down(f->bus);
  g_clear_object(&f->bus);
}

typedef struct {
  GVariant *reply;
  GError *error;
} Result;

static void
call_done(GObject *src, GAsyncResult *res, gpointer data)
{
  Result *r = data;
  r->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &r->error);
}

/* AccessDialog as xdg-desktop-portal's Camera portal sends it; returns the response code. */
static guint32
access_dialog(Fixture *f, const char *app_id)
{
  Result r = {0};
  GVariantBuilder opts;
  guint32 response = 99;

  g_variant_builder_init(&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&opts, "{sv}", "icon", g_variant_new_string("camera-web-symbolic"));
  g_dbus_connection_call(f->portal, AR_ACCESS_PORTAL_BUS_NAME, AR_ACCESS_PORTAL_PATH,
                         "org.freedesktop.impl.portal.Access", "AccessDialog",
                         g_variant_new("(osssssa{sv})", "/org/freedesktop/portal/desktop/request/1",
                                       app_id, "", "Allow app to Use the Camera?", "",
                                       "An app wants to access camera devices.", &opts),
                         G_VARIANT_TYPE("(ua{sv})"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, call_done,
                         &r);
  while (r.reply == NULL && r.error == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_assert_no_error(r.error);
  g_variant_get(r.reply, "(u@a{sv})", &response, NULL);
  g_variant_unref(r.reply);
  return response;
}

static void
test_grant_only_in_call(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArAccessPortal) p = ar_access_portal_new(f->conn, allow, f, &error);

  g_assert_no_error(error);
  g_assert_nonnull(p);
  f->call_active = FALSE;
  g_assert_cmpuint(access_dialog(f, ""), ==, 1);
  f->call_active = TRUE;
  g_assert_cmpuint(access_dialog(f, ""), ==, 0);
  f->call_active = FALSE;
  g_assert_cmpuint(access_dialog(f, "org.example.App"), ==, 1);
  g_assert_cmpuint(f->asked, ==, 3);
  g_assert_cmpuint(ar_access_portal_get_requests(p), ==, 3);
  g_assert_cmpuint(ar_access_portal_get_granted(p), ==, 1);
}

static void
test_no_callback_denies(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArAccessPortal) p = ar_access_portal_new(f->conn, NULL, NULL, &error);

  g_assert_no_error(error);
  g_assert_cmpuint(access_dialog(f, ""), ==, 1);
}

static void
test_name_taken(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArAccessPortal) p = ar_access_portal_new(f->conn, allow, f, &error);
  g_autoptr(ArAccessPortal) q = NULL;

  g_assert_no_error(error);
  q = ar_access_portal_new(f->portal, allow, f, &error);
  g_assert_null(q);
  g_assert_error(error, AR_ACCESS_PORTAL_ERROR, AR_ACCESS_PORTAL_ERROR_NAME_TAKEN);
}

static void
test_revoke_without_store(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArAccessPortal) p = ar_access_portal_new(f->conn, allow, f, &error);

  g_assert_no_error(error);
  g_assert_true(ar_access_portal_revoke(p, &error));
  g_assert_no_error(error);
}

static gpointer
serve(gpointer data)
{
  GMainLoop *loop = data;
  g_main_context_push_thread_default(g_main_loop_get_context(loop));
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(g_main_loop_get_context(loop));
  return NULL;
}

/* As ArWebMedia runs it: the bus served from a thread, the decision on the caller's context. */
static void
test_allow_context(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) bus_ctx = g_main_context_new();
  g_autoptr(GMainLoop) loop = g_main_loop_new(bus_ctx, FALSE);
  ArAccessPortal *p;
  GThread *thread;

  g_main_context_push_thread_default(bus_ctx);
  p = ar_access_portal_new(f->conn, allow, f, &error);
  g_main_context_pop_thread_default(bus_ctx);
  g_assert_no_error(error);
  ar_access_portal_set_allow_context(p, g_main_context_default());
  thread = g_thread_new("bus", serve, loop);
  f->call_active = TRUE;
  g_assert_cmpuint(access_dialog(f, ""), ==, 0);
  g_assert_true(f->allow_thread == g_thread_self());
  ar_access_portal_free(p);
  g_main_loop_quit(loop);
  g_thread_join(thread);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/bridge/access/grant-only-in-call", Fixture, NULL, setup, test_grant_only_in_call,
             teardown);
  g_test_add("/bridge/access/no-callback-denies", Fixture, NULL, setup, test_no_callback_denies,
             teardown);
  g_test_add("/bridge/access/name-taken", Fixture, NULL, setup, test_name_taken, teardown);
  g_test_add("/bridge/access/revoke-without-store", Fixture, NULL, setup, test_revoke_without_store,
             teardown);
  g_test_add("/bridge/access/allow-context", Fixture, NULL, setup, test_allow_context, teardown);
  return g_test_run();
}
