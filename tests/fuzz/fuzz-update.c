/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what the update module reads from outside: bundle versions
 * (a bundle's manifest, the version file) and download URLs (an admin's
 * input). Input: VERSION_A '\n' VERSION_B; the whole input is also tried as a
 * URL. Checks the ordering's laws, not only the absence of crashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  const char *text = (const char *)data;
  const char *nl = memchr(text, '\n', size);
  gsize alen = nl ? (gsize)(nl - text) : size;
  ArVersion a, b;
  gboolean ha = ar_version_parse(text, alen, &a, NULL);
  gboolean hb = nl && ar_version_parse(nl + 1, size - alen - 1, &b, NULL);
  if (ha) {
    if (ar_version_compare(&a, &a) != 0)
      abort();
    if (strlen(a.pre) > AR_VERSION_MAX_LEN || a.n_num == 0 || a.n_num > AR_VERSION_MAX_PARTS)
      abort();
  }
  if (ha && hb) {
    int x = ar_version_compare(&a, &b), y = ar_version_compare(&b, &a);
    if ((x < 0) != (y > 0) || (x == 0) != (y == 0))
      abort();
  }
  g_autofree char *url = g_strndup(text, size);
  gboolean url_ok = ar_update_check_url(url, NULL);
  (void)url_ok;
  return 0;
}
