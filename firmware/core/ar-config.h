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

/* A board profile: board/<name>/board.conf. */
typedef struct {
  char *name;
  char *description;
  char *camera;     /* "auto", "test", "/dev/videoN" */
  char *microphone; /* "auto", "test", ALSA device */
  char *speaker;    /* "auto", "none", ALSA device */
  char *display;    /* "auto", "none", "window" */
  char **encoders;  /* preference order, NULL = engine default */
  guint width, height, framerate;
} ArBoard;

/* Looks up board/<name>/board.conf in $ANYROOM_BOARD_DIR, the source tree and
 * the installed data dir. @name must be a plain name ([a-z0-9_-]). */
ArBoard *ar_board_load(const char *name, GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArBoard *ar_board_load_file(const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_board_free(ArBoard *board);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArBoard, ar_board_free)

typedef struct {
  char *path;  /* where it was loaded from, or NULL for defaults */
  /* [room] */
  char *room_name;
  char *display_name; /* name shown in meetings; NULL = room_name */
  /* [device]: NULL = take the board's value */
  char *board;
  char *camera, *microphone, *speaker, *display;
  /* [media]: 0 / NULL / AUTO = the board's or the engine's default */
  ArVideoCodec video_codec;
  char **encoders;
  guint width, height, framerate;
  guint video_bitrate_kbps;
  guint jitter_latency_ms;
  /* [call] */
  guint join_timeout_s;
  /* [links]: parsed and validated by the link module (ar_link_config_*) */
  ArLinkConfig *links;
} ArConfig;

ArConfig *ar_config_new_default(void);
ArConfig *ar_config_load_file(const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArConfig *ar_config_load_data(const char *data, gsize len, const char *origin,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_config_free(ArConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArConfig, ar_config_free)

/* Merges board defaults and config overrides into a media config. The strings
 * in @out point into @config/@board: keep both alive while @out is used. */
void ar_config_to_media(const ArConfig *config, const ArBoard *board, ArMediaConfig *out);

G_END_DECLS
