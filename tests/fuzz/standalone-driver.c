/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * standalone-driver.c: replays files through any LLVMFuzzerTestOneInput
 * without libFuzzer (so the committed corpora run as ordinary tests).
 *
 *   fuzz-foo-replay FILE|DIR...
 *
 * Every regular file given, and every regular file directly inside a given
 * directory (sorted by name), is read whole and passed once. Exits non-zero
 * if a path cannot be read or if nothing was replayed.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static gboolean
replay_file(const char *path, guint *count)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, &error)) {
    fprintf(stderr, "standalone-driver: %s\n", error->message);
    return FALSE;
  }
  /* a copy of exactly LEN bytes, so ASan sees reads past the end */
  g_autofree uint8_t *copy = g_memdup2(data, len);
  LLVMFuzzerTestOneInput(len ? copy : (const uint8_t *)"", len);
  (*count)++;
  return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
  guint count = 0;
  gboolean ok = TRUE;

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
      ok &= replay_file(argv[i], &count);
      continue;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(argv[i], 0, &error);
    if (dir == NULL) {
      fprintf(stderr, "standalone-driver: %s\n", error->message);
      ok = FALSE;
      continue;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *path = g_build_filename(argv[i], name, NULL);
      if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && name[0] != '.')
        g_ptr_array_add(names, g_steal_pointer(&path));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint k = 0; k < names->len; k++)
      ok &= replay_file(g_ptr_array_index(names, k), &count);
  }
  printf("replayed %u inputs\n", count);
  return ok && count > 0 ? 0 : 1;
}
