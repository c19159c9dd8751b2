/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-page.h: what the web engine runs inside a meeting page, as
 * JavaScript expressions for the meeting browser (ar_browser_evaluate), made
 * from a recipe's steps and probes, and what it makes of their answers.
 *
 * The recipe's data (selectors, texts, values) reaches the page only as JSON
 * handed to one fixed runtime function, never pasted into code; only a
 * recipe's own "script" fields are code, evaluated on their own. Answers from
 * the page are untrusted: read with bounds and defaults.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-provider.h"
#include "ar-recipe.h"

G_BEGIN_DECLS

/* What a step's expression answers. */
typedef enum {
  AR_WEB_STEP_DONE,      /* found and done */
  AR_WEB_STEP_NOT_FOUND, /* no element matched (yet): try again until the step's timeout */
  AR_WEB_STEP_UNKNOWN,   /* toggle: found, but its state could not be read: left alone */
} ArWebStepResult;

/* The expression for one step (not for action "script": that is the step's
 * own script). @value: the expanded fill value, or NULL. Newly allocated. */
char *ar_web_page_step_expression(const ArRecipeStep *step, const char *value);
/* Reads a step expression's answer. */
ArWebStepResult ar_web_page_step_result(JsonNode *answer);

/* The expression that tests every applicable probe of @recipe without a
 * script, in the order of ArRecipeState (failures first), and answers the
 * first state that matches ("in-call", ...) or null. Newly allocated. */
char *ar_web_page_probe_expression(const ArRecipe *recipe);
/* The state a probe answer names; FALSE if none (or not a state). */
gboolean ar_web_page_probe_result(JsonNode *answer, ArRecipeState *out);

/* The expression for a scripted probe: the script's truthiness, exceptions
 * caught (false). Newly allocated. */
char *ar_web_page_script_probe_expression(const char *script);

/* Installed before any page script (Page.addScriptToEvaluateOnNewDocument):
 * keeps the page's RTCPeerConnections so that their statistics can be read. */
const char *ar_web_page_init_script(void);
/* Answers the page's live inbound/outbound RTP streams as an array. */
const char *ar_web_page_stats_expression(void);
/* Appends an ArTrackInfo* per stream of a stats answer to @out (at most 32;
 * malformed entries skipped). */
void ar_web_page_stats_to_tracks(JsonNode *answer, GPtrArray *out);

G_END_DECLS
