/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* anyroomd: the Anyroom room agent. One GMainLoop; see docs/cli.md. */
#include <errno.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <locale.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "ar-api-config.h"
#include "ar-api-listener.h"
#include "ar-api.h"
#include "ar-build-config.h"
#include "ar-crash.h"
#include "ar-log-remote.h"
#include "ar-log.h"
#include "ar-providers.h"
#include "ar-provision.h"
#include "ar-room-call.h"
#include "ar-web-engine.h"
#include "ar-web-provision.h"
#include "ar-web-server.h"
#include "ar-web-tls.h"

typedef struct {
  GMainLoop *loop;
  ArCallManager *calls;
  gboolean stopping;
  gboolean restart; /* exit with AR_PROVISION_RESTART_EXIT: systemd starts us again */
  guint restart_wait;
} Daemon;

static void
left_then_quit(const GError *error, gpointer data)
{
  g_main_loop_quit(((Daemon *)data)->loop);
}

/* An administrator changed a join recipe (ar-api-recipes.h). */
typedef struct {
  ArWebEngine *web;
  ArProviderRegistry *registry;
} RecipeReload;

static guint
reload_recipes(gpointer data)
{
  RecipeReload *r = data;
  return ar_web_engine_reload_recipes(r->web, r->registry);
}

static gboolean
on_signal(gpointer data)
{
  Daemon *d = data;
  if (d->stopping) {
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
  }
  d->stopping = TRUE;
  g_message("anyroomd: stopping");
  ar_sd_notify("STOPPING=1");
  /* Leave the meeting cleanly first (bounded by the provider's own timeout). */
  if (!ar_call_manager_leave(d->calls, left_then_quit, d, NULL))
    g_main_loop_quit(d->loop);
  return G_SOURCE_CONTINUE;
}

/* A provisioning file from DHCP is in the state dir (ar-provision.h): the next start applies
 * it. Restart when no call is under way (a room not set up yet may still be in one). */
static gboolean
restart_when_idle(gpointer data)
{
  Daemon *d = data;
  if (ar_call_state_is_active(ar_call_manager_get_state(d->calls)))
    return G_SOURCE_CONTINUE;
  d->restart_wait = 0;
  if (d->stopping)
    return G_SOURCE_REMOVE;
  d->restart = TRUE;
  d->stopping = TRUE;
  g_message("anyroomd: restarting to apply the provisioning file");
  ar_sd_notify("STOPPING=1");
  g_main_loop_quit(d->loop);
  return G_SOURCE_REMOVE;
}

static void
provision_ready(const char *source, gpointer data)
{
  Daemon *d = data;
  if (restart_when_idle(d) == G_SOURCE_CONTINUE) {
    g_message("provision: %s: the restart waits for the end of the call", source);
    d->restart_wait = g_timeout_add_seconds(5, restart_when_idle, d);
  }
}

/* SIGHUP: the config file's [update] window and auto-install apply at once
 * (a maintenance window moved without a restart); other keys need a restart. */
typedef struct {
  const char *config_path;
  ArUpdater *updater;
} Reload;

static gboolean
on_hup(gpointer data)
{
  Reload *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) config = r->config_path ? ar_config_load_file(r->config_path, &error) : NULL;
  if (!config) {
    g_warning("anyroomd: SIGHUP: %s", error ? error->message : "no config file to read again");
    return G_SOURCE_CONTINUE;
  }
  if (!ar_updater_set_window(r->updater, config->update_window, config->update_auto_install,
                             &error))
    g_warning("anyroomd: SIGHUP: %s", error->message);
  else
    g_message("anyroomd: SIGHUP: [update] window and auto-install read again (other changes "
              "apply at the next start)");
  return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  /* A crash leaves its stack in the journal (docs/decisions.md "A crash's
   * stack in the log"). */
  ar_crash_install();
#ifdef __GLIBC__
  /* Every call starts fresh GStreamer streaming threads, and glibc gives each
   * thread its own malloc arena: freed call memory stayed mapped (measured:
   * RSS grew from 42 to 105 MB over ten join/leave cycles; 70 MB with two
   * arenas). Two arenas are plenty for a daemon with a handful of threads. */
  mallopt(M_ARENA_MAX, 2);
#endif
#ifdef PR_SET_THP_DISABLE
  /* No transparent huge pages: x264 (and any library that asks with
   * MADV_HUGEPAGE) gets each large buffer in 2 MB pages, resident whole as soon
   * as one byte of it is touched, and the malloc arena around it with it.
   * Measured in a 720p30 call: 4-5 MB of RSS (x264 alone: 17 -> 12 MB), no CPU
   * difference (docs/decisions.md "Memory: no transparent huge pages").
   * Inherited by children (the meeting browser). */
  if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
    g_debug("anyroomd: PR_SET_THP_DISABLE: %s", g_strerror(errno));
#endif
  /* TLS 1.2 minimum, AEAD suites only, for every TLS connection (admin
   * server and our own clients): before any thread or TLS object exists. */
  g_autofree char *tls_ignored = NULL;
  g_autoptr(GError) tls_error = NULL;
  if (!ar_web_tls_init_policy(&tls_ignored, &tls_error)) {
    g_printerr("anyroomd: TLS: %s\n", tls_error->message);
    return 1;
  }
  if (tls_ignored)
    g_warning("TLS: G_TLS_GNUTLS_PRIORITY=%s from the environment ignored: anyroomd's policy is "
              "TLS 1.2 or 1.3 with AEAD suites only (docs/api.md)",
              tls_ignored);
  g_autofree char *config_path = NULL;
  g_autofree char *board_name = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *state_dir = NULL;
  gboolean verbose = FALSE, version = FALSE;
  GOptionEntry entries[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE"},
      {"board", 'b', 0, G_OPTION_ARG_STRING, &board_name, "Board profile (default: host)", "NAME"},
      {"socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path, "API socket path", "PATH"},
      {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
       "State folder: admin password hash, API tokens, TLS key (default: $XDG_STATE_HOME/anyroom)",
       "DIR"},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Debug logging", NULL},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
      {NULL}};
  g_autoptr(GOptionContext) ctx = g_option_context_new("- the Anyroom room agent");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    g_printerr("anyroomd: %s\n", error->message);
    return 2;
  }
  if (version) {
    g_print("anyroomd %s\n", AR_VERSION);
    return 0;
  }
  if (verbose)
    g_log_set_debug_enabled(TRUE);
  /* The admin page's log view: the last lines, secrets redacted. */
  ar_log_ring_install();
  /* GLib polls (no select()): take the descriptors the hard limit allows;
   * the API servers' caps are sized from what we get (ar-api-listener.h). */
  guint64 nofile = ar_api_raise_nofile(65536);
  g_debug("anyroomd: %" G_GUINT64_FORMAT " file descriptors", nofile);

  g_autoptr(ArConfig) config = NULL;
  if (!config_path) {
    g_autofree char *def =
        g_build_filename(g_get_user_config_dir(), "anyroom", "anyroom.conf", NULL);
    if (g_file_test(def, G_FILE_TEST_EXISTS))
      config_path = g_steal_pointer(&def);
  }
  config = config_path ? ar_config_load_file(config_path, &error) : ar_config_new_default();
  if (!config) {
    g_printerr("anyroomd: %s\n", error->message);
    return 1;
  }
  const char *board_wanted = board_name ? board_name : config->board ? config->board : "host";
  g_autoptr(ArBoard) board = ar_board_load(board_wanted, &error);
  if (!board) {
    g_printerr("anyroomd: %s\n", error->message);
    return 1;
  }
  if (!state_dir)
    state_dir = ar_web_default_state_dir();
  /* Zero-touch provisioning (docs/fleet.md): a signed file at a [provision] source, applied
   * once to a new room, before anything reads the state dir. A refused file is logged and
   * audited; the room starts anyway, as it was. */
  g_autofree char *board_id = ar_provision_board_id(board);
  {
    g_autofree char *machine_id = ar_provision_machine_id();
    ArProvisionStart provision = {
        .state_dir = state_dir, .config = config, .board_id = board_id, .machine_id = machine_id};
    g_autoptr(GError) provision_error = NULL;
    if (ar_provision_at_start(&provision, &provision_error) == AR_PROVISION_REFUSED)
      g_warning("provision: the provisioning file was refused (the room starts as it was): %s",
                provision_error->message);
  }
  /* The settings saved by the admin UI or API go over the config file. */
  if (!ar_api_config_apply_saved(config, state_dir, &error)) {
    g_printerr("anyroomd: %s\n", error->message);
    return 1;
  }
  ar_provision_use_cas(config, state_dir);
  /* The room's time zone (room.time-zone): the calendar's local times are the room's. Set
   * before any thread of ours reads the clock's zone. */
  if (config->room_time_zone) {
    g_setenv("TZ", config->room_time_zone, TRUE);
    tzset();
  }
  /* anyroomd's own lines off the box ([logs] remote; docs/fleet.md), from here on: the
   * secrets of the config are registered by now, so only redacted lines leave. */
  if (!ar_api_config_apply_logs(config, &error)) {
    g_printerr("anyroomd: logs: %s\n", error->message);
    return 1;
  }
  g_autoptr(ArCallManager) calls = ar_call_manager_new(config, board, &error);
  if (!calls) {
    g_printerr("anyroomd: media: %s\n", error->message);
    return 1;
  }
  g_autoptr(ArWebEngine) web_engine = NULL;
  /* Calls to the room from its call links (docs/room-calls.md). */
  g_autoptr(ArRoomCallDesk) desk = ar_room_call_desk_new(calls);
  ArProvidersOptions providers_opt = {
      .state_dir = state_dir, .web_engine = &web_engine, .room_calls = desk};
  if (!ar_providers_register_builtin(ar_call_manager_get_providers(calls), config,
                                     ar_call_manager_get_engine(calls), &providers_opt, &error)) {
    g_printerr("anyroomd: media: %s\n", error->message);
    return 1;
  }
  if (!socket_path)
    socket_path = ar_api_default_socket_path();
  /* Updates through RAUC (docs/update.md); connects asynchronously. */
  ArUpdateOptions update_opt = {
      .enabled = config->update_enabled,
      .bus = config->update_bus,
      .version_file = config->update_version_file,
      .fallback_version = AR_VERSION,
      .max_bundle_size = (guint64)config->update_max_bundle_mib * 1024 * 1024,
      .download_ca = config->update_download_ca,
      .state_dir = state_dir,
      .health_settle_s = config->update_health_settle_s,
      .mark_good = config->update_mark_good,
      .channel_url = config->update_channel_url,
      .channel = config->update_channel,
      .channel_ca = config->update_channel_ca,
      .channel_interval_s = config->update_poll_min * 60,
      .keyring = config->update_keyring,
      .compatible = board->compatible,
      .auto_install = config->update_auto_install,
      .window = config->update_window,
      .reboot_command = config->reboot_command,
  };
  g_autoptr(ArUpdater) updater = ar_updater_new(&update_opt);
  g_autoptr(ArApiHub) hub = ar_api_hub_new(calls);
  ar_api_hub_set_config(hub, config, state_dir);
  ar_api_hub_set_updater(hub, updater);
  ar_api_hub_set_room_calls(hub, desk);
  /* The room's meetings (docs/calendar.md). */
  g_autoptr(ArCalDesk) calendar = ar_cal_desk_new(calls, config);
  ar_api_hub_set_calendar(hub, calendar);
  /* The web engine's join recipes: listed, uploaded, removed (docs/recipes.md). */
  RecipeReload recipe_reload = {.web = web_engine,
                                .registry = ar_call_manager_get_providers(calls)};
  g_autofree char *admin_recipes = ar_providers_admin_recipes_dir(config, state_dir);
  if (admin_recipes)
    ar_api_hub_set_recipes(hub,
                           ar_api_recipes_new(NULL, admin_recipes,
                                              web_engine ? reload_recipes : NULL, &recipe_reload));
  g_autoptr(ArApiServer) api = ar_api_server_new(hub, socket_path, &error);
  if (!api) {
    g_printerr("anyroomd: %s\n", error->message);
    return 1;
  }
  /* The HTTPS admin UI and scripting API; [admin] listen=none turns it off. */
  g_autoptr(ArWebServer) web = NULL;
  if (config->admin_listen && !g_str_equal(config->admin_listen, "none")) {
    web = ar_web_server_new(hub, config, state_dir, NULL, &error);
    if (!web && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
      /* The room still works (local socket); say so loudly. */
      g_warning("admin: not started: %s", error->message);
      g_clear_error(&error);
    } else if (!web) {
      g_printerr("anyroomd: admin: %s\n", error->message);
      return 1;
    }
    if (web)
      ar_web_provision_register(web, board_id);
  }
  Daemon d = {.loop = g_main_loop_new(NULL, FALSE), .calls = calls};
  /* A new room without a file yet: a URL given by DHCP, whenever the network comes. */
  g_autoptr(ArProvisionDhcp) dhcp = NULL;
  {
    g_autofree char *machine_id = ar_provision_machine_id();
    ArProvisionStart provision = {
        .state_dir = state_dir, .config = config, .board_id = board_id, .machine_id = machine_id};
    dhcp = ar_provision_dhcp_new(&provision, NULL, config->provision_dhcp_ca, provision_ready, &d);
  }
  guint sigint = g_unix_signal_add(SIGINT, on_signal, &d);
  guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &d);
  Reload reload = {.config_path = config_path, .updater = updater};
  guint sighup = g_unix_signal_add(SIGHUP, on_hup, &reload);
  g_message("anyroomd %s: room '%s', board '%s', config %s", AR_VERSION, config->room_name,
            board->name, config->path ? config->path : "(built-in defaults)");
  /* Healthy (docs/update.md): config, board, media engine, local API and the
   * admin listener are up. Tell systemd, feed its watchdog from this loop, and
   * mark the booted slot good once we stayed up for [update] health-settle. */
  ar_sd_notify("READY=1");
  guint watchdog = ar_sd_watchdog_start();
  ar_updater_start_health_check(updater);
  g_main_loop_run(d.loop);
  g_clear_pointer(&dhcp, ar_provision_dhcp_free);
  g_clear_handle_id(&d.restart_wait, g_source_remove);
  if (watchdog)
    g_source_remove(watchdog);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_source_remove(sighup);
  g_clear_pointer(&web, ar_web_server_free);
  g_clear_pointer(&api, ar_api_server_free);
  g_clear_pointer(&hub, ar_api_hub_free);
  g_clear_pointer(&calendar, ar_cal_desk_free);
  g_clear_pointer(&web_engine, ar_web_engine_unref);
  g_clear_pointer(&updater, ar_updater_free);
  g_clear_pointer(&calls, ar_call_manager_free);
  g_main_loop_unref(d.loop);
  ar_log_remote_stop();
  /* Everything GStreamer made is gone by now; deinit lets the leaks tracer
   * (GST_TRACERS=leaks) report anything that is not. */
  gst_deinit();
  return d.restart ? AR_PROVISION_RESTART_EXIT : 0;
}
