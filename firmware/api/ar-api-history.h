/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-history.h: the call history (GET /api/v1/history): one entry per
 * join, kept in the state dir as history.json (0600), newest first, at most
 * AR_API_HISTORY_MAX entries. Never the link (meeting links carry passcodes).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-call.h"

G_BEGIN_DECLS

#define AR_API_HISTORY_MAX 100

typedef struct _ArApiHistory ArApiHistory;

ArApiHistory *ar_api_history_new(const char *state_dir);
void ar_api_history_free(ArApiHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArApiHistory, ar_api_history_free)

/* Feeds a call event (only state events count; the entry takes the event's
 * provider when a join starts and its error when the call fails). */
void ar_api_history_on_event(ArApiHistory *h, const ArCallEvent *event);
/* {"calls": [{"start", "end", "provider", "duration_s", "result", "error"}]} */
JsonNode *ar_api_history_get(ArApiHistory *h);
/* Forgets every entry (factory reset). */
void ar_api_history_forget(ArApiHistory *h);

G_END_DECLS
