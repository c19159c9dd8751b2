/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: Janus signalling messages (WebSocket frames and HTTP long-poll answers). */
#include <stdint.h>

#include "ar-janus-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArJanusMsg) m = ar_janus_msg_parse((const char *)data, size, &error);
  if (m) {
    g_autoptr(GError) e2 = NULL;
    (void)ar_janus_msg_to_error(m, &e2);
  }
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GPtrArray) many = ar_janus_msg_parse_many((const char *)data, size, &e3);
  return 0;
}
