/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update.c: the RAUC D-Bus client (de.pengutronix.rauc.Installer), the
 * install state machine and the boot health mark (docs/update.md).
 *
 * One install at a time: [download] -> inspect (Info) -> our checks
 * (compatible, version) -> InstallBundle -> Completed. Everything is async on
 * the main loop; RAUC's Progress property becomes update-progress events.
 * The status, slot cache, health mark and channel glue: ar-update-state.c.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ar-update-priv.h"

#define RAUC_NAME "de.pengutronix.rauc"
#define RAUC_PATH "/"
#define RAUC_IFACE "de.pengutronix.rauc.Installer"
/* RAUC answers Info/Mark/GetSlotStatus quickly; an install may take long,
 * but InstallBundle itself only starts it (the end is the Completed signal). */
#define CALL_TIMEOUT_MS (60 * 1000)
#define MAX_RAUC_TEXT 1024 /* longest RAUC string we keep (messages, errors) */

const char *const ar_update_phase_names[] = {"idle", "downloading", "checking", "installing"};

char *
ar_update_bounded_text(const char *s)
{
  if (!s)
    return NULL;
  char *t = g_utf8_make_valid(s, MIN((gssize)strlen(s), MAX_RAUC_TEXT));
  return t;
}

void
ar_update_emit(ArUpdater *u, JsonNode *event)
{
  if (u->event_func)
    u->event_func(event, u->event_data);
}

void
ar_update_emit_member(ArUpdater *u, const char *event, const char *member, JsonNode *value)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, event);
  json_builder_set_member_name(b, member);
  json_builder_add_value(b, value);
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_update_emit(u, ev);
}

/* ---- RAUC connection ---- */

/* A string property from the proxy's cache, bounded; NULL if unknown. */
char *
ar_update_rauc_string(ArUpdater *u, const char *name)
{
  if (!u->rauc)
    return NULL;
  g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(u->rauc, name);
  if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
    return NULL;
  return ar_update_bounded_text(g_variant_get_string(v, NULL));
}

gboolean
ar_update_rauc_present(ArUpdater *u)
{
  if (!u->rauc)
    return FALSE;
  g_autofree char *owner = g_dbus_proxy_get_name_owner(u->rauc);
  return owner != NULL;
}

static void install_finish(ArUpdater *u, GError *error);
static void on_rauc_signal(GDBusProxy *proxy, const char *sender, const char *signal,
                           GVariant *params, gpointer data);
static void on_rauc_properties(GDBusProxy *proxy, GVariant *changed, GStrv invalidated,
                               gpointer data);

static void
on_rauc_owner(GObject *obj, GParamSpec *pspec, gpointer data)
{
  ArUpdater *u = data;
  if (ar_update_rauc_present(u)) {
    g_debug("update: RAUC is on the bus");
    ar_updater_refresh(u, NULL, NULL);
    return;
  }
  g_debug("update: RAUC left the bus");
  if (u->phase == PHASE_INSTALL || u->phase == PHASE_INSPECT)
    install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_FAILED,
                                  "the RAUC service went away during the install"));
}

static void start_inspect(ArUpdater *u);

/* An install that waited for the connection ends here. */
static void
connect_failed(ArUpdater *u)
{
  if (!u->inspect_pending)
    return;
  u->inspect_pending = FALSE;
  install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC, "no RAUC service: %s",
                                u->connect_error));
}

static void
proxy_ready(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  GDBusProxy *proxy = g_dbus_proxy_new_finish(res, &error);
  if (!proxy) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    ArUpdater *u = data;
    u->connect_error = g_strdup(error->message);
    g_message("update: no RAUC D-Bus proxy: %s", error->message);
    connect_failed(u);
    return;
  }
  ArUpdater *u = data;
  u->rauc = proxy;
  g_dbus_proxy_set_default_timeout(proxy, CALL_TIMEOUT_MS);
  g_signal_connect(proxy, "g-signal", G_CALLBACK(on_rauc_signal), u);
  g_signal_connect(proxy, "g-properties-changed", G_CALLBACK(on_rauc_properties), u);
  g_signal_connect(proxy, "notify::g-name-owner", G_CALLBACK(on_rauc_owner), u);
  if (ar_update_rauc_present(u))
    ar_updater_refresh(u, NULL, NULL);
  else
    g_debug("update: RAUC is not on the bus (yet)");
  if (u->inspect_pending)
    start_inspect(u);
}

static void
make_proxy(ArUpdater *u)
{
  /* Do not start RAUC just to read its properties; method calls do start it
   * (D-Bus activation on the device). */
  g_dbus_proxy_new(u->conn, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION, NULL, RAUC_NAME,
                   RAUC_PATH, RAUC_IFACE, u->cancel, proxy_ready, u);
}

static void
bus_ready(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn = g_str_equal(((ArUpdater *)data)->opt.bus, "system")
                              ? g_bus_get_finish(res, &error)
                              : g_dbus_connection_new_for_address_finish(res, &error);
  if (!conn) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    ArUpdater *u = data;
    u->connect_error = g_strdup(error->message);
    g_message("update: no D-Bus for RAUC: %s", error->message);
    connect_failed(u);
    return;
  }
  ArUpdater *u = data;
  u->conn = conn;
  make_proxy(u);
}

/* ---- install ---- */

static void
progress_event(ArUpdater *u)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "update-progress");
  json_builder_set_member_name(b, "phase");
  json_builder_add_string_value(b, ar_update_phase_names[u->phase]);
  json_builder_set_member_name(b, "percent");
  json_builder_add_int_value(b, u->percent);
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, u->progress_message ? u->progress_message : "");
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_update_emit(u, ev);
}

void
ar_update_set_progress(ArUpdater *u, int percent, const char *message)
{
  u->percent = CLAMP(percent, 0, 100);
  g_free(u->progress_message);
  u->progress_message = ar_update_bounded_text(message);
  progress_event(u);
}

static void
install_finish(ArUpdater *u, GError *error)
{
  g_clear_pointer(&u->download, ar_download_free);
  if (u->delete_bundle && u->bundle_path)
    g_unlink(u->bundle_path);
  g_clear_pointer(&u->last_error, g_free);
  if (error) {
    u->last_error = ar_update_bounded_text(error->message);
    g_message("update: %s: %s", u->source, error->message);
  } else {
    g_clear_pointer(&u->last_installed, g_free);
    u->last_installed = g_strdup(u->bundle_version);
    g_message("update: installed %s (version %s); reboot to run it", u->source, u->bundle_version);
  }
  u->phase = PHASE_IDLE;
  u->inspect_pending = FALSE;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "update-finished");
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, error == NULL);
  if (error) {
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, u->last_error);
  } else {
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, u->bundle_version ? u->bundle_version : "");
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_update_emit(u, ev);

  ArUpdateDoneFunc done = u->done;
  gpointer data = u->done_data;
  u->done = NULL;
  u->done_data = NULL;
  g_clear_pointer(&u->source, g_free);
  g_clear_pointer(&u->bundle_path, g_free);
  if (done)
    done(error, data);
  if (error)
    g_error_free(error);
  ar_updater_refresh(u, NULL, NULL);
  ar_updater_auto_kick(u);
}

/* RAUC's error text without GDBus's "GDBus.Error:org.gtk.GDBus.UnmappedGError..." prefix. */
gboolean
ar_update_rauc_absent_error(const GError *e)
{
  return g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND);
}

static GError *
rauc_error(int code, const char *what, GError *e)
{
  if (ar_update_rauc_absent_error(e))
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC,
                       "no RAUC service on the bus (is rauc.service installed and running?)");
  if (g_dbus_error_is_remote_error(e))
    g_dbus_error_strip_remote_error(e);
  g_autofree char *msg = ar_update_bounded_text(e->message);
  return g_error_new(AR_UPDATE_ERROR, code, "%s: %s", what, msg);
}

static void
installed_started(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (!ret && u->phase == PHASE_INSTALL)
    install_finish(u, rauc_error(AR_UPDATE_ERROR_FAILED, "RAUC did not start the install", error));
  /* Else: the end comes with the Completed signal. */
}

static void
got_last_error(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (u->phase != PHASE_INSTALL)
    return;
  g_autofree char *text = NULL;
  if (ret) {
    g_autoptr(GVariant) v = NULL;
    g_variant_get(ret, "(v)", &v);
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
      text = ar_update_bounded_text(g_variant_get_string(v, NULL));
  }
  install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_FAILED, "RAUC: %s",
                                text && *text ? text : "the install failed (no reason given)"));
}

static void
on_rauc_signal(GDBusProxy *proxy, const char *sender, const char *signal, GVariant *params,
               gpointer data)
{
  ArUpdater *u = data;
  if (!g_str_equal(signal, "Completed") || u->phase != PHASE_INSTALL ||
      !g_variant_is_of_type(params, G_VARIANT_TYPE("(i)")))
    return;
  gint32 result = 0;
  g_variant_get(params, "(i)", &result);
  if (result == 0) {
    ar_update_set_progress(u, 100, "installed");
    install_finish(u, NULL);
    return;
  }
  /* RAUC sets LastError before Completed, but its property change may reach
   * us after the signal: ask for it. */
  g_dbus_connection_call(u->conn, RAUC_NAME, RAUC_PATH, "org.freedesktop.DBus.Properties", "Get",
                         g_variant_new("(ss)", RAUC_IFACE, "LastError"), G_VARIANT_TYPE("(v)"),
                         G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, u->cancel, got_last_error, u);
}

static void
on_rauc_properties(GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer data)
{
  ArUpdater *u = data;
  if (u->phase != PHASE_INSTALL)
    return;
  g_autoptr(GVariant) p = g_variant_lookup_value(changed, "Progress", G_VARIANT_TYPE("(isi)"));
  if (!p)
    return;
  gint32 percent = 0, depth = 0;
  const char *message = NULL;
  g_variant_get(p, "(i&si)", &percent, &message, &depth);
  ar_update_set_progress(u, percent, message);
}

static void
start_install(ArUpdater *u)
{
  u->phase = PHASE_INSTALL;
  ar_update_set_progress(u, 0, "starting the install");
  GVariantBuilder args;
  g_variant_builder_init(&args, G_VARIANT_TYPE("a{sv}"));
  g_dbus_proxy_call(u->rauc, "InstallBundle", g_variant_new("(sa{sv})", u->bundle_path, &args),
                    G_DBUS_CALL_FLAGS_NONE, -1, u->cancel, installed_started, u);
}

/* Our own checks, before RAUC writes anything. */
static GError *
check_bundle(ArUpdater *u)
{
  g_autofree char *system_compatible = ar_update_rauc_string(u, "Compatible");
  if (!system_compatible || !*system_compatible)
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC,
                       "RAUC did not say which compatible string this device has");
  if (!g_str_equal(system_compatible, u->bundle_compatible))
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_INCOMPATIBLE,
                       "refused: the bundle is for '%s', this device is '%s'", u->bundle_compatible,
                       system_compatible);
  const char *origin = NULL;
  g_autofree char *running = ar_update_running_version(u, &origin);
  ArVersion bv, rv;
  g_autoptr(GError) e = NULL;
  if (!ar_version_parse(u->bundle_version, strlen(u->bundle_version), &bv, &e)) {
    if (u->force) {
      g_message("update: bundle version '%s' does not parse; installing as forced",
                u->bundle_version);
      return NULL;
    }
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_BAD_VERSION,
                       "refused: the bundle's version: %s (--force-downgrade to install it "
                       "anyway)",
                       e->message);
  }
  if (!ar_version_parse(running, strlen(running), &rv, NULL)) {
    g_message("update: running version '%s' (%s) does not parse; not comparing", running, origin);
    return NULL;
  }
  if (ar_version_compare(&bv, &rv) < 0) {
    if (u->force) {
      g_message("update: downgrade from %s to %s forced by the admin", running, u->bundle_version);
      return NULL;
    }
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNGRADE,
                       "refused: bundle version %s is older than the running %s "
                       "(--force-downgrade to install it anyway)",
                       u->bundle_version, running);
  }
  return NULL;
}

static void
inspected(ArUpdater *u, const char *compatible, const char *version)
{
  u->bundle_compatible = ar_update_bounded_text(compatible);
  u->bundle_version = ar_update_bounded_text(version);
  g_debug("update: bundle compatible '%s' version '%s'", u->bundle_compatible, u->bundle_version);
  GError *e = check_bundle(u);
  if (e) {
    install_finish(u, e);
    return;
  }
  start_install(u);
}

static void got_info(GObject *src, GAsyncResult *res, gpointer data);

/* The a{sv} under @key of a vardict. RAUC 1.13 wraps it once more in a
 * variant ("update": <<{...}>>); unwrap a few levels, no more. */
static GVariant *
lookup_vardict(GVariant *dict, const char *key)
{
  GVariant *v = g_variant_lookup_value(dict, key, NULL);
  for (int i = 0; v && i < 4 && g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT); i++) {
    GVariant *inner = g_variant_get_variant(v);
    g_variant_unref(v);
    v = inner;
  }
  if (v && !g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT))
    g_clear_pointer(&v, g_variant_unref);
  return v;
}

/* InspectBundle (RAUC 1.10+) answers (a{sv}) with "update": {"compatible",
 * "version", ...}; an older RAUC does not know it, and gets Info. */
static void
got_inspect(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (u->phase != PHASE_INSPECT)
    return;
  if (!ret && g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)) {
    g_debug("update: no InspectBundle in this RAUC; using Info");
    g_dbus_proxy_call(u->rauc, "Info", g_variant_new("(s)", u->bundle_path), G_DBUS_CALL_FLAGS_NONE,
                      -1, u->cancel, got_info, u);
    return;
  }
  if (!ret) {
    install_finish(u, rauc_error(AR_UPDATE_ERROR_REFUSED, "refused by RAUC", error));
    return;
  }
  if (!g_variant_is_of_type(ret, G_VARIANT_TYPE("(a{sv})"))) {
    install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_REFUSED,
                                  "RAUC's InspectBundle answer has the wrong type %s",
                                  g_variant_get_type_string(ret)));
    return;
  }
  g_autoptr(GVariant) info = g_variant_get_child_value(ret, 0);
  g_autoptr(GVariant) update = lookup_vardict(info, "update");
  const char *compatible = NULL, *version = NULL;
  if (!update || !g_variant_lookup(update, "compatible", "&s", &compatible)) {
    install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_REFUSED,
                                  "RAUC's InspectBundle answer has no compatible string"));
    return;
  }
  /* A manifest without a version: "" (as Info answers), refused by the version check. */
  if (!g_variant_lookup(update, "version", "&s", &version))
    version = "";
  inspected(u, compatible, version);
}

static void
got_info(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (u->phase != PHASE_INSPECT)
    return;
  if (!ret) {
    if (!ar_update_rauc_absent_error(error))
      g_dbus_error_strip_remote_error(error);
    if (g_str_equal(error->message, "rauc info error")) {
      /* RAUC before 1.10 keeps the reason in its log. */
      install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_REFUSED,
                                    "refused by RAUC: the bundle failed its checks (signature, "
                                    "certificate or format; this RAUC gives the reason only in "
                                    "its log)"));
      return;
    }
    install_finish(u, rauc_error(AR_UPDATE_ERROR_REFUSED, "refused by RAUC", error));
    return;
  }
  if (!g_variant_is_of_type(ret, G_VARIANT_TYPE("(ss)"))) {
    install_finish(u, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_REFUSED,
                                  "RAUC's Info answer has the wrong type %s",
                                  g_variant_get_type_string(ret)));
    return;
  }
  const char *compatible = NULL, *version = NULL;
  g_variant_get(ret, "(&s&s)", &compatible, &version);
  inspected(u, compatible, version);
}

static void
start_inspect(ArUpdater *u)
{
  u->phase = PHASE_INSPECT;
  ar_update_set_progress(u, 0, "checking the bundle's signature, compatible and version");
  if (!u->rauc) {
    /* The D-Bus connection is still being made: proxy_ready() goes on. */
    u->inspect_pending = TRUE;
    return;
  }
  u->inspect_pending = FALSE;
  GVariantBuilder args;
  g_variant_builder_init(&args, G_VARIANT_TYPE("a{sv}"));
  g_dbus_proxy_call(u->rauc, "InspectBundle", g_variant_new("(sa{sv})", u->bundle_path, &args),
                    G_DBUS_CALL_FLAGS_NONE, -1, u->cancel, got_inspect, u);
}

static void
download_progress(guint64 got, guint64 total, gpointer data)
{
  ArUpdater *u = data;
  int percent = total ? (int)(got * 100 / total) : 0;
  /* One event per percent (or per 8 MiB without a length), not per chunk. */
  if (total ? percent == u->percent : (got / (8 << 20)) == ((got - 1) / (8 << 20)))
    return;
  g_autofree char *msg = g_strdup_printf("downloaded %" G_GUINT64_FORMAT " MiB", got >> 20);
  ar_update_set_progress(u, percent, msg);
}

static void
download_done(const GError *error, gpointer data)
{
  ArUpdater *u = data;
  if (error) {
    install_finish(u, g_error_copy(error));
    return;
  }
  g_clear_pointer(&u->download, ar_download_free);
  start_inspect(u);
}

char *
ar_updater_upload_dir(ArUpdater *u, GError **error)
{
  g_autofree char *dir = g_build_filename(u->opt.state_dir, "update", NULL);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    int err = errno;
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD, "cannot create %s: %s", dir,
                g_strerror(err));
    return NULL;
  }
  return g_steal_pointer(&dir);
}

guint64
ar_updater_max_bundle_size(ArUpdater *u)
{
  return u->opt.max_bundle_size;
}

gboolean
ar_updater_is_busy(ArUpdater *u)
{
  /* The channel's download in the background gives way to a manual install. */
  return u->phase != PHASE_IDLE && !u->chan_dl;
}

/* Nothing else installs and RAUC is (or may soon be) there. */
static gboolean
may_install(ArUpdater *u, GError **error)
{
  if (ar_updater_is_busy(u)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BUSY, "an update is already running");
    return FALSE;
  }
  if (!u->rauc && u->connect_error) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC, "no RAUC service: %s",
                u->connect_error);
    return FALSE;
  }
  return TRUE;
}

/* An install of @source begins: who waits for it, nothing of the last one. */
static void
begin_install(ArUpdater *u, const char *source, gboolean force, ArUpdateDoneFunc done,
              gpointer data)
{
  u->source = g_strdup(source);
  u->force = force;
  u->done = done;
  u->done_data = data;
  u->percent = 0;
  g_clear_pointer(&u->bundle_compatible, g_free);
  g_clear_pointer(&u->bundle_version, g_free);
  g_clear_pointer(&u->last_error, g_free);
}

gboolean
ar_updater_install_file(ArUpdater *u, const char *path, const char *label, ArUpdateDoneFunc done,
                        gpointer data, GError **error)
{
  if (u->phase != PHASE_IDLE || !may_install(u, error)) {
    if (error && !*error)
      g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BUSY, "an update is already running");
    return FALSE;
  }
  begin_install(u, label, FALSE, done, data);
  u->bundle_path = g_strdup(path);
  u->delete_bundle = TRUE;
  start_inspect(u);
  return TRUE;
}

gboolean
ar_updater_install(ArUpdater *u, const char *source, gboolean force_downgrade,
                   gboolean delete_after, ArUpdateDoneFunc done, gpointer data, GError **error)
{
  if (!u->opt.enabled) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DISABLED,
                "updates are turned off ([update] enabled=false)");
    return FALSE;
  }
  if (g_str_equal(source, "channel"))
    return ar_updater_auto_install_now(u, done, data, error);
  if (!may_install(u, error))
    return FALSE;
  /* A manual install goes first: the channel's download waits (its partial file kept). */
  ar_updater_auto_pause(u);
  /* Still connecting (the first moments after start): the inspect step waits for it. */
  gboolean url = g_str_has_prefix(source, "https://") || strstr(source, "://") != NULL;
  if (url) {
    if (!ar_update_check_url(source, error))
      return FALSE;
  } else if (!g_path_is_absolute(source) || strlen(source) > 4096) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "give an absolute path of a bundle file, or an https:// URL");
    return FALSE;
  } else if (!g_file_test(source, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID, "%s: no such bundle file", source);
    return FALSE;
  }
  begin_install(u, source, force_downgrade, done, data);
  if (!url) {
    u->bundle_path = g_strdup(source);
    u->delete_bundle = delete_after;
    start_inspect(u);
    return TRUE;
  }
  g_autofree char *dir = ar_updater_upload_dir(u, error);
  if (!dir) {
    g_clear_pointer(&u->source, g_free);
    return FALSE;
  }
  u->bundle_path = g_build_filename(dir, "download.raucb", NULL);
  g_unlink(u->bundle_path); /* a leftover of a crash */
  u->delete_bundle = TRUE;
  u->phase = PHASE_DOWNLOAD;
  u->download = ar_download_start(source, u->bundle_path, u->opt.max_bundle_size,
                                  u->opt.download_ca, download_progress, download_done, u, error);
  if (!u->download) {
    u->phase = PHASE_IDLE;
    u->done = NULL;
    g_clear_pointer(&u->source, g_free);
    g_clear_pointer(&u->bundle_path, g_free);
    return FALSE;
  }
  ar_update_set_progress(u, 0, "downloading");
  return TRUE;
}

void
ar_updater_forget_waiter(ArUpdater *u, gpointer data)
{
  if (u->done_data == data) {
    u->done = NULL;
    u->done_data = NULL;
  }
  if (u->chan_done_data == data) {
    u->chan_done = NULL;
    u->chan_done_data = NULL;
  }
}

/* ---- life ---- */

void
ar_updater_set_event_func(ArUpdater *u, ArUpdateEventFunc func, gpointer data)
{
  u->event_func = func;
  u->event_data = data;
}

ArUpdater *
ar_updater_new(const ArUpdateOptions *opt)
{
  ArUpdater *u = g_new0(ArUpdater, 1);
  u->opt = *opt;
  u->opt.bus = g_strdup(opt->bus && *opt->bus ? opt->bus : "system");
  u->opt.version_file = g_strdup(opt->version_file);
  u->opt.fallback_version = g_strdup(opt->fallback_version);
  u->opt.download_ca = g_strdup(opt->download_ca);
  u->opt.state_dir = g_strdup(opt->state_dir ? opt->state_dir : g_get_tmp_dir());
  u->opt.channel_url = g_strdup(opt->channel_url);
  u->opt.channel = g_strdup(opt->channel);
  u->opt.channel_ca = g_strdup(opt->channel_ca);
  u->opt.keyring = g_strdup(opt->keyring);
  u->opt.compatible = g_strdup(opt->compatible);
  u->opt.window = g_strdup(opt->window);
  u->opt.reboot_command = g_strdup(opt->reboot_command);
  if (!u->opt.max_bundle_size)
    u->opt.max_bundle_size = (guint64)2048 * 1024 * 1024;
  u->cancel = g_cancellable_new();
  if (!u->opt.enabled)
    return u;
  ar_updater_channel_start(u);
  ar_updater_auto_init(u);
  if (g_str_equal(u->opt.bus, "system"))
    g_bus_get(G_BUS_TYPE_SYSTEM, u->cancel, bus_ready, u);
  else
    g_dbus_connection_new_for_address(u->opt.bus,
                                      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                      NULL, u->cancel, bus_ready, u);
  return u;
}

void
ar_updater_free(ArUpdater *u)
{
  if (!u)
    return;
  g_cancellable_cancel(u->cancel);
  ar_updater_auto_free(u);
  g_clear_pointer(&u->channel, ar_channel_poller_free);
  if (u->health_source)
    g_source_remove(u->health_source);
  g_clear_pointer(&u->download, ar_download_free);
  if (u->delete_bundle && u->bundle_path && u->phase == PHASE_DOWNLOAD)
    g_unlink(u->bundle_path);
  if (u->rauc)
    g_signal_handlers_disconnect_by_data(u->rauc, u);
  g_clear_object(&u->rauc);
  g_clear_object(&u->conn);
  g_clear_object(&u->cancel);
  g_free(u->opt.bus);
  g_free(u->opt.version_file);
  g_free(u->opt.fallback_version);
  g_free(u->opt.download_ca);
  g_free(u->opt.state_dir);
  g_free(u->opt.channel_url);
  g_free(u->opt.channel);
  g_free(u->opt.channel_ca);
  g_free(u->opt.keyring);
  g_free(u->opt.compatible);
  g_free(u->opt.window);
  g_free(u->opt.reboot_command);
  g_free(u->connect_error);
  g_free(u->source);
  g_free(u->bundle_path);
  g_free(u->progress_message);
  g_free(u->bundle_compatible);
  g_free(u->bundle_version);
  g_free(u->last_error);
  g_free(u->last_installed);
  if (u->slots)
    json_node_unref(u->slots);
  g_free(u->booted_bundle_version);
  g_free(u->mark_error);
  g_free(u);
}
