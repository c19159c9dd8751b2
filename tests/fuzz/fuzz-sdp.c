/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the remote SDP's a=fingerprint lines and certificate checks
 * (what decides whether a DTLS peer is the one the signalling named). */
#include <stdint.h>

#include "ar-media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fps = ar_sdp_get_fingerprints(text, &error);
  /* The same bytes as a PEM certificate, checked against what was parsed. */
  g_autoptr(GError) e2 = NULL;
  (void)ar_fingerprint_verify(text, (const char *const *)fps, &e2);
  return 0;
}
