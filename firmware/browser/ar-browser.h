/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-browser.h: the meeting browser, one per web call (docs/web-engine.md).
 *
 * ArBrowser starts Chromium with a fresh profile (removed at close, even
 * after a crash), drives it over CDP on a pipe (ar-cdp.h; no DevTools port)
 * and holds its one page to the call's rules:
 *   - every request (navigation, subresource, worker, WebSocket) goes only
 *     to an allowed origin, never to a blocked one; file:, chrome: and other
 *     non-https pages are refused;
 *   - camera and microphone only for allowed origins; every other permission
 *     denied; no prompts;
 *   - no downloads, no pop-ups or new windows (closed at once), no dialog
 *     left open;
 *   - the UI language pinned (en-US, also in Accept-Language).
 * A browser that crashes, exits or stops answering (no answer to a
 * heartbeat within answer_timeout_ms) is ended and reported through the
 * closed callback, with a clear error, after its process group is gone and
 * its profile removed.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ar-cdp.h"

G_BEGIN_DECLS

#define AR_BROWSER_ERROR (ar_browser_error_quark())
GQuark ar_browser_error_quark(void);

typedef enum {
  AR_BROWSER_ERROR_OPTIONS,   /* a bad option (origin pattern, size, path) */
  AR_BROWSER_ERROR_PROFILE,   /* the profile folder could not be made */
  AR_BROWSER_ERROR_BLOCKED,   /* a URL outside the allowed origins */
  AR_BROWSER_ERROR_NAVIGATE,  /* the page did not load (net error, HTTP error page) */
  AR_BROWSER_ERROR_EXCEPTION, /* the page's script threw */
  AR_BROWSER_ERROR_TOO_LARGE, /* an evaluate result over AR_BROWSER_MAX_RESULT */
  AR_BROWSER_ERROR_TIMEOUT,   /* the page did not finish in time (the browser lives) */
  AR_BROWSER_ERROR_CLOSED,    /* the browser is closed */
  AR_BROWSER_ERROR_NOT_READY, /* called before the ready callback */
} ArBrowserError;

/* The largest evaluate() result, as JSON text. */
#define AR_BROWSER_MAX_RESULT (1024 * 1024)
/* At most this many allowed or blocked origin patterns. */
#define AR_BROWSER_MAX_ORIGINS 64

typedef struct {
  const char *chromium; /* NULL: /usr/bin/chromium */
  gboolean headless;    /* TRUE: --headless=new; FALSE: --kiosk (full screen) */
  /* Not headless: the Wayland display to show on, the absolute path of its
   * socket (the room display's cage on the device): --ozone-platform=wayland.
   * NULL: the display of our own environment (DISPLAY or WAYLAND_DISPLAY). */
  const char *wayland_display;
  guint width, height; /* 0: 1920x1080 */
  /* Allowed: "https://host[:port]", or a wildcard: "https://" then "*.domain[:port]"
   * (any subdomain, not the domain itself). Blocked: the same (http too),
   * or a bare host ("localhost", "*.localhost"): every scheme and port. */
  const char *const *allowed;
  const char *const *blocked;
  /* Camera and microphone: allowed origins matching these patterns (same
   * syntax as allowed); NULL: every allowed origin. A sign-in page may be
   * allowed without getting the camera. */
  const char *const *media;
  const char *const *extra_flags; /* more Chromium flags (tests: fake devices, --no-sandbox) */
  const char *const *env;         /* "NAME" (passed from our environment) or "NAME=VALUE" */
  const char *profile_parent;     /* NULL: g_get_tmp_dir() */
  guint answer_timeout_ms;        /* 0: 5000; no heartbeat answer by then = hung; above
                                   * 5000 also stretches every page deadline (ar_browser_pace) */
  guint start_timeout_ms;         /* 0: 30000; no first answer by then = hung at start */
  guint heartbeat_ms;             /* 0: 1000 */
  gboolean chromium_log;          /* TRUE: Chromium's stderr goes to ours (else dropped) */
} ArBrowserOptions;

typedef struct _ArBrowser ArBrowser;

/* Ready: the page is attached and held to the rules (error NULL), or the
 * start failed (then closed follows with the same reason). */
typedef void (*ArBrowserReadyFunc)(ArBrowser *b, const GError *error, gpointer user_data);
/* Called exactly once, when nothing of the browser is left (process group
 * gone, profile removed): NULL after ar_browser_close(), else why it ended
 * (AR_CDP_ERROR_CRASHED, _EXITED, _HUNG, _PROTOCOL). */
typedef void (*ArBrowserClosedFunc)(ArBrowser *b, const GError *error, gpointer user_data);

/* Checks @options, makes the profile and starts Chromium; @ready and
 * @closed come later from the main loop. */
ArBrowser *ar_browser_start(const ArBrowserOptions *options, ArBrowserReadyFunc ready,
                            ArBrowserClosedFunc closed, gpointer user_data,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The generic callback of the calls below: @result is the evaluate value
 * (borrowed; NULL for null or on error), NULL for navigate. */
typedef void (*ArBrowserDoneFunc)(ArBrowser *b, JsonNode *result, const GError *error,
                                  gpointer user_data);
typedef void (*ArBrowserBytesFunc)(ArBrowser *b, GBytes *bytes, const GError *error,
                                   gpointer user_data);

/* Loads @url (an allowed https origin) in the page; done when it is loaded
 * (the load event) or failed, within @timeout_ms (0: 30 s). */
/* How many times slower than a PC this board was declared (answer_timeout_ms
 * over its 5 s default, at least 1): every deadline of navigate, evaluate,
 * init scripts and screenshots is multiplied by it, and callers stretch their
 * own page waits (recipe steps) the same way. A qemu guest under software
 * emulation loads the fixture page in 40 s, not 30. */
guint ar_browser_pace(const ArBrowser *b);
/* The same for a browser not started yet, from its options' answer_timeout_ms
 * (0: the default). */
guint ar_browser_pace_for(guint answer_timeout_ms);

void ar_browser_navigate(ArBrowser *b, const char *url, guint timeout_ms, ArBrowserDoneFunc done,
                         gpointer user_data);
/* Runs @expression in the page (promises awaited), result by value; the
 * page's exceptions are AR_BROWSER_ERROR_EXCEPTION; @timeout_ms (0: 10 s)
 * bounds the page, not the browser. */
void ar_browser_evaluate(ArBrowser *b, const char *expression, guint timeout_ms,
                         ArBrowserDoneFunc done, gpointer user_data);
/* Runs @source in every document the page loads from now on, before the
 * document's own scripts (the engine's statistics hook). done(NULL result)
 * once it is installed. */
void ar_browser_add_init_script(ArBrowser *b, const char *source, ArBrowserDoneFunc done,
                                gpointer user_data);
/* A JPEG (@png FALSE, quality 80) or PNG of the page, decoded. */
void ar_browser_screenshot(ArBrowser *b, gboolean png, ArBrowserBytesFunc done, gpointer user_data);
/* The page's URL as last committed (NULL before the first). */
const char *ar_browser_get_url(ArBrowser *b);
/* The folder of this call's profile (removed at close). */
const char *ar_browser_get_profile_dir(ArBrowser *b);
GPid ar_browser_get_pid(ArBrowser *b);
/* Launch to the first CDP answer, in microseconds (-1 before it). */
gint64 ar_browser_get_first_answer_us(ArBrowser *b);
/* Kills the process group; closed(NULL) follows once it is reaped and the
 * profile removed. Pending calls get AR_BROWSER_ERROR_CLOSED. */
void ar_browser_close(ArBrowser *b);
/* Frees: a live browser is killed (SIGKILL to its group), its profile
 * removed; no callback after this. May be called from any of the browser's
 * callbacks (ready, closed, a call's done). */
void ar_browser_free(ArBrowser *b);

/* ---- origins (exposed for tests) ---- */

/* TRUE if @url may be requested under @allowed and @blocked (patterns as
 * in ArBrowserOptions; wss: counts as https:). */
gboolean ar_browser_url_allowed(const char *const *allowed, const char *const *blocked,
                                const char *url);
/* FALSE with a message naming the pattern if it is not one we take. */
gboolean ar_browser_check_pattern(const char *pattern, gboolean blocked,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArBrowser, ar_browser_free)

G_END_DECLS
