/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-netwatch.c: tells a connected peer at once when one of the machine's IP
 * addresses goes away (the room's address changed, a cable or Wi-Fi link was
 * lost), so the call can be rebuilt long before the dead-peer timeout
 * (webrtcbin has no ICE restart; see docs/network.md "Recovery").
 *
 * Linux rtnetlink: RTM_DELADDR on the RTMGRP_IPV4_IFADDR/RTMGRP_IPV6_IFADDR
 * groups of the network namespace the process runs in. Elsewhere the source is
 * never created and the dead-peer timeout is the only detector.
 */
#include "ar-media-priv.h"

#ifdef __linux__
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int fd;
  ArAddressGoneFunc func;
  gpointer user_data;
} ArNetwatch;

static void
ar_netwatch_free(gpointer data)
{
  ArNetwatch *w = data;

  if (w->fd >= 0)
    close(w->fd);
  g_free(w);
}

/* One RTM_DELADDR message: the address as text, or FALSE. Kernel input, but
 * still bounds-checked with the netlink macros. */
static gboolean
ar_netwatch_parse_deladdr(struct nlmsghdr *nh, char *out, gsize out_size)
{
  struct ifaddrmsg *ifa = NLMSG_DATA(nh);
  int len = (int)IFA_PAYLOAD(nh);
  const void *local = NULL, *address = NULL;

  if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
    return FALSE;
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
    return FALSE;
  for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    gsize need = ifa->ifa_family == AF_INET ? 4 : 16;

    if (RTA_PAYLOAD(rta) < need)
      continue;
    if (rta->rta_type == IFA_LOCAL)
      local = RTA_DATA(rta);
    else if (rta->rta_type == IFA_ADDRESS)
      address = RTA_DATA(rta);
  }
  /* IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on
   * point-to-point links); IPv6 gives only IFA_ADDRESS. */
  if (local == NULL)
    local = address;
  if (local == NULL)
    return FALSE;
  return inet_ntop(ifa->ifa_family, local, out, (socklen_t)out_size) != NULL;
}

static gboolean
ar_netwatch_dispatch(gint fd, GIOCondition condition, gpointer user_data)
{
  ArNetwatch *w = user_data;
  /* Aligned for struct nlmsghdr. */
  guint32 buf[2048];

  (void)condition;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      /* EAGAIN: drained. ENOBUFS: the kernel dropped messages; the dead-peer
       * timeout still catches whatever we missed. */
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
        GST_WARNING("netwatch: recv: %s", g_strerror(errno));
      return G_SOURCE_CONTINUE;
    }
    if (n == 0)
      return G_SOURCE_CONTINUE;
    int len = (int)n;
    for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len);
         nh = NLMSG_NEXT(nh, len)) {
      char address[INET6_ADDRSTRLEN];

      if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
        break;
      if (nh->nlmsg_type != RTM_DELADDR || !ar_netwatch_parse_deladdr(nh, address, sizeof(address)))
        continue;
      GST_INFO("netwatch: address %s removed", address);
      w->func(address, w->user_data);
    }
  }
}

GSource *
ar_netwatch_source_new(ArAddressGoneFunc func, gpointer user_data, GError **error)
{
  struct sockaddr_nl sa = {0};
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

  if (fd < 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "netlink socket: %s",
                g_strerror(errno));
    return NULL;
  }
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "netlink bind: %s",
                g_strerror(errno));
    close(fd);
    return NULL;
  }
  ArNetwatch *w = g_new0(ArNetwatch, 1);
  w->fd = fd;
  w->func = func;
  w->user_data = user_data;
  GSource *source = g_unix_fd_source_new(fd, G_IO_IN);
  g_source_set_static_name(source, "ar-netwatch");
  g_source_set_callback(source, G_SOURCE_FUNC(ar_netwatch_dispatch), w, ar_netwatch_free);
  return source;
}

#else

GSource *
ar_netwatch_source_new(ArAddressGoneFunc func, gpointer user_data, GError **error)
{
  (void)func;
  (void)user_data;
  g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
              "address changes are only watched on Linux");
  return NULL;
}

#endif
