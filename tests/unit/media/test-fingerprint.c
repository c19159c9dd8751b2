/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-fingerprint.c: a=fingerprint parsing and certificate fingerprints.
 *
 * data/test-cert.pem was made once with openssl; the expected values below are
 * from `openssl x509 -noout -fingerprint -sha256 -in data/test-cert.pem` (and
 * -sha1/-sha384/-sha512). The code under test computes them on its own.
 */
#include <string.h>

#include "ar-media.h"

#define CERT_SHA1 "sha-1 4A:EF:72:7E:81:90:23:3E:DE:0D:51:9A:6D:F8:6A:47:2E:CD:10:4E"
#define CERT_SHA256                                                                                \
  "sha-256 71:AB:EE:A1:DF:9B:22:40:11:B4:25:ED:65:2D:65:4E:EC:77:FE:EF:8A:CC:4E:E0:B5:15:4F:95:"   \
  "A2:15:A6:7C"
#define CERT_SHA384                                                                                \
  "sha-384 90:57:C1:9D:2B:53:65:3B:12:6E:48:15:91:60:43:A1:AB:8D:82:A2:39:8F:F0:5E:16:45:48:79:"   \
  "2E:58:CE:C9:86:CB:DA:40:BB:C5:BC:C1:B1:66:54:FF:93:95:09:F3"
#define CERT_SHA512                                                                                \
  "sha-512 80:85:D4:BE:5A:1A:17:DD:7B:A7:6F:30:B1:7A:85:B4:C2:56:0F:E4:96:89:07:74:54:02:9B:74:"   \
  "AD:62:82:4D:4C:BE:BB:EF:19:43:29:20:2A:3C:A8:CB:AC:38:77:91:DB:2E:8F:57:13:0D:FF:EA:2C:26:AC:"  \
  "E1:05:0A:11:E5"

#define FP_A                                                                                       \
  "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"  \
  "89"
#define FP_B                                                                                       \
  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"  \
  "FF"

static char *
load_cert(void)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "test-cert.pem", NULL);
  g_autoptr(GError) error = NULL;
  char *pem = NULL;

  g_file_get_contents(path, &pem, NULL, &error);
  g_assert_no_error(error);
  return pem;
}

static void
test_parse_valid(void)
{
  const char *sdp = "v=0\r\n"
                    "o=- 1 1 IN IP4 0.0.0.0\r\n"
                    "s=-\r\n"
                    "t=0 0\r\n"
                    "a=fingerprint:sha-256 " FP_A "\r\n"
                    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                    "c=IN IP4 0.0.0.0\r\n";
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fps = ar_sdp_get_fingerprints(sdp, &error);

  g_assert_no_error(error);
  g_assert_nonnull(fps);
  g_assert_cmpuint(g_strv_length(fps), ==, 1);
  g_assert_cmpstr(fps[0], ==, "sha-256 " FP_A);
}

static void
test_parse_normalizes(void)
{
  /* Uppercase algorithm, lowercase hex, LF only, tabs, trailing blanks. */
  const char *sdp = "v=0\na=fingerprint:SHA-256\tab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
                    "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89  \n";
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fps = ar_sdp_get_fingerprints(sdp, &error);

  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(fps), ==, 1);
  g_assert_cmpstr(fps[0], ==, "sha-256 " FP_A);
}

static void
test_parse_multiple(void)
{
  /* Session level + two media levels, one duplicate, one other algorithm; no final newline. */
  const char *sdp =
      "v=0\r\n"
      "a=fingerprint:sha-256 " FP_A "\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "a=fingerprint:sha-256 " FP_A "\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "a=fingerprint:sha-256 " FP_B "\r\n"
      "a=fingerprint:sha-1 4A:EF:72:7E:81:90:23:3E:DE:0D:51:9A:6D:F8:6A:47:2E:CD:10:4E";
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fps = ar_sdp_get_fingerprints(sdp, &error);

  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(fps), ==, 3);
  g_assert_cmpstr(fps[0], ==, "sha-256 " FP_A);
  g_assert_cmpstr(fps[1], ==, "sha-256 " FP_B);
  g_assert_cmpstr(fps[2], ==, CERT_SHA1);
}

static void
expect_sdp_error(const char *sdp)
{
  g_autoptr(GError) error = NULL;
  char **fps = ar_sdp_get_fingerprints(sdp, &error);

  if (fps != NULL)
    g_test_fail_printf("accepted: %.80s -> %s", sdp, fps[0]);
  g_strfreev(fps);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_test_message("rejected as expected: %s", error->message);
}

static void
test_parse_malformed(void)
{
  /* Short by one byte. */
  expect_sdp_error(
      "v=0\r\na=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
      "CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67\r\n");
  /* Not hex. */
  expect_sdp_error(
      "v=0\r\na=fingerprint:sha-256 ZB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
      "CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n");
  /* Wrong separator. */
  expect_sdp_error(
      "v=0\r\na=fingerprint:sha-256 AB-CD-EF-01-23-45-67-89-AB-CD-EF-01-23-45-67-89-AB-"
      "CD-EF-01-23-45-67-89-AB-CD-EF-01-23-45-67-89\r\n");
  /* sha-1 length given as sha-256. */
  expect_sdp_error(
      "a=fingerprint:sha-256 4A:EF:72:7E:81:90:23:3E:DE:0D:51:9A:6D:F8:6A:47:2E:CD:10:4E\n");
  /* Unknown or weak algorithm. */
  expect_sdp_error("a=fingerprint:md5 4A:EF:72:7E:81:90:23:3E:DE:0D:51:9A:6D:F8:6A:47\n");
  expect_sdp_error("a=fingerprint:sha-256\n");
  expect_sdp_error("a=fingerprint:\n");
  expect_sdp_error("a=fingerprint: " FP_A "\n");
  /* Trailing garbage. */
  expect_sdp_error("a=fingerprint:sha-256 " FP_A " extra\n");
  /* A valid one and a malformed one: the whole SDP is rejected. */
  expect_sdp_error("a=fingerprint:sha-256 " FP_A "\na=fingerprint:sha-256 " FP_A ":00\n");
  /* Embedded NUL ends the string: the fingerprint is cut short. */
  expect_sdp_error("a=fingerprint:sha-256 AB:CD\0:EF\n");
}

static void
test_parse_hostile(void)
{
  g_autoptr(GString) s = g_string_new("v=0\r\na=fingerprint:sha-256 ");
  g_autofree char *huge = NULL;

  /* A very long fingerprint line. */
  for (int i = 0; i < 20000; i++)
    g_string_append(s, "AB:");
  g_string_append(s, "AB\r\n");
  expect_sdp_error(s->str);

  /* More than 64 KiB of SDP. */
  huge = g_malloc(200 * 1024);
  memset(huge, 'a', 200 * 1024 - 1);
  huge[200 * 1024 - 1] = '\0';
  expect_sdp_error(huge);

  /* Many distinct fingerprints. */
  g_string_assign(s, "v=0\r\n");
  for (int i = 0; i < 100; i++)
    g_string_append_printf(s,
                           "a=fingerprint:sha-1 %02X:EF:72:7E:81:90:23:3E:DE:0D:51:9A:6D:F8:6A:"
                           "47:2E:CD:10:4E\r\n",
                           i);
  expect_sdp_error(s->str);

  /* Binary junk and lone prefixes. */
  expect_sdp_error("\xff\xfe\x01\x02\r\na=fingerprint:\xff\xff\xff\xff\r\n\r\n\r\n");
  expect_sdp_error("a=fingerprint:sha-256 \xff\xff\r\n");
  expect_sdp_error("a=fingerprint");
  expect_sdp_error("");
  expect_sdp_error(NULL);
}

static void
test_parse_missing(void)
{
  g_autoptr(GError) error = NULL;
  char **fps = ar_sdp_get_fingerprints("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                                       "a=fingerprintx:sha-256 " FP_A "\r\n"
                                       "b=fingerprint:sha-256 " FP_A "\r\n",
                                       &error);
  g_assert_null(fps);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_assert_nonnull(strstr(error->message, "no a=fingerprint"));
}

static void
test_certificate_known_value(void)
{
  g_autofree char *pem = load_cert();
  static const struct {
    const char *alg, *expected;
  } cases[] = {
      {"sha-1", CERT_SHA1},
      {"sha-256", CERT_SHA256},
      {"sha-384", CERT_SHA384},
      {"sha-512", CERT_SHA512},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *fp = ar_certificate_fingerprint(pem, cases[i].alg, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(fp, ==, cases[i].expected);
  }
}

static void
test_certificate_malformed(void)
{
  g_autofree char *pem = load_cert();
  g_autofree char *broken = g_strdup(pem);
  g_autofree char *truncated = g_strndup(pem, strlen(pem) / 2);
  const char *bad[] = {
      NULL,
      "",
      "not a certificate",
      "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nMIIB\n",
      truncated,
      broken,
  };
  g_autoptr(GError) error = NULL;
  char *fp;

  /* Drop a base64 character: wrong length. */
  memmove(strchr(broken, '\n') + 1, strchr(broken, '\n') + 2, strlen(strchr(broken, '\n') + 2) + 1);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    fp = ar_certificate_fingerprint(bad[i], "sha-256", &error);
    if (fp != NULL)
      g_test_fail_printf("case %" G_GSIZE_FORMAT ": accepted, %s", i, fp);
    g_free(fp);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
    g_clear_error(&error);
  }
  fp = ar_certificate_fingerprint(pem, "md5", &error);
  g_assert_null(fp);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_clear_error(&error);
  fp = ar_certificate_fingerprint(pem, NULL, &error);
  g_assert_null(fp);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
}

static void
test_verify(void)
{
  g_autofree char *pem = load_cert();
  g_autoptr(GError) error = NULL;
  const char *good[] = {CERT_SHA256, NULL};
  const char *good_second[] = {"sha-256 " FP_A, CERT_SHA384, NULL};
  const char *bad[] = {"sha-256 " FP_A, "sha-1 " FP_B, NULL};
  const char *none[] = {NULL};
  g_autofree char *tampered = g_strdup(CERT_SHA256);
  const char *tampered_list[] = {tampered, NULL};

  g_assert_true(ar_fingerprint_verify(pem, good, &error));
  g_assert_no_error(error);
  g_assert_true(ar_fingerprint_verify(pem, good_second, &error));
  g_assert_no_error(error);

  g_assert_false(ar_fingerprint_verify(pem, bad, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_assert_nonnull(strstr(error->message, "does not match"));
  g_assert_nonnull(strstr(error->message, "sha-256 " FP_A));
  g_assert_nonnull(strstr(error->message, CERT_SHA256));
  g_clear_error(&error);

  /* One hex digit changed. */
  tampered[strlen(tampered) - 1] = tampered[strlen(tampered) - 1] == 'C' ? 'D' : 'C';
  g_assert_false(ar_fingerprint_verify(pem, tampered_list, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_clear_error(&error);

  g_assert_false(ar_fingerprint_verify(pem, none, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_clear_error(&error);
  g_assert_false(ar_fingerprint_verify(pem, NULL, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_clear_error(&error);

  /* No certificate presented. */
  g_assert_false(ar_fingerprint_verify(NULL, good, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_clear_error(&error);
  g_assert_false(ar_fingerprint_verify("garbage", good, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
}

static void
test_roundtrip_sdp(void)
{
  /* What the peer does: parse the SDP's fingerprints and verify a cert. */
  g_autofree char *pem = load_cert();
  g_autofree char *sdp = g_strdup_printf("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                                         "a=fingerprint:%s\r\n",
                                         CERT_SHA512);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) fps = ar_sdp_get_fingerprints(sdp, &error);

  g_assert_no_error(error);
  g_assert_true(ar_fingerprint_verify(pem, (const char *const *)fps, &error));
  g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/fingerprint/parse-valid", test_parse_valid);
  g_test_add_func("/media/fingerprint/parse-normalizes", test_parse_normalizes);
  g_test_add_func("/media/fingerprint/parse-multiple", test_parse_multiple);
  g_test_add_func("/media/fingerprint/parse-malformed", test_parse_malformed);
  g_test_add_func("/media/fingerprint/parse-hostile", test_parse_hostile);
  g_test_add_func("/media/fingerprint/parse-missing", test_parse_missing);
  g_test_add_func("/media/fingerprint/certificate-known-value", test_certificate_known_value);
  g_test_add_func("/media/fingerprint/certificate-malformed", test_certificate_malformed);
  g_test_add_func("/media/fingerprint/verify", test_verify);
  g_test_add_func("/media/fingerprint/sdp-roundtrip", test_roundtrip_sdp);
  return g_test_run();
}
