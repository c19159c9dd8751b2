/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: ICE server URIs (config, TURN credentials answers) and the
 * TURN REST credentials JSON fetched from a credentials URL. */
#include <stdint.h>
#include <stdlib.h>

#include "ar-config.h"
#include "ar-media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  ArIceUri uri;
  g_autoptr(GError) e1 = NULL;
  /* Property: whatever parses has a host and a port (defaulted if absent). */
  if (ar_ice_uri_parse(text, &uri, &e1) && (uri.port == 0 || uri.host[0] == '\0'))
    abort();
  g_autoptr(GError) e2 = NULL;
  g_autofree char *w = ar_ice_uri_to_webrtcbin(text, "user", "p@ss:w/rd%", &e2);
  if (w) {
    g_autofree char *redacted = ar_ice_redact(w);
  }
  g_autoptr(GError) e3 = NULL;
  g_autoptr(ArTurnCredentials) creds = ar_turn_credentials_parse((const char *)data, size, &e3);
  return 0;
}
