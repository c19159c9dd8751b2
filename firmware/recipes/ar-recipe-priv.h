/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-priv.h: private declarations of the recipe module.
 *
 *   ar-recipe.c      the recipe: JSON -> validated ArRecipe (every field bounded)
 *   ar-recipe-css.c  the CSS selector sanity check (Chromium is the real parser)
 *   ar-recipe-url.c  join URL, display name, origins
 *   ar-recipe-set.c  shipped + administrator folders, lookup by link
 */
#pragma once

#include "ar-recipe.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  char *key;
  char *value; /* template, or NULL for a flag without a value */
} ArRecipeParam;

typedef struct {
  char *key;
  JsonNode *value; /* boolean, integer or string (template) */
} ArRecipeFragmentParam;

typedef enum {
  AR_RECIPE_CHARS_ANY,
  AR_RECIPE_CHARS_LETTERS_DIGITS,
  AR_RECIPE_CHARS_LETTERS_DIGITS_SPACES,
} ArRecipeChars;

struct _ArRecipe {
  gatomicrefcount ref;
  char *file;
  char *id;
  char *name;
  char **sources;
  char **providers;
  char **hosts;
  gboolean fallback;
  char **origins;
  /* join-url */
  char *base;
  char **keep_query;
  gboolean keep_all_query;
  GPtrArray *query;    /* ArRecipeParam* */
  GPtrArray *fragment; /* ArRecipeFragmentParam* */
  /* display-name */
  guint name_max_len;
  ArRecipeChars name_chars;
  char *name_fallback;
  gboolean attention_at_once;
  GArray *steps; /* ArRecipeStep */
  GArray *leave; /* ArRecipeStep */
  ArRecipeProbe probes[AR_RECIPE_N_STATES];
  ArRecipeControlSpec controls[AR_RECIPE_N_CONTROLS];
  ArRecipeParticipants *participants; /* NULL: none */
};

/* NULL if SELECTOR looks like CSS a browser can parse, else why not (static). */
const char *ar_recipe_css_check(const char *selector);

/* TRUE if HOST (lower-case) matches PATTERN ("example.org" or "*.example.org",
 * the latter meaning the domain and its subdomains). */
gboolean ar_recipe_host_matches(const char *pattern, const char *host);

/* "scheme://host[:port]" of URL (port omitted if default), lower-case, or NULL
 * with an error if URL is not an absolute http(s) URL with a host. */
char *ar_recipe_url_origin(const char *url, GError **error);

/* The fixed fragment keys a recipe may set (Jitsi's URL settings). */
gboolean ar_recipe_fragment_key_allowed(const char *key);

G_END_DECLS
