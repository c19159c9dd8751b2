/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks of single config groups, beside ar-config.c (which calls them). */
#include <string.h>

#include "ar-config-priv.h"
#include "ar-log-remote.h"

/* [web] */
gboolean
ar_config_validate_web(const ArConfig *c, const char *origin, GError **error)
{
  if (c->web_wayland_display != NULL &&
      (!g_path_is_absolute(c->web_wayland_display) || strlen(c->web_wayland_display) >= 108)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: web.wayland-display: must be the absolute path of a Wayland socket "
                "(under 108 bytes)",
                origin);
    return FALSE;
  }
  return TRUE;
}

/* [calendar]: https URLs (the sources check them again); a password only with a CalDAV URL.
 * The feed URL is a secret: no message quotes it. */
gboolean
ar_config_validate_calendar(const ArConfig *c, const char *origin, GError **error)
{
  if (c->calendar_feed_url && *c->calendar_feed_url &&
      (!g_str_has_prefix(c->calendar_feed_url, "https://") ||
       strlen(c->calendar_feed_url) > 2048)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: calendar.feed-url: an https:// URL of at most 2048 bytes", origin);
    return FALSE;
  }
  if (c->calendar_caldav_url && *c->calendar_caldav_url &&
      (!g_str_has_prefix(c->calendar_caldav_url, "https://") ||
       strlen(c->calendar_caldav_url) > 2048)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: calendar.caldav-url: an https:// URL of at most 2048 bytes", origin);
    return FALSE;
  }
  if (((c->calendar_caldav_password && *c->calendar_caldav_password) ||
       (c->calendar_caldav_user && *c->calendar_caldav_user)) &&
      !(c->calendar_caldav_url && *c->calendar_caldav_url)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: calendar.caldav-user and caldav-password need calendar.caldav-url", origin);
    return FALSE;
  }
  if (c->calendar_room_address &&
      (strlen(c->calendar_room_address) > 320 || !strchr(c->calendar_room_address, '@'))) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: calendar.room-address: an e-mail address (room@example.com)", origin);
    return FALSE;
  }
  return TRUE;
}

/* [whip]: an http(s) endpoint (http for one on the room's own network, as
 * whip+http: links), and a token only with it. */
gboolean
ar_config_validate_whip(const ArConfig *c, const char *origin, GError **error)
{
  if (c->whip_endpoint != NULL && ((!g_str_has_prefix(c->whip_endpoint, "https://") &&
                                    !g_str_has_prefix(c->whip_endpoint, "http://")) ||
                                   strlen(c->whip_endpoint) > 2048)) {
    g_set_error(
        error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
        "%s: whip.endpoint: an https:// URL (http:// on your own network) of at most 2048 bytes",
        origin);
    return FALSE;
  }
  if (c->whip_token != NULL && c->whip_endpoint == NULL) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: whip.token needs whip.endpoint (the endpoint it is for)", origin);
    return FALSE;
  }
  for (const char *t = c->whip_token; t && *t; t++)
    if (!g_ascii_isalnum(*t) && !strchr("-._~+/=", *t)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: whip.token: only the characters of a bearer token (RFC 6750)", origin);
      return FALSE;
    }
  return TRUE;
}

/* [logs]: a syslog-tls:// or journal-https:// address, absolute PEM paths (the
 * client certificate and key together), a level name. The files themselves are
 * read when the forwarder starts (ar_log_remote_check). */
gboolean
ar_config_validate_logs(const ArConfig *c, const char *origin, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  g_autoptr(GError) local = NULL;
  GLogLevelFlags level;
  if (c->logs_remote && *c->logs_remote &&
      !ar_log_remote_parse_url(c->logs_remote, NULL, &host, &port, &local)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: logs.remote: %s (ports default to 6514 and 19532)", origin, local->message);
    return FALSE;
  }
  const struct {
    const char *key, *value;
  } files[] = {{"remote-ca", c->logs_remote_ca},
               {"remote-cert", c->logs_remote_cert},
               {"remote-key", c->logs_remote_key}};
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
    if (files[i].value && *files[i].value && !g_path_is_absolute(files[i].value)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: logs.%s: must be an absolute path to a PEM file", origin, files[i].key);
      return FALSE;
    }
  if (!(c->logs_remote_cert && *c->logs_remote_cert) !=
      !(c->logs_remote_key && *c->logs_remote_key)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: logs.remote-cert and logs.remote-key go together", origin);
    return FALSE;
  }
  if (c->logs_remote_level && !ar_log_remote_parse_level(c->logs_remote_level, &level)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: logs.remote-level: '%s' is not one of critical, warning, message, info, "
                "debug",
                origin, c->logs_remote_level);
    return FALSE;
  }
  return TRUE;
}

/* room.time-zone: an IANA name the zone database knows (Europe/Berlin, UTC); anyroomd runs in
 * it (TZ), so the calendar's times and floating meetings are the room's. */
gboolean
ar_config_time_zone_ok(const char *zone)
{
  gsize n = zone ? strlen(zone) : 0;
  if (n == 0 || n > 64 || zone[0] == '/' || zone[n - 1] == '/' || strstr(zone, "..") ||
      strstr(zone, "//"))
    return FALSE;
  for (const char *p = zone; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("/_+-", *p))
      return FALSE;
  GTimeZone *tz = g_time_zone_new_identifier(zone);
  if (!tz)
    return FALSE;
  g_time_zone_unref(tz);
  return TRUE;
}

/* [provision] and room.time-zone. */
gboolean
ar_config_validate_provision(const ArConfig *c, const char *origin, GError **error)
{
  if (c->room_time_zone && !ar_config_time_zone_ok(c->room_time_zone)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: room.time-zone: not a time zone of the zone database (like Europe/Berlin "
                "or UTC)",
                origin);
    return FALSE;
  }
  guint n = c->provision_sources ? g_strv_length(c->provision_sources) : 0;
  if (n > 4) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: provision.sources: at most 4", origin);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    const char *v = c->provision_sources[i];
    if (!g_str_equal(v, "dhcp") && (!g_path_is_absolute(v) || strlen(v) > 1024)) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: provision.sources: each one an absolute file path or dhcp", origin);
      return FALSE;
    }
  }
  if (c->provision_dhcp_ca && !g_path_is_absolute(c->provision_dhcp_ca)) {
    g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                "%s: provision.dhcp-ca: an absolute path", origin);
    return FALSE;
  }
  n = c->provision_keyrings ? g_strv_length(c->provision_keyrings) : 0;
  for (guint i = 0; i < n; i++)
    if (n > 4 || !g_path_is_absolute(c->provision_keyrings[i])) {
      g_set_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE,
                  "%s: provision.keyrings: at most 4 absolute paths", origin);
      return FALSE;
    }
  return TRUE;
}
