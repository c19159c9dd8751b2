/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "ar-build-config.h"
#include "ar-config-priv.h"
#include "ar-update.h"

G_DEFINE_QUARK(ar - config - error - quark, ar_config_error)

/* A table of what a file may contain: every group and key, with its type.
 * Anything else is refused, so a typo never silently does nothing. */
/* T_TRI: a gboolean-like int, AR_CONFIG_UNSET (-1) when the file does not say. */
typedef enum { T_STRING, T_UINT, T_BOOL, T_LIST, T_CODEC, T_TRI } KeyType;

typedef struct {
  const char *group;
  const char *key;
  KeyType type;
  gsize offset;
  guint min, max; /* T_UINT bounds */
} KeySpec;

#define S(g, k, t, f, lo, hi)                                                                      \
  {                                                                                                \
    g, k, t, G_STRUCT_OFFSET(ArConfig, f), lo, hi                                                  \
  }
static const KeySpec config_keys[] = {
    S("room", "name", T_STRING, room_name, 0, 0),
    S("room", "time-zone", T_STRING, room_time_zone, 0, 0),
    S("room", "display-name", T_STRING, display_name, 0, 0),
    S("device", "board", T_STRING, board, 0, 0),
    S("device", "camera", T_STRING, camera, 0, 0),
    S("device", "microphone", T_STRING, microphone, 0, 0),
    S("device", "speaker", T_STRING, speaker, 0, 0),
    S("device", "display", T_STRING, display, 0, 0),
    S("media", "video-codec", T_CODEC, video_codec, 0, 0),
    S("media", "encoders", T_LIST, encoders, 0, 0),
    S("media", "decoders", T_LIST, decoders, 0, 0),
    S("media", "width", T_UINT, width, 160, 3840),
    S("media", "height", T_UINT, height, 120, 2160),
    S("media", "framerate", T_UINT, framerate, 1, 60),
    S("media", "video-bitrate-kbps", T_UINT, video_bitrate_kbps, 100, 20000),
    S("media", "jitter-latency-ms", T_UINT, jitter_latency_ms, 0, 2000),
    S("media", "decode-received-video", T_BOOL, decode_received_video, 0, 0),
    S("audio", "echo-cancellation", T_TRI, echo_cancellation, 0, 0),
    S("audio", "noise-suppression", T_TRI, noise_suppression, 0, 0),
    S("audio", "gain-control", T_TRI, gain_control, 0, 0),
    S("call", "join-timeout", T_UINT, join_timeout_s, 1, 300),
    S("network", "stun", T_LIST, stun, 0, 0),
    S("network", "turn", T_LIST, turn, 0, 0),
    S("network", "turn-username", T_STRING, turn_username, 0, 0),
    S("network", "turn-password", T_STRING, turn_password, 0, 0), /* secret: never logged */
    S("network", "turn-credentials-url", T_STRING, turn_credentials_url, 0, 0),
    S("network", "relay-only", T_BOOL, relay_only, 0, 0),
    S("network", "turn-tls-ca", T_STRING, turn_tls_ca, 0, 0),
    S("admin", "listen", T_STRING, admin_listen, 0, 0),
    S("admin", "hostnames", T_LIST, admin_hostnames, 0, 0),
    S("admin", "session-idle-minutes", T_UINT, admin_session_idle_min, 1, 1440),
    S("admin", "max-sessions", T_UINT, admin_max_sessions, 1, 64),
    S("admin", "login-max-failures", T_UINT, admin_login_max_failures, 1, 100),
    S("admin", "login-lockout-minutes", T_UINT, admin_login_lockout_min, 1, 1440),
    S("admin", "metrics", T_BOOL, admin_metrics, 0, 0),
    S("update", "enabled", T_BOOL, update_enabled, 0, 0),
    S("update", "bus", T_STRING, update_bus, 0, 0),
    S("update", "version-file", T_STRING, update_version_file, 0, 0),
    S("update", "max-bundle-size", T_UINT, update_max_bundle_mib, 1, 65536),
    S("update", "download-ca", T_STRING, update_download_ca, 0, 0),
    S("update", "health-settle", T_UINT, update_health_settle_s, 0, 600),
    S("update", "mark-good", T_BOOL, update_mark_good, 0, 0),
    S("update", "channel-url", T_STRING, update_channel_url, 0, 0),
    S("update", "channel", T_STRING, update_channel, 0, 0),
    S("update", "channel-ca", T_STRING, update_channel_ca, 0, 0),
    S("update", "poll-minutes", T_UINT, update_poll_min, 15, 1440),
    S("update", "keyring", T_STRING, update_keyring, 0, 0),
    S("update", "auto-install", T_BOOL, update_auto_install, 0, 0),
    S("update", "window", T_STRING, update_window, 0, 0),
    S("system", "reboot-command", T_STRING, reboot_command, 0, 0),
    S("web", "enabled", T_BOOL, web_enabled, 0, 0),
    S("web", "browser", T_STRING, web_browser, 0, 0),
    S("web", "headless", T_BOOL, web_headless, 0, 0),
    S("web", "wayland-display", T_STRING, web_wayland_display, 0, 0),
    S("web", "browser-start-timeout", T_UINT, web_browser_start_timeout_s, 5, 600),
    S("web", "browser-answer-timeout", T_UINT, web_browser_answer_timeout_s, 1, 120),
    S("web", "browser-flags", T_LIST, web_browser_flags, 0, 0),
    S("web", "bridge", T_BOOL, web_bridge, 0, 0),
    S("web", "recipes", T_STRING, web_recipes_dir, 0, 0),
    S("web", "room-email", T_STRING, web_room_email, 0, 0),
    S("whip", "endpoint", T_STRING, whip_endpoint, 0, 0),
    S("whip", "token", T_STRING, whip_token, 0, 0),               /* secret: never logged */
    S("calendar", "feed-url", T_STRING, calendar_feed_url, 0, 0), /* secret: never logged */
    S("calendar", "caldav-url", T_STRING, calendar_caldav_url, 0, 0),
    S("calendar", "caldav-user", T_STRING, calendar_caldav_user, 0, 0),
    S("calendar", "caldav-password", T_STRING, calendar_caldav_password, 0, 0), /* secret */
    S("calendar", "ca", T_STRING, calendar_ca, 0, 0),
    S("calendar", "room-address", T_STRING, calendar_room_address, 0, 0),
    S("calendar", "refresh-minutes", T_UINT, calendar_refresh_min, 1, 1440),
    S("calendar", "days-ahead", T_UINT, calendar_days_ahead, 1, 60),
    S("calendar", "join-before-minutes", T_UINT, calendar_join_before_min, 0, 60),
    S("calendar", "auto-join", T_BOOL, calendar_auto_join, 0, 0),
    S("calendar", "auto-join-countdown", T_UINT, calendar_auto_join_countdown_s, 3, 120),
    S("calendar", "show-private-titles", T_BOOL, calendar_show_private_titles, 0, 0),
    S("logs", "remote", T_STRING, logs_remote, 0, 0),
    S("logs", "remote-ca", T_STRING, logs_remote_ca, 0, 0),
    S("logs", "remote-level", T_STRING, logs_remote_level, 0, 0),
    S("logs", "remote-cert", T_STRING, logs_remote_cert, 0, 0),
    S("logs", "remote-key", T_STRING, logs_remote_key, 0, 0),
    S("provision", "sources", T_LIST, provision_sources, 0, 0),
    S("provision", "keyrings", T_LIST, provision_keyrings, 0, 0),
    S("provision", "dhcp-ca", T_STRING, provision_dhcp_ca, 0, 0),
};
#undef S

#define B(g, k, t, f, lo, hi)                                                                      \
  {                                                                                                \
    g, k, t, G_STRUCT_OFFSET(ArBoard, f), lo, hi                                                   \
  }
static const KeySpec board_keys[] = {
    B("board", "name", T_STRING, name, 0, 0),
    B("board", "description", T_STRING, description, 0, 0),
    B("video", "camera", T_STRING, camera, 0, 0),
    B("video", "encoders", T_LIST, encoders, 0, 0),
    B("video", "decoders", T_LIST, decoders, 0, 0),
    B("video", "width", T_UINT, width, 160, 3840),
    B("video", "height", T_UINT, height, 120, 2160),
    B("video", "framerate", T_UINT, framerate, 1, 60),
    B("audio", "microphone", T_STRING, microphone, 0, 0),
    B("audio", "speaker", T_STRING, speaker, 0, 0),
    B("audio", "echo-cancellation", T_TRI, echo_cancellation, 0, 0),
    B("audio", "noise-suppression", T_TRI, noise_suppression, 0, 0),
    B("audio", "gain-control", T_TRI, gain_control, 0, 0),
    B("display", "output", T_STRING, display, 0, 0),
    B("display", "kiosk-gpu", T_STRING, kiosk_gpu, 0, 0),
    B("image", "arch", T_STRING, arch, 0, 0),
    B("image", "kernel", T_STRING, kernel, 0, 0),
    B("image", "modules", T_LIST, modules, 0, 0),
    B("image", "packages", T_LIST, packages, 0, 0),
    B("image", "console", T_STRING, console, 0, 0),
    B("image", "boot", T_STRING, boot, 0, 0),
    B("image", "disk", T_STRING, disk, 0, 0),
    B("rauc", "compatible", T_STRING, compatible, 0, 0),
    B("rauc", "bootloader", T_STRING, bootloader, 0, 0),
    B("rauc", "efi-size-mib", T_UINT, efi_size_mib, 8, 4096),
    B("rauc", "slot-size-mib", T_UINT, slot_size_mib, 256, 65536),
    B("rauc", "data-size-mib", T_UINT, data_size_mib, 16, 1048576),
};
#undef B

static const KeySpec *
find_spec(const KeySpec *specs, gsize n, const char *group, const char *key)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_equal(specs[i].group, group) && (key == NULL || g_str_equal(specs[i].key, key)))
      return &specs[i];
  return NULL;
}

static gboolean
is_printable_utf8(const char *s)
{
  if (!g_utf8_validate(s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p; p++)
    if ((guchar)*p < 0x20)
      return FALSE;
  return TRUE;
}

/* Reads every key of @kf into the struct at @base, refusing unknown ones. */
static gboolean
load_keys(GKeyFile *kf, const char *origin, const KeySpec *specs, gsize n, gpointer base,
          GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (gsize g = 0; groups[g]; g++) {
    /* [links] belongs to the link module, which validates its domains. */
    if (specs == config_keys && g_str_equal(groups[g], "links"))
      continue;
    if (!find_spec(specs, n, groups[g], NULL)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY, "%s: [%s]: unknown group",
                  origin, groups[g]);
      return FALSE;
    }
    g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
    for (gsize k = 0; keys && keys[k]; k++) {
      const KeySpec *spec = find_spec(specs, n, groups[g], keys[k]);
      if (!spec) {
        g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY, "%s: %s.%s: unknown key",
                    origin, groups[g], keys[k]);
        return FALSE;
      }
      g_autoptr(GError) local = NULL;
      gpointer field = G_STRUCT_MEMBER_P(base, spec->offset);
      g_autofree char *raw = g_key_file_get_string(kf, groups[g], keys[k], &local);
      if (!raw || !is_printable_utf8(raw) || strlen(raw) > 4096) {
        g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                    "%s: %s.%s: not a valid text value", origin, groups[g], keys[k]);
        return FALSE;
      }
      switch (spec->type) {
      case T_STRING:
        g_free(*(char **)field);
        *(char **)field = g_strstrip(g_steal_pointer(&raw));
        break;
      case T_LIST: {
        g_auto(GStrv) items = g_key_file_get_string_list(kf, groups[g], keys[k], NULL, NULL);
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        for (gsize i = 0; items && items[i]; i++) {
          g_strstrip(items[i]);
          if (*items[i])
            g_strv_builder_add(b, items[i]);
        }
        g_strfreev(*(char ***)field);
        *(char ***)field = g_strv_builder_end(b);
        break;
      }
      case T_UINT: {
        guint64 v;
        if (!g_ascii_string_to_unsigned(g_strstrip(raw), 10, spec->min, spec->max, &v, NULL)) {
          g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                      "%s: %s.%s: '%s' is not a whole number from %u to %u", origin, groups[g],
                      keys[k], raw, spec->min, spec->max);
          return FALSE;
        }
        *(guint *)field = (guint)v;
        break;
      }
      case T_BOOL:
      case T_TRI: {
        g_strstrip(raw);
        if (g_str_equal(raw, "true") || g_str_equal(raw, "yes") || g_str_equal(raw, "1"))
          *(gboolean *)field = TRUE;
        else if (g_str_equal(raw, "false") || g_str_equal(raw, "no") || g_str_equal(raw, "0"))
          *(gboolean *)field = FALSE;
        else {
          g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                      "%s: %s.%s: '%s' is not true or false", origin, groups[g], keys[k], raw);
          return FALSE;
        }
        break;
      }
      case T_CODEC:
        if (!ar_video_codec_from_string(g_strstrip(raw), (ArVideoCodec *)field)) {
          g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                      "%s: %s.%s: '%s' is not one of auto, h264, vp8", origin, groups[g], keys[k],
                      raw);
          return FALSE;
        }
        break;
      }
    }
  }
  return TRUE;
}

static GKeyFile *
parse_keyfile(const char *data, gsize len, const char *origin, GError **error)
{
  if (len > AR_CONFIG_MAX_SIZE) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_PARSE, "%s: larger than %d bytes", origin,
                AR_CONFIG_MAX_SIZE);
    return NULL;
  }
  if (memchr(data, '\0', len)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_PARSE, "%s: contains a NUL byte", origin);
    return NULL;
  }
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) local = NULL;
  if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_PARSE, "%s: %s", origin, local->message);
    return NULL;
  }
  return g_steal_pointer(&kf);
}

static char *
read_file_bounded(const char *path, gsize *len, GError **error)
{
  char *data = NULL;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(path, &data, len, &local)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_NOT_FOUND, "%s", local->message);
    return NULL;
  }
  return data;
}

ArConfig *
ar_config_new_default(void)
{
  ArConfig *c = g_new0(ArConfig, 1);
  c->room_name = g_strdup("Anyroom");
  c->join_timeout_s = 20;
  c->admin_listen = g_strdup("127.0.0.1:8443");
  c->admin_session_idle_min = 15;
  c->admin_max_sessions = 16;
  c->admin_login_max_failures = 5;
  c->admin_login_lockout_min = 15;
  c->admin_metrics = TRUE;
  c->update_enabled = TRUE;
  c->update_bus = g_strdup("system");
  c->update_version_file = g_strdup("/etc/anyroom/version");
  c->update_max_bundle_mib = 2048;
  c->update_health_settle_s = 10;
  c->update_mark_good = TRUE;
  c->update_channel = g_strdup("stable");
  c->update_poll_min = 360;
  c->update_keyring = g_strdup("/etc/rauc/keyring.pem");
  c->update_auto_install = TRUE;
  c->update_window = g_strdup("02:00-05:00");
  c->web_enabled = TRUE;
  c->web_browser_start_timeout_s = 30;
  c->web_browser_answer_timeout_s = 5;
  c->web_bridge = TRUE;
  c->calendar_refresh_min = 5;
  c->calendar_days_ahead = 14;
  c->calendar_join_before_min = 5;
  c->calendar_auto_join_countdown_s = 10;
  c->echo_cancellation = c->noise_suppression = c->gain_control = AR_CONFIG_UNSET;
  g_autoptr(GKeyFile) empty = g_key_file_new();
  c->links = ar_link_config_new_from_keyfile(empty, "links", NULL);
  return c;
}

/* TRUE if @name is a channel name (docs/fleet.md): 1-64 letters, digits, '-', '_', '.'. */
static gboolean
channel_name_ok(const char *name)
{
  gsize n = strlen(name);
  if (n == 0 || n > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/* [update]: the channel (docs/fleet.md "Update channels"). The URL is not a
 * secret, but no message quotes it (it may carry a token in its query). */
static gboolean
validate_update(const ArConfig *c, const char *origin, GError **error)
{
  const char *url = c->update_channel_url;
  if (url && *url) {
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (!uri || strlen(url) > 2048 || g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0 ||
        !g_uri_get_host(uri) || !*g_uri_get_host(uri) || g_uri_get_userinfo(uri)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: update.channel-url: an https:// URL with a host, no user:password, at "
                  "most 2048 bytes",
                  origin);
      return FALSE;
    }
    if (!c->update_enabled) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: update.channel-url needs update.enabled=true", origin);
      return FALSE;
    }
  }
  if (!c->update_keyring || !*c->update_keyring) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: update.keyring: must be the path of RAUC's keyring", origin);
    return FALSE;
  }
  if (!c->update_channel || !channel_name_ok(c->update_channel)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: update.channel: 1-64 letters, digits, '-', '_' or '.'", origin);
    return FALSE;
  }
  ArUpdateWindow window;
  g_autoptr(GError) werr = NULL;
  if (!ar_update_window_parse(c->update_window, &window, &werr)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: %s", origin,
                werr->message);
    return FALSE;
  }
  const struct {
    const char *key, *value;
  } paths[] = {{"channel-ca", c->update_channel_ca}, {"keyring", c->update_keyring}};
  for (gsize i = 0; i < G_N_ELEMENTS(paths); i++)
    if (paths[i].value && *paths[i].value && !g_path_is_absolute(paths[i].value)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: update.%s: must be an absolute path", origin, paths[i].key);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_network(ArConfig *c, const char *origin, GError **error)
{
  g_autoptr(GError) local = NULL;
  guint n = c->stun ? g_strv_length(c->stun) : 0;

  if (n > AR_ICE_MAX_TURN) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network.stun: more than %d servers", origin, AR_ICE_MAX_TURN);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    ArIceUri u;
    if (!ar_ice_uri_parse(c->stun[i], &u, &local) || u.scheme != AR_ICE_STUN) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: network.stun: %s",
                  origin, local ? local->message : "not a stun: URI (stun:host:port)");
      return FALSE;
    }
  }
  n = c->turn ? g_strv_length(c->turn) : 0;
  if (n > AR_ICE_MAX_TURN) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network.turn: more than %d servers", origin, AR_ICE_MAX_TURN);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    ArIceUri u;
    if (!ar_ice_uri_parse(c->turn[i], &u, &local) || u.scheme == AR_ICE_STUN) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: network.turn: %s",
                  origin, local ? local->message : "not a turn: or turns: URI");
      return FALSE;
    }
  }
  for (int i = 0; i < 2; i++) {
    const char *v = i == 0 ? c->turn_username : c->turn_password;
    if (v != NULL && (*v == '\0' || strlen(v) > 512)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: network.%s: must be 1 to 512 characters", origin,
                  i == 0 ? "turn-username" : "turn-password");
      return FALSE;
    }
  }
  if ((c->turn_username == NULL) != (c->turn_password == NULL)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network: turn-username and turn-password go together", origin);
    return FALSE;
  }
  if (c->turn_credentials_url != NULL) {
    if (c->turn_username != NULL) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: network: turn-credentials-url and turn-username/turn-password exclude "
                  "each other (the URL is preferred: no long-term secret on the device)",
                  origin);
      return FALSE;
    }
    if (!ar_config_check_credentials_url(c->turn_credentials_url, &local)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: network.turn-credentials-url: %s", origin, local->message);
      return FALSE;
    }
  } else if (n > 0 && c->turn_username == NULL) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network.turn: needs turn-credentials-url or turn-username and "
                "turn-password",
                origin);
    return FALSE;
  }
  if (c->turn_tls_ca != NULL && !g_path_is_absolute(c->turn_tls_ca)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network.turn-tls-ca: must be an absolute path to a PEM file", origin);
    return FALSE;
  }
  if (c->relay_only && n == 0 && c->turn_credentials_url == NULL) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: network.relay-only: needs a TURN server (network.turn or "
                "turn-credentials-url)",
                origin);
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_config_room_name_ok(const char *name, const char **why)
{
  if (!name || !g_utf8_validate(name, -1, NULL)) {
    *why = "must be UTF-8 text";
    return FALSE;
  }
  glong chars = g_utf8_strlen(name, -1);
  if (chars < 1 || chars > AR_CONFIG_ROOM_NAME_MAX) {
    *why = "must have 1 to 64 characters";
    return FALSE;
  }
  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    if (g_unichar_iscntrl(ch) || ch == 0x2028 || ch == 0x2029) {
      *why = "must not contain control characters";
      return FALSE;
    }
  }
  if (g_ascii_isspace(name[0]) || g_ascii_isspace(name[strlen(name) - 1])) {
    *why = "must not start or end with a space";
    return FALSE;
  }
  return TRUE;
}

/* The device values of [device] (config) or of a board's [video], [audio] and
 * [display]: what the media engine will accept, checked by its own rules
 * (ar_media_setting_check) before it is asked, so a bad value is reported
 * with the file and key that gave it. */
typedef struct {
  const char *key; /* "device.display", "display.output" */
  const char *value;
  ArMediaSetting setting;
} DeviceValue;

static gboolean
validate_devices(const DeviceValue *values, gsize n, const char *origin, GError **error)
{
  for (gsize i = 0; i < n; i++) {
    g_autoptr(GError) local = NULL;
    if (values[i].value != NULL &&
        !ar_media_setting_check(values[i].setting, values[i].value, &local)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: %s: %s", origin,
                  values[i].key, local->message);
      return FALSE;
    }
  }
  return TRUE;
}

/* What the engine checks before it touches a device (odd sizes, say), over
 * the defaults: a file the daemon cannot start with is refused here. */
static gboolean
validate_media(const ArConfig *c, const ArBoard *b, const char *origin, GError **error)
{
  ArMediaConfig media;
  g_autoptr(GError) local = NULL;

  ar_config_to_media(c, b, &media);
  if (!ar_media_config_check(&media, &local)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: %s: %s", origin,
                b != NULL ? "[video]" : "[media]", local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_config_check_credentials_url(const char *url, GError **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *host;

  if (url == NULL || strlen(url) > 2048) {
    g_set_error_literal(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                        "missing or longer than 2048 bytes");
    return FALSE;
  }
  uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  host = uri ? g_uri_get_host(uri) : NULL;
  if (uri == NULL || host == NULL || *host == '\0' || g_uri_get_userinfo(uri) != NULL) {
    g_set_error_literal(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                        "not an https://host/path URL (no user:password@ in it)");
    return FALSE;
  }
  /* Plain http only to a helper on this device (loopback). */
  if (g_strcmp0(g_uri_get_scheme(uri), "https") != 0 &&
      !(g_strcmp0(g_uri_get_scheme(uri), "http") == 0 &&
        (g_str_equal(host, "127.0.0.1") || g_str_equal(host, "::1") ||
         g_str_equal(host, "localhost")))) {
    g_set_error_literal(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                        "must be https:// (http:// only to 127.0.0.1, ::1 or localhost)");
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_config_ice(const ArConfig *c, const char *username, const char *password,
              const char *const *turn_override, ArIceConfig *out, GError **error)
{
  const char *const *turn = turn_override ? turn_override : (const char *const *)c->turn;
  if (username == NULL) {
    username = c->turn_username;
    password = c->turn_password;
  }
  if (!ar_ice_config_build(out, (const char *const *)c->stun, turn, username, password,
                           c->relay_only, error))
    return FALSE;
  g_free(out->tls_ca_file);
  out->tls_ca_file = g_strdup(c->turn_tls_ca);
  return TRUE;
}

ArConfig *
ar_config_load_data(const char *data, gsize len, const char *origin, GError **error)
{
  g_autoptr(GKeyFile) kf = parse_keyfile(data, len, origin, error);
  if (!kf)
    return NULL;
  return ar_config_load_keyfile(kf, origin, error);
}

ArConfig *
ar_config_load_keyfile(GKeyFile *kf, const char *origin, GError **error)
{
  g_autoptr(ArConfig) c = ar_config_new_default();
  if (!load_keys(kf, origin, config_keys, G_N_ELEMENTS(config_keys), c, error))
    return NULL;
  g_autoptr(GError) link_error = NULL;
  ar_link_config_free(c->links);
  c->links = ar_link_config_new_from_keyfile(kf, "links", &link_error);
  if (!c->links) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: %s", origin,
                link_error->message);
    return NULL;
  }
  for (int i = 0; i < 2; i++) {
    const char *v = i == 0 ? c->room_name : c->display_name;
    const char *why = NULL;
    if (v && !ar_config_room_name_ok(v, &why)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: room.%s: %s", origin,
                  i == 0 ? "name" : "display-name", why);
      return NULL;
    }
  }
  if (!ar_config_validate_web(c, origin, error) || !ar_config_validate_whip(c, origin, error) ||
      !ar_config_validate_calendar(c, origin, error) || !validate_update(c, origin, error) ||
      !ar_config_validate_logs(c, origin, error) || !ar_config_validate_provision(c, origin, error))
    return NULL;
  if (!validate_network(c, origin, error))
    return NULL;
  const DeviceValue devices[] = {
      {"device.camera", c->camera, AR_MEDIA_SETTING_VIDEO_SOURCE},
      {"device.microphone", c->microphone, AR_MEDIA_SETTING_AUDIO_SOURCE},
      {"device.speaker", c->speaker, AR_MEDIA_SETTING_AUDIO_SINK},
      {"device.display", c->display, AR_MEDIA_SETTING_VIDEO_SINK},
  };
  if (!validate_devices(devices, G_N_ELEMENTS(devices), origin, error))
    return NULL;
  if (!validate_media(c, NULL, origin, error))
    return NULL;
  c->path = g_strdup(origin);
  if (c->source)
    g_key_file_unref(c->source);
  c->source = g_key_file_ref(kf);
  return g_steal_pointer(&c);
}

ArConfig *
ar_config_load_file(const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *data = read_file_bounded(path, &len, error);
  if (!data)
    return NULL;
  return ar_config_load_data(data, len, path, error);
}

void
ar_config_free(ArConfig *c)
{
  if (!c)
    return;
  g_free(c->path);
  if (c->source)
    g_key_file_unref(c->source);
  g_free(c->room_name);
  g_free(c->room_time_zone);
  g_strfreev(c->provision_sources);
  g_strfreev(c->provision_keyrings);
  g_free(c->provision_dhcp_ca);
  g_free(c->display_name);
  g_free(c->board);
  g_free(c->camera);
  g_free(c->microphone);
  g_free(c->speaker);
  g_free(c->display);
  g_strfreev(c->encoders);
  g_strfreev(c->decoders);
  g_strfreev(c->stun);
  g_strfreev(c->turn);
  g_free(c->turn_username);
  if (c->turn_password)
    memset(c->turn_password, 0, strlen(c->turn_password));
  g_free(c->turn_password);
  g_free(c->turn_credentials_url);
  g_free(c->turn_tls_ca);
  ar_link_config_free(c->links);
  g_free(c->admin_listen);
  g_strfreev(c->admin_hostnames);
  g_free(c->update_bus);
  g_free(c->update_version_file);
  g_free(c->update_download_ca);
  g_free(c->update_channel_url);
  g_free(c->update_channel);
  g_free(c->update_channel_ca);
  g_free(c->update_window);
  g_free(c->update_keyring);
  g_free(c->reboot_command);
  g_free(c->web_browser);
  g_free(c->web_wayland_display);
  g_strfreev(c->web_browser_flags);
  g_free(c->web_recipes_dir);
  g_free(c->web_room_email);
  g_free(c->whip_endpoint);
  if (c->whip_token)
    memset(c->whip_token, 0, strlen(c->whip_token));
  g_free(c->whip_token);
  g_free(c->calendar_feed_url);
  g_free(c->calendar_caldav_url);
  g_free(c->calendar_caldav_user);
  if (c->calendar_caldav_password)
    memset(c->calendar_caldav_password, 0, strlen(c->calendar_caldav_password));
  g_free(c->calendar_caldav_password);
  g_free(c->calendar_ca);
  g_free(c->calendar_room_address);
  g_free(c->logs_remote);
  g_free(c->logs_remote_ca);
  g_free(c->logs_remote_level);
  g_free(c->logs_remote_cert);
  g_free(c->logs_remote_key);
  g_free(c);
}

static gboolean
is_plain_name(const char *name)
{
  if (!name || !*name || strlen(name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
one_of(const char *value, const char *const *allowed)
{
  return value && g_strv_contains(allowed, value);
}

/* A board that builds an image ([image] or [rauc] present) must say all of it:
 * a half-described board would build an image that cannot boot or update. */
static gboolean
validate_board_image(const ArBoard *b, const char *path, GError **error)
{
  gboolean any = b->arch || b->kernel || b->boot || b->disk || b->console || b->compatible ||
                 b->bootloader || b->slot_size_mib || b->data_size_mib || b->efi_size_mib;
  if (!any)
    return TRUE;
  static const char *const arches[] = {"amd64", "arm64", NULL};
  static const char *const boots[] = {"grub-efi", "u-boot", NULL};
  static const char *const loaders[] = {"grub", "uboot", NULL};
  const struct {
    const char *key;
    gboolean ok;
    const char *want;
  } checks[] = {
      {"image.arch", one_of(b->arch, arches), "amd64 or arm64"},
      {"image.kernel", b->kernel && *b->kernel, "a kernel package"},
      {"image.boot", one_of(b->boot, boots), "grub-efi or u-boot"},
      {"image.disk", b->disk && g_str_has_prefix(b->disk, "/dev/"), "a /dev/ path"},
      {"image.console", b->console && *b->console, "a kernel console"},
      {"rauc.compatible", b->compatible && *b->compatible && !strchr(b->compatible, ' '),
       "a compatible string without spaces"},
      {"rauc.bootloader", one_of(b->bootloader, loaders), "grub or uboot"},
      {"rauc.efi-size-mib", b->efi_size_mib != 0, "the boot partition size"},
      {"rauc.slot-size-mib", b->slot_size_mib != 0, "the root slot size"},
      {"rauc.data-size-mib", b->data_size_mib != 0, "the data partition size"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(checks); i++) {
    if (!checks[i].ok) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: %s: missing or invalid (want %s)", path, checks[i].key, checks[i].want);
      return FALSE;
    }
  }
  /* GRUB boots EFI PCs; u-boot is RAUC's uboot backend. Mixing them cannot boot. */
  if (g_str_equal(b->boot, "grub-efi") != g_str_equal(b->bootloader, "grub")) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: image.boot '%s' does not go with rauc.bootloader '%s'", path, b->boot,
                b->bootloader);
    return FALSE;
  }
  return TRUE;
}

ArBoard *
ar_board_load_file(const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *data = read_file_bounded(path, &len, error);
  if (!data)
    return NULL;
  g_autoptr(GKeyFile) kf = parse_keyfile(data, len, path, error);
  if (!kf)
    return NULL;
  g_autoptr(ArBoard) b = g_new0(ArBoard, 1);
  b->echo_cancellation = b->noise_suppression = b->gain_control = AR_CONFIG_UNSET;
  if (!load_keys(kf, path, board_keys, G_N_ELEMENTS(board_keys), b, error))
    return NULL;
  if (!b->name) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE, "%s: board.name: missing",
                path);
    return NULL;
  }
  const DeviceValue devices[] = {
      {"video.camera", b->camera, AR_MEDIA_SETTING_VIDEO_SOURCE},
      {"audio.microphone", b->microphone, AR_MEDIA_SETTING_AUDIO_SOURCE},
      {"audio.speaker", b->speaker, AR_MEDIA_SETTING_AUDIO_SINK},
      {"display.output", b->display, AR_MEDIA_SETTING_VIDEO_SINK},
  };
  if (!validate_devices(devices, G_N_ELEMENTS(devices), path, error))
    return NULL;
  g_autoptr(ArConfig) defaults = ar_config_new_default();
  if (!validate_media(defaults, b, path, error))
    return NULL;
  if (!validate_board_image(b, path, error))
    return NULL;
  return g_steal_pointer(&b);
}

ArBoard *
ar_board_load(const char *name, GError **error)
{
  if (!is_plain_name(name)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "board name '%s' is not valid (lowercase letters, digits, - and _)",
                name ? name : "");
    return NULL;
  }
  const char *dirs[] = {g_getenv("ANYROOM_BOARD_DIR"), AR_SOURCE_BOARD_DIR, AR_BOARD_DIR};
  g_autoptr(GString) tried = g_string_new(NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
    if (!dirs[i] || !*dirs[i])
      continue;
    g_autofree char *path = g_build_filename(dirs[i], name, "board.conf", NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return ar_board_load_file(path, error);
    g_string_append_printf(tried, "%s%s", tried->len ? ", " : "", path);
  }
  g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_NOT_FOUND, "board '%s' not found (tried %s)",
              name, tried->str);
  return NULL;
}

void
ar_board_free(ArBoard *b)
{
  if (!b)
    return;
  g_free(b->name);
  g_free(b->description);
  g_free(b->camera);
  g_free(b->microphone);
  g_free(b->speaker);
  g_free(b->display);
  g_free(b->kiosk_gpu);
  g_strfreev(b->encoders);
  g_strfreev(b->decoders);
  g_free(b->arch);
  g_free(b->kernel);
  g_strfreev(b->modules);
  g_strfreev(b->packages);
  g_free(b->console);
  g_free(b->boot);
  g_free(b->disk);
  g_free(b->compatible);
  g_free(b->bootloader);
  g_free(b);
}

void
ar_config_to_media(const ArConfig *c, const ArBoard *b, ArMediaConfig *out)
{
  ar_media_config_init_defaults(out);
#define PICK(field, cfg, brd)                                                                      \
  if ((cfg))                                                                                       \
    out->field = (cfg);                                                                            \
  else if ((brd))                                                                                  \
  out->field = (brd)
  PICK(video_source, c->camera, b ? b->camera : NULL);
  PICK(audio_source, c->microphone, b ? b->microphone : NULL);
  PICK(audio_sink, c->speaker, b ? b->speaker : NULL);
  PICK(video_sink, c->display, b ? b->display : NULL);
  PICK(encoders, (const char *const *)c->encoders, b ? (const char *const *)b->encoders : NULL);
  PICK(decoders, (const char *const *)c->decoders, b ? (const char *const *)b->decoders : NULL);
  PICK(width, c->width, b ? b->width : 0);
  PICK(height, c->height, b ? b->height : 0);
  PICK(framerate, c->framerate, b ? b->framerate : 0);
#undef PICK
  if (c->video_codec != AR_VIDEO_CODEC_AUTO)
    out->codec = c->video_codec;
  if (c->video_bitrate_kbps)
    out->video_bitrate_kbps = c->video_bitrate_kbps;
  if (c->jitter_latency_ms)
    out->jitter_latency_ms = c->jitter_latency_ms;
  out->decode_received_video = c->decode_received_video;
  /* The config's word, else the board's, else on. */
#define TRI(field)                                                                                 \
  out->field = c->field != AR_CONFIG_UNSET                  ? c->field                             \
               : (b != NULL && b->field != AR_CONFIG_UNSET) ? b->field                             \
                                                            : TRUE
  TRI(echo_cancellation);
  TRI(noise_suppression);
  TRI(gain_control);
#undef TRI
}
