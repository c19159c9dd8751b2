/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-meetings.h: the room's meetings at the API edge (docs/api.md "Meetings"):
 *   GET /api/v1/meetings -> {"now", "join_before_min", "auto_join": {...}|null,
 *                            "sources": [...], "meetings": [...]}
 * A private meeting has no title and no organizer unless [calendar] show-private-titles.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-cal-desk.h"

G_BEGIN_DECLS

JsonNode *ar_api_meetings_to_json(ArCalDesk *desk);
/* {"id", "title", "start", "in_s"} of the countdown under way, or a JSON null. */
JsonNode *ar_api_meetings_auto_join_to_json(ArCalDesk *desk);

/* The status object's "calendar": {"sources": [...]} (each source's health, no meetings). */
JsonNode *ar_api_meetings_health_to_json(ArCalDesk *desk);

G_END_DECLS
