/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: a DHCP lease as systemd-networkd keeps it (firmware/provision/ar-provision-lease.c):
 * anyone on the LAN can answer DHCP, so option 224 (hex in the lease file) is untrusted. What a
 * good answer promises: an https URL of plain ASCII, at most AR_PROVISION_MAX_URL, no user; a
 * refusal is one line. The input is also tried as the option's raw bytes and the source's name
 * is made from each URL taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-provision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *url)
{
  gsize n = strlen(url);
  if (n == 0 || n > AR_PROVISION_MAX_URL || g_ascii_strncasecmp(url, "https://", 8) != 0)
    abort();
  for (gsize i = 0; i < n; i++)
    if ((guchar)url[i] <= ' ' || (guchar)url[i] >= 0x7f)
      abort();
  g_autofree char *source = ar_provision_dhcp_source(url);
  if (!g_str_has_prefix(source, "dhcp:https://") || !g_str_has_suffix(source, "/") ||
      strchr(source, '?') || strchr(source, '#'))
    abort();
}

static void
check_error(const GError *error)
{
  if (!error || !error->message[0] || strchr(error->message, '\n') ||
      strlen(error->message) > 2 * AR_PROVISION_MAX_URL)
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > AR_PROVISION_MAX_LEASE + 16)
    return 0;
  g_autoptr(GError) error = NULL;
  char *url = (char *)"untouched";
  if (ar_provision_lease_url((const char *)data, size, &url, &error)) {
    if (url)
      check_url(url);
    if (url)
      g_free(url);
  } else {
    check_error(error);
    if (strcmp(url, "untouched") != 0)
      abort();
  }
  g_clear_error(&error);
  url = NULL;
  if (ar_provision_dhcp_url_check((const char *)data, size, &url, &error)) {
    check_url(url);
    g_free(url);
  } else {
    check_error(error);
  }
  return 0;
}
