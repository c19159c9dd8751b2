/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: what a caller hands a room with a call link (docs/room-calls.md), and what a
 * room's call link says to another room. The input is split at the first NUL byte:
 *   - the first part as a call link's fragment (https://10.0.0.5:8443/call#PART) and as a
 *     bearer token; properties: a link that parses is provider "anyroom", its token passes
 *     ar_link_room_call_token_ok(), its pin is 64 lowercase hex or absent, its endpoint is
 *     https://10.0.0.5:8443/api/v1/call; a token that passes the check has the exact shape;
 *   - the second part as a caller's name; properties: the cleaned name is valid UTF-8, not
 *     empty, at most AR_ROOM_CALL_NAME_MAX characters, with no control character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-link.h"
#include "ar-room-call.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean
is_lower_hex(const char *s, gsize n)
{
  if (strlen(s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr(data, 0, size);
  size_t n1 = nul ? (size_t)(nul - data) : size;
  g_autofree char *first = g_strndup((const char *)data, n1);
  g_autofree char *second = nul ? g_strndup((const char *)nul + 1, size - n1 - 1) : NULL;

  g_autofree char *text = g_strconcat("https://10.0.0.5:8443/call#", first, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(text, NULL, &error);
  if (link != NULL) {
    if (g_strcmp0(link->provider, "anyroom") == 0) {
      if (!ar_link_room_call_token_ok(link->passcode))
        abort();
      if (link->tls_pin != NULL && !is_lower_hex(link->tls_pin, 64))
        abort();
      if (g_strcmp0(link->join_url, "https://10.0.0.5:8443/api/v1/call") != 0)
        abort();
    }
  } else if (error == NULL) {
    abort();
  }
  if (ar_link_room_call_token_ok(first) &&
      (!g_str_has_prefix(first, AR_LINK_ROOM_CALL_TOKEN_PREFIX) ||
       !is_lower_hex(first + strlen(AR_LINK_ROOM_CALL_TOKEN_PREFIX), 64)))
    abort();

  g_autofree char *name = ar_room_call_clean_name(second);
  if (name == NULL || !g_utf8_validate(name, -1, NULL) || name[0] == '\0' ||
      g_utf8_strlen(name, -1) > AR_ROOM_CALL_NAME_MAX)
    abort();
  for (const char *c = name; *c; c = g_utf8_next_char(c))
    if (g_unichar_iscntrl(g_utf8_get_char(c)))
      abort();
  return 0;
}
