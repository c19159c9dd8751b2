/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests: update channel manifests (firmware/update/ar-channel.c, docs/fleet.md).
 *
 * Self-contained: at start the test makes two development CAs with their signing
 * certificates in its temporary folder with rootfs/keys/gen-dev-keys.sh (the keys the
 * bundles are signed with, the same shape), and signs every manifest with
 * rootfs/keys/sign-manifest.sh, the publisher's tool. Real OpenSSL signatures; times are
 * relative to the clock when the keys were made (certificates are valid from then), and
 * nothing measures time.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "ar-channel.h"
#include "ar-update-priv.h"

#define DAY 86400
#define BOARD "anyroom-qemu-x86_64"
#define SHA "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"

static char *tmpdir;
static const char *srcdir;
static gint64 now;
static ArChannelKeyring *keyring;

static char *
stamp(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void
run(const char *const *argv, const char *const *envp)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_get_environ();
  for (gsize i = 0; envp && envp[i]; i += 2)
    env = g_environ_setenv(env, envp[i], envp[i + 1], TRUE);
  g_assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                             &status, &error));
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("%s failed: %s", argv[0], err);
}

static void
make_keys(const char *name)
{
  g_autofree char *script = g_build_filename(srcdir, "rootfs/keys/gen-dev-keys.sh", NULL);
  g_autofree char *dir = g_build_filename(tmpdir, name, NULL);
  const char *argv[] = {"bash", script, dir, NULL};
  run(argv, NULL);
}

/* @json signed with the keys in tmpdir/@keys by sign-manifest.sh. */
static GBytes *
sign_with(const char *json, const char *keys)
{
  static guint n;
  g_autofree char *in = g_strdup_printf("%s/m%u.json", tmpdir, ++n);
  g_autofree char *out = g_strdup_printf("%s/m%u.manifest", tmpdir, n);
  g_assert_true(g_file_set_contents(in, json, -1, NULL));
  g_autofree char *script = g_build_filename(srcdir, "rootfs/keys/sign-manifest.sh", NULL);
  g_autofree char *key = g_strdup_printf("%s/%s/signing.key.pem", tmpdir, keys);
  g_autofree char *cert = g_strdup_printf("%s/%s/signing.cert.pem", tmpdir, keys);
  g_autofree char *ring = g_strdup_printf("%s/%s/keyring.pem", tmpdir, keys);
  const char *argv[] = {"bash", script, in, out, NULL};
  const char *env[] = {"ANYROOM_SIGNING_KEY",
                       key,
                       "ANYROOM_SIGNING_CERT",
                       cert,
                       "ANYROOM_KEYRING",
                       ring,
                       "ANYROOM_CHANNEL_CHECK",
                       g_getenv("AR_CHANNEL_CHECK"),
                       NULL};
  run(argv, env);
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(out, &data, &len, NULL));
  return g_bytes_new_take(data, len);
}

static GBytes *
sign(const char *json)
{
  return sign_with(json, "ca1");
}

/* A manifest of channel "stable" with @serial, issued/expires relative to now,
 * and @releases (a JSON array's text). */
static char *
manifest(const char *channel, gint64 serial, gint64 issued, gint64 expires, const char *releases)
{
  g_autofree char *i = stamp(issued), *e = stamp(expires);
  return g_strdup_printf("{\"format\": 1, \"channel\": \"%s\", \"serial\": %" G_GINT64_FORMAT
                         ", \"issued\": \"%s\", \"expires\": \"%s\", \"releases\": %s}\n",
                         channel, serial, i, e, releases);
}

/* One release for BOARD whose rollout started @start with the given shares. */
static char *
release(const char *version, gint64 start, double pstart, double pday, gboolean paused)
{
  g_autofree char *s = stamp(start);
  return g_strdup_printf(
      "{\"version\": \"%s\", \"bundles\": {\"" BOARD "\": {\"url\": "
      "\"https://updates.example.org/anyroom-%s.raucb\", \"size\": 123456789, \"sha256\": \"" SHA
      "\"}, \"anyroom-rpi4\": {\"url\": \"https://updates.example.org/rpi4-%s.raucb\", "
      "\"size\": 1, \"sha256\": \"" SHA "\"}}, \"rollout\": {\"start\": \"%s\", "
      "\"percent_start\": %g, \"percent_per_day\": %g, \"paused\": %s}}",
      version, version, version, s, pstart, pday, paused ? "true" : "false");
}

static char *
good_json(gint64 serial)
{
  g_autofree char *r1 = release("1.4.0", now - DAY, 100, 0, FALSE);
  g_autofree char *r2 = release("1.5.0-rc.1", now, 10, 20, FALSE);
  g_autofree char *rels = g_strdup_printf("[%s, %s]", r1, r2);
  return manifest("stable", serial, now - 60, now + 30 * DAY, rels);
}

static ArChannelManifest *
load(GBytes *signed_file, const char *channel, ArChannelSeen last, gint64 at, GError **error)
{
  ArChannelCheck check = {.channel = channel, .compatible = BOARD, .now = at, .last = last};
  gsize len;
  const guint8 *data = g_bytes_get_data(signed_file, &len);
  return ar_channel_load(data, len, keyring, &check, error);
}

static void
assert_refused(GError *error, int code, const char *words)
{
  g_assert_nonnull(error);
  if (!g_error_matches(error, AR_CHANNEL_ERROR, code) || !strstr(error->message, words))
    g_error("expected code %d with \"%s\", got %d: %s", code, words, error->code, error->message);
  g_assert_null(strchr(error->message, '\n'));
  g_test_message("refused: %s", error->message);
}

static void
test_good(void)
{
  g_autofree char *json = good_json(7);
  g_autoptr(GBytes) file = sign(json);
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_autoptr(ArChannelManifest) m = load(file, "stable", none, now, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(m->channel, ==, "stable");
  g_assert_cmpint(m->serial, ==, 7);
  g_assert_cmpint(m->issued, ==, now - 60);
  g_assert_cmpint(m->expires, ==, now + 30 * DAY);
  g_assert_false(m->unchanged);
  g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, json, -1);
  g_assert_cmpstr(m->digest, ==, digest);
  g_assert_cmpuint(m->releases->len, ==, 2);
  const ArChannelRelease *r = g_ptr_array_index(m->releases, 1);
  g_assert_cmpstr(r->version, ==, "1.5.0-rc.1");
  g_assert_cmpint(r->rollout_start, ==, now);
  g_assert_cmpfloat(r->percent_start, ==, 10);
  g_assert_cmpfloat(r->percent_per_day, ==, 20);
  g_assert_false(r->paused);
  g_assert_cmpuint(r->bundles->len, ==, 2);
  const ArChannelBundle *b = g_ptr_array_index(r->bundles, 0);
  g_assert_cmpstr(b->compatible, ==, BOARD);
  g_assert_cmpstr(b->url, ==, "https://updates.example.org/anyroom-1.5.0-rc.1.raucb");
  g_assert_cmpuint(b->size, ==, 123456789);
  g_assert_cmpstr(b->sha256, ==,
                  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

  /* The same file polled again: accepted as unchanged. */
  ArChannelSeen last = {.serial = 7};
  g_strlcpy(last.digest, m->digest, sizeof last.digest);
  g_autoptr(ArChannelManifest) again = load(file, "stable", last, now + 3600, &error);
  g_assert_no_error(error);
  g_assert_true(again->unchanged);
  /* A newer serial after it. */
  g_autofree char *json8 = good_json(8);
  g_autoptr(GBytes) file8 = sign(json8);
  g_autoptr(ArChannelManifest) next = load(file8, "stable", last, now, &error);
  g_assert_no_error(error);
  g_assert_false(next->unchanged);
  /* The signed content is exactly the JSON. */
  gsize len;
  const guint8 *data = g_bytes_get_data(file, &len);
  g_autoptr(GBytes) content = ar_channel_verify(data, len, keyring, now, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(g_bytes_get_data(content, NULL), g_bytes_get_size(content), json, strlen(json));
}

static void
test_tampered(void)
{
  g_autofree char *json = good_json(1);
  g_autoptr(GBytes) file = sign(json);
  gsize len;
  const guint8 *orig = g_bytes_get_data(file, &len);
  ArChannelSeen none = {0};
  /* One byte of the manifest inside the signed file: "percent_start": 10 -> 90. */
  const char *needle = "\"percent_start\": 10";
  g_autofree guint8 *copy = g_memdup2(orig, len);
  guint8 *at = memmem(copy, len, needle, strlen(needle));
  g_assert_nonnull(at);
  at[strlen(needle) - 2] = '9';
  g_autoptr(GBytes) tampered = g_bytes_new(copy, len);
  g_autoptr(GError) error = NULL;
  g_assert_null(load(tampered, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "signature verification failed");
  g_clear_error(&error);
  /* The signature's last byte. */
  g_autofree guint8 *copy2 = g_memdup2(orig, len);
  copy2[len - 1] ^= 0x01;
  g_autoptr(GBytes) badsig = g_bytes_new(copy2, len);
  g_assert_null(load(badsig, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "signature verification failed");
  g_clear_error(&error);
  /* Cut short, and with a byte after the end. */
  g_autoptr(GBytes) cut = g_bytes_new(orig, len - 10);
  g_assert_null(load(cut, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_UNSIGNED, "not a signed channel file");
  g_clear_error(&error);
  g_autofree guint8 *longer = g_malloc(len + 1);
  memcpy(longer, orig, len);
  longer[len] = 0;
  g_autoptr(GBytes) extra = g_bytes_new(longer, len + 1);
  g_assert_null(load(extra, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_UNSIGNED, "not a signed channel file");
}

static void
test_unsigned(void)
{
  g_autofree char *json = good_json(1);
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_autoptr(GBytes) plain = g_bytes_new(json, strlen(json));
  g_assert_null(load(plain, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_UNSIGNED, "not signed");
  g_clear_error(&error);
  g_autoptr(GBytes) junk = g_bytes_new_static("\x30\x82\x01\x00garbage", 12);
  g_assert_null(load(junk, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_UNSIGNED, "not a signed channel file");
  g_clear_error(&error);
  g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
  g_assert_null(load(empty, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "1 to");
  g_clear_error(&error);
  /* A detached signature (the content not inside) is not a channel file. */
  g_autofree char *in = g_build_filename(tmpdir, "detached.json", NULL);
  g_autofree char *out = g_build_filename(tmpdir, "detached.p7s", NULL);
  g_assert_true(g_file_set_contents(in, json, -1, NULL));
  g_autofree char *key = g_build_filename(tmpdir, "ca1/signing.key.pem", NULL);
  g_autofree char *cert = g_build_filename(tmpdir, "ca1/signing.cert.pem", NULL);
  const char *argv[] = {"openssl", "cms", "-sign",  "-binary", "-outform", "DER", "-in", in,
                        "-signer", cert,  "-inkey", key,       "-out",     out,   NULL};
  run(argv, NULL);
  char *data;
  gsize len;
  g_assert_true(g_file_get_contents(out, &data, &len, NULL));
  g_autoptr(GBytes) detached = g_bytes_new_take(data, len);
  g_assert_null(load(detached, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_UNSIGNED, "holds no manifest");
}

static void
test_other_ca(void)
{
  g_autofree char *json = good_json(1);
  g_autoptr(GBytes) file = sign_with(json, "ca2");
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_assert_null(load(file, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "unable to get local issuer certificate");
}

/* The signing certificate's own validity is checked at the given time. */
static void
test_certificate_time(void)
{
  g_autofree char *json = good_json(1);
  g_autoptr(GBytes) file = sign(json);
  gsize len;
  const guint8 *data = g_bytes_get_data(file, &len);
  g_autoptr(GError) error = NULL;
  /* gen-dev-keys.sh: 5 years */
  g_assert_null(ar_channel_verify(data, len, keyring, now + 6 * 366 * (gint64)DAY, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "certificate has expired");
  g_clear_error(&error);
  g_assert_null(ar_channel_verify(data, len, keyring, now - 2 * DAY, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "not yet valid");
}

/* As RAUC by default: a signer with extendedKeyUsage=codeSigning is refused. */
static void
test_code_signing_eku(void)
{
  g_autofree char *dir = g_build_filename(tmpdir, "ca1", NULL);
  g_autofree char *cnf = g_build_filename(tmpdir, "eku.cnf", NULL);
  g_assert_true(g_file_set_contents(cnf,
                                    "[ eku ]\nbasicConstraints = critical, CA:false\n"
                                    "keyUsage = critical, digitalSignature\n"
                                    "extendedKeyUsage = codeSigning\n",
                                    -1, NULL));
  g_autofree char *key = g_build_filename(tmpdir, "eku/signing.key.pem", NULL);
  g_autofree char *csr = g_build_filename(tmpdir, "eku/signing.csr", NULL);
  g_autofree char *cert = g_build_filename(tmpdir, "eku/signing.cert.pem", NULL);
  g_autofree char *ring = g_build_filename(tmpdir, "eku/keyring.pem", NULL);
  g_autofree char *cakey = g_build_filename(dir, "ca.key.pem", NULL);
  g_autofree char *cacert = g_build_filename(dir, "ca.cert.pem", NULL);
  g_autofree char *ekudir = g_build_filename(tmpdir, "eku", NULL);
  g_assert_cmpint(g_mkdir_with_parents(ekudir, 0700), ==, 0);
  const char *gen[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey",
                       "-noout",  "-out",    key,     NULL};
  run(gen, NULL);
  const char *req[] = {"openssl",        "req",  "-new", "-key", key, "-subj",
                       "/CN=eku signer", "-out", csr,    NULL};
  run(req, NULL);
  const char *x509[] = {"openssl", "x509",        "-req",        "-in",  csr,     "-CA", cacert,
                        "-CAkey",  cakey,         "-set_serial", "7",    "-days", "30",  "-extfile",
                        cnf,       "-extensions", "eku",         "-out", cert,    NULL};
  run(x509, NULL);
  g_autofree char *ca = NULL;
  g_assert_true(g_file_get_contents(cacert, &ca, NULL, NULL));
  g_assert_true(g_file_set_contents(ring, ca, -1, NULL));
  g_autofree char *json = good_json(1);
  g_autofree char *in = g_build_filename(tmpdir, "eku.json", NULL);
  g_autofree char *out = g_build_filename(tmpdir, "eku.manifest", NULL);
  g_assert_true(g_file_set_contents(in, json, -1, NULL));
  /* sign-manifest.sh refuses to write it (its check is the device's). */
  g_autofree char *script = g_build_filename(srcdir, "rootfs/keys/sign-manifest.sh", NULL);
  const char *tool[] = {"bash", script, in, out, NULL};
  g_auto(GStrv) env = g_get_environ();
  env = g_environ_setenv(env, "ANYROOM_SIGNING_KEY", key, TRUE);
  env = g_environ_setenv(env, "ANYROOM_SIGNING_CERT", cert, TRUE);
  env = g_environ_setenv(env, "ANYROOM_KEYRING", ring, TRUE);
  g_autofree char *err = NULL;
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)tool, env,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &err, &status, NULL));
  g_assert_false(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(err, "does not verify against"));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  /* Signed by hand, the device refuses it. */
  const char *sig[] = {"openssl", "cms",  "-sign", "-binary", "-nodetach", "-outform",
                       "DER",     "-in",  in,      "-signer", cert,        "-inkey",
                       key,       "-out", out,     NULL};
  run(sig, NULL);
  char *data;
  gsize len;
  g_assert_true(g_file_get_contents(out, &data, &len, NULL));
  g_autoptr(GBytes) file = g_bytes_new_take(data, len);
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_assert_null(load(file, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_SIGNATURE, "unsuitable certificate purpose");
}

static void
test_times(void)
{
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_autofree char *rel = release("1.4.0", now, 100, 0, FALSE);
  g_autofree char *rels = g_strdup_printf("[%s]", rel);
  /* Expired (the device's clock past "expires"). */
  g_autofree char *old = manifest("stable", 1, now - 10 * DAY, now - DAY, rels);
  g_autoptr(GBytes) f1 = sign(old);
  g_assert_null(load(f1, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_EXPIRED, "expired at");
  g_clear_error(&error);
  /* Valid now, expired when checked later. */
  g_autofree char *good = manifest("stable", 1, now - 60, now + DAY, rels);
  g_autoptr(GBytes) f2 = sign(good);
  g_assert_null(load(f2, "stable", none, now + DAY, &error));
  assert_refused(error, AR_CHANNEL_ERROR_EXPIRED, "expired at");
  g_clear_error(&error);
  /* Issued in the future beyond the allowed skew; within it, accepted. */
  g_autofree char *future =
      manifest("stable", 1, now + AR_CHANNEL_CLOCK_SKEW_S + 60, now + DAY, rels);
  g_autoptr(GBytes) f3 = sign(future);
  g_assert_null(load(f3, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_EXPIRED, "in the future");
  g_clear_error(&error);
  g_autofree char *skewed =
      manifest("stable", 1, now + AR_CHANNEL_CLOCK_SKEW_S - 60, now + DAY, rels);
  g_autoptr(GBytes) f4 = sign(skewed);
  g_autoptr(ArChannelManifest) m = load(f4, "stable", none, now, &error);
  g_assert_no_error(error);
  g_assert_nonnull(m);
}

static void
test_replay(void)
{
  g_autofree char *json = good_json(41);
  g_autoptr(GBytes) file = sign(json);
  g_autoptr(GError) error = NULL;
  ArChannelSeen last = {.serial = 42, .digest = "x"};
  g_assert_null(load(file, "stable", last, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_REPLAY, "older than the last accepted 42");
  g_clear_error(&error);
  /* Same serial, other content (the 41 re-signed with other times). */
  last.serial = 41;
  g_assert_null(load(file, "stable", last, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_REPLAY, "accepted before with other content");
}

static void
test_wrong_channel(void)
{
  g_autofree char *rel = release("1.4.0", now, 100, 0, FALSE);
  g_autofree char *rels = g_strdup_printf("[%s]", rel);
  g_autofree char *json = manifest("preview", 1, now, now + DAY, rels);
  g_autoptr(GBytes) file = sign(json);
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_assert_null(load(file, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_CHANNEL, "channel 'preview', the device follows 'stable'");
  g_clear_error(&error);
  g_autoptr(ArChannelManifest) m = load(file, "preview", none, now, &error);
  g_assert_no_error(error);
  g_assert_nonnull(m);
}

static void
test_no_bundle(void)
{
  g_autofree char *s = stamp(now);
  g_autofree char *rels =
      g_strdup_printf("[{\"version\": \"1.4.0\", \"bundles\": {\"anyroom-rpi4\": {\"url\": "
                      "\"https://u.example/a\", "
                      "\"size\": 5, \"sha256\": \"" SHA "\"}}, \"rollout\": {\"start\": \"%s\", "
                      "\"percent_start\": 100}}]",
                      s);
  g_autofree char *json = manifest("stable", 1, now, now + DAY, rels);
  g_autoptr(GBytes) file = sign(json);
  g_autoptr(GError) error = NULL;
  ArChannelSeen none = {0};
  g_assert_null(load(file, "stable", none, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_NO_BUNDLE, "no bundle for this board ('" BOARD "')");
}

/* Hostile or broken manifests, parsed (the signature is not what they test). */
static void
test_hostile(void)
{
#define HEAD "{\"format\": 1, \"channel\": \"stable\", \"serial\": 1, "
#define TIMES "\"issued\": \"2026-12-01T10:00:00Z\", \"expires\": \"2026-12-31T10:00:00Z\", "
#define ROLL "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\", \"percent_start\": 10}"
#define BUNDLE(url, size, sha)                                                                     \
  "\"bundles\": {\"b\": {\"url\": \"" url "\", \"size\": " size ", \"sha256\": \"" sha "\"}}"
#define REL(ver, bundle, roll) "{\"version\": \"" ver "\", " bundle ", " roll "}"
#define MAN(rels) HEAD TIMES "\"releases\": [" rels "]}"
#define OK_B BUNDLE("https://u.example/a.raucb", "5", SHA)
  static const struct {
    const char *json, *words;
  } cases[] = {
      {MAN(REL("1.0", OK_B, ROLL)), NULL}, /* the base case parses */
      {MAN(REL("1.0", BUNDLE("http://u.example/a.raucb", "5", SHA), ROLL)), "https:// only"},
      {MAN(REL("1.0", BUNDLE("https://user:pw@u.example/a", "5", SHA), ROLL)), "user names"},
      {MAN(REL("1.0", BUNDLE("https:///a", "5", SHA), ROLL)), "\"url\""},
      {MAN(REL("1.0", BUNDLE("https://u.example/a b", "5", SHA), ROLL)), "without spaces"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "5", "00"), ROLL)), "64 hexadecimal"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "5", "g" SHA), ROLL)), "\"sha256\""},
      {MAN(REL("1.0",
               BUNDLE("https://u.example/a", "5",
                      "0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
               ROLL)),
       "64 hexadecimal"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "0", SHA), ROLL)), "\"size\" is 0"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "-1", SHA), ROLL)), "\"size\" is -1"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "68719476737", SHA), ROLL)), "not within"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "99999999999999999999", SHA), ROLL)),
       "not JSON"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "5.5", SHA), ROLL)), "must be an integer"},
      {MAN(REL("1.0", BUNDLE("https://u.example/a", "\"5\"", SHA), ROLL)), "must be an integer"},
      {MAN(REL("1.x", OK_B, ROLL)), "not a version"},
      {MAN(REL("1.0\\n2", OK_B, ROLL)), "'1.0?2' is not a version"}, /* one line */
      {HEAD TIMES "\"releases\": [], \"x\\ny\": 1}", "unknown member \"x?y\""},
      {MAN(REL("1.0", OK_B, ROLL) "," REL("1.0.0", OK_B, ROLL)), "already releases[0]"},
      {MAN(REL("1.0", "\"bundles\": {}", ROLL)), "1 to 64 boards"},
      {MAN(REL("1.0", "\"bundles\": {\"a b\": {}}", ROLL)), "compatible"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\", \"percent_start\": 120}")),
       "within 0..100"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\", \"percent_start\": -1}")),
       "within 0..100"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\", \"percent_start\": 1, "
               "\"pasued\": true}")),
       "unknown member \"pasued\""},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\", \"percent_start\": 1, "
               "\"paused\": 1}")),
       "true or false"},
      {MAN(REL("1.0", OK_B, "\"rollout\": {\"start\": \"2026-12-01\", \"percent_start\": 1}")),
       "RFC 3339"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-12-01T10:00:00\", \"percent_start\": 1}")),
       "RFC 3339"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-W48-1T10:00:00Z\", \"percent_start\": 1}")),
       "RFC 3339"},
      {MAN(REL("1.0", OK_B,
               "\"rollout\": {\"start\": \"2026-13-01T10:00:00Z\", \"percent_start\": 1}")),
       "RFC 3339"},
      {MAN(REL("1.0", OK_B, "\"rollout\": {\"percent_start\": 1}")), "\"start\" is missing"},
      {MAN(REL("1.0", OK_B, "\"rollout\": {\"start\": \"2026-12-01T10:00:00Z\"}")),
       "\"percent_start\" is missing"},
      {MAN("{\"version\": \"1.0\", " ROLL "}"), "\"bundles\" is missing"},
      {MAN("{" OK_B ", " ROLL "}"), "\"version\" is missing"},
      {MAN("{\"version\": \"1.0\", " OK_B "}"), "\"rollout\" is missing"},
      {MAN(""), "1 to 64 entries"},
      {MAN("1"), "must be an object"},
      {HEAD TIMES "\"releases\": {}}", "must be an array"},
      {HEAD TIMES "\"releases\": [], \"extra\": 1}", "unknown member \"extra\""},
      {"{\"channel\": \"stable\", \"serial\": 1, " TIMES "\"releases\": []}",
       "\"format\" is missing"},
      {"{\"format\": 2, \"channel\": \"stable\", \"serial\": 1, " TIMES "\"releases\": []}",
       "format 2 is not known"},
      {"{\"format\": 1, \"serial\": 1, " TIMES "\"releases\": []}", "\"channel\" is missing"},
      {"{\"format\": 1, \"channel\": \"../x\", \"serial\": 1, " TIMES "\"releases\": []}",
       "letters, digits"},
      {"{\"format\": 1, \"channel\": \"stable\", " TIMES "\"releases\": []}",
       "\"serial\" is missing"},
      {"{\"format\": 1, \"channel\": \"stable\", \"serial\": 0, " TIMES "\"releases\": []}",
       "\"serial\" is 0"},
      {"{\"format\": 1, \"channel\": \"stable\", \"serial\": 9007199254740992, " TIMES
       "\"releases\": []}",
       "not within"},
      {HEAD "\"expires\": \"2026-12-31T10:00:00Z\", \"releases\": []}", "\"issued\" is missing"},
      {HEAD "\"issued\": \"2026-12-01T10:00:00Z\", \"releases\": []}", "\"expires\" is missing"},
      {HEAD "\"issued\": \"2026-12-31T10:00:00Z\", \"expires\": \"2026-12-01T10:00:00Z\", "
            "\"releases\": [" REL("1.0", OK_B, ROLL) "]}",
       "must be after"},
      {HEAD TIMES "\"releases\": []", "not JSON"},
      {HEAD TIMES "\"releases\": []} x", "not JSON"},
      {"[1, 2]", "must be a JSON object"},
      {"{\"format\": 1, \"channel\": \"st\\u0000able\"}", "not JSON"},
      {"{\"format\": 1, \"channel\": \"st\xff\"}", "not JSON"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArChannelManifest) m = ar_channel_parse(cases[i].json, strlen(cases[i].json), &error);
    if (!cases[i].words) {
      g_assert_no_error(error);
      g_assert_nonnull(m);
      continue;
    }
    if (m)
      g_error("case %" G_GSIZE_FORMAT " parsed but should not: %s", i, cases[i].json);
    assert_refused(error, AR_CHANNEL_ERROR_INVALID, cases[i].words);
  }
  /* Deep nesting, over-long input, too many releases, long strings. */
  g_autoptr(GString) deep = g_string_new(HEAD TIMES "\"releases\": ");
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, '[');
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_channel_parse(deep->str, deep->len, &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "deeper");
  g_clear_error(&error);
  g_autoptr(GString) huge = g_string_new(HEAD TIMES "\"releases\": [");
  while (huge->len <= AR_CHANNEL_MAX_FILE)
    g_string_append(huge, REL("1.0", OK_B, ROLL) ",");
  g_assert_null(ar_channel_parse(huge->str, huge->len, &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "1 to 262144 bytes");
  g_clear_error(&error);
  g_autoptr(GString) many = g_string_new(HEAD TIMES "\"releases\": [");
  for (int i = 0; i <= AR_CHANNEL_MAX_RELEASES; i++)
    g_string_append_printf(many, "%s{\"version\": \"1.%d\", " OK_B ", " ROLL "}", i ? "," : "", i);
  g_string_append(many, "]}");
  g_assert_null(ar_channel_parse(many->str, many->len, &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "1 to 64 entries");
  g_clear_error(&error);
  g_autofree char *longurl = g_strnfill(3000, 'a');
  g_autofree char *lj = g_strdup_printf(MAN("{\"version\": \"1.0\", \"bundles\": {\"b\": {\"url\": "
                                            "\"https://u.example/%s\", \"size\": 5, \"sha256\": "
                                            "\"" SHA "\"}}, " ROLL "}"),
                                        longurl);
  g_assert_null(ar_channel_parse(lj, strlen(lj), &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "1 to 2048 characters");
  g_clear_error(&error);
  /* A huge signed-file input is refused before anything is read. */
  g_autofree guint8 *big = g_malloc0(AR_CHANNEL_MAX_FILE + 1);
  g_assert_null(ar_channel_verify(big, AR_CHANNEL_MAX_FILE + 1, keyring, now, &error));
  assert_refused(error, AR_CHANNEL_ERROR_INVALID, "1 to 262144 bytes");
}

/* A parsed one-release manifest for the rollout tests (no signature needed). */
static ArChannelManifest *
parse_releases(const char *first, ...)
{
  g_autoptr(GString) rels = g_string_new("[");
  va_list ap;
  va_start(ap, first);
  for (const char *r = first; r; r = va_arg(ap, const char *))
    g_string_append_printf(rels, "%s%s", rels->len > 1 ? ", " : "", r);
  va_end(ap);
  g_string_append(rels, "]");
  g_autofree char *json = manifest("stable", 1, now, now + DAY, rels->str);
  g_autoptr(GError) error = NULL;
  ArChannelManifest *m = ar_channel_parse(json, strlen(json), &error);
  g_assert_no_error(error);
  return m;
}

#define MACHINES 10000

static char *
machine_id(int i)
{
  g_autofree char *seed = g_strdup_printf("room-%d", i);
  return g_compute_checksum_for_string(G_CHECKSUM_MD5, seed, -1); /* 32 hex, as machine-id */
}

static void
test_rollout_share(void)
{
  gint64 start = now;
  g_autofree char *r = release("1.4.0", start, 10, 20, FALSE);
  g_autoptr(ArChannelManifest) m = parse_releases(r, NULL);
  /* 10 % at the start, +20 % a day: 10, 30, 50 %, then 100 % from day 4.5. */
  const struct {
    gint64 at;
    double expected;
  } points[] = {{start - 1, 0},
                {start, 10},
                {start + DAY, 30},
                {start + 2 * DAY, 50},
                {start + 3 * DAY + DAY / 2, 80},
                {start + 5 * DAY, 100},
                {start + 400 * DAY, 100}};
  g_autofree gboolean *was_in = g_new0(gboolean, MACHINES);
  g_auto(GStrv) ids = g_new0(char *, MACHINES + 1);
  for (int i = 0; i < MACHINES; i++)
    ids[i] = machine_id(i);
  for (gsize p = 0; p < G_N_ELEMENTS(points); p++) {
    const ArChannelRelease *rel = g_ptr_array_index(m->releases, 0);
    g_assert_cmpfloat_with_epsilon(ar_channel_rollout_share(rel, points[p].at), points[p].expected,
                                   1e-9);
    int in = 0;
    for (int i = 0; i < MACHINES; i++) {
      ArChannelChoice c;
      g_assert_true(ar_channel_choose(m, BOARD, ids[i], points[p].at, "1.3.0", &c, NULL));
      gboolean install = c.verdict == AR_CHANNEL_INSTALL;
      if (install) {
        g_assert_cmpstr(c.release->version, ==, "1.4.0");
        g_assert_true(c.place < c.share);
        in++;
      } else {
        g_assert_cmpint(c.verdict, ==, AR_CHANNEL_WAITING);
        g_assert_true(c.place >= c.share);
      }
      /* Monotone: a room included at t stays included later. */
      if (was_in[i] && !install)
        g_error("machine %d was in the rollout and left it at point %" G_GSIZE_FORMAT, i, p);
      was_in[i] = install;
    }
    double share = 100.0 * in / MACHINES;
    g_test_message("at %+.1f days: %.2f %% of %d machines (expected %.0f %%)",
                   (double)(points[p].at - start) / DAY, share, MACHINES, points[p].expected);
    g_assert_cmpfloat(fabs(share - points[p].expected), <=, 2.0);
    if (points[p].expected == 0)
      g_assert_cmpint(in, ==, 0);
    if (points[p].expected == 100)
      g_assert_cmpint(in, ==, MACHINES);
  }
  /* Paused: nobody, even at 100 %. */
  g_autofree char *rp = release("1.4.0", start - 10 * DAY, 100, 0, TRUE);
  g_autoptr(ArChannelManifest) paused = parse_releases(rp, NULL);
  for (int i = 0; i < MACHINES; i++) {
    ArChannelChoice c;
    g_assert_true(ar_channel_choose(paused, BOARD, ids[i], now, "1.3.0", &c, NULL));
    g_assert_cmpint(c.verdict, ==, AR_CHANNEL_WAITING);
    g_assert_cmpfloat(c.share, ==, 0);
  }
  /* The place is per release: the first 10 % of 1.4.0 are not the first 10 % of 1.5.0. */
  int both = 0, first = 0;
  for (int i = 0; i < MACHINES; i++) {
    double a = ar_channel_rollout_place(ids[i], "1.4.0");
    double b = ar_channel_rollout_place(ids[i], "1.5.0");
    g_assert_true(a >= 0 && a < 100 && b >= 0 && b < 100);
    g_assert_cmpfloat(a, ==, ar_channel_rollout_place(ids[i], "1.4.0")); /* stable */
    first += a < 10;
    both += a < 10 && b < 10;
  }
  g_test_message("first 10 %%: %d machines for 1.4.0, %d of them also first for 1.5.0", first,
                 both);
  g_assert_cmpint(both, <, first / 4);
}

static void
test_choose(void)
{
  g_autofree char *r14 = release("1.4.0", now - DAY, 100, 0, FALSE);
  g_autofree char *r15 = release("1.5.0", now - DAY, 100, 0, FALSE);
  g_autofree char *r16z = release("1.6.0", now, 0, 0, FALSE);
  g_autofree char *r13 = release("1.3.0", now - DAY, 100, 0, FALSE);
  const char *id = "0123456789abcdef0123456789abcdef";
  ArChannelChoice c;
  g_autoptr(GError) error = NULL;
  /* The newest eligible, wherever it is in the file. */
  g_autoptr(ArChannelManifest) m1 = parse_releases(r15, r14, r13, NULL);
  g_assert_true(ar_channel_choose(m1, BOARD, id, now, "1.2.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_INSTALL);
  g_assert_cmpstr(c.release->version, ==, "1.5.0");
  g_assert_cmpstr(c.bundle->compatible, ==, BOARD);
  g_assert_cmpstr(c.bundle->url, ==, "https://updates.example.org/anyroom-1.5.0.raucb");
  g_autoptr(ArChannelManifest) m2 = parse_releases(r14, r15, NULL);
  g_assert_true(ar_channel_choose(m2, BOARD, id, now, "1.2.0", &c, &error));
  g_assert_cmpstr(c.release->version, ==, "1.5.0");
  /* The newest not started yet: the one before it, and the newest is shown as waiting. */
  g_autoptr(ArChannelManifest) m3 = parse_releases(r16z, r14, NULL);
  g_assert_true(ar_channel_choose(m3, BOARD, id, now, "1.2.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_INSTALL);
  g_assert_cmpstr(c.release->version, ==, "1.4.0");
  g_assert_true(ar_channel_choose(m3, BOARD, id, now, "1.4.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_WAITING);
  g_assert_cmpstr(c.release->version, ==, "1.6.0");
  g_assert_cmpfloat(c.share, ==, 0);
  /* Never the same version or a downgrade. */
  g_assert_true(ar_channel_choose(m1, BOARD, id, now, "1.5.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_UP_TO_DATE);
  g_assert_null(c.release);
  g_assert_true(ar_channel_choose(m1, BOARD, id, now, "2.0.0-rc.1", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_UP_TO_DATE);
  /* A pre-release is older than its release. */
  g_assert_true(ar_channel_choose(m1, BOARD, id, now, "1.5.0-rc.2", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_INSTALL);
  g_assert_cmpstr(c.release->version, ==, "1.5.0");
  /* Another board's release is not ours. */
  g_assert_true(ar_channel_choose(m1, "anyroom-other", id, now, "1.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_UP_TO_DATE);
  g_assert_no_error(error);
  /* Any time the caller gives (no overflow): before everything, after everything. */
  g_assert_true(ar_channel_choose(m1, BOARD, id, G_MININT64, "1.2.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_WAITING);
  g_assert_true(ar_channel_choose(m1, BOARD, id, G_MAXINT64, "1.2.0", &c, &error));
  g_assert_cmpint(c.verdict, ==, AR_CHANNEL_INSTALL);
  g_assert_no_error(error);
  /* Bad arguments: FALSE, the choice untouched. */
  ArChannelChoice before = {.verdict = 77};
  ArChannelChoice untouched = before;
  g_assert_false(ar_channel_choose(m1, BOARD, "", now, "1.0", &untouched, &error));
  assert_refused(error, AR_CHANNEL_ERROR_BAD_INPUT, "machine ID");
  g_clear_error(&error);
  g_assert_false(ar_channel_choose(m1, BOARD, "id\nx", now, "1.0", &untouched, &error));
  assert_refused(error, AR_CHANNEL_ERROR_BAD_INPUT, "machine ID");
  g_clear_error(&error);
  g_assert_false(ar_channel_choose(m1, BOARD, id, now, "one", &untouched, &error));
  assert_refused(error, AR_CHANNEL_ERROR_BAD_INPUT, "running version");
  g_assert_cmpint(untouched.verdict, ==, 77);
}

static void
test_keyring(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_channel_keyring_new("not a pem", 9, &error));
  assert_refused(error, AR_CHANNEL_ERROR_KEYRING, "no PEM certificate");
  g_clear_error(&error);
  g_assert_null(ar_channel_keyring_new("", 0, &error));
  assert_refused(error, AR_CHANNEL_ERROR_KEYRING, "PEM");
}

/* Runs anyroom-channel-check with @args; its exit status and output. */
static int
check_tool(const char *const *args, char **output)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("AR_CHANNEL_CHECK"));
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                             NULL, output, NULL, &status, NULL));
  g_assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* The publisher's tools: anyroom-channel-check, and sign-manifest.sh refusing to sign what a
 * room would refuse. */
static void
test_publisher_tools(void)
{
  g_autofree char *json = good_json(3);
  g_autoptr(GBytes) file = sign(json);
  g_autofree char *path = g_build_filename(tmpdir, "tool.manifest", NULL);
  g_assert_true(
      g_file_set_contents(path, g_bytes_get_data(file, NULL), g_bytes_get_size(file), NULL));
  g_autofree char *ring = g_build_filename(tmpdir, "ca1/keyring.pem", NULL);
  g_autofree char *at = stamp(now);
  g_autofree char *out = NULL;
  const char *full[] = {"--keyring",    ring,
                        "--channel",    "stable",
                        "--compatible", BOARD,
                        "--now",        at,
                        "--machine-id", "0123456789abcdef0123456789abcdef",
                        "--running",    "1.3.0",
                        path,           NULL};
  g_assert_cmpint(check_tool(full, &out), ==, 0);
  g_assert_nonnull(strstr(out, "ok (signature, format and a room's checks): channel stable, "
                               "serial 3"));
  g_assert_nonnull(strstr(out, "1.4.0: 2 boards, rollout 100.0 % now"));
  g_assert_nonnull(strstr(out, "choice for " BOARD " at 1.3.0: install 1.4.0"));
  g_clear_pointer(&out, g_free);
  const char *other[] = {"--keyring",    ring,  "--channel", "preview",
                         "--compatible", BOARD, path,        NULL};
  g_assert_cmpint(check_tool(other, &out), ==, 1);
  g_assert_nonnull(strstr(out, "refused: this is the manifest of channel 'stable'"));
  g_clear_pointer(&out, g_free);
  const char *nokeyring[] = {path, NULL};
  g_assert_cmpint(check_tool(nokeyring, &out), ==, 2);
  g_clear_pointer(&out, g_free);

  /* A manifest a room would refuse is not signed. */
  g_autofree char *bad = g_strdup(json);
  char *sha = strstr(bad, "\"sha256\": \"");
  g_assert_nonnull(sha);
  sha[12] = 'x';
  g_autofree char *in = g_build_filename(tmpdir, "bad.json", NULL);
  g_autofree char *signed_bad = g_build_filename(tmpdir, "bad.manifest", NULL);
  g_assert_true(g_file_set_contents(in, bad, -1, NULL));
  const char *json_only[] = {in, NULL};
  g_assert_cmpint(check_tool(json_only, &out), ==, 1);
  g_assert_nonnull(strstr(out, "refused: releases[0].bundles[\"" BOARD "\"]: \"sha256\""));
  g_clear_pointer(&out, g_free);
  g_autofree char *script = g_build_filename(srcdir, "rootfs/keys/sign-manifest.sh", NULL);
  g_autofree char *key = g_build_filename(tmpdir, "ca1/signing.key.pem", NULL);
  g_autofree char *cert = g_build_filename(tmpdir, "ca1/signing.cert.pem", NULL);
  const char *argv[] = {"bash", script, in, signed_bad, NULL};
  g_auto(GStrv) env = g_get_environ();
  env = g_environ_setenv(env, "ANYROOM_SIGNING_KEY", key, TRUE);
  env = g_environ_setenv(env, "ANYROOM_SIGNING_CERT", cert, TRUE);
  env = g_environ_setenv(env, "ANYROOM_KEYRING", ring, TRUE);
  env = g_environ_setenv(env, "ANYROOM_CHANNEL_CHECK", g_getenv("AR_CHANNEL_CHECK"), TRUE);
  g_autofree char *err = NULL;
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, env,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &err, &status, NULL));
  g_assert_false(g_spawn_check_wait_status(status, NULL));
  g_assert_nonnull(strstr(err, "not signed: refused: releases[0]"));
  g_assert_false(g_file_test(signed_bad, G_FILE_TEST_EXISTS));
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

/* The poller's delay before jitter (ar-channel-poll.c): the interval after a
 * success; after failures 1 min doubling, never above the interval. */
static void
test_poll_delay(void)
{
  const guint six_h = 6 * 3600;
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 0), ==, six_h);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 1), ==, 60);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 2), ==, 120);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 3), ==, 240);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 9), ==, 15360);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 10), ==, six_h);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, 1000), ==, six_h);
  g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, G_MAXUINT), ==, six_h);
  /* An interval below the first backoff: the interval. */
  g_assert_cmpuint(ar_channel_poll_delay(30, 60, 1), ==, 30);
  g_assert_cmpuint(ar_channel_poll_delay(1, 1, 5), ==, 1);
  /* Monotone in the failures. */
  for (guint f = 1; f < 40; f++)
    g_assert_cmpuint(ar_channel_poll_delay(six_h, 60, f), <=,
                     ar_channel_poll_delay(six_h, 60, f + 1));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  srcdir = g_getenv("AR_SOURCE_DIR");
  if (!srcdir || !g_getenv("AR_CHANNEL_CHECK"))
    g_error("AR_SOURCE_DIR and AR_CHANNEL_CHECK are not set (meson test sets them)");
  tmpdir = g_dir_make_tmp("ar-channel-XXXXXX", NULL);
  g_assert_nonnull(tmpdir);
  make_keys("ca1");
  make_keys("ca2");
  /* Certificates are valid from the second they were made. */
  now = g_get_real_time() / G_USEC_PER_SEC + 2;
  g_autofree char *ring_path = g_build_filename(tmpdir, "ca1/keyring.pem", NULL);
  g_autofree char *pem = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(ring_path, &pem, &len, NULL));
  keyring = ar_channel_keyring_new(pem, len, NULL);
  g_assert_nonnull(keyring);

  g_test_add_func("/update/channel/good", test_good);
  g_test_add_func("/update/channel/tampered", test_tampered);
  g_test_add_func("/update/channel/unsigned", test_unsigned);
  g_test_add_func("/update/channel/other-ca", test_other_ca);
  g_test_add_func("/update/channel/certificate-time", test_certificate_time);
  g_test_add_func("/update/channel/code-signing-eku", test_code_signing_eku);
  g_test_add_func("/update/channel/times", test_times);
  g_test_add_func("/update/channel/replay", test_replay);
  g_test_add_func("/update/channel/wrong-channel", test_wrong_channel);
  g_test_add_func("/update/channel/no-bundle", test_no_bundle);
  g_test_add_func("/update/channel/hostile", test_hostile);
  g_test_add_func("/update/channel/rollout-share", test_rollout_share);
  g_test_add_func("/update/channel/choose", test_choose);
  g_test_add_func("/update/channel/keyring", test_keyring);
  g_test_add_func("/update/channel/publisher-tools", test_publisher_tools);
  g_test_add_func("/update/channel/poll-delay", test_poll_delay);
  int rc = g_test_run();
  ar_channel_keyring_free(keyring);
  remove_tree(tmpdir);
  g_free(tmpdir);
  return rc;
}
