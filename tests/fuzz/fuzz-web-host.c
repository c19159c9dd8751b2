/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the admin server's Host and Origin checks (firmware/web/ar-web-auth.c), on
 * untrusted request headers. Input: "HOST\nORIGIN\nSEC-FETCH-SITE" (missing parts are absent
 * headers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-web-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GSocketAddress *
local(const char *ip)
{
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string(ip);
  return g_inet_socket_address_new(a, 443);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  g_autofree char *text = g_strndup((const char *)data, size);
  g_auto(GStrv) parts = g_strsplit(text, "\n", 3);
  const char *host = parts[0];
  const char *origin = parts[0] && parts[1] ? parts[1] : NULL;
  const char *site = origin && parts[2] ? parts[2] : NULL;
  const char *names[] = {"room.example", "10.1.2.3:9443", NULL};
  g_auto(GStrv) allowed = ar_web_allowed_hosts(443, "0.0.0.0", names);
  const char *const *a = (const char *const *)allowed;
  gboolean ok = ar_web_host_ok(host, a);
  const char *locals[] = {"192.168.1.20", "fd00::20", "::ffff:10.0.0.5"};
  for (gsize i = 0; i < G_N_ELEMENTS(locals); i++) {
    g_autoptr(GSocketAddress) sa = local(locals[i]);
    if (ar_web_host_is_local_address(host, 443, sa)) {
      /* Property: only an address literal is accepted, never a name (DNS rebinding). */
      g_autofree char *bare = host[0] == '[' ? g_strndup(host + 1, strcspn(host + 1, "]"))
                                             : g_strndup(host, strcspn(host, ":"));
      if (!g_hostname_is_ip_address(bare))
        abort();
      g_auto(GStrv) with = ar_web_hosts_with(a, host);
      if (!ar_web_host_ok(host, (const char *const *)with))
        abort();
      ok = TRUE;
    }
  }
  (void)ar_web_origin_check("POST", origin, site, FALSE, a);
  (void)ar_web_origin_check("GET", origin, site, TRUE, a);
  (void)ok;
  return 0;
}
