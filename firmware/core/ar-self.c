/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-self.h"

#include <unistd.h>

gint64
ar_self_rss_bytes(void)
{
  g_autofree char *statm = NULL;
  long page = sysconf(_SC_PAGESIZE);

  if (page <= 0 || !g_file_get_contents("/proc/self/statm", &statm, NULL, NULL))
    return -1;
  /* "size resident shared ...", in pages. */
  g_auto(GStrv) f = g_strsplit(statm, " ", 3);
  if (g_strv_length(f) < 2)
    return -1;
  return g_ascii_strtoll(f[1], NULL, 10) * page;
}
