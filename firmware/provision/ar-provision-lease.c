/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision-lease.c: the provisioning URL in a DHCP lease (ar-provision.h;
 * docs/fleet.md "Provisioning a hundred rooms"). systemd-networkd keeps each
 * link's lease in /run/systemd/netif/leases/IFINDEX, one KEY=VALUE a line,
 * and a private option (224-254) the server sent as "OPTION_224=" and the
 * option's bytes in hex (sd-dhcp-lease.c, dhcp_lease_save(), in systemd 252
 * and 257 alike). Untrusted: anyone on the LAN can answer DHCP. Pure (fuzzed:
 * tests/fuzz/fuzz-provision-lease.c).
 */
#include "ar-provision-priv.h"

#include <string.h>

#define OPTION_KEY "OPTION_224="
#define invalid(error, ...) ar_provision_set_error(error, AR_PROVISION_ERROR_INVALID, __VA_ARGS__)

/* The option's bytes from its hex (either case), at most AR_PROVISION_MAX_URL. */
static GByteArray *
unhex(const char *hex, gsize n, GError **error)
{
  if (n == 0 || n % 2 != 0 || n / 2 > AR_PROVISION_MAX_URL) {
    invalid(error, "DHCP option 224 is not 1 to %d bytes of hex", AR_PROVISION_MAX_URL);
    return NULL;
  }
  GByteArray *out = g_byte_array_sized_new((guint)(n / 2));
  for (gsize i = 0; i < n; i += 2) {
    int hi = g_ascii_xdigit_value(hex[i]), lo = g_ascii_xdigit_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      g_byte_array_unref(out);
      invalid(error, "DHCP option 224 is not 1 to %d bytes of hex", AR_PROVISION_MAX_URL);
      return NULL;
    }
    guint8 b = (guint8)(hi << 4 | lo);
    g_byte_array_append(out, &b, 1);
  }
  return out;
}

/* @url's scheme and host as "SCHEME://HOST/" (never the path or query: a
 * token may live there); NULL if it has no host. */
static char *
scheme_host(GUri *uri)
{
  const char *host = g_uri_get_host(uri);
  if (!host || !*host)
    return NULL;
  g_autofree char *scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
  return strchr(host, ':') ? g_strdup_printf("%s://[%s]/", scheme, host)
                           : g_strdup_printf("%s://%s/", scheme, host);
}

gboolean
ar_provision_dhcp_url_check(const char *text, gsize len, char **url, GError **error)
{
  /* Windows' DHCP server ends a String option with a NUL. */
  while (len > 0 && text[len - 1] == '\0')
    len--;
  if (len == 0 || len > AR_PROVISION_MAX_URL)
    return invalid(error, "DHCP option 224 must be a URL of 1 to %d characters",
                   AR_PROVISION_MAX_URL);
  for (gsize i = 0; i < len; i++)
    if ((guchar)text[i] <= ' ' || (guchar)text[i] >= 0x7f)
      return invalid(error, "DHCP option 224 must be a URL in plain ASCII without spaces");
  g_autofree char *s = g_strndup(text, len);
  g_autoptr(GUri) uri = g_uri_parse(s, G_URI_FLAGS_NONE, NULL);
  if (!uri)
    return invalid(error, "DHCP option 224 is not a URL");
  g_autofree char *where = scheme_host(uri);
  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") == 0)
    return invalid(error,
                   "DHCP option 224 (%s) is refused: only https:// is taken (a provisioning "
                   "file may carry secrets)",
                   where ? where : "http://");
  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0)
    return invalid(error, "DHCP option 224 is not an https:// URL");
  if (!where)
    return invalid(error, "DHCP option 224: the URL has no host");
  if (g_uri_get_userinfo(uri))
    return invalid(error, "DHCP option 224 (%s): a user or password in the URL is not taken",
                   where);
  *url = g_steal_pointer(&s);
  return TRUE;
}

gboolean
ar_provision_lease_url(const char *lease, gsize len, char **url, GError **error)
{
  if (len > AR_PROVISION_MAX_LEASE)
    return invalid(error, "the DHCP lease is larger than %d bytes", AR_PROVISION_MAX_LEASE);
  const char *end = lease + len;
  for (const char *line = lease; line < end;) {
    const char *nl = memchr(line, '\n', (gsize)(end - line));
    const char *eol = nl ? nl : end;
    gsize n = (gsize)(eol - line);
    if (n >= strlen(OPTION_KEY) && memcmp(line, OPTION_KEY, strlen(OPTION_KEY)) == 0) {
      const char *hex = line + strlen(OPTION_KEY);
      g_autoptr(GByteArray) bytes = unhex(hex, (gsize)(eol - hex), error);
      if (!bytes)
        return FALSE;
      return ar_provision_dhcp_url_check((const char *)bytes->data, bytes->len, url, error);
    }
    line = eol + 1;
  }
  *url = NULL; /* the server sent no option 224 */
  return TRUE;
}

char *
ar_provision_dhcp_source(const char *url)
{
  g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autofree char *where = uri ? scheme_host(uri) : NULL;
  return where ? g_strconcat("dhcp:", where, NULL) : g_strdup("dhcp");
}
