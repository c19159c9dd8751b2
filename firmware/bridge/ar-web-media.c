/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-call media environment of a web call (see ar-web-media.h). */
#include "ar-web-media.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

G_DEFINE_QUARK(ar - web - media - error - quark, ar_web_media_error)

#define DEFAULT_START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 2000

typedef struct {
  char *name;
  GSubprocess *process;
} Child;

struct _ArWebMedia {
  char *dir;
  char *bus_address;
  char *pipewire_socket;
  char *pulse_server;
  GPtrArray *children; /* Child*, in start order */
  GDBusConnection *bus;
  ArAccessPortal *portal;
  /* The backend is served from a thread of its own: xdg-desktop-portal queries it while it
   * starts (we wait for that without running the caller's main context), and the decisions go
   * back to the caller's context. */
  GMainContext *bus_context;
  GMainLoop *bus_loop;
  GThread *bus_thread;
  GStrv browser_environ;
  GStrv child_environ;
  gboolean keep_logs;
  guint start_timeout_ms;
  /* The start, polled on the caller's main context (no part of it blocks that context for long). */
  ArWebMediaOptions options;
  GMainContext *caller_context;
  GSource *poll;
  int stage;
  GSubprocess *waiting_for; /* the process of the stage, or NULL */
  gint64 stage_deadline_us;
  ArWebMediaReadyFunc ready;
  gpointer ready_data;
};

static void
child_free(Child *c)
{
  g_free(c->name);
  g_clear_object(&c->process);
  g_free(c);
}

/* The private files: the bus, the portal's backend choice, wireplumber without device monitors,
 * the PulseAudio script. */
static const char bus_conf[] =
    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
    "<busconfig>\n"
    "  <type>session</type>\n"
    "  <listen>unix:path=%s/bus</listen>\n"
    "  <auth>EXTERNAL</auth>\n"
    "  <policy context=\"default\">\n"
    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
    "    <allow eavesdrop=\"true\"/>\n"
    "    <allow own=\"*\"/>\n"
    "  </policy>\n"
    "</busconfig>\n";

/* xdg-desktop-portal up to 1.16 (Debian 12) picks backends by UseIn= and XDG_CURRENT_DESKTOP;
 * 1.18 and later (Debian 13: 1.20) by <desktop>-portals.conf, read from XDG_DESKTOP_PORTAL_DIR
 * alone when that is set (as here). Only the Access interface is ours; no other backend. */
static const char portal_file[] = "[portal]\n"
                                  "DBusName=" AR_ACCESS_PORTAL_BUS_NAME "\n"
                                  "Interfaces=org.freedesktop.impl.portal.Access;\n"
                                  "UseIn=anyroom\n";
static const char portals_conf[] = "[preferred]\n"
                                   "default=none\n"
                                   "org.freedesktop.impl.portal.Access=anyroom\n";

/* WirePlumber 0.4 (Debian 12): Lua fragments, same-named files override the system's. */
static const char wp04_main[] = "-- Anyroom: no device monitors; the only camera is the bridge's.\n"
                                "load_module(\"metadata\")\n"
                                "default_access.enable()\n";
static const char wp04_empty[] = "-- Anyroom: no Bluetooth.\n";
/* WirePlumber 0.5 (Debian 13): profile features. */
static const char wp05_conf[] = "wireplumber.profiles = {\n"
                                "  main = {\n"
                                "    monitor.alsa = disabled\n"
                                "    monitor.alsa-midi = disabled\n"
                                "    monitor.v4l2 = disabled\n"
                                "    monitor.libcamera = disabled\n"
                                "    monitor.bluez = disabled\n"
                                "    monitor.bluez-midi = disabled\n"
                                "  }\n"
                                "}\n";

static const char pulse_script[] =
    "load-module module-native-protocol-unix socket=%s/pulse/native auth-anonymous=1\n"
    "load-module module-null-sink sink_name=" AR_WEB_MEDIA_SPEAKER_SINK
    " rate=48000 channels=2 sink_properties=device.description=Anyroom-speaker\n"
    "load-module module-null-sink sink_name=" AR_WEB_MEDIA_MIC_FEED_SINK
    " rate=48000 channels=1 sink_properties=device.description=Anyroom-microphone-feed\n"
    "load-module module-remap-source source_name=" AR_WEB_MEDIA_MIC_SOURCE
    " master=" AR_WEB_MEDIA_MIC_FEED_SINK ".monitor channels=1"
    " source_properties=device.description=Anyroom-microphone\n"
    "set-default-sink " AR_WEB_MEDIA_SPEAKER_SINK "\n"
    "set-default-source " AR_WEB_MEDIA_MIC_SOURCE "\n";

static gboolean
write_file(const char *dir, const char *rel, const char *contents, GError **error)
{
  g_autofree char *path = g_build_filename(dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);

  if (g_mkdir_with_parents(parent, 0700) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "Cannot create %s: %s", parent,
                g_strerror(e));
    return FALSE;
  }
  return g_file_set_contents_full(path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static void
child_setup(gpointer data)
{
  /* Nothing of a call's media environment survives anyroomd. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn(ArWebMedia *self, const char *name, const char *const *argv, GError **error)
{
  g_autoptr(GSubprocessLauncher) l = NULL;
  g_autofree char *log = NULL;
  GSubprocess *p;

  if (g_find_program_in_path(argv[0]) == NULL && !g_file_test(argv[0], G_FILE_TEST_IS_EXECUTABLE)) {
    g_set_error(error, AR_WEB_MEDIA_ERROR, AR_WEB_MEDIA_ERROR_MISSING, "%s is not installed (%s)",
                name, argv[0]);
    return NULL;
  }
  l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_environ(l, self->child_environ);
  g_subprocess_launcher_set_cwd(l, self->dir);
  g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
  if (self->keep_logs) {
    log = g_strdup_printf("%s/%s.log", self->dir, name);
    g_subprocess_launcher_set_flags(l, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_set_stderr_file_path(l, log);
  } else {
    g_subprocess_launcher_set_flags(l, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                           G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  }
  p = g_subprocess_launcher_spawnv(l, argv, error);
  if (p == NULL) {
    g_prefix_error(error, "Cannot start %s: ", name);
    return NULL;
  }
  Child *c = g_new0(Child, 1);
  c->name = g_strdup(name);
  c->process = g_object_ref(p);
  g_ptr_array_add(self->children, c);
  g_debug("started %s (pid %s)", name, g_subprocess_get_identifier(p));
  return p;
}

typedef gboolean (*ReadyFunc)(ArWebMedia *self, gconstpointer data);

/* A Unix socket that accepts connections (its file appears at bind(), before listen()). */
static gboolean
ready_socket(ArWebMedia *self, gconstpointer data)
{
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new((const char *)data);
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);

  return sock != NULL && g_socket_connect(sock, addr, NULL, NULL);
}

static gboolean
ready_bus(ArWebMedia *self, gconstpointer data)
{
  if (!g_file_test(self->bus_address + strlen("unix:path="), G_FILE_TEST_EXISTS))
    return FALSE;
  self->bus =
      g_dbus_connection_new_for_address_sync(self->bus_address,
                                             G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                             NULL, NULL, NULL);
  return self->bus != NULL;
}

static gboolean
ready_name(ArWebMedia *self, gconstpointer data)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync(
      self->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new("(s)", (const char *)data), G_VARIANT_TYPE("(b)"),
      G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL);
  gboolean has = FALSE;

  if (r != NULL)
    g_variant_get(r, "(b)", &has);
  return has;
}

/* Ends a GPtrArray of strings into a GStrv (takes its strings). */
static GStrv
strv_end(GPtrArray *b)
{
  g_ptr_array_set_free_func(b, NULL);
  g_ptr_array_add(b, NULL);
  return (GStrv)g_ptr_array_free(g_ptr_array_ref(b), FALSE);
}

static GStrv
make_child_environ(ArWebMedia *self)
{
  g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func(g_free);
  const char *pass[] = {"PATH", "LANG", "PIPEWIRE_DEBUG", "WIREPLUMBER_DEBUG", "G_MESSAGES_DEBUG"};

  for (gsize i = 0; i < G_N_ELEMENTS(pass); i++) {
    const char *v = g_getenv(pass[i]);
    if (v != NULL)
      g_ptr_array_add(b, g_strdup_printf("%s=%s", pass[i], v));
  }
  g_ptr_array_add(b, g_strdup_printf("HOME=%s/home", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_RUNTIME_DIR=%s/run", self->dir));
  g_ptr_array_add(b, g_strdup_printf("PIPEWIRE_RUNTIME_DIR=%s/run", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_CONFIG_HOME=%s/config", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_DATA_HOME=%s/data", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_STATE_HOME=%s/state", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_CACHE_HOME=%s/cache", self->dir));
  g_ptr_array_add(b, g_strdup_printf("XDG_DESKTOP_PORTAL_DIR=%s/portals", self->dir));
  g_ptr_array_add(b, g_strdup_printf("PULSE_RUNTIME_PATH=%s/pulse", self->dir));
  g_ptr_array_add(b, g_strdup_printf("PULSE_STATE_PATH=%s/pulse", self->dir));
  g_ptr_array_add(b, g_strdup_printf("DBUS_SESSION_BUS_ADDRESS=unix:path=%s/bus", self->dir));
  g_ptr_array_add(b, g_strdup("XDG_CURRENT_DESKTOP=anyroom"));
  return strv_end(b);
}

static gboolean
write_configs(ArWebMedia *self, GError **error)
{
  g_autofree char *pa = g_strdup_printf(pulse_script, self->dir);
  const char *dirs[] = {"home", "run", "data", "state", "cache", "pulse"};

  for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
    g_autofree char *d = g_build_filename(self->dir, dirs[i], NULL);
    if (g_mkdir(d, 0700) != 0) {
      int e = errno;
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "Cannot create %s: %s", d,
                  g_strerror(e));
      return FALSE;
    }
  }
  return write_file(self->dir, "portals/anyroom.portal", portal_file, error) &&
         write_file(self->dir, "portals/anyroom-portals.conf", portals_conf, error) &&
         write_file(self->dir, "config/wireplumber/main.lua.d/90-enable-all.lua", wp04_main,
                    error) &&
         write_file(self->dir, "config/wireplumber/bluetooth.lua.d/90-enable-all.lua", wp04_empty,
                    error) &&
         write_file(self->dir, "config/wireplumber/wireplumber.conf.d/90-anyroom.conf", wp05_conf,
                    error) &&
         write_file(self->dir, "pulse/anyroom.pa", pa, error);
}

static gpointer
bus_thread_main(gpointer data)
{
  GMainLoop *loop = data;
  GMainContext *ctx = g_main_loop_get_context(loop);

  g_main_context_push_thread_default(ctx);
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(ctx);
  return NULL;
}

static const char *
find_libexec(const char *name)
{
  static const char *const dirs[] = {"/usr/libexec", "/usr/lib/xdg-desktop-portal",
                                     "/usr/lib/x86_64-linux-gnu/xdg-desktop-portal"};
  for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
    g_autofree char *p = g_build_filename(dirs[i], name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_EXECUTABLE))
      return g_intern_string(p);
  }
  return g_intern_string(name);
}

/* The start, in stages: each spawns what it can and then waits (polled every 10 ms, each wait
 * bounded by start_timeout_ms) for what the next one needs. */
enum {
  STAGE_BUS,      /* dbus-daemon: a connection works */
  STAGE_PIPEWIRE, /* (pulseaudio spawned) pipewire: its socket accepts */
  STAGE_STORE,    /* (wireplumber spawned) xdg-permission-store: owns its name */
  STAGE_PORTAL,   /* (the Access backend on its thread) xdg-desktop-portal: owns its name */
  STAGE_PULSE,    /* pulseaudio: its socket accepts */
  STAGE_DONE,
};

static const char *const stage_names[] = {"dbus-daemon", "pipewire", "xdg-permission-store",
                                          "xdg-desktop-portal", "pulseaudio"};

static gboolean
stage_ready(ArWebMedia *self)
{
  switch (self->stage) {
  case STAGE_BUS:
    return ready_bus(self, NULL);
  case STAGE_PIPEWIRE:
    return ready_socket(self, self->pipewire_socket);
  case STAGE_STORE:
    return ready_name(self, "org.freedesktop.impl.portal.PermissionStore");
  case STAGE_PORTAL:
    return ready_name(self, "org.freedesktop.portal.Desktop");
  case STAGE_PULSE: {
    g_autofree char *pulse_socket = g_build_filename(self->dir, "pulse", "native", NULL);
    return ready_socket(self, pulse_socket);
  }
  default:
    return TRUE;
  }
}

static GSubprocess *
child_process(ArWebMedia *self, const char *name)
{
  for (guint i = 0; i < self->children->len; i++) {
    Child *c = g_ptr_array_index(self->children, i);
    if (g_str_equal(c->name, name))
      return c->process;
  }
  return NULL;
}

/* What comes after @self->stage is ready: spawns the next processes, enters the next stage. */
static gboolean
stage_next(ArWebMedia *self, GError **error)
{
  const ArWebMediaOptions *o = &self->options;

  switch (self->stage) {
  case STAGE_BUS: {
    g_dbus_connection_set_exit_on_close(self->bus, FALSE);
    g_autofree char *pa_script = g_build_filename(self->dir, "pulse", "anyroom.pa", NULL);
    g_autofree char *pa_file = g_strdup_printf("--file=%s", pa_script);
    const char *argv_pa[] = {"pulseaudio",
                             "--daemonize=no",
                             "--system=no",
                             "--high-priority=no",
                             "--realtime=no",
                             "--exit-idle-time=-1",
                             "--disallow-exit",
                             "--use-pid-file=no",
                             "--log-target=stderr",
                             "-n",
                             pa_file,
                             NULL};
    const char *argv_pw[] = {"pipewire", NULL};
    /* PulseAudio first: it is independent of the rest and the slowest to come up. */
    if (spawn(self, "pulseaudio", argv_pa, error) == NULL)
      return FALSE;
    self->pipewire_socket = g_build_filename(self->dir, "run", "pipewire-0", NULL);
    self->waiting_for = spawn(self, "pipewire", argv_pw, error);
    break;
  }
  case STAGE_PIPEWIRE: {
    const char *argv_wp[] = {"wireplumber", NULL};
    const char *argv_store[] = {find_libexec("xdg-permission-store"), "--replace", NULL};
    if (spawn(self, "wireplumber", argv_wp, error) == NULL)
      return FALSE;
    self->waiting_for = spawn(self, "xdg-permission-store", argv_store, error);
    break;
  }
  case STAGE_STORE: {
    const char *argv_portal[] = {find_libexec("xdg-desktop-portal"), "--replace", NULL};
    self->bus_context = g_main_context_new();
    g_main_context_push_thread_default(self->bus_context);
    self->portal = ar_access_portal_new(self->bus, o->allow, o->allow_data, error);
    g_main_context_pop_thread_default(self->bus_context);
    if (self->portal == NULL)
      return FALSE;
    ar_access_portal_set_allow_context(self->portal, self->caller_context);
    self->bus_loop = g_main_loop_new(self->bus_context, FALSE);
    self->bus_thread = g_thread_new("ar-web-bus", bus_thread_main, self->bus_loop);
    self->waiting_for = spawn(self, "xdg-desktop-portal", argv_portal, error);
    break;
  }
  case STAGE_PORTAL:
    self->waiting_for = child_process(self, "pulseaudio");
    break;
  case STAGE_PULSE: {
    g_autofree char *pulse_socket = g_build_filename(self->dir, "pulse", "native", NULL);
    g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func(g_free);
    self->pulse_server = g_strdup_printf("unix:%s", pulse_socket);
    g_ptr_array_add(b, g_strdup_printf("DBUS_SESSION_BUS_ADDRESS=%s", self->bus_address));
    g_ptr_array_add(b, g_strdup_printf("PULSE_SERVER=%s", self->pulse_server));
    self->browser_environ = strv_end(b);
    self->waiting_for = NULL;
    break;
  }
  default:
    break;
  }
  if (self->stage < STAGE_DONE - 1 && self->waiting_for == NULL)
    return FALSE; /* spawn() set the error */
  self->stage++;
  self->stage_deadline_us = g_get_monotonic_time() + (gint64)self->start_timeout_ms * 1000;
  return TRUE;
}

static void
start_done(ArWebMedia *self, GError *error)
{
  ArWebMediaReadyFunc ready = self->ready;

  if (self->poll != NULL) {
    g_source_destroy(self->poll);
    g_clear_pointer(&self->poll, g_source_unref);
  }
  self->ready = NULL;
  if (error != NULL)
    g_prefix_error(&error, "Web call media environment: ");
  if (ready != NULL)
    ready(self, error, self->ready_data); /* may free @self */
  g_clear_error(&error);
}

/* One look at the stage; several stages in a row when they are ready at once. */
static gboolean
poll_cb(gpointer data)
{
  ArWebMedia *self = data;
  GError *error = NULL;

  while (self->stage < STAGE_DONE) {
    if (!stage_ready(self)) {
      const char *name = stage_names[self->stage];
      GSubprocess *p = self->waiting_for;
      if (p != NULL && g_subprocess_get_identifier(p) == NULL) {
        g_set_error(&error, AR_WEB_MEDIA_ERROR, AR_WEB_MEDIA_ERROR_START,
                    "%s exited during start (see %s/%s.log with keep_logs)", name, self->dir, name);
      } else if (g_get_monotonic_time() > self->stage_deadline_us) {
        g_set_error(&error, AR_WEB_MEDIA_ERROR, AR_WEB_MEDIA_ERROR_START,
                    "%s was not ready within %u ms", name, self->start_timeout_ms);
      } else {
        return G_SOURCE_CONTINUE;
      }
      start_done(self, error);
      return G_SOURCE_REMOVE;
    }
    if (!stage_next(self, &error)) {
      start_done(self, error);
      return G_SOURCE_REMOVE;
    }
  }
  start_done(self, NULL);
  return G_SOURCE_REMOVE;
}

/* @poll_context: where the start is polled (NULL: the caller's thread-default context, which is
 * always the Access backend's). */
static ArWebMedia *
start_on(const ArWebMediaOptions *options, ArWebMediaReadyFunc ready, gpointer user_data,
         GMainContext *poll_context, GError **error)
{
  static const ArWebMediaOptions defaults = {0};
  const ArWebMediaOptions *o = options != NULL ? options : &defaults;
  g_autoptr(ArWebMedia) self = g_new0(ArWebMedia, 1);
  const char *parent = o->parent_dir;
  g_autofree char *tmpl = NULL;

  if (parent == NULL)
    parent = g_getenv("XDG_RUNTIME_DIR");
  /* anyroomd's unit sets XDG_RUNTIME_DIR=/run, which it cannot write: then the (private) tmp. */
  if (o->parent_dir == NULL && (parent == NULL || g_access(parent, W_OK | X_OK) != 0))
    parent = g_get_tmp_dir();
  tmpl = g_build_filename(parent, "anyroom-web-XXXXXX", NULL);
  self->children = g_ptr_array_new_with_free_func((GDestroyNotify)child_free);
  self->keep_logs = o->keep_logs;
  self->start_timeout_ms = o->start_timeout_ms ? o->start_timeout_ms : DEFAULT_START_TIMEOUT_MS;
  self->options = *o;
  self->options.parent_dir = NULL; /* not kept */
  self->caller_context = g_main_context_ref_thread_default();
  self->ready = ready;
  self->ready_data = user_data;
  gboolean made = g_mkdtemp_full(tmpl, 0700) != NULL;
  if (!made && o->parent_dir == NULL) {
    g_free(tmpl);
    tmpl = g_build_filename(g_get_tmp_dir(), "anyroom-web-XXXXXX", NULL);
    made = g_mkdtemp_full(tmpl, 0700) != NULL;
  }
  if (!made) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "Cannot create %s: %s", tmpl,
                g_strerror(e));
    return NULL;
  }
  self->dir = g_steal_pointer(&tmpl);
  self->child_environ = make_child_environ(self);

  g_autofree char *conf = g_strdup_printf(bus_conf, self->dir);
  g_autofree char *conf_path = g_build_filename(self->dir, "bus.conf", NULL);
  g_autofree char *arg = g_strdup_printf("--config-file=%s", conf_path);
  const char *argv_bus[] = {"dbus-daemon", arg, "--nofork", "--nopidfile", NULL};
  if (!write_configs(self, error) || !write_file(self->dir, "bus.conf", conf, error) ||
      (self->waiting_for = spawn(self, "dbus-daemon", argv_bus, error)) == NULL) {
    g_prefix_error(error, "Web call media environment: ");
    return NULL; /* the autoptr stops what was started */
  }
  self->bus_address = g_strdup_printf("unix:path=%s/bus", self->dir);
  self->stage = STAGE_BUS;
  self->stage_deadline_us = g_get_monotonic_time() + (gint64)self->start_timeout_ms * 1000;
  self->poll = g_timeout_source_new(10);
  g_source_set_callback(self->poll, poll_cb, self, NULL);
  g_source_attach(self->poll, poll_context != NULL ? poll_context : self->caller_context);
  return g_steal_pointer(&self);
}

ArWebMedia *
ar_web_media_start_async(const ArWebMediaOptions *options, ArWebMediaReadyFunc ready,
                         gpointer user_data, GError **error)
{
  return start_on(options, ready, user_data, NULL, error);
}

typedef struct {
  gboolean done;
  GError *error;
} SyncStart;

static void
on_sync_ready(ArWebMedia *self, const GError *error, gpointer data)
{
  SyncStart *s = data;
  s->done = TRUE;
  if (error != NULL)
    s->error = g_error_copy(error);
}

ArWebMedia *
ar_web_media_start(const ArWebMediaOptions *options, GError **error)
{
  /* Polled on a private context: nothing else of the caller runs meanwhile. */
  g_autoptr(GMainContext) ctx = g_main_context_new();
  SyncStart s = {0};
  ArWebMedia *self = start_on(options, on_sync_ready, &s, ctx, error);

  while (self != NULL && !s.done)
    g_main_context_iteration(ctx, TRUE);
  if (self != NULL && s.error != NULL) {
    g_propagate_error(error, s.error);
    g_clear_pointer(&self, ar_web_media_free);
  }
  return self;
}

const char *const *
ar_web_media_get_browser_environ(ArWebMedia *self)
{
  return (const char *const *)self->browser_environ;
}

const char *
ar_web_media_get_pipewire_socket(ArWebMedia *self)
{
  return self->pipewire_socket;
}

const char *
ar_web_media_get_pulse_server(ArWebMedia *self)
{
  return self->pulse_server;
}

const char *
ar_web_media_get_dir(ArWebMedia *self)
{
  return self->dir;
}

ArAccessPortal *
ar_web_media_get_access_portal(ArWebMedia *self)
{
  return self->portal;
}

static void
stop_child(Child *c)
{
  const char *id = g_subprocess_get_identifier(c->process);
  gint64 deadline = g_get_monotonic_time() + STOP_TIMEOUT_MS * 1000;

  if (id == NULL)
    return;
  g_debug("stopping %s (pid %s)", c->name, id);
  g_subprocess_send_signal(c->process, SIGTERM);
  /* g_subprocess_get_identifier() turns NULL once the child is reaped (GLib's worker thread). */
  while (g_subprocess_get_identifier(c->process) != NULL && g_get_monotonic_time() < deadline)
    g_usleep(10000);
  if (g_subprocess_get_identifier(c->process) != NULL) {
    g_debug("%s did not stop in %d ms: killing it", c->name, STOP_TIMEOUT_MS);
    g_subprocess_force_exit(c->process);
    g_subprocess_wait(c->process, NULL, NULL);
  }
}

static gboolean
remove_tree(const char *path)
{
  g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
  const char *name;

  if (d != NULL) {
    while ((name = g_dir_read_name(d)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        remove_tree(child);
      else
        g_unlink(child);
    }
  }
  return g_rmdir(path) == 0;
}

void
ar_web_media_release_devices(ArWebMedia *self)
{
  g_return_if_fail(self != NULL);
  if (self->portal != NULL) {
    g_autoptr(GError) error = NULL;
    if (!ar_access_portal_revoke(self->portal, &error))
      g_debug("%s", error->message);
  }
  for (guint i = 0; i < self->children->len; i++) {
    Child *c = g_ptr_array_index(self->children, i);
    if (g_strcmp0(c->name, "pulseaudio") == 0)
      stop_child(c);
  }
}

void
ar_web_media_stop(ArWebMedia *self)
{
  g_return_if_fail(self != NULL);
  self->ready = NULL; /* a start in progress ends here, unreported */
  if (self->poll != NULL) {
    g_source_destroy(self->poll);
    g_clear_pointer(&self->poll, g_source_unref);
  }
  if (self->portal != NULL) {
    g_autoptr(GError) error = NULL;
    if (!ar_access_portal_revoke(self->portal, &error))
      g_debug("%s", error->message);
  }
  g_clear_pointer(&self->portal, ar_access_portal_free);
  if (self->bus_thread != NULL) {
    g_main_loop_quit(self->bus_loop);
    g_thread_join(g_steal_pointer(&self->bus_thread));
  }
  g_clear_pointer(&self->bus_loop, g_main_loop_unref);
  g_clear_pointer(&self->bus_context, g_main_context_unref);
  /* All at once (reverse order: the portal is told before the bus), then one bound for all of
   * them together: at most STOP_TIMEOUT_MS in all, not per process (a slow board). */
  gint64 deadline = g_get_monotonic_time() + STOP_TIMEOUT_MS * 1000;
  for (guint i = self->children->len; i > 0; i--) {
    Child *c = g_ptr_array_index(self->children, i - 1);
    const char *id = g_subprocess_get_identifier(c->process);
    if (id != NULL) {
      g_debug("stopping %s (pid %s)", c->name, id);
      g_subprocess_send_signal(c->process, SIGTERM);
    }
  }
  for (guint i = self->children->len; i > 0; i--) {
    Child *c = g_ptr_array_index(self->children, i - 1);
    /* g_subprocess_get_identifier() turns NULL once the child is reaped (GLib's worker thread). */
    while (g_subprocess_get_identifier(c->process) != NULL && g_get_monotonic_time() < deadline)
      g_usleep(5000);
    if (g_subprocess_get_identifier(c->process) != NULL) {
      g_debug("%s did not stop in time: killing it", c->name);
      g_subprocess_force_exit(c->process);
      g_subprocess_wait(c->process, NULL, NULL);
    }
  }
  g_ptr_array_set_size(self->children, 0);
  if (self->bus != NULL)
    g_dbus_connection_close_sync(self->bus, NULL, NULL);
  g_clear_object(&self->bus);
  if (self->dir != NULL && !self->keep_logs)
    remove_tree(self->dir);
}

void
ar_web_media_free(ArWebMedia *self)
{
  if (self == NULL)
    return;
  if (self->children != NULL)
    ar_web_media_stop(self);
  g_clear_pointer(&self->children, g_ptr_array_unref);
  g_free(self->dir);
  g_free(self->bus_address);
  g_free(self->pipewire_socket);
  g_free(self->pulse_server);
  g_strfreev(self->browser_environ);
  g_strfreev(self->child_environ);
  g_clear_pointer(&self->caller_context, g_main_context_unref);
  g_free(self);
}
