/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: bundle version parsing and ordering, download URL checks (docs/update.md). */
#include <string.h>

#include "ar-update.h"

static int
cmp(const char *a, const char *b)
{
  ArVersion va, vb;
  g_assert_true(ar_version_parse(a, strlen(a), &va, NULL));
  g_assert_true(ar_version_parse(b, strlen(b), &vb, NULL));
  int c = ar_version_compare(&va, &vb);
  g_assert_cmpint(c, ==, -ar_version_compare(&vb, &va)); /* antisymmetric */
  return c;
}

static void
test_order(void)
{
  /* Each is older than the next (SemVer 2.0's own example, and more). */
  const char *chain[] = {
      "0.9",        "0.9.1",        "1.0.0-alpha",   "1.0.0-alpha.1", "1.0.0-alpha.beta",
      "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",    "1.0.0",
      "1.0.1",      "1.2",          "1.9.3",         "1.10.0",        "2",
      "2.0.0.1",    "2026.11.1",    "999999999.0"};
  for (gsize i = 0; i < G_N_ELEMENTS(chain); i++) {
    g_assert_cmpint(cmp(chain[i], chain[i]), ==, 0);
    for (gsize j = i + 1; j < G_N_ELEMENTS(chain); j++) {
      if (cmp(chain[i], chain[j]) >= 0)
        g_error("expected %s < %s", chain[i], chain[j]);
    }
  }
}

static void
test_equal(void)
{
  g_assert_cmpint(cmp("1.2", "1.2.0"), ==, 0);
  g_assert_cmpint(cmp("1.2.0", "1.2.0.0.0"), ==, 0);
  g_assert_cmpint(cmp("v1.2.0", "1.2.0"), ==, 0);
  g_assert_cmpint(cmp("1.2.0+build.5", "1.2.0+other"), ==, 0); /* build ignored */
  g_assert_cmpint(cmp("01.002.0", "1.2.0"), ==, 0);
  g_assert_cmpint(cmp("1.0.0-rc.01", "1.0.0-rc.1"), ==, 0);
}

static void
test_invalid(void)
{
  const char *bad[] = {"",
                       "v",
                       "1.",
                       ".1",
                       "1..2",
                       "1.x",
                       "1.2.3-",
                       "1.2.3+",
                       "1.2.3-a..b",
                       "1.2.3-a_b",
                       "1 2",
                       "-1",
                       "1.2.3.4.5.6.7.8.9",
                       "1234567890",
                       "1.2.3-é",
                       "1.2.3\n",
                       "1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    ArVersion v;
    memset(&v, 0x5a, sizeof v);
    ArVersion before = v;
    g_autoptr(GError) error = NULL;
    if (ar_version_parse(bad[i], strlen(bad[i]), &v, &error))
      g_error("'%s' parsed", bad[i]);
    g_assert_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BAD_VERSION);
    g_assert_true(memcmp(&v, &before, sizeof v) == 0); /* untouched on failure */
  }
  ArVersion v;
  g_assert_false(ar_version_parse(NULL, 0, &v, NULL));
  /* 8 parts of 9 digits is the most */
  g_assert_true(ar_version_parse("999999999.1.2.3.4.5.6.7", 23, &v, NULL));
  g_assert_cmpuint(v.n_num, ==, 8);
}

static void
test_url(void)
{
  const char *good[] = {"https://updates.example.org/anyroom-1.2.0.raucb",
                        "https://10.0.0.5:8443/b.raucb?x=1", "HTTPS://example.org/a"};
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;
    if (!ar_update_check_url(good[i], &error))
      g_error("%s: %s", good[i], error->message);
  }
  const char *bad[] = {"http://updates.example.org/a.raucb",
                       "ftp://example.org/a",
                       "https:///a.raucb",
                       "https://user:pass@example.org/a.raucb",
                       "https://example.org/a b",
                       "https://exämple.org/a",
                       "file:///etc/passwd",
                       "/local/path",
                       "https://example.org/\x01"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    if (ar_update_check_url(bad[i], &error))
      g_error("%s accepted", bad[i]);
    g_assert_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID);
  }
  g_autofree char *longurl = g_strnfill(3000, 'a');
  g_autofree char *u = g_strconcat("https://example.org/", longurl, NULL);
  g_assert_false(ar_update_check_url(u, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/update/version/order", test_order);
  g_test_add_func("/update/version/equal", test_equal);
  g_test_add_func("/update/version/invalid", test_invalid);
  g_test_add_func("/update/url", test_url);
  return g_test_run();
}
