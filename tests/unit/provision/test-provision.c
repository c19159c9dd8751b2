/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Provisioning files (firmware/provision): the format's rules and bounds, the
 * settings through the config API's checks, what a start does before any
 * signature is read, and a configured room's export. Signed files are tested
 * with a real anyroomd in tests/integration/test-provision.mjs. */
#include <glib/gstdio.h>
#include <string.h>

#include "ar-provision.h"
#include "ar-web-auth.h"

#define HASH_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char *password_hash; /* made once: PBKDF2 is slow on purpose */

static ArProvision *
parse(const char *json, GError **error)
{
  return ar_provision_parse(json, strlen(json), error);
}

static void
test_good(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf(
      "{\"format\":1,\"serial\":42,\"boards\":[\"anyroom-qemu-x86_64\",\"anyroom-rpi4\"],"
      "\"machine-ids\":[\"0123456789abcdef0123456789abcdef\"],"
      "\"admin\":{\"password-hash\":\"%s\"},"
      "\"tokens\":[{\"name\":\"prometheus\",\"sha256\":\"" HASH_A "\",\"scopes\":[\"metrics\"]},"
      "{\"name\":\"crestron\",\"sha256\":\"" HASH_B "\",\"scopes\":[\"status\",\"commands\"]}],"
      "\"settings\":{\"room\":{\"name\":\"Room 1\",\"time-zone\":\"Europe/Berlin\"}}}",
      password_hash);
  g_autoptr(ArProvision) p = parse(json, &error);
  g_assert_no_error(error);
  g_assert_cmpint(p->serial, ==, 42);
  g_assert_cmpuint(g_strv_length(p->boards), ==, 2);
  g_assert_cmpstr(p->machine_ids[0], ==, "0123456789abcdef0123456789abcdef");
  g_assert_cmpstr(p->password_hash, ==, password_hash);
  g_assert_null(p->setup_code_sha256);
  g_assert_cmpuint(p->tokens->len, ==, 2);
  g_assert_cmpstr(((ArProvisionToken *)p->tokens->pdata[1])->name, ==, "crestron");
  g_assert_cmpuint(strlen(p->digest), ==, 64);
  g_assert_true(ar_provision_check_settings(p, NULL, &error));
  g_assert_no_error(error);
}

/* Each refused with its reason (a part of the one-line message). */
static void
test_refused(void)
{
  g_autofree char *weak = ar_web_password_hash("weak but long password", 1000);
  g_autofree char *weak_admin = g_strdup_printf(
      "{\"format\":1,\"boards\":[\"b\"],\"admin\":{\"password-hash\":\"%s\"}}", weak);
  g_autofree char *both_admin =
      g_strdup_printf("{\"format\":1,\"boards\":[\"b\"],\"admin\":{\"password-hash\":\"%s\","
                      "\"setup-code-sha256\":\"" HASH_A "\"}}",
                      password_hash);
  g_autofree char *deep = g_strdup_printf(
      "{\"format\":1,\"boards\":[\"b\"],\"settings\":{\"room\":{\"name\":%s\"x\"%s}}}", "[[[[[[[[",
      "]]]]]]]]");
  g_autofree char *big = g_strnfill(AR_PROVISION_MAX_FILE + 1, ' ');
  struct {
    const char *json, *why;
  } cases[] = {
      {"[]", "must be a JSON object"},
      {"{\"format\":1,\"boards\":[\"b\"],} ", "not JSON"},
      {big, "must be 1 to 131072 bytes"},
      {deep, "not JSON"},
      {"{\"format\":2,\"boards\":[\"b\"]}", "format: 2 is not known"},
      {"{\"format\":\"1\",\"boards\":[\"b\"]}", "format: missing or not a number"},
      {"{\"boards\":[\"b\"]}", "format: missing"},
      {"{\"format\":1}", "boards: missing"},
      {"{\"format\":1,\"boards\":[]}", "boards: must have 1 to 64 entries"},
      {"{\"format\":1,\"boards\":[\"a b\"]}", "boards[0]: a RAUC compatible"},
      {"{\"format\":1,\"boards\":[\"b\",\"b\"]}", "boards[1]: listed twice"},
      {"{\"format\":1,\"boards\":[\"b\"],\"bords\":[]}", "unknown member \"bords\""},
      {"{\"format\":1,\"boards\":[\"b\"],\"serial\":0}", "serial: must be a whole number"},
      {"{\"format\":1,\"boards\":[\"b\"],\"serial\":9007199254740992}", "serial: must be"},
      {"{\"format\":1,\"boards\":[\"b\"],\"machine-ids\":[\"ABC\"]}",
       "machine-ids[0]: a machine ID"},
      {"{\"format\":1,\"boards\":[\"b\"],\"admin\":{}}", "give either password-hash or"},
      {both_admin, "admin: give either password-hash or setup-code-sha256"},
      {"{\"format\":1,\"boards\":[\"b\"],\"admin\":{\"password\":\"plain text\"}}",
       "admin: unknown member \"password\""},
      {"{\"format\":1,\"boards\":[\"b\"],\"admin\":{\"password-hash\":\"md5$x\"}}",
       "admin.password-hash: not a password hash"},
      {weak_admin, "admin.password-hash: 1000 iterations: at least 100000"},
      {"{\"format\":1,\"boards\":[\"b\"],\"admin\":{\"setup-code-sha256\":\"1234\"}}",
       "admin.setup-code-sha256: must be 64 lower-case hex"},
      {"{\"format\":1,\"boards\":[\"b\"],\"tokens\":[{\"name\":\"a b\",\"sha256\":\"" HASH_A
       "\",\"scopes\":[\"status\"]}]}",
       "tokens[0].name: letters, digits"},
      {"{\"format\":1,\"boards\":[\"b\"],\"tokens\":[{\"name\":\"a\",\"token\":\"art_x\"}]}",
       "tokens[0]: unknown member \"token\""},
      {"{\"format\":1,\"boards\":[\"b\"],\"tokens\":[{\"name\":\"a\",\"sha256\":\"" HASH_A "\"}]}",
       "tokens[0].scopes: missing"},
      {"{\"format\":1,\"boards\":[\"b\"],\"tokens\":[{\"name\":\"a\",\"sha256\":\"" HASH_A
       "\",\"scopes\":[\"root\"]}]}",
       "tokens[0].scopes: "},
      {"{\"format\":1,\"boards\":[\"b\"],\"tokens\":[{\"name\":\"a\",\"sha256\":\"" HASH_A
       "\",\"scopes\":[\"status\"]},{\"name\":\"a\",\"sha256\":\"" HASH_B
       "\",\"scopes\":[\"status\"]}]}",
       "tokens[1].name: a token of that name is listed before"},
      {"{\"format\":1,\"boards\":[\"b\"],\"settings\":[]}", "settings: must be an object"},
      {"{\"format\":1,\"boards\":[\"b\"],\"settings\":{}}", "settings: is empty"},
      {"{\"format\":1,\"boards\":[\"b\"],\"settings\":{\"room\":\"x\"}}",
       "settings: room: must be an object"},
      {"{\"format\":1,\"boards\":[\"b\"],\"ca-certificates\":{\"ldap\":\"x\"}}",
       "ca-certificates: unknown member \"ldap\""},
      {"{\"format\":1,\"boards\":[\"b\"],\"ca-certificates\":{\"calendar\":\"-----BEGIN PRIVATE "
       "KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}}",
       "only CERTIFICATE blocks"},
      {"{\"format\":1,\"boards\":[\"b\"],\"ca-certificates\":{\"turn\":\"-----BEGIN "
       "CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"}}",
       "does not parse"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArProvision) p = parse(cases[i].json, &error);
    if (p || !strstr(error->message, cases[i].why))
      g_error("case %" G_GSIZE_FORMAT ": expected \"%s\", got %s", i, cases[i].why,
              p ? "a parsed file" : error->message);
    g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_INVALID);
    g_assert_null(strchr(error->message, '\n'));
  }
}

/* What an admin could not set through the config API, a file cannot set. */
static void
test_settings(void)
{
  const char *refused[][2] = {
      {"{\"admin\":{\"listen\":\"0.0.0.0:80\"}}", "unknown settings group"},
      {"{\"media\":{\"width\":640}}", "unknown settings group"},
      {"{\"update\":{\"keyring\":\"/tmp/mine.pem\"}}", "update.keyring"},
      {"{\"update\":{\"channel-url\":\"http://plain.example.org/x\"}}", "update.channel-url"},
      {"{\"room\":{\"time-zone\":\"Atlantis/Capital\"}}", "room.time-zone"},
      {"{\"network\":{\"turn\":[\"turn:t.example.org:3478\"]}}", "network"},
      {"{\"network\":{\"relay-only\":true}}", "relay-only"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autofree char *json =
        g_strdup_printf("{\"format\":1,\"boards\":[\"b\"],\"settings\":%s}", refused[i][0]);
    g_autoptr(GError) error = NULL;
    g_autoptr(ArProvision) p = parse(json, &error);
    g_assert_no_error(error);
    g_assert_false(ar_provision_check_settings(p, NULL, &error));
    if (!g_str_has_prefix(error->message, "settings: ") || !strstr(error->message, refused[i][1]))
      g_error("case %" G_GSIZE_FORMAT ": %s", i, error->message);
  }
  /* The config file's own values are the base: the check never changes it. */
  const char *conf = "[room]\nname=From The File\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) config = ar_config_load_data(conf, strlen(conf), "test.conf", &error);
  g_autoptr(ArProvision) p = parse("{\"format\":1,\"boards\":[\"b\"],\"settings\":{\"room\":{"
                                   "\"name\":\"From The File Too\"}}}",
                                   &error);
  g_assert_true(ar_provision_check_settings(p, config, &error));
  g_assert_cmpstr(config->room_name, ==, "From The File");
}

static void
test_setup_code(void)
{
  g_autofree char *a = ar_web_setup_code_normalize("k7qm2-xzp4t 9abcd-efghj");
  g_assert_cmpstr(a, ==, "K7QM2XZP4T9ABCDEFGHJ");
  g_assert_null(ar_web_setup_code_normalize("abc;def"));
  g_assert_null(ar_web_setup_code_normalize(" - "));
  g_autofree char *long_code = g_strnfill(65, 'A');
  g_assert_null(ar_web_setup_code_normalize(long_code));
}

/* ---- at start, before any signature: sources, a room set up by hand ---- */

typedef struct {
  char *dir, *state, *source;
  ArConfig *config;
} Room;

static void
room_setup(Room *r, gconstpointer data)
{
  r->dir = g_dir_make_tmp("ar-provision-XXXXXX", NULL);
  r->state = g_build_filename(r->dir, "state", NULL);
  r->source = g_build_filename(r->dir, "provision.cms", NULL);
  g_mkdir(r->state, 0700);
  r->config = ar_config_new_default();
}

static void
rm_rf(const char *path)
{
  g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(path, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
      rm_rf(p);
    else
      g_unlink(p);
  }
  g_rmdir(path);
}

static void
room_teardown(Room *r, gconstpointer data)
{
  rm_rf(r->dir);
  g_free(r->dir);
  g_free(r->state);
  g_free(r->source);
  ar_config_free(r->config);
}

static char *
state_text(Room *r, const char *name)
{
  g_autofree char *path = g_build_filename(r->state, name, NULL);
  char *text = NULL;
  return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

static ArProvisionOutcome
start(Room *r, GError **error)
{
  g_autofree char *missing = g_build_filename(r->dir, "no-stick.cms", NULL);
  const char *sources[] = {"dhcp", missing, r->source, NULL};
  g_autofree char *keyring = g_build_filename(r->dir, "keyring.pem", NULL);
  const char *keyrings[] = {keyring, NULL};
  ArProvisionStart s = {.state_dir = r->state,
                        .config = r->config,
                        .board_id = "anyroom-qemu-x86_64",
                        .sources = sources,
                        .keyrings = keyrings};
  return ar_provision_at_start(&s, error);
}

static void
test_start_none(Room *r, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_NONE);
  g_assert_no_error(error);
  g_autofree char *audit = state_text(r, "audit-unauth.log");
  g_assert_null(audit);
}

/* A file there, but the room was set up by hand: refused before its
 * signature is read; audited in the unauthenticated stream. */
static void
test_start_set_up_by_hand(Room *r, gconstpointer data)
{
  g_assert_true(g_file_set_contents(r->source, "{\"format\":1}", -1, NULL));
  g_autofree char *pw = g_build_filename(r->state, "admin-password", NULL);
  g_autofree char *line = g_strconcat(password_hash, "\n", NULL);
  g_assert_true(g_file_set_contents(pw, line, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_APPLIED);
  g_assert_nonnull(strstr(error->message, "set up by hand"));
  g_autofree char *audit = state_text(r, "audit-unauth.log");
  g_assert_nonnull(strstr(audit, "\"event\":\"provision_refused\""));
  g_assert_nonnull(strstr(audit, "\"actor\":\"provisioning\""));
  g_autofree char *pw_after = state_text(r, "admin-password");
  g_assert_cmpstr(pw_after, ==, line);
}

/* A start cut short while the files moved (the marker, no record): the
 * files that moved are not "set up by hand"; the file is taken again (here
 * it goes on to the keyring, which is missing). */
static void
test_start_resumes(Room *r, gconstpointer data)
{
  g_assert_true(g_file_set_contents(r->source, "{\"format\":1}", -1, NULL));
  g_autofree char *pw = g_build_filename(r->state, "admin-password", NULL);
  g_autofree char *marker = g_build_filename(r->state, "provision-pending", NULL);
  g_assert_true(g_file_set_contents(pw, password_hash, -1, NULL));
  g_assert_true(g_file_set_contents(marker, HASH_A, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_KEYRING);
}

/* A file there but no keyring: refused, one line, nothing written. */
static void
test_start_no_keyring(Room *r, gconstpointer data)
{
  g_assert_true(g_file_set_contents(r->source, "not a signed file", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_KEYRING);
  g_autofree char *record = state_text(r, "provisioned.json");
  g_assert_null(record);
}

/* Oversized, a folder, a link: refused without reading past the bound. */
static void
test_start_bad_source(Room *r, gconstpointer data)
{
  g_autofree char *big = g_strnfill(AR_PROVISION_MAX_FILE + 1, 'x');
  g_assert_true(g_file_set_contents(r->source, big, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_nonnull(strstr(error->message, "must be a file of 1 to 131072 bytes"));
  g_clear_error(&error);
  g_unlink(r->source);
  g_assert_cmpint(symlink("/etc/passwd", r->source), ==, 0);
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_IO);
}

/* ---- a URL given by DHCP ---- */

static char *
lease_with(const char *option_text, gboolean upper)
{
  GString *hex = g_string_new(NULL);
  for (const char *c = option_text; *c; c++)
    g_string_append_printf(hex, upper ? "%02X" : "%02x", (guchar)*c);
  g_autofree char *h = g_string_free(hex, FALSE);
  return g_strdup_printf("# This is private data. Do not parse.\nADDRESS=10.99.0.50\n"
                         "LIFETIME=120\nOPTION_224=%s\nOPTION_225=00\n",
                         h);
}

static char *
lease_url(const char *lease, GError **error)
{
  char *url = NULL;
  if (!ar_provision_lease_url(lease, strlen(lease), &url, error))
    g_assert_null(url);
  return url;
}

/* systemd-networkd's lease: the option's hex, checked as an https URL; refusals on one
 * line name the host at most (a token may be in the path or query). */
static void
test_dhcp_lease(void)
{
  g_autoptr(GError) error = NULL;
  const char *good[] = {"https://10.99.0.1:8443/rooms.cms",
                        "https://prov.example.org/rooms/4.cms?token=s3cr3t", "HTTPS://[fd00::1]/r",
                        NULL};
  for (gsize i = 0; good[i]; i++) {
    g_autofree char *lease = lease_with(good[i], i == 1);
    g_autofree char *url = lease_url(lease, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(url, ==, good[i]);
  }
  /* Windows' DHCP server ends a string with a NUL. */
  const char *nul = "# x\nOPTION_224=68747470733a2f2f682f7200\n";
  g_autofree char *url = lease_url(nul, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(url, ==, "https://h/r");
  g_clear_pointer(&url, g_free);
  url = lease_url("ADDRESS=10.99.0.50\nOPTION_225=00\n", &error);
  g_assert_no_error(error);
  g_assert_null(url); /* no option 224: nothing to fetch */

  struct {
    const char *option, *message;
  } bad[] = {
      {"http://10.99.0.1/rooms.cms?token=s3cr3t",
       "DHCP option 224 (http://10.99.0.1/) is refused: only https:// is taken (a provisioning "
       "file may carry secrets)"},
      {"https://me:pw@h.example.org/r", "DHCP option 224 (https://h.example.org/): a user or "
                                        "password in the URL is not taken"},
      {"ftp://h.example.org/r", "DHCP option 224 is not an https:// URL"},
      {"https:///r", "DHCP option 224: the URL has no host"},
      {"https://h.example.org/a b", "DHCP option 224 must be a URL in plain ASCII without spaces"},
      {"https://h.example.org/\x01", "DHCP option 224 must be a URL in plain ASCII without spaces"},
      {"h\xc3\xa9", "DHCP option 224 must be a URL in plain ASCII without spaces"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *lease = lease_with(bad[i].option, FALSE);
    g_assert_null(lease_url(lease, &error));
    g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, bad[i].message);
    g_clear_error(&error);
  }
  const char *bad_hex[] = {"OPTION_224=\n", "OPTION_224=6\n", "OPTION_224=zz\n",
                           "OPTION_224=68 74\n", NULL};
  for (gsize i = 0; bad_hex[i]; i++) {
    g_assert_null(lease_url(bad_hex[i], &error));
    g_assert_cmpstr(error->message, ==, "DHCP option 224 is not 1 to 1024 bytes of hex");
    g_clear_error(&error);
  }
  g_autofree char *long_url = g_strnfill(AR_PROVISION_MAX_URL + 1, 'a');
  memcpy(long_url, "https://", 8);
  g_autofree char *long_lease = lease_with(long_url, FALSE);
  g_assert_null(lease_url(long_lease, &error));
  g_assert_cmpstr(error->message, ==, "DHCP option 224 is not 1 to 1024 bytes of hex");
  g_clear_error(&error);
  g_autofree char *huge = g_strnfill(AR_PROVISION_MAX_LEASE + 1, '#');
  g_assert_null(lease_url(huge, &error));
  g_assert_cmpstr(error->message, ==, "the DHCP lease is larger than 65536 bytes");
  g_clear_error(&error);

  g_autofree char *source = ar_provision_dhcp_source("https://prov.example.org:8443/r?token=x");
  g_assert_cmpstr(source, ==, "dhcp:https://prov.example.org/");
  g_autofree char *source6 = ar_provision_dhcp_source("https://[fd00::1]/r");
  g_assert_cmpstr(source6, ==, "dhcp:https://[fd00::1]/");
}

static void
ready_not_called(const char *source, gpointer data)
{
  g_assert_not_reached();
}

/* The file a DHCP URL gave is the "dhcp" source at the next start, named by its host; the
 * watcher that starts after it removes it (taken), and none starts for a room set up. */
static void
test_dhcp_cached(Room *r, gconstpointer data)
{
  g_autofree char *cached = g_build_filename(r->state, "provision-dhcp.cms", NULL);
  g_autofree char *named = g_build_filename(r->state, "provision-dhcp.source", NULL);
  g_assert_true(g_file_set_contents(cached, "not a signed file", -1, NULL));
  g_assert_true(g_file_set_contents(named, "dhcp:https://prov.example.org/\n", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(start(r, &error), ==, AR_PROVISION_REFUSED);
  g_assert_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_KEYRING);
  g_autofree char *audit = state_text(r, "audit-unauth.log");
  g_assert_nonnull(audit);
  g_assert_nonnull(strstr(audit, "\"client\":\"dhcp:https://prov.example.org/\""));

  const char *sources[] = {"dhcp", NULL};
  ArProvisionStart s = {.state_dir = r->state, .config = r->config, .sources = sources};
  g_autofree char *leases = g_build_filename(r->dir, "leases", NULL);
  ArProvisionDhcp *w = ar_provision_dhcp_new(&s, leases, NULL, ready_not_called, NULL);
  g_assert_nonnull(w); /* a new room: it watches */
  ar_provision_dhcp_free(w);
  g_assert_false(g_file_test(cached, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(named, G_FILE_TEST_EXISTS));

  /* A file source before "dhcp" is present: that one is the room's. */
  const char *file_first[] = {r->source, "dhcp", NULL};
  g_assert_true(g_file_set_contents(r->source, "x", -1, NULL));
  s.sources = file_first;
  g_assert_null(ar_provision_dhcp_new(&s, leases, NULL, ready_not_called, NULL));
  /* Set up by hand: nothing to wait for. */
  s.sources = sources;
  g_autofree char *pw = g_build_filename(r->state, "admin-password", NULL);
  g_assert_true(g_file_set_contents(pw, password_hash, -1, NULL));
  g_assert_null(ar_provision_dhcp_new(&s, leases, NULL, ready_not_called, NULL));
}

/* ---- export ---- */

static void
test_export(Room *r, gconstpointer data)
{
  g_autofree char *pw = g_build_filename(r->state, "admin-password", NULL);
  g_autofree char *line = g_strconcat(password_hash, "\n", NULL);
  g_assert_true(g_file_set_contents(pw, line, -1, NULL));
  g_autofree char *tokens = g_build_filename(r->state, "tokens.json", NULL);
  g_assert_true(g_file_set_contents(
      tokens,
      "[{\"name\":\"prometheus\",\"sha256\":\"" HASH_A "\",\"created\":1,\"scopes\":[\"metrics\"]},"
      "{\"name\":\"legacy\",\"sha256\":\"" HASH_B "\",\"created\":1}]",
      -1, NULL));
  const char *conf = "[room]\nname=Room 9\ntime-zone=UTC\n"
                     "[network]\nturn=turn:t.example.org:3478\nturn-username=u\n"
                     "turn-password=static-s3cret\nrelay-only=true\nstun=stun:s.example.org\n"
                     "[calendar]\nfeed-url=https://cal.example.org/secret-feed.ics\n";
  g_autoptr(GError) error = NULL;
  ar_config_free(r->config);
  r->config = ar_config_load_data(conf, strlen(conf), "test.conf", &error);
  g_assert_no_error(error);
  g_autoptr(JsonNode) out = ar_provision_export(r->config, r->state, "anyroom-x", &error);
  g_assert_no_error(error);
  g_autofree char *text = json_to_string(out, FALSE);
  g_assert_null(strstr(text, "static-s3cret"));
  g_assert_null(strstr(text, "secret-feed"));
  g_assert_null(strstr(text, "t.example.org"));
  g_assert_nonnull(strstr(text, "\"omitted\":[\"network.turn-password\",\"network.turn\","
                                "\"network.turn-username\",\"network.relay-only\","
                                "\"calendar.feed-url\"]"));
  JsonObject *file = json_object_get_object_member(json_node_get_object(out), "provisioning");
  g_autofree char *file_text =
      json_to_string(json_object_get_member(json_node_get_object(out), "provisioning"), FALSE);
  g_autoptr(ArProvision) p = parse(file_text, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(p->password_hash, ==, password_hash);
  g_assert_cmpuint(p->tokens->len, ==, 1); /* the legacy one (no scopes) is left out */
  g_assert_cmpstr(p->boards[0], ==, "anyroom-x");
  g_assert_true(ar_provision_check_settings(p, NULL, &error));
  JsonObject *room =
      json_object_get_object_member(json_object_get_object_member(file, "settings"), "room");
  g_assert_cmpstr(json_object_get_string_member(room, "time-zone"), ==, "UTC");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  password_hash = ar_web_password_hash("correct horse battery staple", AR_WEB_PBKDF2_ITERATIONS);
  g_test_add_func("/provision/parse/good", test_good);
  g_test_add_func("/provision/parse/refused", test_refused);
  g_test_add_func("/provision/settings/config-api-rules", test_settings);
  g_test_add_func("/provision/setup-code/normalize", test_setup_code);
  g_test_add("/provision/start/no-file", Room, NULL, room_setup, test_start_none, room_teardown);
  g_test_add("/provision/start/set-up-by-hand", Room, NULL, room_setup, test_start_set_up_by_hand,
             room_teardown);
  g_test_add("/provision/start/resumes-after-a-cut", Room, NULL, room_setup, test_start_resumes,
             room_teardown);
  g_test_add("/provision/start/no-keyring", Room, NULL, room_setup, test_start_no_keyring,
             room_teardown);
  g_test_add("/provision/start/bad-source", Room, NULL, room_setup, test_start_bad_source,
             room_teardown);
  g_test_add_func("/provision/dhcp/lease-url", test_dhcp_lease);
  g_test_add("/provision/dhcp/cached-file", Room, NULL, room_setup, test_dhcp_cached,
             room_teardown);
  g_test_add("/provision/export/hashes-only", Room, NULL, room_setup, test_export, room_teardown);
  int rc = g_test_run();
  g_free(password_hash);
  return rc;
}
