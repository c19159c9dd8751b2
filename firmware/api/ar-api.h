/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api.h: the local JSON API of anyroomd on a Unix domain socket.
 *
 * Never on a TCP port: no web page (not even one open in the kiosk browser)
 * can reach it. The socket's folder is 0700, the socket 0600, and a peer with
 * another uid is refused even if permissions were loosened.
 *
 *   GET  /api/v1/status            -> status object (docs/cli.md)
 *   POST /api/v1/commands/join     {"link": "..."} -> answers when connected or failed
 *   POST /api/v1/commands/leave    -> answers when left
 *   POST /api/v1/commands/mute|unmute, camera {"on": b}, volume {"level": n},
 *        self-view {"on": b}       -> {"ok": true, "controls": {...}}
 *   GET  /api/v1/config; PATCH /api/v1/config {"room": {"name": ...}, ...}
 *                                  (ar-api-config.h, docs/api.md)
 *   GET  /api/v1/history           -> the last calls (ar-api-history.h)
 *   GET  /api/v1/recipes; PUT|DELETE /api/v1/recipes/ID (ar-api-recipes.h)
 *   GET  /api/v1/events            WebSocket: one JSON event per message
 */
#pragma once

#include "ar-api-hub.h"

G_BEGIN_DECLS

#define AR_API_MAX_BODY (16 * 1024)

typedef struct _ArApiServer ArApiServer;

/* The default socket path: $XDG_RUNTIME_DIR/anyroom/anyroomd.sock, or
 * /tmp/anyroom-$UID/anyroomd.sock. */
char *ar_api_default_socket_path(void);

/* Serves @hub (borrowed; must outlive the server). */
ArApiServer *ar_api_server_new(ArApiHub *hub, const char *socket_path,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_api_server_free(ArApiServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArApiServer, ar_api_server_free)

G_END_DECLS
