/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the anyroomd configuration file. */
#include <stdint.h>
#include <stdlib.h>

#include "ar-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = ar_config_load_data((const char *)data, size, "fuzz.conf", &error);
  ArMediaConfig media;

  if (c == NULL)
    return 0;
  /* Property: what the loader accepts, the media engine's own check accepts
   * (anyroomd would otherwise refuse to start with it). */
  ar_config_to_media(c, NULL, &media);
  if (!ar_media_config_check(&media, NULL))
    abort();
  return 0;
}
