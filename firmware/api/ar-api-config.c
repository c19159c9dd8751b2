/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-api-config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ar-api-call.h"
#include "ar-json.h"
#include "ar-link.h"
#include "ar-log-remote.h"
#include "ar-log.h"
#include "ar-media.h"

G_DEFINE_QUARK(ar - api - config - error - quark, ar_api_config_error)

#define SETTINGS_FILE "settings.conf"
#define LEGACY_SETTINGS_FILE "settings.json"
#define CLEARED_GROUP "cleared" /* keys put back to the config file's value */
#define CLEARED_KEY "keys"

/* V_PEM_CERT, V_PEM_KEY: PEM text through the API, kept as a 0600 file in the state dir whose
 * path is the config file's key (file_key); never returned, only a fingerprint. */
typedef enum { V_STRING, V_LIST, V_BOOL, V_SECRET, V_UINT, V_PEM_CERT, V_PEM_KEY } ValueType;

typedef struct {
  const char *group, *key;
  ValueType type;
  ArApiConfigChanged area;
  const char *file_key; /* the key in the config file and settings.conf; NULL = key */
} Setting;

static const Setting settings[] = {
    {"room", "name", V_STRING, AR_API_CONFIG_CHANGED_ROOM},
    {"room", "display-name", V_STRING, AR_API_CONFIG_CHANGED_ROOM},
    {"room", "time-zone", V_STRING, AR_API_CONFIG_CHANGED_RESTART},
    {"device", "camera", V_STRING, AR_API_CONFIG_CHANGED_DEVICE},
    {"device", "microphone", V_STRING, AR_API_CONFIG_CHANGED_DEVICE},
    {"device", "speaker", V_STRING, AR_API_CONFIG_CHANGED_DEVICE},
    {"audio", "echo-cancellation", V_BOOL, AR_API_CONFIG_CHANGED_DEVICE},
    {"audio", "noise-suppression", V_BOOL, AR_API_CONFIG_CHANGED_DEVICE},
    {"audio", "gain-control", V_BOOL, AR_API_CONFIG_CHANGED_DEVICE},
    {"network", "stun", V_LIST, AR_API_CONFIG_CHANGED_NETWORK},
    {"network", "turn", V_LIST, AR_API_CONFIG_CHANGED_NETWORK},
    {"network", "turn-username", V_STRING, AR_API_CONFIG_CHANGED_NETWORK},
    {"network", "turn-password", V_SECRET, AR_API_CONFIG_CHANGED_NETWORK},
    {"network", "turn-credentials-url", V_STRING, AR_API_CONFIG_CHANGED_NETWORK},
    {"network", "relay-only", V_BOOL, AR_API_CONFIG_CHANGED_NETWORK},
    {"links", "jitsi-domains", V_LIST, AR_API_CONFIG_CHANGED_LINKS},
    {"links", "pexip-domains", V_LIST, AR_API_CONFIG_CHANGED_LINKS},
    {"links", "allow-idn", V_BOOL, AR_API_CONFIG_CHANGED_LINKS},
    {"calendar", "feed-url", V_SECRET, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "caldav-url", V_STRING, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "caldav-user", V_STRING, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "caldav-password", V_SECRET, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "room-address", V_STRING, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "refresh-minutes", V_UINT, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "join-before-minutes", V_UINT, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "auto-join", V_BOOL, AR_API_CONFIG_CHANGED_CALENDAR},
    {"calendar", "show-private-titles", V_BOOL, AR_API_CONFIG_CHANGED_CALENDAR},
    {"logs", "remote", V_STRING, AR_API_CONFIG_CHANGED_LOGS},
    {"logs", "remote-level", V_STRING, AR_API_CONFIG_CHANGED_LOGS},
    {"logs", "remote-ca-pem", V_PEM_CERT, AR_API_CONFIG_CHANGED_LOGS, "remote-ca"},
    {"logs", "remote-cert-pem", V_PEM_CERT, AR_API_CONFIG_CHANGED_LOGS, "remote-cert"},
    {"logs", "remote-key-pem", V_PEM_KEY, AR_API_CONFIG_CHANGED_LOGS, "remote-key"},
    {"update", "channel-url", V_STRING, AR_API_CONFIG_CHANGED_RESTART},
    {"update", "channel", V_STRING, AR_API_CONFIG_CHANGED_RESTART},
};

static const char *
stored_key(const Setting *st)
{
  return st->file_key ? st->file_key : st->key;
}

/* By the API's name. */
static const Setting *
find_setting(const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS(settings); i++)
    if (g_str_equal(settings[i].group, group) && (!key || g_str_equal(settings[i].key, key)))
      return &settings[i];
  return NULL;
}

/* By the name in settings.conf. */
static const Setting *
find_stored(const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS(settings); i++)
    if (g_str_equal(settings[i].group, group) && g_str_equal(stored_key(&settings[i]), key))
      return &settings[i];
  return NULL;
}

static char *
settings_path(const char *state_dir)
{
  return g_build_filename(state_dir, SETTINGS_FILE, NULL);
}

/* The saved settings, or an empty key file. Refuses what we never write. */
static GKeyFile *
load_overlay(const char *state_dir, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autofree char *path = settings_path(state_dir);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (g_file_test(path, G_FILE_TEST_EXISTS)) {
    if (!g_file_get_contents(path, &data, &len, error))
      return NULL;
    if (len > AR_CONFIG_MAX_SIZE ||
        !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error)) {
      g_prefix_error(error, "%s: ", path);
      if (error && !*error)
        g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE, "%s: too large", path);
      return NULL;
    }
    return g_steal_pointer(&kf);
  }
  /* Before settings.conf, only the room name was saved, as JSON. */
  g_autofree char *legacy = g_build_filename(state_dir, LEGACY_SETTINGS_FILE, NULL);
  if (g_file_get_contents(legacy, &data, &len, NULL) && len <= 64 * 1024) {
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (json_parser_load_from_data(p, data, (gssize)len, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
      JsonObject *o = json_node_get_object(json_parser_get_root(p));
      const char *name = json_object_get_string_member_with_default(o, "room_name", NULL);
      if (name && g_utf8_validate(name, -1, NULL))
        g_key_file_set_string(kf, "room", "name", name);
    }
  }
  return g_steal_pointer(&kf);
}

/* The config file's key file with @overlay over it. */
static GKeyFile *
merge(const ArConfig *config, GKeyFile *overlay)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (config->source) {
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(config->source, &len, NULL);
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL))
      g_warning("config: cannot copy the config file's keys");
  }
  g_auto(GStrv) cleared =
      g_key_file_get_string_list(overlay, CLEARED_GROUP, CLEARED_KEY, NULL, NULL);
  for (gsize i = 0; cleared && cleared[i]; i++) {
    g_auto(GStrv) gk = g_strsplit(cleared[i], ".", 2);
    if (g_strv_length(gk) == 2 && find_stored(gk[0], gk[1]))
      g_key_file_remove_key(kf, gk[0], gk[1], NULL);
  }
  g_auto(GStrv) groups = g_key_file_get_groups(overlay, NULL);
  for (gsize g = 0; groups[g]; g++) {
    if (g_str_equal(groups[g], CLEARED_GROUP))
      continue;
    g_auto(GStrv) keys = g_key_file_get_keys(overlay, groups[g], NULL, NULL);
    for (gsize k = 0; keys && keys[k]; k++) {
      g_autofree char *v = g_key_file_get_value(overlay, groups[g], keys[k], NULL);
      /* Only settable keys: a hand-edited file cannot reach [admin]. */
      if (v && find_stored(groups[g], keys[k]))
        g_key_file_set_value(kf, groups[g], keys[k], v);
    }
  }
  return g_steal_pointer(&kf);
}

#define SWAP(field)                                                                                \
  do {                                                                                             \
    __typeof__(to->field) tmp_ = to->field;                                                        \
    to->field = from->field;                                                                       \
    from->field = tmp_;                                                                            \
  } while (0)

/* Moves the settable fields of @from into @to (and the old ones into @from,
 * freed with it). */
static void
take_settings(ArConfig *to, ArConfig *from)
{
  SWAP(room_name);
  SWAP(display_name);
  SWAP(room_time_zone);
  SWAP(update_channel_url);
  SWAP(update_channel);
  SWAP(camera);
  SWAP(microphone);
  SWAP(speaker);
  SWAP(echo_cancellation);
  SWAP(noise_suppression);
  SWAP(gain_control);
  SWAP(stun);
  SWAP(turn);
  SWAP(turn_username);
  SWAP(turn_password);
  SWAP(turn_credentials_url);
  SWAP(relay_only);
  SWAP(links);
  SWAP(calendar_feed_url);
  SWAP(calendar_caldav_url);
  SWAP(calendar_caldav_user);
  SWAP(calendar_caldav_password);
  SWAP(calendar_room_address);
  SWAP(calendar_refresh_min);
  SWAP(calendar_join_before_min);
  SWAP(calendar_auto_join);
  SWAP(calendar_show_private_titles);
  SWAP(logs_remote);
  SWAP(logs_remote_level);
  SWAP(logs_remote_ca);
  SWAP(logs_remote_cert);
  SWAP(logs_remote_key);
}

#undef SWAP

gboolean
ar_api_config_apply_saved(ArConfig *config, const char *state_dir, GError **error)
{
  /* The config file's own secrets (not settable here) stay out of the log ring too. */
  ar_log_ring_add_secret(config->whip_token);
  ar_log_ring_add_secret(config->calendar_feed_url);
  ar_log_ring_add_secret(config->calendar_caldav_password);
  g_autoptr(GKeyFile) overlay = load_overlay(state_dir, error);
  if (!overlay)
    return FALSE;
  g_autoptr(GKeyFile) kf = merge(config, overlay);
  g_autoptr(GError) local = NULL;
  g_autoptr(ArConfig) merged = ar_config_load_keyfile(kf, "saved settings", &local);
  if (!merged) {
    /* The config file changed under the saved settings: the file wins. */
    g_warning("config: saved settings (%s/%s) ignored: %s", state_dir, SETTINGS_FILE,
              local->message);
    return TRUE;
  }
  take_settings(config, merged);
  ar_log_ring_add_secret(config->turn_password);
  ar_log_ring_add_secret(config->calendar_feed_url);
  ar_log_ring_add_secret(config->calendar_caldav_password);
  return TRUE;
}

/* ---- GET ---- */

static void
add_list(JsonBuilder *b, const char *name, const char *const *values)
{
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (gsize i = 0; values && values[i]; i++)
    json_builder_add_string_value(b, values[i]);
  json_builder_end_array(b);
}

static void
add_bool(JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

static void
add_tri(JsonBuilder *b, const char *name, int value)
{
  json_builder_set_member_name(b, name);
  if (value == AR_CONFIG_UNSET)
    json_builder_add_null_value(b);
  else
    json_builder_add_boolean_value(b, value);
}

/* "AB:CD:..." SHA-256 of the first certificate in @path (as `openssl x509 -fingerprint
 * -sha256` prints it, and the admin page shows its own), or NULL. */
static char *
pem_fingerprint(const char *path)
{
  g_autofree char *pem = NULL;
  gsize len = 0;
  if (!path || !*path || !g_file_get_contents(path, &pem, &len, NULL) ||
      len > AR_API_CONFIG_MAX_PEM * 8)
    return NULL;
  g_autofree char *fp = ar_certificate_fingerprint(pem, "sha-256", NULL);
  return fp && g_str_has_prefix(fp, "sha-256 ") ? g_strdup(fp + strlen("sha-256 ")) : NULL;
}

JsonNode *
ar_api_config_get(const ArConfig *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "room");
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "name", c->room_name);
  ar_json_add_string_or_null(b, "display-name", c->display_name);
  ar_json_add_string_or_null(b, "time-zone", c->room_time_zone);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "device");
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "camera", c->camera);
  ar_json_add_string_or_null(b, "microphone", c->microphone);
  ar_json_add_string_or_null(b, "speaker", c->speaker);
  json_builder_end_object(b);
  /* null: the board's choice (on unless the board says otherwise). */
  json_builder_set_member_name(b, "audio");
  json_builder_begin_object(b);
  add_tri(b, "echo-cancellation", c->echo_cancellation);
  add_tri(b, "noise-suppression", c->noise_suppression);
  add_tri(b, "gain-control", c->gain_control);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "network");
  json_builder_begin_object(b);
  add_list(b, "stun", (const char *const *)c->stun);
  add_list(b, "turn", (const char *const *)c->turn);
  ar_json_add_string_or_null(b, "turn-username", c->turn_username);
  add_bool(b, "turn-password-set", c->turn_password != NULL);
  ar_json_add_string_or_null(b, "turn-credentials-url", c->turn_credentials_url);
  add_bool(b, "relay-only", c->relay_only);
  json_builder_end_object(b);
  const ArLinkPolicy *policy = ar_link_config_get_policy(c->links);
  json_builder_set_member_name(b, "links");
  json_builder_begin_object(b);
  add_list(b, "jitsi-domains", policy->jitsi_domains);
  add_list(b, "pexip-domains", policy->pexip_domains);
  add_bool(b, "allow-idn", policy->allow_idn);
  json_builder_end_object(b);
  /* The feed URL and the password are write-only: a feed's address is its key. */
  json_builder_set_member_name(b, "calendar");
  json_builder_begin_object(b);
  add_bool(b, "feed-url-set", c->calendar_feed_url && *c->calendar_feed_url);
  ar_json_add_string_or_null(b, "caldav-url", c->calendar_caldav_url);
  ar_json_add_string_or_null(b, "caldav-user", c->calendar_caldav_user);
  add_bool(b, "caldav-password-set", c->calendar_caldav_password && *c->calendar_caldav_password);
  ar_json_add_string_or_null(b, "room-address", c->calendar_room_address);
  json_builder_set_member_name(b, "refresh-minutes");
  json_builder_add_int_value(b, c->calendar_refresh_min);
  json_builder_set_member_name(b, "join-before-minutes");
  json_builder_add_int_value(b, c->calendar_join_before_min);
  add_bool(b, "auto-join", c->calendar_auto_join);
  add_bool(b, "show-private-titles", c->calendar_show_private_titles);
  json_builder_end_object(b);
  /* The PEM files are write-only: the certificates' fingerprints, whether a key is set. */
  json_builder_set_member_name(b, "logs");
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "remote",
                             c->logs_remote && *c->logs_remote ? c->logs_remote : NULL);
  ar_json_add_string_or_null(b, "remote-level", c->logs_remote_level);
  g_autofree char *ca = pem_fingerprint(c->logs_remote_ca);
  g_autofree char *cert = pem_fingerprint(c->logs_remote_cert);
  ar_json_add_string_or_null(b, "remote-ca-sha256", ca);
  ar_json_add_string_or_null(b, "remote-cert-sha256", cert);
  add_bool(b, "remote-key-set", c->logs_remote_key && *c->logs_remote_key);
  json_builder_end_object(b);
  /* Read at start: a change takes effect at the next one (restart_required). */
  json_builder_set_member_name(b, "update");
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "channel-url", c->update_channel_url);
  ar_json_add_string_or_null(b, "channel", c->update_channel);
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- PATCH ---- */

static gboolean
text_ok(const char *s)
{
  if (!g_utf8_validate(s, -1, NULL) || strlen(s) > AR_API_CONFIG_MAX_VALUE)
    return FALSE;
  for (const char *p = s; *p; p++)
    if ((guchar)*p < 0x20)
      return FALSE;
  return TRUE;
}

static gboolean
invalid(GError **error, const char *group, const char *key, const char *what)
{
  /* Group and key names are the client's: one line (found by fuzz-provision). */
  g_autofree char *raw =
      g_strdup_printf("%.64s%s%.64s: %s", group, key ? "." : "", key ? key : "", what);
  g_autofree char *text = g_utf8_make_valid(raw, -1); /* the cut may split a character */
  for (char *c = text; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      *c = '?';
  g_set_error_literal(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID, text);
  return FALSE;
}

static void log_options(const ArConfig *c, ArLogRemoteOptions *opt);

/* PEM text: a certificate GIO can read, or a private key; at most AR_API_CONFIG_MAX_PEM. */
static gboolean
pem_ok(const char *pem, ValueType type)
{
  if (strlen(pem) > AR_API_CONFIG_MAX_PEM || !g_utf8_validate(pem, -1, NULL))
    return FALSE;
  for (const char *p = pem; *p; p++)
    if ((guchar)*p < 0x20 && !strchr("\r\n\t", *p))
      return FALSE;
  if (type == V_PEM_KEY)
    return strstr(pem, "-----BEGIN ") && strstr(pem, "PRIVATE KEY-----");
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_pem(pem, -1, NULL);
  return cert != NULL;
}

/* Where the API's PEM of @st is kept: STATE_DIR/logs-remote-ca.pem etc. */
static char *
pem_path(const char *state_dir, const Setting *st)
{
  g_autofree char *name = g_strdup_printf("%s-%s.pem", st->group, stored_key(st));
  g_autofree char *path = g_build_filename(state_dir, name, NULL);
  return g_canonicalize_filename(path, NULL);
}

/* Puts one JSON value into @overlay (or clears the key); PEM text goes to @files
 * (path -> text), written when the whole patch is good. */
static gboolean
set_value(GKeyFile *overlay, GPtrArray *cleared, const Setting *st, JsonNode *v,
          const char *state_dir, GHashTable *files, GError **error)
{
  g_autofree char *name = g_strconcat(st->group, ".", stored_key(st), NULL);
  for (guint i = 0; i < cleared->len; i++)
    if (g_str_equal(cleared->pdata[i], name)) {
      g_ptr_array_remove_index(cleared, i);
      break;
    }
  if (JSON_NODE_HOLDS_NULL(v)) {
    g_key_file_remove_key(overlay, st->group, stored_key(st), NULL);
    g_ptr_array_add(cleared, g_steal_pointer(&name));
    return TRUE;
  }
  switch (st->type) {
  case V_PEM_CERT:
  case V_PEM_KEY: {
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING ||
        !pem_ok(json_node_get_string(v), st->type))
      return invalid(error, st->group, st->key,
                     st->type == V_PEM_KEY ? "must be a PEM private key (at most 32 KiB) or null"
                                           : "must be PEM certificates (at most 32 KiB) or null");
    char *path = pem_path(state_dir, st);
    g_key_file_set_string(overlay, st->group, stored_key(st), path);
    g_hash_table_insert(files, path, g_strdup(json_node_get_string(v)));
    return TRUE;
  }
  case V_STRING:
  case V_SECRET:
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING)
      return invalid(error, st->group, st->key, "must be a string or null");
    if (!text_ok(json_node_get_string(v)))
      return invalid(error, st->group, st->key, "must be printable text of at most 2048 bytes");
    g_key_file_set_string(overlay, st->group, st->key, json_node_get_string(v));
    return TRUE;
  case V_UINT:
    /* The range is the config file's (checked on the merged file). */
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_INT64 ||
        json_node_get_int(v) < 0 || json_node_get_int(v) > G_MAXINT32)
      return invalid(error, st->group, st->key, "must be a whole number or null");
    g_key_file_set_int64(overlay, st->group, st->key, json_node_get_int(v));
    return TRUE;
  case V_BOOL:
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_BOOLEAN)
      return invalid(error, st->group, st->key, "must be true, false or null");
    g_key_file_set_string(overlay, st->group, st->key, json_node_get_boolean(v) ? "true" : "false");
    return TRUE;
  case V_LIST: {
    if (!JSON_NODE_HOLDS_ARRAY(v))
      return invalid(error, st->group, st->key, "must be a list of strings or null");
    JsonArray *a = json_node_get_array(v);
    guint n = json_array_get_length(a);
    if (n > AR_API_CONFIG_MAX_LIST)
      return invalid(error, st->group, st->key, "too many entries (at most 64)");
    g_autoptr(GPtrArray) items = g_ptr_array_new();
    for (guint i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element(a, i);
      if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
        return invalid(error, st->group, st->key, "must be a list of strings");
      const char *s = json_node_get_string(e);
      /* A ';' would split the entry in the key file. */
      if (!text_ok(s) || strchr(s, ';') || strchr(s, '\\'))
        return invalid(error, st->group, st->key,
                       "entries must be printable text without ';' or '\\'");
      if (*s)
        g_ptr_array_add(items, (gpointer)s);
    }
    g_key_file_set_string_list(overlay, st->group, st->key, (const char *const *)items->pdata,
                               items->len);
    return TRUE;
  }
  }
  return FALSE;
}

static gboolean
save_overlay(const char *state_dir, GKeyFile *overlay, GError **error)
{
  gsize len = 0;
  if (g_mkdir_with_parents(state_dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s", state_dir,
                g_strerror(errno));
    return FALSE;
  }
  g_autofree char *data = g_key_file_to_data(overlay, &len, NULL);
  g_autofree char *path = settings_path(state_dir);
  g_autofree char *text = g_strconcat("# Settings changed in the admin UI or API (docs/api.md).\n"
                                      "# They go over the config file; 0600: may hold a secret.\n",
                                      data, NULL);
  if (!g_file_set_contents_full(path, text, -1,
                                G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                0600, error))
    return FALSE;
  /* The legacy file is folded into this one. */
  g_autofree char *legacy = g_build_filename(state_dir, LEGACY_SETTINGS_FILE, NULL);
  g_unlink(legacy);
  return TRUE;
}

/* A PEM file of a patch, before the patch is saved. */
static char *
pending(const char *path)
{
  return g_strconcat(path, ".new", NULL);
}

static void
drop_pem_files(GHashTable *files)
{
  GHashTableIter it;
  gpointer path;
  g_hash_table_iter_init(&it, files);
  while (g_hash_table_iter_next(&it, &path, NULL)) {
    g_autofree char *tmp = pending(path);
    g_unlink(tmp);
  }
}

static gboolean
commit_pem_files(GHashTable *files, GError **error)
{
  GHashTableIter it;
  gpointer path;
  g_hash_table_iter_init(&it, files);
  while (g_hash_table_iter_next(&it, &path, NULL)) {
    g_autofree char *tmp = pending(path);
    if (g_rename(tmp, path) != 0) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot save %s: %s",
                  (const char *)path, g_strerror(errno));
      return FALSE;
    }
  }
  return TRUE;
}

/* The forwarder's checks on @merged, with the PEM files of this patch read from their
 * pending copies. A 400 with the reason. */
static gboolean
check_logs(const ArConfig *merged, GHashTable *files, GError **error)
{
  if (!merged->logs_remote || !*merged->logs_remote)
    return TRUE;
  ArLogRemoteOptions opt;
  log_options(merged, &opt);
  g_autofree char *ca =
      opt.ca_file && g_hash_table_contains(files, opt.ca_file) ? pending(opt.ca_file) : NULL;
  g_autofree char *cert =
      opt.cert_file && g_hash_table_contains(files, opt.cert_file) ? pending(opt.cert_file) : NULL;
  g_autofree char *key =
      opt.key_file && g_hash_table_contains(files, opt.key_file) ? pending(opt.key_file) : NULL;
  opt.ca_file = ca ? ca : opt.ca_file;
  opt.cert_file = cert ? cert : opt.cert_file;
  opt.key_file = key ? key : opt.key_file;
  g_autoptr(GError) local = NULL;
  if (!ar_log_remote_check(&opt, &local)) {
    g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID, "logs.%s", local->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_pem_files(const char *state_dir, GHashTable *files, GError **error)
{
  if (g_mkdir_with_parents(state_dir, 0700) != 0) {
    g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE, "cannot create %s: %s",
                state_dir, g_strerror(errno));
    return FALSE;
  }
  GHashTableIter it;
  gpointer path, pem;
  g_hash_table_iter_init(&it, files);
  while (g_hash_table_iter_next(&it, &path, &pem)) {
    g_autofree char *tmp = pending(path);
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents_full(tmp, pem, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local)) {
      drop_pem_files(files);
      g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE, "cannot save %s: %s",
                  (const char *)path, local->message);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
ar_api_config_patch(ArConfig *config, const char *state_dir, JsonNode *patch, GStrv *changed_keys,
                    ArApiConfigChanged *changed, GError **error)
{
  if (!patch || !JSON_NODE_HOLDS_OBJECT(patch)) {
    g_set_error_literal(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID,
                        "the settings must be a JSON object");
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(GKeyFile) overlay = load_overlay(state_dir, &local);
  if (!overlay) {
    g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE,
                "cannot read the saved settings: %s", local->message);
    return FALSE;
  }
  g_auto(GStrv) was_cleared =
      g_key_file_get_string_list(overlay, CLEARED_GROUP, CLEARED_KEY, NULL, NULL);
  g_autoptr(GPtrArray) cleared = g_ptr_array_new_with_free_func(g_free);
  for (gsize i = 0; was_cleared && was_cleared[i]; i++)
    g_ptr_array_add(cleared, g_strdup(was_cleared[i]));
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();
  g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  ArApiConfigChanged areas = 0;
  guint count = 0;
  JsonObject *o = json_node_get_object(patch);
  g_autoptr(GList) groups = json_object_get_members(o);
  for (GList *g = groups; g; g = g->next) {
    const char *group = g->data;
    if (!find_setting(group, NULL))
      return invalid(error, group, NULL,
                     "unknown settings group (known: room, device, audio, network, links, "
                     "calendar, logs, update)");
    JsonNode *gn = json_object_get_member(o, group);
    if (!JSON_NODE_HOLDS_OBJECT(gn))
      return invalid(error, group, NULL, "must be an object");
    JsonObject *go = json_node_get_object(gn);
    g_autoptr(GList) keys = json_object_get_members(go);
    for (GList *k = keys; k; k = k->next) {
      const Setting *st = find_setting(group, k->data);
      if (!st) {
        if (g_str_has_suffix(k->data, "-set"))
          return invalid(error, group, k->data, "read-only: set the secret itself instead");
        return invalid(error, group, k->data, "unknown or read-only setting");
      }
      if (!set_value(overlay, cleared, st, json_object_get_member(go, k->data), state_dir, files,
                     error))
        return FALSE;
      g_autofree char *n = g_strconcat(st->group, ".", st->key, NULL);
      g_strv_builder_add(names, n);
      areas |= st->area;
      count++;
    }
  }
  if (count == 0) {
    g_set_error_literal(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID,
                        "no settings in the request");
    return FALSE;
  }
  g_key_file_remove_group(overlay, CLEARED_GROUP, NULL);
  if (cleared->len > 0)
    g_key_file_set_string_list(overlay, CLEARED_GROUP, CLEARED_KEY,
                               (const char *const *)cleared->pdata, cleared->len);
  /* The config file's own checks, on the file with the settings over it. */
  g_autoptr(GKeyFile) kf = merge(config, overlay);
  g_autoptr(ArConfig) merged = ar_config_load_keyfile(kf, "settings", &local);
  if (!merged) {
    g_set_error_literal(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID, local->message);
    return FALSE;
  }
  /* The forwarder's own checks (the files' contents, the key's mode) on the new files. */
  if (g_hash_table_size(files) > 0 && !write_pem_files(state_dir, files, error))
    return FALSE;
  if ((areas & AR_API_CONFIG_CHANGED_LOGS) && !check_logs(merged, files, error)) {
    drop_pem_files(files);
    return FALSE;
  }
  if (!save_overlay(state_dir, overlay, &local)) {
    drop_pem_files(files);
    g_set_error(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE,
                "cannot save the settings: %s", local->message);
    return FALSE;
  }
  if (!commit_pem_files(files, &local))
    g_warning("config: %s", local->message);
  take_settings(config, merged);
  ar_log_ring_add_secret(config->turn_password);
  ar_log_ring_add_secret(config->calendar_feed_url);
  ar_log_ring_add_secret(config->calendar_caldav_password);
  /* Remote syslog: later lines carry the new name. */
  ar_log_remote_set_hostname(config->room_name);
  if (changed_keys)
    *changed_keys = g_strv_builder_end(names);
  if (changed)
    *changed = areas;
  return TRUE;
}

/* The forwarder's options from [logs]; the strings point into @c. */
static void
log_options(const ArConfig *c, ArLogRemoteOptions *opt)
{
  GLogLevelFlags level = G_LOG_LEVEL_INFO;
  if (c->logs_remote_level)
    (void)ar_log_remote_parse_level(c->logs_remote_level, &level);
  *opt = (ArLogRemoteOptions){.url = c->logs_remote,
                              .ca_file = c->logs_remote_ca,
                              .cert_file = c->logs_remote_cert,
                              .key_file = c->logs_remote_key,
                              .level = level,
                              .hostname = c->room_name};
}

gboolean
ar_api_config_apply_logs(const ArConfig *config, GError **error)
{
  ar_log_remote_stop();
  if (!config->logs_remote || !*config->logs_remote)
    return TRUE;
  ArLogRemoteOptions opt;
  log_options(config, &opt);
  return ar_log_remote_start(&opt, error);
}

gboolean
ar_api_config_reset(ArConfig *config, GError **error)
{
  g_autoptr(GKeyFile) empty = g_key_file_new();
  g_autoptr(GKeyFile) kf = merge(config, empty);
  g_autoptr(ArConfig) fresh =
      ar_config_load_keyfile(kf, config->path ? config->path : "defaults", error);
  if (!fresh)
    return FALSE;
  take_settings(config, fresh);
  ar_log_remote_set_hostname(config->room_name);
  g_autoptr(GError) local = NULL;
  if (!ar_api_config_apply_logs(config, &local))
    g_warning("config: logs: %s", local->message);
  return TRUE;
}

gboolean
ar_api_config_forget(const char *state_dir, GError **error)
{
  const char *files[] = {SETTINGS_FILE, LEGACY_SETTINGS_FILE, "logs-remote-ca.pem",
                         "logs-remote-cert.pem", "logs-remote-key.pem"};
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *path = g_build_filename(state_dir, files[i], NULL);
    if (g_unlink(path) != 0 && errno != ENOENT) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot remove %s: %s", path,
                  g_strerror(errno));
      return FALSE;
    }
  }
  return TRUE;
}
