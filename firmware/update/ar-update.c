/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update.c: the RAUC D-Bus client (de.pengutronix.rauc.Installer), the
 * install state machine and the boot health mark (docs/update.md).
 *
 * One install at a time: [download] -> inspect (Info) -> our checks
 * (compatible, version) -> InstallBundle -> Completed. Everything is async on
 * the main loop; RAUC's Progress property becomes update-progress events.
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
#define MARK_RETRY_S 5
#define MARK_MAX_TRIES 12
#define MAX_RAUC_TEXT 1024 /* longest RAUC string we keep (messages, errors) */

typedef enum { PHASE_IDLE, PHASE_DOWNLOAD, PHASE_INSPECT, PHASE_INSTALL } Phase;

static const char *const phase_names[] = {"idle", "downloading", "checking", "installing"};

struct _ArUpdater {
  ArUpdateOptions opt;
  GCancellable *cancel;
  GDBusConnection *conn;
  GDBusProxy *rauc;
  char *connect_error;
  ArUpdateEventFunc event_func;
  gpointer event_data;

  /* the install under way */
  Phase phase;
  gboolean inspect_pending; /* waiting for the D-Bus proxy */
  char *source;
  char *bundle_path;
  gboolean delete_bundle, force;
  ArUpdateDoneFunc done;
  gpointer done_data;
  ArDownload *download;
  int percent;
  char *progress_message;
  char *bundle_compatible, *bundle_version;
  /* the last install's outcome */
  char *last_error;
  char *last_installed;

  /* slot status cache (GetSlotStatus), refreshed after installs and marks */
  JsonNode *slots;
  char *booted_bundle_version;

  /* the update channel followed (ar-channel-poll.c); NULL = none */
  ArChannelPoller *channel;

  /* health */
  guint health_source;
  guint mark_tries;
  gboolean marked_good;
  char *mark_error;
};

static char *
bounded_text(const char *s)
{
  if (!s)
    return NULL;
  char *t = g_utf8_make_valid(s, MIN((gssize)strlen(s), MAX_RAUC_TEXT));
  return t;
}

static void
emit(ArUpdater *u, JsonNode *event)
{
  if (u->event_func)
    u->event_func(event, u->event_data);
}

/* ---- RAUC connection ---- */

/* A string property from the proxy's cache, bounded; NULL if unknown. */
static char *
rauc_string_property(ArUpdater *u, const char *name)
{
  if (!u->rauc)
    return NULL;
  g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(u->rauc, name);
  if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
    return NULL;
  return bounded_text(g_variant_get_string(v, NULL));
}

static gboolean
rauc_present(ArUpdater *u)
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
  if (rauc_present(u)) {
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
  if (rauc_present(u))
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

/* ---- slot status ---- */

static void
add_variant_member(JsonObject *o, const char *name, GVariant *v)
{
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
    g_autofree char *t = bounded_text(g_variant_get_string(v, NULL));
    json_object_set_string_member(o, name, t);
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
    json_object_set_int_member(o, name, (gint64)MIN(g_variant_get_uint64(v), G_MAXINT64));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
    json_object_set_int_member(o, name, g_variant_get_uint32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) {
    json_object_set_int_member(o, name, g_variant_get_int32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
    json_object_set_boolean_member(o, name, g_variant_get_boolean(v));
  }
}

/* Slot status from RAUC (a(sa{sv})): kept as JSON, bounded to 16 slots and the
 * keys both RAUC 1.8 and 1.13 have. */
JsonNode *
ar_update_slots_to_json(GVariant *array, char **booted_version)
{
  static const char *const keys[] = {"class",
                                     "bootname",
                                     "state",
                                     "boot-status",
                                     "bundle.version",
                                     "bundle.compatible",
                                     "installed.timestamp",
                                     "activated.timestamp",
                                     "sha256",
                                     "size",
                                     "device",
                                     "type"};
  JsonArray *out = json_array_new();
  GVariantIter iter;
  const char *name;
  GVariant *dict;
  g_variant_iter_init(&iter, array);
  guint n = 0;
  while (n < 16 && g_variant_iter_next(&iter, "(&s@a{sv})", &name, &dict)) {
    JsonObject *o = json_object_new();
    g_autofree char *nm = bounded_text(name);
    json_object_set_string_member(o, "name", nm);
    for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
      g_autoptr(GVariant) v = g_variant_lookup_value(dict, keys[k], NULL);
      if (!v)
        continue;
      g_autofree char *jname = g_strdelimit(g_strdup(keys[k]), ".-", '_');
      add_variant_member(o, jname, v);
    }
    const char *state = NULL, *version = NULL;
    if (g_variant_lookup(dict, "state", "&s", &state) && g_str_equal(state, "booted") &&
        g_variant_lookup(dict, "bundle.version", "&s", &version) && booted_version) {
      g_free(*booted_version);
      *booted_version = bounded_text(version);
    }
    json_array_add_object_element(out, o);
    g_variant_unref(dict);
    n++;
  }
  JsonNode *node = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(node, out);
  return node;
}

typedef struct {
  ArUpdater *u;
  ArUpdateDoneFunc done;
  gpointer data;
} Refresh;

static void
got_slots(GObject *src, GAsyncResult *res, gpointer data)
{
  Refresh *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_free(r);
    return;
  }
  ArUpdater *u = r->u;
  if (ret && g_variant_is_of_type(ret, G_VARIANT_TYPE("(a(sa{sv}))"))) {
    g_autoptr(GVariant) array = g_variant_get_child_value(ret, 0);
    g_clear_pointer(&u->booted_bundle_version, g_free);
    g_clear_pointer(&u->slots, json_node_unref);
    u->slots = ar_update_slots_to_json(array, &u->booted_bundle_version);
  } else if (error) {
    g_debug("update: GetSlotStatus: %s", error->message);
  }
  if (r->done)
    r->done(error, r->data);
  g_free(r);
}

void
ar_updater_refresh(ArUpdater *u, ArUpdateDoneFunc done, gpointer data)
{
  if (!u->rauc || !rauc_present(u)) {
    if (done)
      done(NULL, data);
    return;
  }
  Refresh *r = g_new0(Refresh, 1);
  r->u = u;
  r->done = done;
  r->data = data;
  g_dbus_proxy_call(u->rauc, "GetSlotStatus", NULL, G_DBUS_CALL_FLAGS_NONE, -1, u->cancel,
                    got_slots, r);
}

/* ---- running version ---- */

/* The version this device runs, and where it came from. */
static char *
running_version(ArUpdater *u, const char **origin)
{
  if (u->booted_bundle_version && *u->booted_bundle_version) {
    *origin = "RAUC slot status";
    return g_strdup(u->booted_bundle_version);
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (u->opt.version_file && g_file_get_contents(u->opt.version_file, &data, &len, NULL) &&
      len <= 4096) {
    g_strstrip(data);
    if (*data) {
      *origin = u->opt.version_file;
      return g_steal_pointer(&data);
    }
  }
  *origin = "anyroomd";
  return g_strdup(u->opt.fallback_version ? u->opt.fallback_version : "0");
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
  json_builder_add_string_value(b, phase_names[u->phase]);
  json_builder_set_member_name(b, "percent");
  json_builder_add_int_value(b, u->percent);
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, u->progress_message ? u->progress_message : "");
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  emit(u, ev);
}

static void
set_progress(ArUpdater *u, int percent, const char *message)
{
  u->percent = CLAMP(percent, 0, 100);
  g_free(u->progress_message);
  u->progress_message = bounded_text(message);
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
    u->last_error = bounded_text(error->message);
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
  emit(u, ev);

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
}

/* RAUC's error text without GDBus's "GDBus.Error:org.gtk.GDBus.UnmappedGError..." prefix. */
static gboolean
rauc_absent_error(const GError *e)
{
  return g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND);
}

static GError *
rauc_error(int code, const char *what, GError *e)
{
  if (rauc_absent_error(e))
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC,
                       "no RAUC service on the bus (is rauc.service installed and running?)");
  if (g_dbus_error_is_remote_error(e))
    g_dbus_error_strip_remote_error(e);
  g_autofree char *msg = bounded_text(e->message);
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
      text = bounded_text(g_variant_get_string(v, NULL));
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
    set_progress(u, 100, "installed");
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
  set_progress(u, percent, message);
}

static void
start_install(ArUpdater *u)
{
  u->phase = PHASE_INSTALL;
  set_progress(u, 0, "starting the install");
  GVariantBuilder args;
  g_variant_builder_init(&args, G_VARIANT_TYPE("a{sv}"));
  g_dbus_proxy_call(u->rauc, "InstallBundle", g_variant_new("(sa{sv})", u->bundle_path, &args),
                    G_DBUS_CALL_FLAGS_NONE, -1, u->cancel, installed_started, u);
}

/* Our own checks, before RAUC writes anything. */
static GError *
check_bundle(ArUpdater *u)
{
  g_autofree char *system_compatible = rauc_string_property(u, "Compatible");
  if (!system_compatible || !*system_compatible)
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC,
                       "RAUC did not say which compatible string this device has");
  if (!g_str_equal(system_compatible, u->bundle_compatible))
    return g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_INCOMPATIBLE,
                       "refused: the bundle is for '%s', this device is '%s'", u->bundle_compatible,
                       system_compatible);
  const char *origin = NULL;
  g_autofree char *running = running_version(u, &origin);
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
  u->bundle_compatible = bounded_text(compatible);
  u->bundle_version = bounded_text(version);
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
    if (!rauc_absent_error(error))
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
  set_progress(u, 0, "checking the bundle's signature, compatible and version");
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
  set_progress(u, percent, msg);
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
  return u->phase != PHASE_IDLE;
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
  if (u->phase != PHASE_IDLE) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BUSY, "an update is already running");
    return FALSE;
  }
  if (!u->rauc && u->connect_error) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_NO_RAUC, "no RAUC service: %s",
                u->connect_error);
    return FALSE;
  }
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
  u->source = g_strdup(source);
  u->force = force_downgrade;
  u->done = done;
  u->done_data = data;
  u->percent = 0;
  g_clear_pointer(&u->bundle_compatible, g_free);
  g_clear_pointer(&u->bundle_version, g_free);
  g_clear_pointer(&u->last_error, g_free);
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
  set_progress(u, 0, "downloading");
  return TRUE;
}

void
ar_updater_forget_waiter(ArUpdater *u, gpointer data)
{
  if (u->done_data == data) {
    u->done = NULL;
    u->done_data = NULL;
  }
}

/* ---- health: mark the booted slot good ---- */

static gboolean mark_good(gpointer data);

static void
marked(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (!ret) {
    g_dbus_error_strip_remote_error(error);
    g_free(u->mark_error);
    u->mark_error = bounded_text(error->message);
    gboolean absent = rauc_absent_error(error);
    /* RAUC not there yet, or busy ("already processing a different method",
     * e.g. an install started in the first seconds): try again. */
    if (u->mark_tries < MARK_MAX_TRIES) {
      g_debug("update: marking good: %s; again in %d s", u->mark_error, MARK_RETRY_S);
      u->health_source = g_timeout_add_seconds(MARK_RETRY_S, mark_good, u);
      return;
    }
    if (absent)
      g_message("update: no RAUC service; the booted slot is not marked good (%s)", u->mark_error);
    else
      g_warning("update: marking the booted slot good failed: %s", u->mark_error);
    return;
  }
  const char *slot = "?", *message = "";
  if (g_variant_is_of_type(ret, G_VARIANT_TYPE("(ss)")))
    g_variant_get(ret, "(&s&s)", &slot, &message);
  u->marked_good = TRUE;
  g_clear_pointer(&u->mark_error, g_free);
  g_message("update: healthy: %s (slot %s)", message, slot);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "update-marked-good");
  json_builder_set_member_name(b, "slot");
  g_autofree char *s = bounded_text(slot);
  json_builder_add_string_value(b, s);
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  emit(u, ev);
  ar_updater_refresh(u, NULL, NULL);
}

static gboolean
mark_good(gpointer data)
{
  ArUpdater *u = data;
  u->health_source = 0;
  u->mark_tries++;
  if (!u->rauc) {
    if (u->conn || !u->connect_error) {
      if (u->mark_tries < MARK_MAX_TRIES)
        u->health_source = g_timeout_add_seconds(MARK_RETRY_S, mark_good, u);
    } else {
      g_message("update: no RAUC service (%s); the booted slot is not marked good",
                u->connect_error);
    }
    return G_SOURCE_REMOVE;
  }
  g_dbus_proxy_call(u->rauc, "Mark", g_variant_new("(ss)", "good", "booted"),
                    G_DBUS_CALL_FLAGS_NONE, -1, u->cancel, marked, u);
  return G_SOURCE_REMOVE;
}

void
ar_updater_start_health_check(ArUpdater *u)
{
  if (!u->opt.enabled || !u->opt.mark_good || u->marked_good || u->health_source || u->mark_tries)
    return;
  g_debug("update: healthy so far; marking the booted slot good in %u s", u->opt.health_settle_s);
  u->health_source = u->opt.health_settle_s
                         ? g_timeout_add_seconds(u->opt.health_settle_s, mark_good, u)
                         : g_idle_add(mark_good, u);
}

/* ---- status ---- */

JsonNode *
ar_updater_status(ArUpdater *u)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "enabled");
  json_builder_add_boolean_value(b, u->opt.enabled);
  json_builder_set_member_name(b, "rauc");
  json_builder_add_boolean_value(b, rauc_present(u));
  const char *origin = NULL;
  g_autofree char *running = running_version(u, &origin);
  json_builder_set_member_name(b, "running_version");
  json_builder_add_string_value(b, running);
  json_builder_set_member_name(b, "running_version_from");
  json_builder_add_string_value(b, origin);
  const char *props[][2] = {{"Compatible", "compatible"},
                            {"BootSlot", "booted_slot"},
                            {"Operation", "rauc_operation"},
                            {"LastError", "rauc_last_error"}};
  for (gsize i = 0; i < G_N_ELEMENTS(props); i++) {
    g_autofree char *v = rauc_present(u) ? rauc_string_property(u, props[i][0]) : NULL;
    json_builder_set_member_name(b, props[i][1]);
    if (v) {
      json_builder_add_string_value(b, v);
    } else {
      json_builder_add_null_value(b);
    }
  }
  json_builder_set_member_name(b, "marked_good");
  json_builder_add_boolean_value(b, u->marked_good);
  json_builder_set_member_name(b, "mark_error");
  if (u->mark_error)
    json_builder_add_string_value(b, u->mark_error);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "phase");
  json_builder_add_string_value(b, phase_names[u->phase]);
  if (u->phase != PHASE_IDLE) {
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, u->source);
    json_builder_set_member_name(b, "percent");
    json_builder_add_int_value(b, u->percent);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, u->progress_message ? u->progress_message : "");
  }
  json_builder_set_member_name(b, "last_error");
  if (u->last_error)
    json_builder_add_string_value(b, u->last_error);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "last_installed_version");
  if (u->last_installed)
    json_builder_add_string_value(b, u->last_installed);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "slots");
  if (u->slots)
    json_builder_add_value(b, json_node_copy(u->slots));
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "channel");
  if (u->channel)
    json_builder_add_value(b, ar_channel_poller_status(u->channel));
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- the update channel ---- */

static void
channel_query(gpointer data, char **compatible, char **running)
{
  ArUpdater *u = data;
  const char *origin = NULL;
  *running = running_version(u, &origin);
  *compatible = rauc_present(u) ? rauc_string_property(u, "Compatible") : NULL;
  if ((!*compatible || !**compatible) && u->opt.compatible) {
    g_free(*compatible);
    *compatible = g_strdup(u->opt.compatible);
  }
}

static void
channel_changed(gpointer data)
{
  ArUpdater *u = data;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "update-channel");
  json_builder_set_member_name(b, "channel");
  json_builder_add_value(b, ar_channel_poller_status(u->channel));
  json_builder_end_object(b);
  g_autoptr(JsonNode) event = json_builder_get_root(b);
  emit(u, event);
}

static void
channel_start(ArUpdater *u)
{
  if (!u->opt.channel_url || !*u->opt.channel_url)
    return;
  /* Tests only: seconds instead of poll-minutes (docs/fleet.md, "Following a channel"). */
  guint interval = u->opt.channel_interval_s;
  const char *test_s = g_getenv("ANYROOM_TEST_CHANNEL_POLL_SECONDS");
  guint64 v;
  if (test_s && g_ascii_string_to_unsigned(test_s, 10, 1, 86400, &v, NULL)) {
    g_warning("update: channel: polling every %u s (ANYROOM_TEST_CHANNEL_POLL_SECONDS, tests "
              "only)",
              (guint)v);
    interval = (guint)v;
  }
  ArChannelPollOptions o = {
      .url = u->opt.channel_url,
      .channel = u->opt.channel && *u->opt.channel ? u->opt.channel : "stable",
      .ca_file = u->opt.channel_ca && *u->opt.channel_ca ? u->opt.channel_ca : NULL,
      .keyring_file = u->opt.keyring ? u->opt.keyring : "/etc/rauc/keyring.pem",
      .state_dir = u->opt.state_dir,
      .machine_id_file = g_getenv("ANYROOM_TEST_MACHINE_ID_FILE"),
      .interval_s = interval,
  };
  g_autoptr(GError) error = NULL;
  u->channel = ar_channel_poller_new(&o, channel_query, channel_changed, u, &error);
  if (!u->channel)
    g_warning("update: channel: not followed: %s", error->message);
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
  if (!u->opt.max_bundle_size)
    u->opt.max_bundle_size = (guint64)2048 * 1024 * 1024;
  u->cancel = g_cancellable_new();
  if (!u->opt.enabled)
    return u;
  channel_start(u);
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
