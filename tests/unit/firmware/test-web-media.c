/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-web-media.c: the web call's media environment (firmware/bridge/ar-web-media.c) with the
 * real programs (dbus-daemon, pipewire, wireplumber, xdg-permission-store, xdg-desktop-portal,
 * pulseaudio), no network:
 *   - the start does not hold the caller's main context: a 5 ms timer keeps firing until ready;
 *   - ready: the PipeWire and PulseAudio sockets accept, the browser's environment names them;
 *   - stop: every child is gone and the folder removed;
 *   - freed while starting: no callback, nothing left;
 *   - a start that fails (a program missing on PATH) reports a clear error, asynchronously.
 */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ar-web-media.h"

typedef struct {
  gboolean done;
  GError *error;
  guint ticks_before_ready;
  guint ticks;
} Start;

static gboolean
tick_cb(gpointer data)
{
  Start *s = data;
  s->ticks++;
  return G_SOURCE_CONTINUE;
}

static void
on_ready(ArWebMedia *media, const GError *error, gpointer data)
{
  Start *s = data;
  s->done = TRUE;
  s->ticks_before_ready = s->ticks;
  if (error != NULL)
    s->error = g_error_copy(error);
}

static gboolean
wait_done(Start *s, guint ms)
{
  gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
  while (!s->done && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, TRUE);
  return s->done;
}

static gboolean
socket_accepts(const char *path)
{
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);
  return sock != NULL && g_socket_connect(sock, addr, NULL, NULL);
}

/* The PIDs of processes whose environment names @dir (the children all have it). */
static guint
processes_in(const char *dir)
{
  g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
  g_autofree char *needle = g_strdup_printf("XDG_RUNTIME_DIR=%s/run", dir);
  const char *name;
  guint n = 0;

  while (proc != NULL && (name = g_dir_read_name(proc)) != NULL) {
    g_autofree char *path = g_strdup_printf("/proc/%s/environ", name);
    g_autofree char *env = NULL;
    gsize len = 0;
    if (!g_ascii_isdigit(name[0]) || !g_file_get_contents(path, &env, &len, NULL))
      continue;
    for (gsize i = 0; i < len; i += strlen(env + i) + 1)
      if (g_str_equal(env + i, needle))
        n++;
  }
  return n;
}

static char *
make_parent(void)
{
  g_autoptr(GError) error = NULL;
  char *d = g_dir_make_tmp("ar-test-web-media-XXXXXX", &error);
  g_assert_no_error(error);
  return d;
}

static void
test_async_start_stop(void)
{
  g_autofree char *parent = make_parent();
  g_autoptr(GError) error = NULL;
  ArWebMediaOptions o = {.parent_dir = parent};
  Start s = {0};
  guint tick = g_timeout_add(5, tick_cb, &s);
  ArWebMedia *media = ar_web_media_start_async(&o, on_ready, &s, &error);

  g_assert_no_error(error);
  g_assert_nonnull(media);
  g_assert_false(s.done); /* never reported from inside the call */
  g_assert_true(wait_done(&s, 60000));
  g_assert_no_error(s.error);
  g_test_message("the caller's 5 ms timer fired %u times during the start", s.ticks_before_ready);
  g_assert_cmpuint(s.ticks_before_ready, >, 0);

  g_assert_true(socket_accepts(ar_web_media_get_pipewire_socket(media)));
  const char *pulse = ar_web_media_get_pulse_server(media);
  g_assert_true(g_str_has_prefix(pulse, "unix:"));
  g_assert_true(socket_accepts(pulse + strlen("unix:")));
  const char *const *env = ar_web_media_get_browser_environ(media);
  g_assert_true(g_strv_contains(env, g_strdup_printf("PULSE_SERVER=%s", pulse)));
  g_autofree char *dir = g_strdup(ar_web_media_get_dir(media));
  g_assert_cmpuint(processes_in(dir), >=, 6);

  ar_web_media_free(media);
  g_assert_cmpuint(processes_in(dir), ==, 0);
  g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
  g_source_remove(tick);
  g_assert_cmpint(g_rmdir(parent), ==, 0);
}

static void
test_free_while_starting(void)
{
  g_autofree char *parent = make_parent();
  g_autoptr(GError) error = NULL;
  ArWebMediaOptions o = {.parent_dir = parent};
  Start s = {0};
  ArWebMedia *media = ar_web_media_start_async(&o, on_ready, &s, &error);

  g_assert_no_error(error);
  /* A few iterations: some processes are up, others not yet. */
  for (int i = 0; i < 3; i++)
    g_main_context_iteration(NULL, TRUE);
  g_autofree char *dir = g_strdup(ar_web_media_get_dir(media));
  ar_web_media_free(media);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration(NULL, FALSE);
  g_assert_false(s.done);
  g_assert_cmpuint(processes_in(dir), ==, 0);
  g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
  g_assert_cmpint(g_rmdir(parent), ==, 0);
}

static void
test_missing_program(void)
{
  g_autofree char *parent = make_parent();
  g_autofree char *bin = g_build_filename(parent, "bin", NULL);
  g_autofree char *path = g_strdup(g_getenv("PATH"));
  g_autoptr(GError) error = NULL;
  ArWebMediaOptions o = {.parent_dir = parent};
  Start s = {0};

  /* A PATH with dbus-daemon but no pipewire: the start fails at that stage, asynchronously. */
  g_assert_cmpint(g_mkdir(bin, 0700), ==, 0);
  g_autofree char *dbus = g_find_program_in_path("dbus-daemon");
  g_assert_nonnull(dbus);
  g_autofree char *link = g_build_filename(bin, "dbus-daemon", NULL);
  g_assert_cmpint(symlink(dbus, link), ==, 0);
  g_setenv("PATH", bin, TRUE);
  ArWebMedia *media = ar_web_media_start_async(&o, on_ready, &s, &error);
  g_assert_no_error(error);
  g_assert_nonnull(media);
  gboolean done = wait_done(&s, 30000);
  g_setenv("PATH", path, TRUE);
  g_assert_true(done);
  g_assert_error(s.error, AR_WEB_MEDIA_ERROR, AR_WEB_MEDIA_ERROR_MISSING);
  g_test_message("%s", s.error->message);
  g_assert_nonnull(strstr(s.error->message, "is not installed"));
  ar_web_media_free(media);
  g_clear_error(&s.error);
  g_assert_cmpint(g_unlink(link), ==, 0);
  g_assert_cmpint(g_rmdir(bin), ==, 0);
  g_assert_cmpint(g_rmdir(parent), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/bridge/web-media/async-start-stop", test_async_start_stop);
  g_test_add_func("/bridge/web-media/free-while-starting", test_free_while_starting);
  g_test_add_func("/bridge/web-media/missing-program", test_missing_program);
  return g_test_run();
}
