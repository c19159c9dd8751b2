/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe.h: join recipes for the web engine, as data (docs/recipes.md).
 *
 * A recipe says, for one meeting service (or one self-hosted web app an
 * administrator allows), how the meeting browser turns a parsed link into the
 * service's browser-join URL, which pre-join steps it performs, how it reads
 * the page's state (pre-join, lobby, in call, denied, removed, ended,
 * sign-in required, captcha, error), the in-call controls the page has, and
 * how to leave. Recipes are JSON files; they are untrusted input in the sense
 * that every field is validated and bounded, and a bad one is refused with an
 * error naming the file and the field ("zoom.json: steps[2].selectors[0]: ...").
 * CSS selectors are only sanity-checked here; Chromium is the real parser (a
 * test runs every shipped selector through document.querySelector).
 *
 * Pure C + GLib/GIO + json-glib; knows the link module's ArLink, nothing else.
 */
#pragma once

#include "ar-link.h"

#include <glib.h>

G_BEGIN_DECLS

#define AR_RECIPE_ERROR (ar_recipe_error_quark())
GQuark ar_recipe_error_quark(void);

typedef enum {
  AR_RECIPE_ERROR_INVALID,   /* a field is missing, unknown or out of bounds */
  AR_RECIPE_ERROR_TOO_LARGE, /* file over AR_RECIPE_MAX_FILE_SIZE, too deep */
  AR_RECIPE_ERROR_IO,        /* the file cannot be read */
  AR_RECIPE_ERROR_LINK,      /* the link does not fit the recipe (origin, engine) */
} ArRecipeError;

/* Bounds (docs/recipes.md lists them all). */
#define AR_RECIPE_MAX_FILE_SIZE (64 * 1024)
#define AR_RECIPE_MAX_FILES 64 /* per folder */
#define AR_RECIPE_MAX_STEPS 32
#define AR_RECIPE_MAX_SELECTORS 8
#define AR_RECIPE_MAX_SELECTOR_LEN 512
#define AR_RECIPE_MAX_TIMEOUT_MS 120000
#define AR_RECIPE_DEFAULT_TIMEOUT_MS 10000
#define AR_RECIPE_MAX_JOIN_URL_LEN 8192
/* The participants probe: what the engine takes from a page at most. */
#define AR_RECIPE_MAX_PARTICIPANTS 500
#define AR_RECIPE_MAX_PARTICIPANT_NAME 64 /* characters */

/* Page states a recipe probes. The enum order is the order an engine should
 * test them in: failures first, then in call, lobby and pre-join (a page that
 * shows "denied" may still show the pre-join form behind it). */
typedef enum {
  AR_RECIPE_STATE_CAPTCHA,
  AR_RECIPE_STATE_SIGN_IN_REQUIRED,
  AR_RECIPE_STATE_DENIED,
  AR_RECIPE_STATE_REMOVED,
  AR_RECIPE_STATE_ENDED,
  AR_RECIPE_STATE_ERROR,
  AR_RECIPE_STATE_IN_CALL,
  AR_RECIPE_STATE_LOBBY,
  AR_RECIPE_STATE_PRE_JOIN,
  AR_RECIPE_N_STATES
} ArRecipeState;

/* "captcha", "sign-in-required", ... "pre-join" (the JSON names). */
const char *ar_recipe_state_to_string(ArRecipeState state);
/* TRUE for the states that end or stop a join (denied ... error, captcha,
 * sign-in-required): their probes carry a message for people. */
gboolean ar_recipe_state_is_failure(ArRecipeState state);

typedef enum {
  AR_RECIPE_CONTROL_MUTE,
  AR_RECIPE_CONTROL_UNMUTE,
  AR_RECIPE_CONTROL_CAMERA_OFF,
  AR_RECIPE_CONTROL_CAMERA_ON,
  AR_RECIPE_N_CONTROLS
} ArRecipeControl;

const char *ar_recipe_control_to_string(ArRecipeControl control);

typedef enum {
  AR_RECIPE_ACTION_WAIT_FOR, /* wait until a selector matches (and shows TEXT) */
  AR_RECIPE_ACTION_CLICK,    /* click the first matching element */
  AR_RECIPE_ACTION_FILL,     /* focus, clear, type VALUE (key events) or set it */
  AR_RECIPE_ACTION_TOGGLE,   /* read the state first, click only if it is not WANT_ON */
  AR_RECIPE_ACTION_PRESS,    /* press KEY (on the element if selectors are given) */
  AR_RECIPE_ACTION_SCRIPT,   /* evaluate SCRIPT in the page (apps with a JS API) */
} ArRecipeAction;

const char *ar_recipe_action_to_string(ArRecipeAction action);

/* One pre-join step, control or leave step. Strings are NULL when absent;
 * string vectors are NULL-terminated (never NULL, may be empty). */
typedef struct {
  ArRecipeAction action;
  char **selectors;      /* fallbacks, newest UI first; the first that matches is used */
  char *frame;           /* CSS selector of a same-origin iframe to look inside, or NULL */
  char *text;            /* the element's visible text must contain this (any case), or NULL */
  char *value;           /* fill: template ("{display-name}", "{room-email}") */
  gboolean type_keys;    /* fill: TRUE = key events per character (default), FALSE = set value */
  char *key;             /* press: "Enter", "Escape", "Tab", "Space" */
  gboolean want_on;      /* toggle: the state wanted */
  char *state_attribute; /* toggle: attribute read first ("aria-checked", ...; "text") */
  char **state_on;       /* toggle: the value starts with one of these: it is on */
  char **state_off;      /* toggle: ... it is off (neither: unknown, do not click) */
  char *script;          /* script: a JavaScript expression */
  gboolean optional;     /* a missing element is not an error */
  guint timeout_ms;      /* how long to wait for the element (bounded) */
  char *note;            /* free text for people, or NULL */
} ArRecipeStep;

/* A state probe: matches if any selector matches, or any text is in the
 * page's visible text, or the script's value is truthy. */
typedef struct {
  gboolean applicable; /* FALSE: the page has no such state; see REASON */
  char *reason;        /* why not applicable, or NULL */
  char **selectors;    /* may be empty */
  char **texts;        /* may be empty */
  char *script;        /* or NULL */
  char *frame;         /* or NULL */
  char *message;       /* plain words for people (required for failures), or NULL */
} ArRecipeProbe;

typedef struct {
  gboolean applicable;
  char *reason;       /* why not applicable, or NULL */
  ArRecipeStep *step; /* NULL when not applicable */
} ArRecipeControlSpec;

/* The optional participants probe (docs/recipes.md "Participants"): where the
 * page shows who is in the call. Read while connected; what the page answers
 * is untrusted (the engine cleans and bounds it). */
typedef struct {
  /* One element per participant; the first selector that matches a shown
   * element is used. May be empty (a count alone). */
  char **selectors;
  char *frame; /* CSS selector of a same-origin iframe, or NULL */
  char *name;  /* CSS selector inside each element holding the name, or NULL: the element */
  char *name_attribute; /* read the name from this attribute ("aria-label"), or NULL: the text */
  char *id_attribute;   /* an attribute with a stable id ("data-participant-id"), or NULL */
  /* An element that matches this CSS selector, or holds an element that
   * does, is the room itself: not listed. NULL: the page lists others only. */
  char *self;
  /* CSS selector of an element whose text holds the number of people in the
   * call (a "People (7)" button), or NULL. More people than elements (a list
   * that shows only some): the rest are listed without names. */
  char *count;
  gboolean count_includes_self; /* the count includes the room (default TRUE) */
} ArRecipeParticipants;

typedef enum {
  AR_RECIPE_TOGGLE_UNKNOWN,
  AR_RECIPE_TOGGLE_OFF,
  AR_RECIPE_TOGGLE_ON,
} ArRecipeToggleState;

/* What a toggle step's element says about itself: VALUE is its STATE_ATTRIBUTE
 * (or text) as read from the page (NULL if absent). On if VALUE starts with
 * one of STATE_ON (any case, after leading white space), off if with one of
 * STATE_OFF, else unknown; the longer match wins, so "Unmute" is not "Mute". */
ArRecipeToggleState ar_recipe_toggle_state(const ArRecipeStep *step, const char *value);
/* Whether the engine should click: the state is known and not as wanted. */
gboolean ar_recipe_toggle_needs_click(const ArRecipeStep *step, const char *value);

typedef struct _ArRecipe ArRecipe;

/* Parses and validates one recipe. NAME is the file name used in messages and
 * must be "<id>.json". DATA need not be NUL-terminated. Errors:
 * AR_RECIPE_ERROR, "NAME: field.path: what is wrong". */
ArRecipe *ar_recipe_new_from_data(const char *name, const char *data, gsize len,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Same from a file (at most AR_RECIPE_MAX_FILE_SIZE bytes, read with O_CLOEXEC). */
ArRecipe *ar_recipe_new_from_file(const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArRecipe *ar_recipe_ref(ArRecipe *recipe);
void ar_recipe_unref(ArRecipe *recipe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArRecipe, ar_recipe_unref)

const char *ar_recipe_get_id(const ArRecipe *recipe);
const char *ar_recipe_get_name(const ArRecipe *recipe);
/* Where the recipe was loaded from ("zoom.json" or a full path). */
const char *ar_recipe_get_file(const ArRecipe *recipe);
/* Public sources the selectors and texts were taken from. NULL-terminated. */
const char *const *ar_recipe_get_sources(const ArRecipe *recipe);
/* Provider ids (link module) it serves; empty for host or fallback recipes. */
const char *const *ar_recipe_get_providers(const ArRecipe *recipe);
/* Hosts ("meet.example.org", "*.example.net") of an administrator's app. */
const char *const *ar_recipe_get_hosts(const ArRecipe *recipe);
/* TRUE for the generic recipe: any web link no other recipe serves. */
gboolean ar_recipe_is_fallback(const ArRecipe *recipe);
/* Origins the meeting page may use: "https://host[:port]", or a host written
 * "*.example.org" for the domain and its subdomains; "{link}" stands for the
 * link's own origin. */
const char *const *ar_recipe_get_origins(const ArRecipe *recipe);
/* TRUE if the page should be handed to a person at once (generic recipe). */
gboolean ar_recipe_needs_attention_at_once(const ArRecipe *recipe);

/* The pre-join steps and the leave steps, in order (NULL when *N_STEPS is 0). */
const ArRecipeStep *ar_recipe_get_steps(const ArRecipe *recipe, guint *n_steps);
const ArRecipeStep *ar_recipe_get_leave(const ArRecipe *recipe, guint *n_steps);
const ArRecipeProbe *ar_recipe_get_probe(const ArRecipe *recipe, ArRecipeState state);
const ArRecipeControlSpec *ar_recipe_get_control(const ArRecipe *recipe, ArRecipeControl control);
/* The participants probe, or NULL if the recipe has none. */
const ArRecipeParticipants *ar_recipe_get_participants(const ArRecipe *recipe);
/* Every CSS selector of the recipe (steps, probes, participants, controls, leave, frames),
 * for checks. Newly allocated, NULL-terminated. */
char **ar_recipe_dup_all_selectors(const ArRecipe *recipe);

/* The room's display name as this page takes it: control characters dropped,
 * NFC, the recipe's character set (e.g. letters and digits only), at most its
 * maximum length, the recipe's fallback if nothing is left. Newly allocated. */
char *ar_recipe_display_name(const ArRecipe *recipe, const char *room_name);

/* Expands a step's VALUE template ("{display-name}", "{room-email}"): the
 * display name goes through ar_recipe_display_name(). Newly allocated; NULL
 * with an error if a placeholder has no value (no room e-mail configured). */
char *ar_recipe_expand_value(const ArRecipe *recipe, const ArRecipeStep *step,
                             const char *room_name, const char *room_email,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE if ORIGIN ("https://host[:port]") is one the recipe allows for a page
 * opened from LINK (LINK may be NULL: "{link}" then matches nothing). */
gboolean ar_recipe_allows_origin(const ArRecipe *recipe, const ArLink *link, const char *origin);

/* The URL the meeting browser opens for LINK: the recipe's join-url template
 * filled with parts of the link (origin, path, meeting id, passcode, kept query
 * parameters), every substituted value percent-encoded. The link's own
 * fragment is never used; a fragment, if the recipe has one, is built from the
 * recipe's fixed keys with JSON-encoded values. The link's origin and the
 * result's must be among the recipe's origins. Errors: AR_RECIPE_ERROR_LINK. */
char *ar_recipe_build_join_url(const ArRecipe *recipe, const ArLink *link, const char *display_name,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- A set of recipes: shipped ones plus an administrator's folder ---- */

typedef struct _ArRecipeSet ArRecipeSet;

/* The folder shipped recipes are read from: $ANYROOM_RECIPES_DIR if set, the
 * source tree's firmware/recipes/data when it exists (tests, development), else
 * the installed share/anyroom/recipes. Static string. */
const char *ar_recipe_default_dir(void);
/* Where an administrator's recipes live on the device (/data/anyroom/recipes). */
#define AR_RECIPE_ADMIN_DIR "/data/anyroom/recipes"

/* Loads every "*.json" file of SHIPPED_DIR (NULL = ar_recipe_default_dir()),
 * then of ADMIN_DIR (NULL = none; a missing folder is not an error), whose
 * recipes add to or replace shipped ones with the same id. A file that does
 * not load is refused and the rest still load: its error goes to *PROBLEMS
 * (may be NULL; a GPtrArray of GError*, free func set). Never NULL. */
ArRecipeSet *ar_recipe_set_load(const char *shipped_dir, const char *admin_dir,
                                GPtrArray **problems);
void ar_recipe_set_free(ArRecipeSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArRecipeSet, ar_recipe_set_free)

/* Adds (or replaces by id) one recipe. */
void ar_recipe_set_add(ArRecipeSet *set, ArRecipe *recipe, gboolean from_admin);
/* By id, or NULL. Borrowed: valid while SET lives (ar_recipe_ref() to keep). */
ArRecipe *ar_recipe_set_lookup_id(const ArRecipeSet *set, const char *id);
/* TRUE if the recipe with ID came from the administrator's folder. */
gboolean ar_recipe_set_is_admin(const ArRecipeSet *set, const char *id);
/* The recipe for a web LINK: an administrator recipe whose hosts match the
 * link's host, else the recipe serving its provider id, else the fallback
 * (generic) recipe if USE_FALLBACK. NULL if none (or the link is not web). */
ArRecipe *ar_recipe_set_lookup(const ArRecipeSet *set, const ArLink *link, gboolean use_fallback);
/* Ids, sorted. Newly allocated, NULL-terminated. */
char **ar_recipe_set_dup_ids(const ArRecipeSet *set);

/* A link to an administrator's own web app, which the link module does not
 * know: TEXT must be https:// (or http:// to a loopback address), without
 * userinfo, at most AR_LINK_MAX_LEN bytes, its host one of an administrator
 * recipe's hosts. Returns an ArLink with engine web, provider = the recipe's
 * id and join_url = TEXT without its fragment. */
ArLink *ar_recipe_set_parse_app_link(const ArRecipeSet *set, const char *text,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
