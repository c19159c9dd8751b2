/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration group of the API: settings validated by the config
 * file's code, saved in the state dir, secrets write-only. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ar-api-config.h"

typedef struct {
  char *dir;
  ArConfig *config;
} Fixture;

static const char *base_conf = "[room]\nname=Lab Room\n"
                               "[network]\nstun=stun:10.0.0.1:3478\n"
                               "[links]\njitsi-domains=meet.example.org\n";

static void
setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("ar-api-config-XXXXXX", &error);
  g_assert_no_error(error);
  f->config = ar_config_load_data(base_conf, strlen(base_conf), "test.conf", &error);
  g_assert_no_error(error);
}

static void
teardown(Fixture *f, gconstpointer data)
{
  const char *files[] = {"settings.conf", "settings.json"};
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *p = g_build_filename(f->dir, files[i], NULL);
    g_unlink(p);
  }
  g_rmdir(f->dir);
  g_free(f->dir);
  ar_config_free(f->config);
}

static JsonNode *
json(const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_data(p, text, -1, &error));
  return json_node_copy(json_parser_get_root(p));
}

static gboolean
patch(Fixture *f, const char *text, GError **error)
{
  g_autoptr(JsonNode) n = json(text);
  g_auto(GStrv) changed = NULL;
  return ar_api_config_patch(f->config, f->dir, n, &changed, NULL, error);
}

static char *
saved(Fixture *f)
{
  g_autofree char *p = g_build_filename(f->dir, "settings.conf", NULL);
  char *data = NULL;
  if (!g_file_get_contents(p, &data, NULL, NULL))
    return NULL;
  return data;
}

/* [calendar] through the API: the feed address and the password are write-only, numbers are
 * numbers within the config file's range. */
static void
test_calendar(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(patch(f,
                      "{\"calendar\": {\"feed-url\": \"https://cal.example.org/s3cr3t/a.ics\", "
                      "\"caldav-url\": \"https://dav.example.org/r/\", \"caldav-user\": \"r\", "
                      "\"caldav-password\": \"pw-9f\", \"join-before-minutes\": 10, "
                      "\"auto-join\": true}}",
                      &error));
  g_assert_no_error(error);
  g_assert_cmpuint(f->config->calendar_join_before_min, ==, 10);
  g_assert_true(f->config->calendar_auto_join);
  g_autoptr(JsonNode) got = ar_api_config_get(f->config);
  g_autofree char *text = json_to_string(got, FALSE);
  g_assert_null(strstr(text, "s3cr3t"));
  g_assert_null(strstr(text, "pw-9f"));
  g_assert_nonnull(strstr(text, "\"feed-url-set\":true"));
  g_assert_nonnull(strstr(text, "\"caldav-password-set\":true"));
  const char *refused[] = {
      "{\"calendar\": {\"join-before-minutes\": 61}}",
      "{\"calendar\": {\"join-before-minutes\": -1}}",
      "{\"calendar\": {\"join-before-minutes\": \"5\"}}",
      "{\"calendar\": {\"feed-url\": \"http://cal.example.org/a.ics\"}}",
      "{\"calendar\": {\"feed-url-set\": false}}",
      "{\"calendar\": {\"ca\": \"/etc/passwd\"}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GError) e = NULL;
    g_assert_false(patch(f, refused[i], &e));
    g_assert_nonnull(e);
  }
  g_assert_cmpuint(f->config->calendar_join_before_min, ==, 10);
  /* null puts the config file's value back: no feed. */
  g_assert_true(patch(f, "{\"calendar\": {\"feed-url\": null}}", &error));
  g_assert_no_error(error);
  g_assert_null(f->config->calendar_feed_url);
}

static void
test_get(Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) n = ar_api_config_get(f->config);
  JsonObject *o = json_node_get_object(n);
  JsonObject *room = json_object_get_object_member(o, "room");
  g_assert_cmpstr(json_object_get_string_member(room, "name"), ==, "Lab Room");
  JsonObject *net = json_object_get_object_member(o, "network");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(net, "stun")), ==, 1);
  g_assert_false(json_object_get_boolean_member(net, "turn-password-set"));
  g_assert_false(json_object_has_member(net, "turn-password"));
  JsonObject *links = json_object_get_object_member(o, "links");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(links, "jitsi-domains")), ==,
                   1);
  /* Unset: the board's choice (null); set, it reads back and applies to the next call. */
  JsonObject *audio = json_object_get_object_member(o, "audio");
  g_assert_true(json_object_get_null_member(audio, "echo-cancellation"));
  g_autoptr(GError) error = NULL;
  g_assert_true(patch(f, "{\"audio\": {\"echo-cancellation\": false}}", &error));
  g_assert_no_error(error);
  g_assert_cmpint(f->config->echo_cancellation, ==, FALSE);
  g_assert_cmpint(f->config->noise_suppression, ==, AR_CONFIG_UNSET);
  g_autoptr(JsonNode) again = ar_api_config_get(f->config);
  audio = json_object_get_object_member(json_node_get_object(again), "audio");
  g_assert_false(json_object_get_boolean_member(audio, "echo-cancellation"));
  g_assert_false(patch(f, "{\"audio\": {\"echo-cancellation\": \"off\"}}", &error));
  g_assert_nonnull(strstr(error->message, "true, false"));
}

static void
test_patch_and_reload(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) n =
      json("{\"room\": {\"name\": \"Board Room 4\"},"
           " \"device\": {\"camera\": \"/dev/video2\", \"microphone\": \"hw:1,0\"},"
           " \"network\": {\"turn\": [\"turn:10.0.0.2:3478?transport=tcp\"],"
           "   \"turn-username\": \"room\", \"turn-password\": \"s3cret-pass\","
           "   \"relay-only\": true},"
           " \"links\": {\"pexip-domains\": [\"video.example.com\"]}}");
  g_auto(GStrv) changed = NULL;
  ArApiConfigChanged areas = 0;
  g_assert_true(ar_api_config_patch(f->config, f->dir, n, &changed, &areas, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(changed), ==, 8);
  g_assert_true(g_strv_contains((const char *const *)changed, "network.turn-password"));
  g_assert_cmpuint(areas, ==,
                   AR_API_CONFIG_CHANGED_ROOM | AR_API_CONFIG_CHANGED_DEVICE |
                       AR_API_CONFIG_CHANGED_NETWORK | AR_API_CONFIG_CHANGED_LINKS);
  /* Live at once. */
  g_assert_cmpstr(f->config->room_name, ==, "Board Room 4");
  g_assert_cmpstr(f->config->camera, ==, "/dev/video2");
  g_assert_cmpstr(f->config->turn_password, ==, "s3cret-pass");
  g_assert_true(f->config->relay_only);
  g_assert_cmpstr(f->config->stun[0], ==, "stun:10.0.0.1:3478"); /* the file's, untouched */
  /* The secret is written (0600) but never read back. */
  g_autofree char *path = g_build_filename(f->dir, "settings.conf", NULL);
  struct stat st;
  g_assert_cmpint(stat(path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  g_autoptr(JsonNode) got = ar_api_config_get(f->config);
  g_autofree char *text = json_to_string(got, FALSE);
  g_assert_null(strstr(text, "s3cret-pass"));
  g_assert_nonnull(strstr(text, "\"turn-password-set\":true"));
  /* A restart: the file again, then the saved settings over it. */
  g_autoptr(ArConfig) again = ar_config_load_data(base_conf, strlen(base_conf), "test.conf", NULL);
  g_assert_true(ar_api_config_apply_saved(again, f->dir, &error));
  g_assert_cmpstr(again->room_name, ==, "Board Room 4");
  g_assert_cmpstr(again->microphone, ==, "hw:1,0");
  g_assert_cmpstr(again->turn_username, ==, "room");
  g_assert_true(again->relay_only);
  /* null unsets a key: the default, even over the file's value. */
  g_assert_true(patch(f, "{\"room\": {\"name\": null}, \"network\": {\"stun\": null}}", &error));
  g_assert_cmpstr(f->config->room_name, ==, "Anyroom");
  g_assert_true(f->config->stun == NULL || f->config->stun[0] == NULL);
  g_autoptr(ArConfig) third = ar_config_load_data(base_conf, strlen(base_conf), "test.conf", NULL);
  g_assert_true(ar_api_config_apply_saved(third, f->dir, &error));
  g_assert_true(third->stun == NULL || third->stun[0] == NULL);
  g_assert_true(patch(f, "{\"network\": {\"stun\": [\"stun:10.0.0.9:3478\"]}}", &error));
  g_assert_cmpstr(f->config->stun[0], ==, "stun:10.0.0.9:3478");
  /* Clearing the TURN credentials while TURN servers remain is refused by
   * the config file's rule; a cleared key stays cleared after a restart. */
  g_assert_false(
      patch(f, "{\"network\": {\"turn-username\": null, \"turn-password\": null}}", &error));
  g_assert_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_true(patch(f,
                      "{\"network\": {\"turn\": null, \"turn-username\": null,"
                      " \"turn-password\": null, \"relay-only\": null}}",
                      &error));
  g_assert_null(f->config->turn_password);
  g_autofree char *file = saved(f);
  g_assert_null(strstr(file, "s3cret-pass"));
}

/* [logs]: PEM through the API, kept 0600 in the state dir, read back as fingerprints only. */
static void
test_logs(Fixture *f, gconstpointer data)
{
  g_autofree char *cert_path =
      g_test_build_filename(G_TEST_DIST, "..", "media", "data", "test-cert.pem", NULL);
  g_autofree char *pem = NULL;
  g_assert_true(g_file_get_contents(cert_path, &pem, NULL, NULL));
  const char *key =
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "logs");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "remote-level");
  json_builder_add_string_value(b, "warning");
  json_builder_set_member_name(b, "remote-ca-pem");
  json_builder_add_string_value(b, pem);
  json_builder_set_member_name(b, "remote-cert-pem");
  json_builder_add_string_value(b, pem);
  json_builder_set_member_name(b, "remote-key-pem");
  json_builder_add_string_value(b, key);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) body = json_builder_get_root(b);
  g_auto(GStrv) changed = NULL;
  ArApiConfigChanged areas = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_api_config_patch(f->config, f->dir, body, &changed, &areas, &error));
  g_assert_no_error(error);
  g_assert_true(areas & AR_API_CONFIG_CHANGED_LOGS);
  g_assert_true(g_strv_contains((const char *const *)changed, "logs.remote-key-pem"));
  /* The files: 0600, the path in the config; no pending copy left. */
  g_autofree char *key_file = g_build_filename(f->dir, "logs-remote-key.pem", NULL);
  g_autofree char *canon = g_canonicalize_filename(key_file, NULL);
  g_assert_cmpstr(f->config->logs_remote_key, ==, canon);
  GStatBuf st;
  g_assert_cmpint(g_stat(key_file, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  g_autofree char *pending = g_strconcat(key_file, ".new", NULL);
  g_assert_false(g_file_test(pending, G_FILE_TEST_EXISTS));
  g_assert_cmpstr(f->config->logs_remote_level, ==, "warning");
  /* GET: fingerprints (as openssl prints them), never the PEM. */
  g_autoptr(JsonNode) got = ar_api_config_get(f->config);
  g_autofree char *text = json_to_string(got, FALSE);
  g_assert_null(strstr(text, "BEGIN"));
  JsonObject *logs = json_object_get_object_member(json_node_get_object(got), "logs");
  const char *fp = "71:AB:EE:A1:DF:9B:22:40:11:B4:25:ED:65:2D:65:4E:EC:77:FE:EF:8A:CC:4E:E0:B5:15:"
                   "4F:95:A2:15:A6:7C";
  g_assert_cmpstr(json_object_get_string_member(logs, "remote-ca-sha256"), ==, fp);
  g_assert_cmpstr(json_object_get_string_member(logs, "remote-cert-sha256"), ==, fp);
  g_assert_true(json_object_get_boolean_member(logs, "remote-key-set"));
  g_assert_true(json_object_get_null_member(logs, "remote"));
  /* The key is not a real one: a receiver set now fails the forwarder's own check (400),
   * and nothing changes. */
  g_autoptr(GError) e = NULL;
  g_assert_false(patch(f, "{\"logs\": {\"remote\": \"journal-https://127.0.0.1\"}}", &e));
  g_assert_error(e, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID);
  g_assert_nonnull(strstr(e->message, "logs.remote-cert/remote-key"));
  g_assert_null(f->config->logs_remote);
  /* null: no client certificate. */
  g_assert_true(
      patch(f, "{\"logs\": {\"remote-cert-pem\": null, \"remote-key-pem\": null}}", NULL));
  g_assert_null(f->config->logs_remote_key);
  g_assert_true(ar_api_config_forget(f->dir, NULL));
  g_assert_false(g_file_test(key_file, G_FILE_TEST_EXISTS));
}

static void
test_refused(Fixture *f, gconstpointer data)
{
  const struct {
    const char *body, *message;
  } bad[] = {
      {"{\"room\": {\"name\": \"\"}}", "room.name"},
      {"{\"room\": {\"name\": "
       "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}",
       "1 to 64"},
      {"{\"room\": {\"name\": \"a\\u0007b\"}}", "room.name"},
      {"{\"room\": {\"name\": 5}}", "must be a string"},
      {"{\"admin\": {\"listen\": \"0.0.0.0:443\"}}", "unknown settings group"},
      {"{\"network\": {\"turn-password-set\": false}}", "read-only"},
      {"{\"network\": {\"foo\": 1}}", "unknown"},
      {"{\"network\": {\"stun\": [\"http://x\"]}}", "network.stun"},
      {"{\"network\": {\"stun\": [\"stun:a;b\"]}}", "';'"},
      {"{\"network\": {\"turn\": [\"turn:10.0.0.2:3478\"]}}", "turn-credentials-url"},
      {"{\"network\": {\"relay-only\": true}}", "relay-only"},
      {"{\"network\": {\"relay-only\": \"yes\"}}", "true, false"},
      {"{\"network\": {\"turn-credentials-url\": \"http://example.com/creds\"}}", "https"},
      {"{\"device\": {\"camera\": \"rm -rf /\"}}", "device.camera"},
      {"{\"device\": {\"speaker\": \"$(reboot)\"}}", "device.speaker"},
      {"{\"links\": {\"jitsi-domains\": [\"not a domain\"]}}", ""},
      {"{}", "no settings"},
      {"{\"room\": []}", "must be an object"},
      /* [logs]: not PEM, a key that is no key, a path, the read-only fingerprint, a bad
       * address, a bad level. */
      {"{\"logs\": {\"remote-ca-pem\": \"hello\"}}", "logs.remote-ca-pem: must be PEM"},
      {"{\"logs\": {\"remote-key-pem\": \"hello\"}}", "logs.remote-key-pem: must be a PEM"},
      {"{\"logs\": {\"remote-key\": \"/etc/shadow\"}}", "unknown or read-only"},
      {"{\"logs\": {\"remote-ca-sha256\": \"x\"}}", "unknown or read-only"},
      {"{\"logs\": {\"remote\": \"syslog://h\"}}", "logs.remote: not a syslog-tls"},
      {"{\"logs\": {\"remote-level\": \"loud\"}}", "logs.remote-level"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("%s", bad[i].body);
    g_assert_false(patch(f, bad[i].body, &error));
    g_assert_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, bad[i].message));
  }
  /* Nothing changed, nothing saved. */
  g_assert_cmpstr(f->config->room_name, ==, "Lab Room");
  g_autofree char *file = saved(f);
  g_assert_null(file);
}

static void
test_secret_not_in_errors(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  /* A password without a username: refused, and the message names the key only. */
  g_assert_false(patch(f, "{\"network\": {\"turn-password\": \"hunter2-secret\"}}", &error));
  g_assert_nonnull(error);
  g_assert_null(strstr(error->message, "hunter2-secret"));
}

/* Read at start: the time zone and the update channel (provisioning sets them too). */
static void
test_start_settings(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) p = json("{\"room\":{\"time-zone\":\"Europe/Berlin\"},"
                               "\"update\":{\"channel-url\":\"https://u.example.org/s.manifest\","
                               "\"channel\":\"preview\"}}");
  g_auto(GStrv) changed = NULL;
  ArApiConfigChanged areas = 0;
  g_assert_true(ar_api_config_patch(f->config, f->dir, p, &changed, &areas, &error));
  g_assert_no_error(error);
  g_assert_true(areas & AR_API_CONFIG_CHANGED_RESTART);
  g_assert_cmpstr(f->config->room_time_zone, ==, "Europe/Berlin");
  g_assert_cmpstr(f->config->update_channel, ==, "preview");
  g_autoptr(JsonNode) got = ar_api_config_get(f->config);
  JsonObject *u = json_object_get_object_member(json_node_get_object(got), "update");
  g_assert_cmpstr(json_object_get_string_member(u, "channel-url"), ==,
                  "https://u.example.org/s.manifest");
  /* The config file's rules, through the API. */
  g_assert_false(patch(f, "{\"room\":{\"time-zone\":\"Mars/Olympus\"}}", &error));
  g_assert_nonnull(strstr(error->message, "room.time-zone"));
  g_clear_error(&error);
  g_assert_false(patch(f, "{\"room\":{\"time-zone\":\"../../etc/passwd\"}}", &error));
  g_clear_error(&error);
  g_assert_false(patch(f, "{\"update\":{\"channel-url\":\"http://u.example.org/x\"}}", &error));
  g_assert_nonnull(strstr(error->message, "update.channel-url"));
  g_clear_error(&error);
  g_assert_false(patch(f, "{\"update\":{\"keyring\":\"/tmp/k.pem\"}}", &error));
  g_clear_error(&error);
  /* A client's key name in the error: one line, bounded (found by fuzz-provision). */
  g_assert_false(patch(f,
                       "{\"network\":{\"st\\nun\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                       "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                       "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                       "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                       "\":1}}",
                       &error));
  g_assert_null(strchr(error->message, '\n'));
  g_assert_true(g_utf8_validate(error->message, -1, NULL));
  g_assert_cmpuint(strlen(error->message), <, 200);
  g_assert_cmpstr(f->config->room_time_zone, ==, "Europe/Berlin");
}

static void
test_legacy_json(Fixture *f, gconstpointer data)
{
  g_autofree char *p = g_build_filename(f->dir, "settings.json", NULL);
  g_assert_true(g_file_set_contents(p, "{\"room_name\": \"Old Room\"}", -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_api_config_apply_saved(f->config, f->dir, &error));
  g_assert_cmpstr(f->config->room_name, ==, "Old Room");
  /* The next save folds it into settings.conf. */
  g_assert_true(patch(f, "{\"device\": {\"speaker\": \"none\"}}", &error));
  g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
  g_autofree char *file = saved(f);
  g_assert_nonnull(strstr(file, "Old Room"));
  /* Factory reset forgets it all. */
  g_assert_true(ar_api_config_forget(f->dir, &error));
  g_autofree char *gone = saved(f);
  g_assert_null(gone);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/api-config/get", Fixture, NULL, setup, test_get, teardown);
  g_test_add("/api-config/patch-and-reload", Fixture, NULL, setup, test_patch_and_reload, teardown);
  g_test_add("/api-config/refused", Fixture, NULL, setup, test_refused, teardown);
  g_test_add("/api-config/calendar", Fixture, NULL, setup, test_calendar, teardown);
  g_test_add("/api-config/logs", Fixture, NULL, setup, test_logs, teardown);
  g_test_add("/api-config/secret-not-in-errors", Fixture, NULL, setup, test_secret_not_in_errors,
             teardown);
  g_test_add("/api-config/start-settings", Fixture, NULL, setup, test_start_settings, teardown);
  g_test_add("/api-config/legacy-json", Fixture, NULL, setup, test_legacy_json, teardown);
  return g_test_run();
}
