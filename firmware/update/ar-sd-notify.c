/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-sd-notify.c: systemd's notification protocol (sd_notify(3)) without
 * libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET ('@' = abstract namespace). Used for READY=1, STOPPING=1
 * and the watchdog (docs/update.md, health check contract).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ar-update.h"

gboolean
ar_sd_notify(const char *state)
{
  const char *path = g_getenv("NOTIFY_SOCKET");
  if (!path || !*path)
    return FALSE;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  gsize len = strlen(path);
  if (len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@'))
    return FALSE;
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@')
    addr.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  int err = errno;
  close(fd);
  if (n < 0)
    g_debug("sd_notify %s: %s", state, g_strerror(err));
  return n >= 0;
}

static gboolean
watchdog_tick(gpointer data)
{
  ar_sd_notify("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

guint
ar_sd_watchdog_start(void)
{
  const char *usec = g_getenv("WATCHDOG_USEC");
  const char *pid = g_getenv("WATCHDOG_PID");
  if (!usec || !g_getenv("NOTIFY_SOCKET"))
    return 0;
  if (pid) {
    guint64 p = 0;
    if (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXINT, &p, NULL) || (pid_t)p != getpid())
      return 0;
  }
  guint64 us = 0;
  if (!g_ascii_string_to_unsigned(usec, 10, 1, G_MAXUINT64, &us, NULL))
    return 0;
  /* Half the timeout, as sd_watchdog_enabled(3) recommends; at least 100 ms. */
  guint64 ms = MAX(us / 2000, 100);
  ar_sd_notify("WATCHDOG=1");
  return g_timeout_add((guint)MIN(ms, G_MAXUINT), watchdog_tick, NULL);
}
