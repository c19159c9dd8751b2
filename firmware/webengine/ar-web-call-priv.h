/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A web call's state, shared by the parts of the web engine (docs/web-engine.md):
 * ar-web-engine.c (the engine and its provider), ar-web-call-start.c (starting: media
 * environment, bridge, browser, the page), ar-web-call.c (the page's state, steps,
 * statistics, controls, leaving and ending). */
#pragma once

#include "ar-bridge.h"
#include "ar-browser.h"
#include "ar-capture.h"
#include "ar-recipe.h"
#include "ar-web-engine.h"
#include "ar-web-media.h"

G_BEGIN_DECLS

struct _ArWebEngine {
  gint refs;
  const ArConfig *config;
  ArMediaEngine *media;
  ArRecipeSet *recipes;
  char *recipes_dir;       /* for reloads: NULL = ar_recipe_default_dir() */
  char *admin_recipes_dir; /* NULL: none */
  char *chromium;
  gboolean headless;
  char *wayland_display;
  char **extra_flags;
  char **blocked;
  char *state_dir;
  char *room_email;
  gboolean bridge;
  guint answer_timeout_ms;
  guint start_timeout_ms;
  guint admin_port;
  char *runtime_dir;
  gboolean registered;
  gboolean call_active; /* the Access portal grants the camera only then */
};

typedef enum {
  PHASE_STARTING, /* media environment, bridge, browser */
  PHASE_STEPS,    /* the recipe's pre-join steps */
  PHASE_WAITING,  /* probing: lobby, needs-attention, or not yet in */
  PHASE_CONNECTED,
  PHASE_ENDING, /* failure screenshot, leave steps, closing the browser */
  PHASE_DONE,
} Phase;

typedef struct {
  ArProvider parent;
  ArProviderClass klass; /* web_call_class, its join minimum stretched by the board's pace */
  ArWebEngine *engine;
  ArRecipe *recipe;
  ArLink *link;
  char *room_name;
  char *display;
  char *join_url;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArWebMedia *webmedia;
  ArCapture *capture;
  ArBridge *bridge;
  ArBrowser *browser;
  Phase phase;
  guint step;
  gint64 step_deadline_us;
  guint timer_id;
  guint stats_id;
  guint end_timer_id;
  gboolean busy; /* an evaluate of the state machine is in flight */
  gint64 unknown_since_us;
  guint script_probe; /* the scripted probe being evaluated (probe round) */
  ArRecipeState round_state;
  gboolean round_matched;
  GPtrArray *tracks;      /* ArTrackInfo*: the last statistics */
  GHashTable *last_bytes; /* "source/kind/direction" -> bytes at last_stats_us */
  gint64 last_stats_us;
  guint capture_restarted, capture_lost; /* the page's camera, as last logged */
  GError *end_error;                     /* why it ends (NULL: a leave) */
  gboolean leaving;
  gboolean mic_muted, camera_enabled;
  char *attention; /* the last needs-attention message */
  gint64 camera_wait_until_us;
  gint64 camera_seen_us;
  GPtrArray *participants; /* ArParticipant*: the page's list as last read */
  gint64 participants_us;  /* when it was last asked for */
  gboolean participants_busy;
} WebCall;

/* ar-web-call.c */
void ar_web_call_stop_timers(WebCall *c);
void ar_web_call_release_media(WebCall *c);
void ar_web_call_on_browser_closed(ArBrowser *b, const GError *error, gpointer data);
void ar_web_call_fail_error(WebCall *c, const char *prefix, const GError *error);
void ar_web_call_needs_attention(WebCall *c, const char *why);
void ar_web_call_probe_round(WebCall *c);
void ar_web_call_run_step(WebCall *c);
void ar_web_call_leave(ArProvider *p);
void ar_web_call_set_controls(ArProvider *p, gboolean microphone_muted, gboolean camera_enabled);

/* ar-web-call-start.c */
void ar_web_call_join(ArProvider *p);

G_END_DECLS
