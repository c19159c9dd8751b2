/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-link-roomcall.c: the call links a room hands out (docs/room-calls.md):
 *
 *   https://HOST[:PORT]/call#t=arc_<64 hex>[&fp=<64 hex>]
 *
 * HOST is the called room (its LAN address or NAME.local). The token and the
 * SHA-256 of the room's TLS certificate sit in the fragment: a browser never
 * sends them anywhere (the call page reads them), and another Anyroom pins the
 * certificate with fp. -> provider "anyroom", engine native, join_url =
 * "https://HOST[:PORT]/api/v1/call", passcode = the token, tls_pin = fp. */
#include <string.h>

#include "ar-link-priv.h"

static gboolean
is_hex(const char *s, gsize n)
{
  if (strlen(s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
      return FALSE;
  return TRUE;
}

gboolean
ar_link_room_call_token_ok(const char *token)
{
  return token && g_str_has_prefix(token, AR_LINK_ROOM_CALL_TOKEN_PREFIX) &&
         is_hex(token + strlen(AR_LINK_ROOM_CALL_TOKEN_PREFIX), 64);
}

/* TRUE when @url has the shape of a call link (then it is parsed here, and
 * refused here with a clear error when its token or pin is malformed). */
static gboolean
looks_like_call_link(const ArUrl *url)
{
  return url->host && (strcmp(url->scheme, "https") == 0 || strcmp(url->scheme, "http") == 0) &&
         strcmp(url->path, "/call") == 0 && url->fragment &&
         (g_str_has_prefix(url->fragment, "t=") || strstr(url->fragment, "&t="));
}

ArLink *
ar_link_parse_room_call(const ArUrl *url, gboolean *handled, GError **error)
{
  *handled = looks_like_call_link(url);
  if (!*handled)
    return NULL;
  if (strcmp(url->scheme, "https") != 0) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME,
                        "a room's call link is https:// only");
    return NULL;
  }
  if (url->query != NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "a room's call link has no query (https://ROOM/call#t=TOKEN)");
    return NULL;
  }
  g_autofree char *token = NULL, *fp = NULL;
  if (!ar_url_params_get(url->fragment, "t", &token, error) ||
      !ar_url_params_get(url->fragment, "fp", &fp, error)) {
    g_prefix_error(error, "call link: ");
    return NULL;
  }
  if (!ar_link_room_call_token_ok(token)) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the call link's token is malformed (copy the whole link)");
    return NULL;
  }
  if (fp != NULL && !is_hex(fp, 64)) {
    g_set_error_literal(
        error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
        "the call link's certificate fingerprint is malformed (copy the whole link)");
    return NULL;
  }
  GString *ju = g_string_new(NULL);
  ar_url_append_origin(ju, "https", url, 443);
  g_string_append(ju, "/api/v1/call");
  ArLink *link = ar_link_new("anyroom", AR_ENGINE_NATIVE);
  link->passcode = g_steal_pointer(&token);
  link->tls_pin = g_steal_pointer(&fp);
  link->join_url = g_string_free(ju, FALSE);
  return link;
}
