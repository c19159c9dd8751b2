/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * channel-bench.c: an update channel's manifest check and rollout decision
 * (firmware/update/ar-channel.c; docs/fleet.md "Update channels").
 *
 *   channel-bench --source SOURCE_DIR [--runs N]
 *
 * Makes a development CA and signing certificate in a temporary folder with
 * SOURCE_DIR/rootfs/keys/gen-dev-keys.sh and signs two manifests with
 * sign-manifest.sh: a realistic one (8 releases x 6 boards) and a large one
 * (64 releases x 8 boards, the format's release limit). For each it times, N
 * times (default 200), ar_channel_verify (the CMS signature against the
 * keyring), ar_channel_parse and ar_channel_load (both and the checks), and
 * 10,000 rollout decisions (ar_channel_choose for 10,000 machine IDs); prints
 * the medians as a table. One thread; figures, never checks.
 */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar-channel.h"

#define MACHINES 10000
#define BOARD "anyroom-board-3"

static const char *source;
static char *tmpdir;

static void
run(const char *const *argv, const char *const *envp)
{
  g_auto(GStrv) env = g_get_environ();
  for (gsize i = 0; envp && envp[i]; i += 2)
    env = g_environ_setenv(env, envp[i], envp[i + 1], TRUE);
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, &err, &status, &error) ||
      !g_spawn_check_wait_status(status, NULL)) {
    fprintf(stderr, "channel-bench: %s failed: %s\n", argv[1],
            error ? error->message
            : err ? err
                  : "");
    exit(1);
  }
}

static char *
stamp(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* A manifest of @releases releases (1.0.0, 1.1.0, ...) for @boards boards each,
 * the older ones fully rolled out, the newest three in progress. */
static char *
make_manifest(guint releases, guint boards, gint64 now)
{
  g_autoptr(GString) s = g_string_new(NULL);
  g_autofree char *issued = stamp(now - 3600), *expires = stamp(now + 14 * 86400);
  g_string_append_printf(s,
                         "{\n  \"format\": 1,\n  \"channel\": \"stable\",\n  \"serial\": 1042,\n"
                         "  \"issued\": \"%s\",\n  \"expires\": \"%s\",\n  \"releases\": [\n",
                         issued, expires);
  for (guint r = 0; r < releases; r++) {
    g_autofree char *start = stamp(now - (gint64)(releases - r) * 86400);
    g_string_append_printf(s, "    {\n      \"version\": \"1.%u.0\",\n      \"bundles\": {\n", r);
    for (guint b = 0; b < boards; b++) {
      g_autofree char *sha = g_strdup_printf("%u-%u", r, b);
      g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, sha, -1);
      g_string_append_printf(
          s,
          "        \"anyroom-board-%u\": {\"url\": "
          "\"https://updates.example.org/stable/anyroom-board-%u-1.%u.0.raucb\", "
          "\"size\": %u, \"sha256\": \"%s\"}%s\n",
          b, b, r, 300000000 + r * 1000 + b, hex, b + 1 < boards ? "," : "");
    }
    gboolean recent = r + 3 >= releases;
    g_string_append_printf(s,
                           "      },\n      \"rollout\": {\"start\": \"%s\", \"percent_start\": "
                           "%d, \"percent_per_day\": %d, \"paused\": false}\n    }%s\n",
                           start, recent ? 5 : 100, recent ? 10 : 0, r + 1 < releases ? "," : "");
  }
  g_string_append(s, "  ]\n}\n");
  return g_string_free(g_steal_pointer(&s), FALSE);
}

static GBytes *
sign(const char *name, const char *json)
{
  g_autofree char *in = g_strdup_printf("%s/%s.json", tmpdir, name);
  g_autofree char *out = g_strdup_printf("%s/%s.manifest", tmpdir, name);
  if (!g_file_set_contents(in, json, -1, NULL))
    exit(1);
  g_autofree char *script = g_build_filename(source, "rootfs/keys/sign-manifest.sh", NULL);
  g_autofree char *key = g_build_filename(tmpdir, "keys/signing.key.pem", NULL);
  g_autofree char *cert = g_build_filename(tmpdir, "keys/signing.cert.pem", NULL);
  g_autofree char *ring = g_build_filename(tmpdir, "keys/keyring.pem", NULL);
  const char *argv[] = {"bash", script, in, out, NULL};
  const char *env[] = {
      "ANYROOM_SIGNING_KEY", key, "ANYROOM_SIGNING_CERT", cert, "ANYROOM_KEYRING", ring, NULL};
  run(argv, env);
  char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(out, &data, &len, NULL))
    exit(1);
  return g_bytes_new_take(data, len);
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
median(double *v, guint n)
{
  qsort(v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
now_us(void)
{
  return (double)g_get_monotonic_time();
}

static void
bench(const char *label, guint releases, guint boards, const ArChannelKeyring *keyring, guint runs,
      gint64 now, char **ids)
{
  g_autofree char *json = make_manifest(releases, boards, now);
  g_autoptr(GBytes) file = sign(label, json);
  gsize len;
  const guint8 *data = g_bytes_get_data(file, &len);
  g_autofree double *t_verify = g_new(double, runs), *t_parse = g_new(double, runs);
  g_autofree double *t_load = g_new(double, runs), *t_choose = g_new(double, runs);
  ArChannelCheck check = {.channel = "stable", .compatible = BOARD, .now = now};
  guint installs = 0;
  for (guint r = 0; r < runs; r++) {
    g_autoptr(GError) error = NULL;
    double t0 = now_us();
    g_autoptr(GBytes) content = ar_channel_verify(data, len, keyring, now, &error);
    double t1 = now_us();
    g_autoptr(ArChannelManifest) parsed =
        content
            ? ar_channel_parse(g_bytes_get_data(content, NULL), g_bytes_get_size(content), &error)
            : NULL;
    double t2 = now_us();
    g_autoptr(ArChannelManifest) m =
        parsed ? ar_channel_load(data, len, keyring, &check, &error) : NULL;
    double t3 = now_us();
    if (!m) {
      fprintf(stderr, "channel-bench: %s: %s\n", label, error ? error->message : "?");
      exit(1);
    }
    installs = 0;
    for (guint i = 0; i < MACHINES; i++) {
      ArChannelChoice c;
      if (!ar_channel_choose(m, BOARD, ids[i], now, "1.0.0", &c, NULL))
        exit(1);
      installs += c.verdict == AR_CHANNEL_INSTALL;
    }
    double t4 = now_us();
    t_verify[r] = t1 - t0;
    t_parse[r] = t2 - t1;
    t_load[r] = t3 - t2;
    t_choose[r] = t4 - t3;
  }
  double load = median(t_load, runs), choose = median(t_choose, runs);
  printf("| %-26s | %7.1f KiB | %8.2f ms | %8.2f ms | %8.2f ms | %9.1f ms | %7.2f us |\n", label,
         (double)len / 1024, median(t_verify, runs) / 1000, median(t_parse, runs) / 1000,
         load / 1000, choose / 1000, choose / MACHINES);
  (void)installs;
}

static void
remove_tree(const char *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *p = g_build_filename(path, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
      remove_tree(p);
    else
      g_unlink(p);
  }
  g_rmdir(path);
}

int
main(int argc, char **argv)
{
  guint runs = 200;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      guint64 n = g_ascii_strtoull(argv[++i], NULL, 10);
      runs = (guint)CLAMP(n, 1, 100000);
    } else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
      source = argv[++i];
    else {
      fprintf(stderr, "usage: channel-bench --source SOURCE_DIR [--runs N]\n");
      return 2;
    }
  }
  if (!source) {
    fprintf(stderr, "usage: channel-bench --source SOURCE_DIR [--runs N]\n");
    return 2;
  }
  tmpdir = g_dir_make_tmp("ar-channel-bench-XXXXXX", NULL);
  if (!tmpdir)
    return 1;
  g_autofree char *gen = g_build_filename(source, "rootfs/keys/gen-dev-keys.sh", NULL);
  g_autofree char *keys = g_build_filename(tmpdir, "keys", NULL);
  const char *gen_argv[] = {"bash", gen, keys, NULL};
  run(gen_argv, NULL);
  gint64 now = g_get_real_time() / G_USEC_PER_SEC + 2; /* the certificate is valid from now */

  g_autofree char *ring_path = g_build_filename(keys, "keyring.pem", NULL);
  g_autofree char *pem = NULL;
  gsize pem_len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(ring_path, &pem, &pem_len, &error))
    return 1;
  double t0 = now_us();
  g_autoptr(ArChannelKeyring) keyring = ar_channel_keyring_new(pem, pem_len, &error);
  double t_keyring = now_us() - t0;
  if (!keyring)
    return 1;
  g_auto(GStrv) ids = g_new0(char *, MACHINES + 1);
  for (guint i = 0; i < MACHINES; i++) {
    g_autofree char *seed = g_strdup_printf("room-%u", i);
    ids[i] = g_compute_checksum_for_string(G_CHECKSUM_MD5, seed, -1);
  }

  printf("channel-bench: median of %u runs, one thread; ECDSA P-256 signature (gen-dev-keys.sh), "
         "keyring loaded once in %.2f ms\n",
         runs, t_keyring / 1000);
  printf("| %-26s | %11s | %11s | %11s | %11s | %12s | %10s |\n", "manifest", "signed file",
         "verify", "parse", "load (all)", "10,000 rooms", "a decision");
  printf("|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------", "-------------",
         "-------------", "-------------", "-------------", "--------------", "------------");
  bench("8 releases x 6 boards", 8, 6, keyring, runs, now, ids);
  bench("64 releases x 8 boards", 64, 8, keyring, runs, now, ids);
  printf("verify: ar_channel_verify (CMS, chain to the keyring); parse: ar_channel_parse; load: "
         "both and the checks; 10,000 rooms: ar_channel_choose for 10,000 machine IDs\n");
  remove_tree(tmpdir);
  g_free(tmpdir);
  return 0;
}
