/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-config.h: the daemon configuration (GKeyFile) and the board profile,
 * parsed into typed structs. Unknown groups and keys are refused.
 */
#pragma once

#include <glib.h>

#include "ar-link.h"
#include "ar-media.h"

G_BEGIN_DECLS

#define AR_CONFIG_ERROR (ar_config_error_quark())
GQuark ar_config_error_quark(void);

typedef enum {
  AR_CONFIG_ERROR_PARSE,
  AR_CONFIG_ERROR_UNKNOWN_KEY,
  AR_CONFIG_ERROR_INVALID_VALUE,
  AR_CONFIG_ERROR_NOT_FOUND,
} ArConfigError;

/* Largest config/board file we read. */
#define AR_CONFIG_MAX_SIZE (256 * 1024)
/* A yes/no key the file does not set. */
#define AR_CONFIG_UNSET (-1)

/* A board profile: board/<name>/board.conf. */
typedef struct {
  char *name;
  char *description;
  char *camera;     /* "auto", "test", "/dev/videoN" */
  char *microphone; /* "auto", "test", ALSA device */
  char *speaker;    /* "auto", "none", ALSA device */
  /* the microphone's processing: TRUE/FALSE, or AR_CONFIG_UNSET (on) */
  int echo_cancellation, noise_suppression, gain_control;
  char *display;   /* [display] output: "auto", "none", "kiosk" (the kiosk browser shows the
                      video; anyroomd draws nothing), "window" */
  char *kiosk_gpu; /* [display] kiosk-gpu: "on" (default) | "off": the room display renders
                      in software (a screen without 3D); read by rootfs/mkimage.sh */
  char **encoders; /* preference order, NULL = engine default */
  char **decoders; /* preference order (hardware first), NULL = GStreamer's ranks */
  guint width, height, framerate;
  /* [image]: how rootfs/mkimage.sh builds this board's image (NULL for the host board) */
  char *arch;      /* Debian architecture: amd64, arm64 */
  char *kernel;    /* kernel package */
  char **modules;  /* kernel modules loaded at boot */
  char **packages; /* extra Debian packages */
  char *console;   /* kernel console, e.g. ttyS0,115200 */
  char *boot;      /* "grub-efi" | "u-boot" */
  char *disk;      /* the boot disk, e.g. /dev/vda */
  /* [rauc]: update compatible string and slot layout */
  char *compatible; /* RAUC compatible: bundles for other boards are refused */
  char *bootloader; /* RAUC backend: "grub" | "uboot" */
  guint efi_size_mib, slot_size_mib, data_size_mib;
} ArBoard;

/* Looks up board/<name>/board.conf in $ANYROOM_BOARD_DIR, the source tree and
 * the installed data dir. @name must be a plain name ([a-z0-9_-]). */
ArBoard *ar_board_load(const char *name, GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArBoard *ar_board_load_file(const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_board_free(ArBoard *board);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArBoard, ar_board_free)

typedef struct {
  char *path;       /* where it was loaded from, or NULL for defaults */
  GKeyFile *source; /* what it was loaded from (admin settings go over it), or NULL */
  /* [room] */
  char *room_name;
  char *display_name;   /* name shown in meetings; NULL = room_name */
  char *room_time_zone; /* IANA zone (Europe/Berlin) for anyroomd's TZ; NULL = the system's */
  /* [device]: NULL = take the board's value */
  char *board;
  char *camera, *microphone, *speaker, *display;
  /* [media]: 0 / NULL / AUTO = the board's or the engine's default */
  ArVideoCodec video_codec;
  char **encoders;
  char **decoders; /* overrides the board's; empty: GStreamer's ranks */
  guint width, height, framerate;
  guint video_bitrate_kbps;
  guint jitter_latency_ms;
  gboolean decode_received_video; /* diagnostics: decode what the room screen decodes too */
  /* [audio]: the microphone's processing; AR_CONFIG_UNSET = the board's (else on) */
  int echo_cancellation, noise_suppression, gain_control;
  /* [call] */
  guint join_timeout_s;
  /* [network]: ICE servers (docs/network.md) */
  char **stun; /* "stun:host:port" */
  char **turn; /* "turn:host:port[?transport=udp|tcp]", "turns:host:port" */
  char *turn_username;
  char *turn_password;        /* secret: never logged */
  char *turn_credentials_url; /* TURN REST: {username, password, ttl, uris} */
  gboolean relay_only;
  char *turn_tls_ca; /* PEM CA file for turns: servers; NULL = system store */
  /* [links]: parsed and validated by the link module (ar_link_config_*) */
  ArLinkConfig *links;
  /* [admin]: the HTTPS admin UI and scripting API (docs/api.md) */
  char *admin_listen;           /* "ADDR:PORT", or "none" */
  char **admin_hostnames;       /* more names the device is reached by (Host check) */
  guint admin_session_idle_min; /* session idle timeout */
  guint admin_max_sessions;
  guint admin_login_max_failures; /* lockout after this many failed logins in a row */
  guint admin_login_lockout_min;
  gboolean admin_metrics; /* GET /metrics (Prometheus; a token with the metrics scope) */
  /* [update]: RAUC updates and the boot health mark (docs/update.md) */
  gboolean update_enabled;
  char *update_bus;          /* "system" or a D-Bus address */
  char *update_version_file; /* running version if RAUC has none */
  guint update_max_bundle_mib;
  char *update_download_ca; /* PEM CA for bundle downloads; NULL = system store */
  guint update_health_settle_s;
  gboolean update_mark_good;
  char *update_channel_url;     /* the channel file's https URL; NULL or "" = no polling */
  char *update_channel;         /* the channel name the manifest must carry */
  char *update_channel_ca;      /* PEM CAs for the channel's origin; NULL = system store */
  guint update_poll_min;        /* minutes between two polls (+-10 % jitter) */
  char *update_keyring;         /* RAUC's keyring: verifies the channel file */
  gboolean update_auto_install; /* install the channel's offer by itself (default true) */
  char *update_window;          /* the maintenance window, "HH:MM-HH:MM" local time */
  /* [system] */
  char *reboot_command; /* what "reboot" runs (no shell); NULL = "systemctl reboot" */
  /* [web]: the web engine (docs/web-engine.md) */
  gboolean web_enabled;
  char *web_browser;         /* Chromium; NULL = /usr/bin/chromium */
  gboolean web_headless;     /* TRUE: no window (labs); FALSE: full screen on the room display */
  char *web_wayland_display; /* the room display's Wayland socket; NULL = our own */
  guint web_browser_start_timeout_s;  /* the meeting browser's first answer (slow boards) */
  guint web_browser_answer_timeout_s; /* any later answer; none by then = hung */
  char **web_browser_flags;           /* more Chromium flags (labs only: e.g. --no-sandbox) */
  gboolean web_bridge;   /* the room's devices through PipeWire/PulseAudio (FALSE: labs) */
  char *web_recipes_dir; /* an administrator's join recipes; NULL = STATE_DIR/recipes */
  char *web_room_email;  /* for services that ask a guest's e-mail (Webex); or NULL */
  /* [whip]: the administrator's WHIP endpoint: a link naming it without a
   * token (whip+https://...) gets this token (docs/whip.md). */
  char *whip_endpoint;
  char *whip_token; /* secret: never logged, not in the config API */
  /* [calendar]: the room's meetings (docs/calendar.md) */
  char *calendar_feed_url;        /* secret (its path is the key): never logged */
  char *calendar_caldav_url;      /* a CalDAV calendar collection */
  char *calendar_caldav_user;     /* NULL: the password is sent as a bearer token */
  char *calendar_caldav_password; /* secret: never logged, write-only in the config API */
  char *calendar_ca;              /* PEM CA file for both; NULL = the system store */
  char *calendar_room_address;    /* the room's address: occurrences it declined are hidden */
  guint calendar_refresh_min;
  guint calendar_days_ahead;
  guint calendar_join_before_min; /* the Join button from this long before the start */
  gboolean calendar_auto_join;    /* join at the start, after a countdown */
  guint calendar_auto_join_countdown_s;
  gboolean calendar_show_private_titles;
  /* [logs]: anyroomd's own lines to a remote syslog or journal receiver over TLS
   * (docs/fleet.md) */
  char *logs_remote;    /* "syslog-tls://HOST:PORT", "journal-https://HOST:PORT"; NULL/"" = off */
  char *logs_remote_ca; /* PEM CA file; NULL = the system store */
  char *logs_remote_level; /* least severe level sent; NULL = "info" */
  char *logs_remote_cert;  /* PEM client certificate (mutual TLS); NULL = none */
  char *logs_remote_key;   /* its PEM key (mode 0600 or stricter) */
  /* [provision]: zero-touch provisioning at first start (docs/fleet.md) */
  GStrv provision_sources;  /* files (or "dhcp"), first found wins; NULL = none */
  GStrv provision_keyrings; /* PEM files of CAs the signer chains to; NULL = update_keyring */
  char *provision_dhcp_ca;  /* PEM CAs for the DHCP URL's server; unset or missing: the system's */
} ArConfig;

ArConfig *ar_config_new_default(void);
ArConfig *ar_config_load_file(const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArConfig *ar_config_load_data(const char *data, gsize len, const char *origin,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* room.name and room.display-name: 1 to 64 characters, no control
 * characters, no space at either end. @why: a static reason. */
#define AR_CONFIG_ROOM_NAME_MAX 64
gboolean ar_config_room_name_ok(const char *name, const char **why);
/* room.time-zone: an IANA zone name the zone database has (Europe/Berlin). */
gboolean ar_config_time_zone_ok(const char *zone);

/* Like ar_config_load_data, from a parsed key file (kept as config->source). */
ArConfig *ar_config_load_keyfile(GKeyFile *kf, const char *origin,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_config_free(ArConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArConfig, ar_config_free)

/* Merges board defaults and config overrides into a media config. The strings
 * in @out point into @config/@board: keep both alive while @out is used. */
void ar_config_to_media(const ArConfig *config, const ArBoard *board, ArMediaConfig *out);

/* TRUE if @url may serve TURN credentials: https://, or http:// to loopback. */
gboolean ar_config_check_credentials_url(const char *url, GError **error);

/* The ICE servers of [network] for the media engine. @username/@password
 * (from a credentials URL) replace the configured ones when non-NULL;
 * @turn_override (the URL's "uris") replaces network.turn when non-NULL. */
gboolean ar_config_ice(const ArConfig *config, const char *username, const char *password,
                       const char *const *turn_override, ArIceConfig *out,
                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TURN REST credentials served by network.turn-credentials-url:
 * {"username": "...", "password": "...", "ttl": 86400, "uris": ["turn:..."]}.
 * Untrusted: at most AR_TURN_CREDENTIALS_MAX_SIZE bytes, nesting depth 4,
 * printable user/password up to 512 bytes, ttl 30 s .. 7 days, at most
 * AR_ICE_MAX_TURN turn:/turns: URIs (stun: entries are ignored; no "uris"
 * means network.turn). */
#define AR_TURN_CREDENTIALS_MAX_SIZE (16 * 1024)
typedef struct {
  char *username;
  char *password; /* secret: never logged */
  guint ttl_s;
  char **uris; /* turn:/turns: only; NULL if the answer had none */
} ArTurnCredentials;

ArTurnCredentials *ar_turn_credentials_parse(const char *data, gsize len,
                                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_turn_credentials_free(ArTurnCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArTurnCredentials, ar_turn_credentials_free)

G_END_DECLS
