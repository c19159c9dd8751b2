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
 * keeps the page's RTCPeerConnections so that their statistics can be read,
 * tries a busy capture again and renews a camera track Chromium's capture
 * lost (ar-web-page-init.js). */
const char *ar_web_page_init_script(void);
/* Answers the page's live inbound/outbound RTP streams as an array, after
 * one entry of kind "capture" with the init script's counters. */
const char *ar_web_page_stats_expression(void);
/* Appends an ArTrackInfo* per stream of a stats answer to @out (at most 32;
 * malformed entries and the "capture" entry skipped). */
void ar_web_page_stats_to_tracks(JsonNode *answer, GPtrArray *out);
/* The page's camera tracks renewed after Chromium's capture lost them, and
 * lost for good, from a stats answer's "capture" entry: FALSE (both 0) when
 * it has none. Counts are clamped to 0..1000000. */
gboolean ar_web_page_stats_capture(JsonNode *answer, guint *restarted, guint *lost);

/* The expression that reads the recipe's participants probe (answers
 * {list: [{id, name}], self, count} or null), or NULL if the recipe has
 * none. Newly allocated. */
char *ar_web_page_participants_expression(const ArRecipe *recipe);
/* Appends a newly allocated ArParticipant* (core/ar-provider.h) per
 * participant of a participants answer to @out: at most
 * AR_RECIPE_MAX_PARTICIPANTS; names cleaned (ar_web_page_clean_name(), NULL
 * when missing, not a string or empty); ids of letters, digits and - _ . :
 * (at most 64), else "web-N" by position, unique (an id given twice is one
 * participant shown twice: listed once); a count above the list
 * (less the room when @spec says the count includes it) adds entries without
 * names ("web-more-N"). FALSE if @answer is not such an answer (the caller
 * keeps the list it had). */
gboolean ar_web_page_participants_result(JsonNode *answer, const ArRecipeParticipants *spec,
                                         GPtrArray *out);
/* A participant's name from a page, as the status shows it: valid UTF-8,
 * NFC, no control, format (bidi), private-use or unassigned characters, white
 * space runs made one space, at most AR_RECIPE_MAX_PARTICIPANT_NAME
 * characters; NULL if nothing is left. Newly allocated. */
char *ar_web_page_clean_name(const char *s);

G_END_DECLS
