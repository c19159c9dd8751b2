/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-ice.c: ICE server URIs (RFC 7064 stun:, RFC 7065 turn:/turns:) checked
 * and turned into the forms webrtcbin takes:
 *   stun:host:port                      -> stun://host:port
 *   turn:host:port?transport=tcp + u/p  -> turn://u:p@host:port?transport=tcp
 *   turns:host:443 + u/p                -> turns://u:p@host:443
 * The user name and password are percent-encoded (webrtcbin's GstUri decodes
 * them). Pure functions: no GStreamer, unit-tested.
 */
#include "ar-media.h"

#include <string.h>

#define AR_ICE_URI_MAX 512
#define AR_ICE_HOST_MAX 253
#define AR_ICE_CRED_MAX 512

static gboolean
ar_ice_fail(GError **error, const char *uri, const char *why)
{
  g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "'%s' is not a valid ICE server: %s",
              uri, why);
  return FALSE;
}

static gboolean
ar_ice_host_valid(const char *host, gsize len, gboolean bracketed)
{
  if (len == 0 || len > AR_ICE_HOST_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = host[i];
    if (bracketed) {
      if (!g_ascii_isxdigit(c) && c != ':' && c != '.')
        return FALSE;
    } else if (!g_ascii_isalnum(c) && c != '-' && c != '.') {
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
ar_ice_uri_parse(const char *uri, ArIceUri *out, GError **error)
{
  ArIceUri u = {0};
  const char *p, *host, *host_end, *port_s = NULL;
  gsize port_len = 0;
  gboolean bracketed = FALSE;

  if (uri == NULL || *uri == '\0')
    return ar_ice_fail(error, "", "empty");
  if (strlen(uri) > AR_ICE_URI_MAX || !g_utf8_validate(uri, -1, NULL))
    return ar_ice_fail(error, "(too long or not UTF-8)", "longer than 512 bytes or not text");
  if (g_str_has_prefix(uri, "stun:"))
    u.scheme = AR_ICE_STUN, p = uri + 5;
  else if (g_str_has_prefix(uri, "turns:"))
    u.scheme = AR_ICE_TURNS, p = uri + 6;
  else if (g_str_has_prefix(uri, "turn:"))
    u.scheme = AR_ICE_TURN, p = uri + 5;
  else if (g_str_has_prefix(uri, "stuns:"))
    return ar_ice_fail(error, uri, "stuns: is not supported by libnice");
  else
    return ar_ice_fail(error, uri, "the scheme must be stun:, turn: or turns:");
  if (g_str_has_prefix(p, "//"))
    return ar_ice_fail(error, uri, "write stun:host:port, not stun://host:port (RFC 7064/7065)");
  if (strchr(p, '@'))
    return ar_ice_fail(error, uri,
                       "credentials do not belong in the URI (turn-username/turn-password)");

  /* host: [v6] or name/v4 */
  host = p;
  if (*p == '[') {
    bracketed = TRUE;
    host = ++p;
    host_end = strchr(p, ']');
    if (host_end == NULL)
      return ar_ice_fail(error, uri, "unterminated [IPv6 address]");
    p = host_end + 1;
  } else {
    host_end = p + strcspn(p, ":?");
    p = host_end;
  }
  if (!ar_ice_host_valid(host, host_end - host, bracketed))
    return ar_ice_fail(error, uri, "the host is not a host name or an IP address");
  if (*p == ':') {
    port_s = ++p;
    port_len = strcspn(p, "?");
    p += port_len;
  } else if (*p != '\0' && *p != '?') {
    return ar_ice_fail(error, uri, "unexpected text after the host");
  }
  if (port_s != NULL) {
    char buf[8];
    guint64 v;
    if (port_len == 0 || port_len >= sizeof buf)
      return ar_ice_fail(error, uri, "the port is not a number from 1 to 65535");
    memcpy(buf, port_s, port_len);
    buf[port_len] = '\0';
    if (!g_ascii_string_to_unsigned(buf, 10, 1, 65535, &v, NULL))
      return ar_ice_fail(error, uri, "the port is not a number from 1 to 65535");
    u.port = (guint16)v;
  } else {
    u.port = u.scheme == AR_ICE_TURNS ? 5349 : 3478;
  }
  u.transport = AR_ICE_TRANSPORT_DEFAULT;
  if (*p == '?') {
    p++;
    if (u.scheme == AR_ICE_STUN)
      return ar_ice_fail(error, uri, "stun: URIs take no query");
    if (g_str_equal(p, "transport=udp")) {
      if (u.scheme == AR_ICE_TURNS)
        return ar_ice_fail(error, uri, "turns: runs over TCP (TLS); transport=udp is not possible");
      u.transport = AR_ICE_TRANSPORT_UDP;
    } else if (g_str_equal(p, "transport=tcp")) {
      u.transport = AR_ICE_TRANSPORT_TCP;
    } else {
      return ar_ice_fail(error, uri, "the only query is transport=udp or transport=tcp");
    }
  }
  if (u.scheme == AR_ICE_TURNS)
    u.transport = AR_ICE_TRANSPORT_TCP;
  g_strlcpy(u.host, host, MIN((gsize)(host_end - host) + 1, sizeof u.host));
  u.ipv6 = bracketed;
  *out = u;
  return TRUE;
}

static gboolean
ar_ice_cred_valid(const char *s)
{
  if (s == NULL || *s == '\0' || strlen(s) > AR_ICE_CRED_MAX || !g_utf8_validate(s, -1, NULL))
    return FALSE;
  for (const char *c = s; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      return FALSE;
  return TRUE;
}

char *
ar_ice_uri_to_webrtcbin(const char *uri, const char *username, const char *password, GError **error)
{
  ArIceUri u;
  g_autofree char *host = NULL;

  if (!ar_ice_uri_parse(uri, &u, error))
    return NULL;
  host = u.ipv6 ? g_strdup_printf("[%s]", u.host) : g_strdup(u.host);
  if (u.scheme == AR_ICE_STUN)
    return g_strdup_printf("stun://%s:%u", host, u.port);
  /* Never name the password in an error. */
  if (!ar_ice_cred_valid(username) || !ar_ice_cred_valid(password)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                "TURN server %s needs a user name and a password (printable, at most %d bytes)",
                uri, AR_ICE_CRED_MAX);
    return NULL;
  }
  g_autofree char *user = g_uri_escape_string(username, NULL, FALSE);
  g_autofree char *pass = g_uri_escape_string(password, NULL, FALSE);
  return g_strdup_printf("%s://%s:%s@%s:%u%s", u.scheme == AR_ICE_TURNS ? "turns" : "turn", user,
                         pass, host, u.port,
                         u.scheme == AR_ICE_TURNS              ? ""
                         : u.transport == AR_ICE_TRANSPORT_TCP ? "?transport=tcp"
                         : u.transport == AR_ICE_TRANSPORT_UDP ? "?transport=udp"
                                                               : "");
}

char *
ar_ice_redact(const char *webrtcbin_uri)
{
  const char *at, *colon, *scheme_end;

  if (webrtcbin_uri == NULL)
    return g_strdup("");
  scheme_end = strstr(webrtcbin_uri, "://");
  at = strrchr(webrtcbin_uri, '@');
  if (scheme_end == NULL || at == NULL || at < scheme_end)
    return g_strdup(webrtcbin_uri);
  colon = memchr(scheme_end + 3, ':', at - (scheme_end + 3));
  if (colon == NULL)
    return g_strdup(webrtcbin_uri);
  return g_strdup_printf("%.*s:***%s", (int)(colon - webrtcbin_uri), webrtcbin_uri, at);
}

void
ar_ice_config_clear(ArIceConfig *ice)
{
  if (ice == NULL)
    return;
  g_clear_pointer(&ice->stun, g_free);
  g_clear_pointer(&ice->turn, g_strfreev);
  g_clear_pointer(&ice->tls_ca_file, g_free);
  ice->relay_only = FALSE;
}

gboolean
ar_ice_config_build(ArIceConfig *out, const char *const *stun, const char *const *turn,
                    const char *username, const char *password, gboolean relay_only, GError **error)
{
  g_autofree char *stun_uri = NULL;
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  guint n_turn = 0;

  /* webrtcbin takes one STUN server: the first. */
  if (stun != NULL && stun[0] != NULL) {
    stun_uri = ar_ice_uri_to_webrtcbin(stun[0], NULL, NULL, error);
    if (stun_uri == NULL)
      return FALSE;
    if (!g_str_has_prefix(stun_uri, "stun://")) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "'%s' is not a stun: URI", stun[0]);
      return FALSE;
    }
  }
  for (gsize i = 0; turn != NULL && turn[i] != NULL; i++) {
    ArIceUri u;
    if (!ar_ice_uri_parse(turn[i], &u, error))
      return FALSE;
    if (u.scheme == AR_ICE_STUN) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "'%s' is not a turn: URI", turn[i]);
      return FALSE;
    }
    if (++n_turn > AR_ICE_MAX_TURN) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "more than %d TURN servers",
                  AR_ICE_MAX_TURN);
      return FALSE;
    }
    g_autofree char *w = ar_ice_uri_to_webrtcbin(turn[i], username, password, error);
    if (w == NULL)
      return FALSE;
    g_strv_builder_add(b, w);
  }
  if (relay_only && n_turn == 0) {
    g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                        "relay-only needs at least one TURN server");
    return FALSE;
  }
  g_free(out->stun);
  g_strfreev(out->turn);
  out->stun = g_steal_pointer(&stun_uri);
  out->turn = g_strv_builder_end(b);
  out->relay_only = relay_only;
  return TRUE;
}
