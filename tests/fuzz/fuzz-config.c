/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the anyroomd configuration file. */
#include <stdint.h>

#include "ar-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = ar_config_load_data((const char *)data, size, "fuzz.conf", &error);
  return 0;
}
