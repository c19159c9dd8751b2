/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-engine.h: the web engine (docs/web-engine.md). Joins meetings of
 * services whose only open door is their guest web app (Teams, Zoom, Webex,
 * Google Meet, Jitsi, Whereby) and an administrator's own web meeting apps:
 * for each call it starts the media environment and the bridge (the room's
 * camera, microphone and speaker for the browser: firmware/bridge/,
 * media/ar-bridge.h), a meeting browser it drives over CDP on a pipe
 * (firmware/browser/), and follows the service's join recipe
 * (firmware/recipes/): pre-join steps, state probes, controls, leave.
 *
 * A provider like the native ones (core/ar-provider.h): registered for every
 * provider id a recipe serves, and for an administrator's app hosts (links
 * the link module does not know are offered to the engine).
 */
#pragma once

#include "ar-config.h"
#include "ar-provider.h"

G_BEGIN_DECLS

/* How often the page's state is read, and the statistics. */
#define AR_WEB_PROBE_INTERVAL_MS 500
#define AR_WEB_STATS_INTERVAL_MS 2000
/* While connected, the recipe's participants probe is read with the state
 * probes, at most this often. */
#define AR_WEB_PARTICIPANTS_INTERVAL_MS 2000
/* A page no probe recognises for this long after the steps: a person is asked
 * to finish on the room screen. */
#define AR_WEB_UNKNOWN_PAGE_MS 15000
/* How long the engine waits for the room's camera to be listed in the page
 * before the recipe's steps (it appears a moment after the browser starts). */
#define AR_WEB_CAMERA_WAIT_MS 15000
/* A web join may take this long before it fails (browser start, page load,
 * the recipe's steps, and AR_WEB_UNKNOWN_PAGE_MS before a person is asked);
 * the lobby and a person's help have their own bounds (core/ar-call.h). */
#define AR_WEB_MIN_JOIN_TIMEOUT_S 60
/* A web join's least time on a board whose browser answers within
 * @answer_timeout_ms (0: the default): AR_WEB_MIN_JOIN_TIMEOUT_S times its
 * pace (ar_browser_pace_for): 60 s on a PC, 720 s for a 60 s answer timeout. */
guint ar_web_min_join_timeout_s(guint answer_timeout_ms);
/* Leave steps get this long before the browser is closed anyway. */
#define AR_WEB_LEAVE_STEPS_MS 3000
/* After the leave steps, the page's own leave message gets this long to go
 * out before the browser is closed. */
#define AR_WEB_LEAVE_GRACE_MS 500

typedef struct {
  const char *chromium; /* NULL: /usr/bin/chromium */
  /* TRUE: --headless=new (tests); FALSE: full screen (--kiosk) on the room
   * display, above the room screen (cage on the device). */
  gboolean headless;
  /* Not headless: the room display's Wayland socket (an absolute path; the
   * kiosk's cage on the device). Missing at a join: that call runs headless.
   * NULL: the display of anyroomd's environment. */
  const char *wayland_display;
  const char *const *extra_flags; /* more Chromium flags (tests: --no-sandbox, fake devices) */
  /* Origins the meeting page may never reach, whatever its recipe says:
   * anyroomd's own API and admin pages (e.g. "https://127.0.0.1:8443"). */
  const char *const *blocked;
  /* Where failure screenshots and page URLs are kept (STATE/web-failures). */
  const char *state_dir;
  const char *recipes_dir;       /* shipped recipes; NULL: ar_recipe_default_dir() */
  const char *admin_recipes_dir; /* an administrator's; NULL: none */
  const char *room_email;        /* for recipes that ask for one (Webex); or NULL */
  /* FALSE: no media environment and no bridge (tests that give the browser
   * fake devices, or a machine without PipeWire). */
  gboolean bridge;
  guint answer_timeout_ms; /* the browser's: 0 = its default */
  guint start_timeout_ms;  /* the browser's first answer: 0 = its default (30 s) */
  /* The port of anyroomd's HTTPS server when it listens beyond loopback
   * (0: none): at each join, https://ADDRESS:PORT of every address the room
   * has then is blocked too. */
  guint admin_port;
  /* Where each call's media environment gets its folder (NULL:
   * $XDG_RUNTIME_DIR, else the temp dir; the device: /run/anyroom). */
  const char *runtime_dir;
} ArWebEngineOptions;

typedef struct _ArWebEngine ArWebEngine;

/* Loads the recipes (a bad administrator file is logged and skipped). @config
 * and @media must outlive the engine. */
ArWebEngine *ar_web_engine_new(const ArConfig *config, ArMediaEngine *media,
                               const ArWebEngineOptions *options,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_web_engine_unref(ArWebEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWebEngine, ar_web_engine_unref)

/* Registers the engine (its link hook) and a provider for every provider id
 * and administrator app its recipes serve. */
void ar_web_engine_register(ArWebEngine *engine, ArProviderRegistry *registry);

/* Loads the recipes again (after an administrator's change, ar-api-recipes.h)
 * and registers a provider for each new one in @registry (NULL: none). The
 * next join uses them; a call in progress keeps the recipe it started with.
 * Returns how many files were refused (logged). */
guint ar_web_engine_reload_recipes(ArWebEngine *engine, ArProviderRegistry *registry);

/* The recipe ids, sorted (for logs, status and tests). g_strfreev(). */
char **ar_web_engine_dup_recipe_ids(ArWebEngine *engine);

G_END_DECLS
