/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-devices.h"

#include <string.h>

int
ar_devices_video_present(const char *device)
{
  if (!device || !g_str_has_prefix(device, "/dev/"))
    return -1;
  return g_file_test(device, G_FILE_TEST_EXISTS) ? 1 : 0;
}

int
ar_devices_alsa_present(const char *device, const char *proc_asound)
{
  if (!device)
    return -1;
  const char *card = NULL;
  if (g_str_has_prefix(device, "hw:"))
    card = device + 3;
  else if (g_str_has_prefix(device, "plughw:"))
    card = device + 7;
  else
    return -1;
  g_autofree char *name = g_strndup(card, strcspn(card, ","));
  if (g_str_has_prefix(name, "CARD="))
    memmove(name, name + 5, strlen(name + 5) + 1);
  if (!*name || strchr(name, '/') || strlen(name) > 64)
    return 0;
  const char *root = proc_asound ? proc_asound : "/proc/asound";
  g_autofree char *path = NULL;
  guint64 index;
  if (g_ascii_string_to_unsigned(name, 10, 0, 31, &index, NULL))
    path = g_strdup_printf("%s/card%u", root, (guint)index);
  else
    path = g_build_filename(root, name, NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS) ? 1 : 0;
}
