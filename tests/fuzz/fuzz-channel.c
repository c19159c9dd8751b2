/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: an update channel file (firmware/update/ar-channel.c), as any web
 * server or CDN may serve it. The input is tried three ways:
 *   - as the manifest's JSON (ar_channel_parse), then the rollout choice for a few
 *     machines, running versions and times, checking the choice's laws: never the same
 *     or an older version, a bundle for the board, place below share, shares and
 *     places within 0..100;
 *   - as a signed channel file (ar_channel_verify and ar_channel_load) against a fixed
 *     keyring: the CA below, a throwaway development CA whose keys were deleted after
 *     signing the corpus's *.manifest seeds, so they verify and reach the parser;
 *   - the time is fixed (2026-12-05T03:13:30Z), inside that certificate's validity.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW G_GINT64_CONSTANT(1796440410)
#define BOARD "anyroom-qemu-x86_64"

static const char keyring_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4zCCAYmgAwIBAgIUPnj6V1BOUssPqAaik/J5KUZSmPowCgYIKoZIzj0EAwIw\n"
    "PzEcMBoGA1UECgwTQW55cm9vbSBkZXZlbG9wbWVudDEfMB0GA1UEAwwWQW55cm9v\n"
    "bSBkZXZlbG9wbWVudCBDQTAeFw0yNjEyMDUwMjEzMzBaFw0zNjEyMDIwMjEzMzBa\n"
    "MD8xHDAaBgNVBAoME0FueXJvb20gZGV2ZWxvcG1lbnQxHzAdBgNVBAMMFkFueXJv\n"
    "b20gZGV2ZWxvcG1lbnQgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT7LnQW\n"
    "G+HglGzaor7IXxC0CAOJHOpxGX55CbF7GMfX7LnTm4Et9vJAn4mp4Zg9ndn5iW3c\n"
    "NdRDE9KSTUe2mtkLo2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIB\n"
    "BjAdBgNVHQ4EFgQUv8pEji0yGM5fQLCWtu4ZimpiUEUwHwYDVR0jBBgwFoAUv8pE\n"
    "ji0yGM5fQLCWtu4ZimpiUEUwCgYIKoZIzj0EAwIDSAAwRQIhAMTKJCYOhuwwIU6/\n"
    "LS7NJXGYjVNdUEMJDLGE73hJp7xTAiB34ILxb5dKoxM5kzeZAMxarGVMpe4SAL+1\n"
    "GBE0oNZR8A==\n"
    "-----END CERTIFICATE-----\n";

static void
check_choice(const ArChannelManifest *m, const char *machine, gint64 now, const char *running)
{
  ArChannelChoice c;
  if (!ar_channel_choose(m, BOARD, machine, now, running, &c, NULL))
    abort(); /* the arguments are good */
  ArVersion run;
  if (!ar_version_parse(running, strlen(running), &run, NULL))
    abort();
  if (c.verdict == AR_CHANNEL_UP_TO_DATE) {
    if (c.release || c.bundle)
      abort();
    return;
  }
  if (!c.release || !c.bundle || strcmp(c.bundle->compatible, BOARD) != 0)
    abort();
  if (ar_version_compare(&c.release->parsed, &run) <= 0)
    abort();
  if (!(c.place >= 0 && c.place < 100 && c.share >= 0 && c.share <= 100))
    abort();
  if ((c.verdict == AR_CHANNEL_INSTALL) != (c.place < c.share))
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static ArChannelKeyring *keyring;
  if (!keyring)
    keyring = ar_channel_keyring_new(keyring_pem, sizeof keyring_pem - 1, NULL);
  if (!keyring)
    abort();
  if (size > AR_CHANNEL_MAX_FILE + 16)
    return 0;

  g_autoptr(ArChannelManifest) m = ar_channel_parse((const char *)data, size, NULL);
  if (m) {
    if (m->releases->len == 0 || m->releases->len > AR_CHANNEL_MAX_RELEASES || m->serial < 1 ||
        m->expires <= m->issued || strlen(m->digest) != 64)
      abort();
    static const char *const machines[] = {"0123456789abcdef0123456789abcdef",
                                           "fedcba9876543210fedcba9876543210", "x"};
    static const char *const running[] = {"0.1", "1.4.0", "1.5.0-rc.1", "99.0"};
    const gint64 times[] = {0, NOW, NOW + 30 * 86400, G_GINT64_CONSTANT(253402300799)};
    for (gsize i = 0; i < G_N_ELEMENTS(machines); i++)
      for (gsize j = 0; j < G_N_ELEMENTS(running); j++)
        for (gsize k = 0; k < G_N_ELEMENTS(times); k++)
          check_choice(m, machines[i], times[k], running[j]);
  }

  g_autoptr(GBytes) content = ar_channel_verify(data, size, keyring, NOW, NULL);
  if (content) {
    g_autoptr(ArChannelManifest) signed_m =
        ar_channel_parse(g_bytes_get_data(content, NULL), g_bytes_get_size(content), NULL);
    (void)signed_m;
  }
  ArChannelCheck check = {.channel = "stable", .compatible = BOARD, .now = NOW};
  g_autoptr(ArChannelManifest) loaded = ar_channel_load(data, size, keyring, &check, NULL);
  if (loaded && (strcmp(loaded->channel, "stable") != 0 || loaded->expires <= NOW))
    abort();
  return 0;
}
