/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * anyroom-provision: the fleet administrator's tool for provisioning files
 * (docs/fleet.md "Provisioning a hundred rooms"). Uses the device's own code.
 *
 *   anyroom-provision check FILE.json        the format and the settings, as a room checks them
 *   anyroom-provision verify FILE.cms --keyring PEM --board COMPATIBLE [--machine-id ID]
 *   anyroom-provision password-hash          reads a password on stdin, prints its hash
 *   anyroom-provision token                  a new API token and its SHA-256
 *   anyroom-provision setup-code             a new one-time setup code and its SHA-256
 *
 * Exit 0: done; 1: refused (one line why on stderr); 2: usage.
 */
#include <stdio.h>
#include <string.h>

#include "ar-provision.h"
#include "ar-web-auth.h"

static int
usage(void)
{
  g_printerr("usage: anyroom-provision check FILE.json\n"
             "       anyroom-provision verify FILE --keyring PEM --board COMPATIBLE "
             "[--machine-id ID]\n"
             "       anyroom-provision password-hash   (the password on stdin)\n"
             "       anyroom-provision token\n"
             "       anyroom-provision setup-code\n");
  return 2;
}

static int
refused(const char *what, GError *error)
{
  g_printerr("anyroom-provision: %s: %s\n", what, error->message);
  return 1;
}

static int
cmd_check(const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, &error))
    return refused(path, error);
  g_autoptr(ArProvision) p = ar_provision_parse(data, len, &error);
  if (!p || !ar_provision_check_settings(p, NULL, &error))
    return refused(path, error);
  g_autofree char *boards = g_strjoinv(", ", p->boards);
  g_print("%s: format 1, boards %s, %s, %u token(s), %s\n", path, boards,
          p->password_hash       ? "admin password"
          : p->setup_code_sha256 ? "setup code"
                                 : "no admin credential",
          p->tokens->len, p->settings ? "settings" : "no settings");
  return 0;
}

static int
cmd_verify(int argc, char **argv)
{
  const char *keyring = NULL, *board = NULL, *machine = NULL;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (g_str_equal(argv[i], "--keyring"))
      keyring = argv[i + 1];
    else if (g_str_equal(argv[i], "--board"))
      board = argv[i + 1];
    else if (g_str_equal(argv[i], "--machine-id"))
      machine = argv[i + 1];
    else
      return usage();
  }
  if (!keyring || !board || (argc - 3) % 2 != 0)
    return usage();
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL, *data = NULL;
  gsize pem_len = 0, len = 0;
  if (!g_file_get_contents(keyring, &pem, &pem_len, &error))
    return refused(keyring, error);
  if (!g_file_get_contents(argv[2], &data, &len, &error))
    return refused(argv[2], error);
  g_autoptr(ArChannelKeyring) k = ar_channel_keyring_new(pem, pem_len, &error);
  if (!k)
    return refused(keyring, error);
  g_autoptr(ArProvision) p = ar_provision_load((const guint8 *)data, len, k, board, machine,
                                               g_get_real_time() / G_USEC_PER_SEC, &error);
  if (!p || !ar_provision_check_settings(p, NULL, &error))
    return refused(argv[2], error);
  g_print("%s: signed, for %s, sha256 %s\n", argv[2], board, p->digest);
  return 0;
}

static int
cmd_password_hash(void)
{
  char line[AR_WEB_PASSWORD_MAX_BYTES + 2];
  if (!fgets(line, sizeof line, stdin)) {
    g_printerr("anyroom-provision: no password on stdin\n");
    return 1;
  }
  line[strcspn(line, "\r\n")] = '\0';
  const char *why = NULL;
  if (!ar_web_password_acceptable(line, &why)) {
    g_printerr("anyroom-provision: %s\n", why);
    return 1;
  }
  g_autofree char *hash = ar_web_password_hash(line, AR_WEB_PBKDF2_ITERATIONS);
  memset(line, 0, sizeof line);
  if (!hash)
    return 1;
  g_print("%s\n", hash);
  return 0;
}

static int
cmd_token(void)
{
  g_autofree char *token = ar_web_random_hex("art_");
  if (!token)
    return 1;
  g_autofree char *hash = ar_web_sha256_hex(token, strlen(token));
  g_print("token: %s\nsha256: %s\n", token, hash);
  return 0;
}

/* 20 characters of Crockford's base32 (100 bits), in groups of five. */
static int
cmd_setup_code(void)
{
  static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  g_autofree char *hex = ar_web_random_hex(NULL);
  if (!hex)
    return 1;
  GString *code = g_string_new(NULL);
  for (int i = 0; i < 20; i++) {
    int byte = g_ascii_xdigit_value(hex[2 * i]) << 4 | g_ascii_xdigit_value(hex[2 * i + 1]);
    if (i && i % 5 == 0)
      g_string_append_c(code, '-');
    g_string_append_c(code, alphabet[byte % 32]);
  }
  g_autofree char *shown = g_string_free(code, FALSE);
  g_autofree char *normal = ar_web_setup_code_normalize(shown);
  g_autofree char *hash = ar_web_sha256_hex(normal, strlen(normal));
  g_print("setup code: %s\nsha256: %s\n", shown, hash);
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc == 3 && g_str_equal(argv[1], "check"))
    return cmd_check(argv[2]);
  if (argc >= 3 && g_str_equal(argv[1], "verify"))
    return cmd_verify(argc, argv);
  if (argc == 2 && g_str_equal(argv[1], "password-hash"))
    return cmd_password_hash();
  if (argc == 2 && g_str_equal(argv[1], "token"))
    return cmd_token();
  if (argc == 2 && g_str_equal(argv[1], "setup-code"))
    return cmd_setup_code();
  return usage();
}
