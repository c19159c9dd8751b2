/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: RAUC's GetSlotStatus answer (a(sa{sv}), GVariant serialised
 * form, untrusted) turned into the status's "slots" array. GDBus validates the
 * wire format; this checks what anyroomd does with any well-typed content
 * (wrong value types, huge strings, many slots, bad UTF-8 in the serialised
 * data).
 */
#include <stdint.h>

#include "ar-update-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 64 * 1024)
    return 0;
  g_autoptr(GBytes) bytes = g_bytes_new(data, size);
  g_autoptr(GVariant) v =
      g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE("a(sa{sv})"), bytes, FALSE));
  g_autofree char *booted = NULL;
  g_autoptr(JsonNode) node = ar_update_slots_to_json(v, &booted);
  /* The result is a JSON array of at most 16 objects that serialises. */
  if (!JSON_NODE_HOLDS_ARRAY(node) || json_array_get_length(json_node_get_array(node)) > 16)
    __builtin_trap();
  g_autofree char *text = json_to_string(node, FALSE);
  if (!text || !g_utf8_validate(text, -1, NULL))
    __builtin_trap();
  return 0;
}
