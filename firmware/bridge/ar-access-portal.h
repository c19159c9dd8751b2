/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The room's xdg-desktop-portal Access backend (org.freedesktop.impl.portal.Access).
 *
 * xdg-desktop-portal's Camera portal asks the Access backend (AccessDialog) whenever the
 * permission store has no answer ("devices" table, id "camera") and stores the answer for an
 * unset entry; OpenPipeWireRemote then needs a stored "yes". So this backend grants only while
 * its callback says a web call is active, and ar_access_portal_revoke() deletes the stored grant
 * at leave: the next request asks again, and outside a call the answer is no. */

#define AR_ACCESS_PORTAL_BUS_NAME "org.freedesktop.impl.portal.desktop.anyroom"
#define AR_ACCESS_PORTAL_PATH "/org/freedesktop/portal/desktop"

#define AR_ACCESS_PORTAL_ERROR (ar_access_portal_error_quark())
GQuark ar_access_portal_error_quark(void);

typedef enum {
  AR_ACCESS_PORTAL_ERROR_NAME_TAKEN, /* another process owns the backend's bus name */
  AR_ACCESS_PORTAL_ERROR_FAILED,
} ArAccessPortalError;

/* Called for every access request (on the allow context, see below): TRUE grants. @app_id is "" for
 * an unsandboxed browser; @icon is the portal's hint of what is asked ("camera-web-symbolic"). */
typedef gboolean (*ArAccessAllowFunc)(const char *app_id, const char *icon, gpointer user_data);

typedef struct _ArAccessPortal ArAccessPortal;

/* Exports the backend on @connection (a session bus) and takes AR_ACCESS_PORTAL_BUS_NAME
 * (fails if someone else has it). The stored camera grant is revoked first. */
G_GNUC_WARN_UNUSED_RESULT ArAccessPortal *ar_access_portal_new(GDBusConnection *connection,
                                                               ArAccessAllowFunc allow,
                                                               gpointer user_data, GError **error);

/* Runs the callback on @context (e.g. the daemon's main context) instead of the context the
 * backend was created in (ArWebMedia serves the bus from a thread of its own). */
void ar_access_portal_set_allow_context(ArAccessPortal *self, GMainContext *context);

/* Deletes the permission store's camera grant for unsandboxed apps (a missing entry or a
 * missing store is not an error). Call at leave. */
gboolean ar_access_portal_revoke(ArAccessPortal *self, GError **error);

/* Requests answered so far, and how many of them were granted. */
guint ar_access_portal_get_requests(ArAccessPortal *self);
guint ar_access_portal_get_granted(ArAccessPortal *self);

void ar_access_portal_free(ArAccessPortal *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArAccessPortal, ar_access_portal_free)

G_END_DECLS
