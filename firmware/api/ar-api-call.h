/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-call.h: the call manager's typed events and status as the JSON of
 * the API (docs/cli.md "status", "Events"). The only place they become JSON.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "ar-call.h"
#include "ar-json.h"

G_BEGIN_DECLS

/* {"event": "state"|"controls"|"participants"|"media", ...} */
JsonNode *ar_api_call_event_to_json(const ArCallEvent *event);

/* The "controls" object. */
JsonNode *ar_api_call_controls_to_json(const ArCallControls *controls);

/* The status object (without "admin" and "update", which the hub adds). */
JsonNode *ar_api_call_status_to_json(const ArCallStatus *status);

G_END_DECLS
