/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: what a WHIP/WHEP endpoint answers (firmware/whip/ar-whip-msg.c). The input is
 * split at NUL bytes: Link header values, and the first part also as a Location (against a fixed
 * endpoint) and a Retry-After. Properties: every ICE server returned has a STUN/TURN URI that
 * parses and a TURN server has credentials; a session URL is http(s), never http from https,
 * and bounded; a Retry-After is within 1..3600; an ICE fragment's candidates each have a mid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-media.h"
#include "ar-whip-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
  size_t start = 0;

  for (size_t i = 0; i <= size && parts->len < 64; i++) {
    if (i == size || data[i] == 0) {
      g_ptr_array_add(parts, g_strndup((const char *)data + start, i - start));
      start = i + 1;
    }
  }
  g_ptr_array_add(parts, NULL);

  g_autoptr(GError) e1 = NULL;
  g_autoptr(GPtrArray) servers =
      ar_whip_parse_ice_links((const char *const *)parts->pdata, NULL, &e1);
  for (guint i = 0; servers != NULL && i < servers->len; i++) {
    ArWhipIceServer *s = servers->pdata[i];
    ArIceUri uri;
    if (!ar_ice_uri_parse(s->uri, &uri, NULL))
      abort();
    if (uri.scheme != AR_ICE_STUN && (s->username == NULL || s->credential == NULL))
      abort();
  }
  if (servers != NULL && servers->len > AR_WHIP_MAX_ICE_SERVERS)
    abort();

  const char *first = parts->pdata[0];
  g_autoptr(GError) e2 = NULL;
  g_autofree char *url = ar_whip_resolve_location("https://sfu.example.net/whip/ep", first, &e2);
  if (url != NULL && (!g_str_has_prefix(url, "https://") || strlen(url) > AR_WHIP_MAX_URL))
    abort();
  /* The whole input as an endpoint's ICE fragment: candidates and mids pair up, bounded. */
  g_autoptr(GError) e3 = NULL;
  g_autoptr(ArWhipSdpfrag) frag = ar_whip_sdpfrag_parse((const char *)data, size, &e3);
  if (frag != NULL && (frag->mids->len != frag->candidates->len ||
                       frag->candidates->len > AR_WHIP_MAX_FRAG_CANDIDATES))
    abort();
  guint seconds = 0;
  if (ar_whip_parse_retry_after(first, 1700000000, &seconds) && (seconds < 1 || seconds > 3600))
    abort();
  return 0;
}
