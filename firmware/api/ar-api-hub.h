/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-hub.h: what the Unix-socket API (ar-api-server.c) and the HTTPS
 * admin/scripting API (firmware/web/) share: status, join/leave answered when
 * done, and one event stream fanned out to every WebSocket client of both.
 * Authentication is the caller's business: call these only after it.
 */
#pragma once

#include <libsoup/soup.h>

#include "ar-api-history.h"
#include "ar-api-recipes.h"
#include "ar-cal-desk.h"
#include "ar-call.h"
#include "ar-config.h"
#include "ar-update.h"

G_BEGIN_DECLS

#define AR_API_HUB_MAX_EVENT_CLIENTS 32
/* Event streams one credential may hold (its oldest goes for a new one). */
#define AR_API_HUB_MAX_EVENT_CLIENTS_PER_OWNER 4
/* Of the 32, kept for the room screen and the local socket (4 room sessions
 * and a few anyroomctl events). */
#define AR_API_HUB_RESERVED_EVENT_CLIENTS 8

typedef struct _ArApiHub ArApiHub;

/* Takes the call manager's event function (one hub per manager). */
ArApiHub *ar_api_hub_new(ArCallManager *calls);
void ar_api_hub_free(ArApiHub *hub);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArApiHub, ar_api_hub_free)

ArCallManager *ar_api_hub_get_calls(ArApiHub *hub);

/* Admin endpoint facts added to every status object as "admin":
 * {"url": ..., "tls_fingerprint_sha256": ...}. NULL url: none. */
void ar_api_hub_set_admin_info(ArApiHub *hub, const char *url, const char *fingerprint);

/* Update commands and the status's "update" object come from @updater
 * (borrowed; NULL: none). The hub broadcasts its events. */
void ar_api_hub_set_updater(ArApiHub *hub, ArUpdater *updater);
ArUpdater *ar_api_hub_get_updater(ArApiHub *hub);

/* ar-api-update.c: "update-install" {"source": PATH|URL, "force_downgrade":
 * bool} answers when installed or refused (docs/update.md); "update-status"
 * refreshes the slot status and answers {"ok": true, "update": {...}}. */
void ar_api_hub_update_command(ArApiHub *hub, SoupServerMessage *msg, const char *name,
                               gsize max_body);
/* Installs a bundle file the caller wrote (an upload), deleting it when done;
 * answers @msg (paused meanwhile) like update-install. */
void ar_api_hub_update_install_file(ArApiHub *hub, SoupServerMessage *msg, const char *path,
                                    gboolean force_downgrade);

/* The status object of docs/cli.md (+ "admin"). */
JsonNode *ar_api_hub_status(ArApiHub *hub);

/* How deep a request body's JSON may nest (both APIs). */
#define AR_API_MAX_JSON_DEPTH 16

/* The request's JSON object: at most @max_body bytes, valid UTF-8, nested at
 * most AR_API_MAX_JSON_DEPTH deep. An empty body is an empty object when
 * @empty_ok, else an error. */
JsonNode *ar_api_body_object(SoupServerMessage *msg, gsize max_body, gboolean empty_ok,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* @obj's member @name when it is a string, else NULL. */
const char *ar_api_string_member(JsonNode *obj, const char *name);

/* Responses: JSON body; {"ok": bool, "error": "..."} for results. */
void ar_api_respond_json(SoupServerMessage *msg, guint status, JsonNode *node);
void ar_api_respond_result(SoupServerMessage *msg, guint status, const char *error);

/* POST /api/v1/commands/join with {"link": "..."} (body at most @max_body
 * bytes): pauses @msg and answers when connected or failed. */
void ar_api_hub_join(ArApiHub *hub, SoupServerMessage *msg, gsize max_body);
/* POST /api/v1/commands/leave: answers when left. */
void ar_api_hub_leave(ArApiHub *hub, SoupServerMessage *msg);

/* The commands group (POST /api/v1/commands/NAME): "join", "leave", "mute",
 * "unmute", "camera" {"on": bool}, "volume" {"level": 0..100}, "self-view"
 * {"on": bool}. Returns the static name of @path's command, or NULL if
 * @path is no command. */
const char *ar_api_hub_command_name(const char *path);
/* Runs command @name (from ar_api_hub_command_name). Controls answer at once
 * with {"ok": true, "controls": {...}}; join/leave answer when done. */
void ar_api_hub_command(ArApiHub *hub, SoupServerMessage *msg, const char *name, gsize max_body);

/* The configuration group (ar-api-config.h): the settings are @config's
 * (borrowed; PATCH changes it in place) saved in @state_dir. */
void ar_api_hub_set_config(ArApiHub *hub, ArConfig *config, const char *state_dir);
/* GET or PATCH /api/v1/config (body at most @max_body bytes). A PATCH that
 * was applied returns the changed "group.key" names (no values; for the
 * audit log), else NULL. Answers @msg either way. */
GStrv ar_api_hub_config(ArApiHub *hub, SoupServerMessage *msg, gsize max_body);
ArConfig *ar_api_hub_get_config(ArApiHub *hub);
/* Where changes made over the local socket are written (the admin server's
 * audit log); NULL: nowhere. */
typedef void (*ArApiAuditFunc)(const char *event, const char *detail, gpointer user_data);
void ar_api_hub_set_audit_func(ArApiHub *hub, ArApiAuditFunc func, gpointer user_data);
void ar_api_hub_audit(ArApiHub *hub, const char *event, const char *detail);
/* The call history kept from the call events (ar-api-history.h), or NULL
 * before ar_api_hub_set_config gave a state dir. */
ArApiHistory *ar_api_hub_get_history(ArApiHub *hub);

/* The recipes group (ar-api-recipes.h); the hub takes @recipes (NULL: none:
 * the endpoints answer 503). */
void ar_api_hub_set_recipes(ArApiHub *hub, ArApiRecipes *recipes);
/* Calls to the room (ar-room-call.h; borrowed, outlives @hub): status
 * "incoming", the "incoming" event, the accept and decline commands. */
struct _ArRoomCallDesk;
void ar_api_hub_set_room_calls(ArApiHub *hub, struct _ArRoomCallDesk *desk);
struct _ArRoomCallDesk *ar_api_hub_get_room_calls(ArApiHub *hub);
/* The room's meetings (borrowed; NULL: none): GET /api/v1/meetings, joins by meeting,
 * "meetings" and "auto-join" events, status "auto_join". */
void ar_api_hub_set_calendar(ArApiHub *hub, ArCalDesk *calendar);
ArCalDesk *ar_api_hub_get_calendar(ArApiHub *hub);
/* GET /api/v1/meetings, for both servers. */
void ar_api_hub_meetings(ArApiHub *hub, SoupServerMessage *msg);
ArApiRecipes *ar_api_hub_get_recipes(ArApiHub *hub);
/* Serves the recipes group for @path when there is one, else 503. Returns
 * the audit event of a change made (ar_api_recipes_handle) and its *@detail. */
const char *ar_api_hub_recipes(ArApiHub *hub, SoupServerMessage *msg, const char *path,
                               char **detail);

/* Adds an authenticated WebSocket client. @owner (NULL: the local socket)
 * names the credential it came with, for ar_api_hub_close_event_clients and
 * the limits (ar-api-slots.h): a credential at its limit loses its oldest
 * stream; the room screen ("room:...") and the local socket are never
 * refused; anyone else is closed (policy violation, "too many event
 * streams") when the slots open to all are taken. */
void ar_api_hub_add_event_client(ArApiHub *hub, SoupWebsocketConnection *ws, const char *owner);
/* Whether ar_api_hub_add_event_client would take a client of @owner now
 * (to refuse before the WebSocket handshake). */
gboolean ar_api_hub_can_add_event_client(ArApiHub *hub, const char *owner);
/* Closes every client added with @owner (a session that ended, a revoked
 * token): an event stream lives no longer than its credential. */
void ar_api_hub_close_event_clients(ArApiHub *hub, const char *owner);
/* Sends @event (a JSON object) to every client, like a call event. */
void ar_api_hub_broadcast(ArApiHub *hub, JsonNode *event);

G_END_DECLS
