/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: a provisioning file (firmware/provision/ar-provision.c), as a USB stick, the
 * data partition or a URL may hold it. The input is tried two ways:
 *   - as the JSON (ar_provision_parse), checking what a parsed file promises: boards, at most
 *     one admin credential, a well-formed password hash, bounded tokens, a digest; a parsed
 *     file's settings then go through the config API's checks (ar_provision_check_settings);
 *   - as a signed file (ar_provision_load) against a fixed keyring: the CA below, a throwaway
 *     development CA whose keys were deleted after signing the corpus's *.cms seeds, so they
 *     verify and reach the parser, the board and the machine checks.
 * The time is fixed (2026-12-06T00:00:00Z), inside that certificate's validity.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-provision.h"
#include "ar-web-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW G_GINT64_CONSTANT(1796515200)
#define BOARD "anyroom-qemu-x86_64"
#define MACHINE "0123456789abcdef0123456789abcdef"

static const char keyring_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4zCCAYmgAwIBAgIUTJqE6LnkSe9IEQjOM0K2s0ZRfsMwCgYIKoZIzj0EAwIw\n"
    "PzEcMBoGA1UECgwTQW55cm9vbSBkZXZlbG9wbWVudDEfMB0GA1UEAwwWQW55cm9v\n"
    "bSBkZXZlbG9wbWVudCBDQTAeFw0yNjEyMDUwNTE3NTNaFw0zNjEyMDIwNTE3NTNa\n"
    "MD8xHDAaBgNVBAoME0FueXJvb20gZGV2ZWxvcG1lbnQxHzAdBgNVBAMMFkFueXJv\n"
    "b20gZGV2ZWxvcG1lbnQgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARMBDQR\n"
    "lwfNFEfeAG0Lc+OuNFFVb50/2r9gtiHgjNqX2XclyHtlFN0tMbC15zl6juA4ZEiV\n"
    "8PHJ2hAx+DNeY5rwo2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIB\n"
    "BjAdBgNVHQ4EFgQUjliFhZ7JaqnDis1aFF1i96X7JoowHwYDVR0jBBgwFoAUjliF\n"
    "hZ7JaqnDis1aFF1i96X7JoowCgYIKoZIzj0EAwIDSAAwRQIgI1BomdIuMNuzLrWK\n"
    "UZvWS/aPbPH9fbIg0n+nUBsriEUCIQD0/QmV/akO2gAnWh/3tLFyCptTW+lsnBkK\n"
    "npBh9uuXig==\n"
    "-----END CERTIFICATE-----\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static ArChannelKeyring *keyring;
  if (!keyring)
    keyring = ar_channel_keyring_new(keyring_pem, sizeof keyring_pem - 1, NULL);
  if (!keyring)
    abort();
  if (size > AR_PROVISION_MAX_FILE + 16)
    return 0;

  g_autoptr(GError) error = NULL;
  g_autoptr(ArProvision) p = ar_provision_parse((const char *)data, size, &error);
  if (p) {
    guint n = p->boards ? g_strv_length(p->boards) : 0;
    if (n == 0 || n > AR_PROVISION_MAX_BOARDS || strlen(p->digest) != 64 ||
        p->tokens->len > AR_PROVISION_MAX_TOKENS || (p->password_hash && p->setup_code_sha256))
      abort();
    guint iterations = 0;
    if (p->password_hash && (!ar_web_password_hash_ok(p->password_hash, &iterations) ||
                             iterations < AR_PROVISION_MIN_PBKDF2))
      abort();
    g_autoptr(GError) settings_error = NULL;
    if (!ar_provision_check_settings(p, NULL, &settings_error) &&
        strchr(settings_error->message, '\n'))
      abort();
  } else if (!error || strchr(error->message, '\n')) {
    abort(); /* refused: one line why */
  }

  g_clear_error(&error);
  g_autoptr(ArProvision) loaded =
      ar_provision_load(data, size, keyring, BOARD, MACHINE, NOW, &error);
  if (loaded && !g_strv_contains((const char *const *)loaded->boards, BOARD))
    abort();
  if (loaded && loaded->machine_ids &&
      !g_strv_contains((const char *const *)loaded->machine_ids, MACHINE))
    abort();
  if (!loaded && (!error || strchr(error->message, '\n')))
    abort();
  return 0;
}
