/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-priv.h: what the files of the web server share.
 *
 *   ar-web-server.c   the core: checks before a body is read (rate, Host,
 *                     Origin, methods, sizes), the route table, static files
 *   ar-web-session.c  sessions, first-run setup, login (throttled), logout
 *   ar-web-state.c    the state dir: password, tokens, settings
 *   ar-web-audit.c    the audit log (two streams, budgets, rotation) and
 *                     its listing (ar-web-audit.h)
 *   ar-web-api.c      the scripting API: status, commands, configuration;
 *                     GET /metrics (written by ar-web-metrics.c, pure)
 *   ar-web-tokens.c   API tokens
 *   ar-web-update.c   update commands, update status, bundle upload (streamed)
 *   ar-web-admin.c    devices, test tone, camera preview, history, logs,
 *                     reboot, factory reset
 *   ar-web-recipes.c  the web engine's join recipes (list, upload, remove)
 *
 * A feature file registers its routes with ar_web_server_add_routes() from a
 * function called by ar_web_server_new(); the core authenticates and checks
 * the method before a handler runs.
 */
#pragma once

#include <libsoup/soup.h>

#include "ar-web-auth.h"
#include "ar-web-creds.h"
#include "ar-web-server.h"
#include "ar-web-tls.h"

G_BEGIN_DECLS

#define AR_HTTP_TOO_MANY_REQUESTS 429 /* libsoup 3.2 has no name for it */
#define AR_WEB_TOKEN_NAME_MAX 64

typedef struct {
  char *id_hash; /* SHA-256 of the cookie value: the value itself is kept nowhere */
  char *csrf;
  gint64 last_used_us;
} ArWebSession;

typedef struct {
  char *name;
  char *hash; /* SHA-256 hex of the token */
  gint64 created;
  guint scopes; /* ArWebScope bits: what the token may do */
} ArWebToken;

/* Who made a request: a session, a token or (both NULL) nobody. */
typedef struct _ArWebPanel ArWebPanel;
typedef struct _ArWebRoom ArWebRoom;

typedef struct {
  ArWebSession *session;
  ArWebToken *token;
  /* ar-web-room.c: the room screen or a paired touch panel. */
  gboolean room;
  ArWebPanel *panel;
  char owner[96]; /* "room:HASH" / "panel:ID": names their event streams */
} ArWebCaller;

/* Who besides API tokens may call a route. Tokens never by @need: only by
 * the route's scope (ArWebRoute.scope; 0: no token at all). */
typedef enum {
  AR_WEB_AUTH_NONE,             /* anyone who passed the core's checks */
  AR_WEB_AUTH_SESSION_OR_TOKEN, /* an admin session (CSRF on changes); tokens by scope */
  AR_WEB_AUTH_SESSION,          /* an admin session; tokens by scope (none of these has one) */
  AR_WEB_AUTH_ROOM,             /* the room screen's session, an admin session; tokens by scope */
  AR_WEB_AUTH_DEVICE, /* the room screen, a paired touch panel, an admin session; tokens by scope */
  /* A call link's token, checked by the handler (ar-web-calls.c); never an
   * API token, a session or a panel. */
  AR_WEB_AUTH_CALL_LINK,
} ArWebAuthNeed;

typedef struct _ArWebRoute ArWebRoute;
typedef struct _ArWebJob ArWebJob;
typedef struct _ArWebAudit ArWebAudit;

/* Runs after the route's authentication and method checks passed. */
typedef void (*ArWebHandler)(ArWebServer *s, SoupServerMessage *msg, const char *path,
                             const ArWebCaller *caller);

struct _ArWebRoute {
  const char *path;    /* exact, or a prefix when it ends with '/' */
  const char *methods; /* allowed methods, space separated: "GET POST" */
  ArWebAuthNeed need;
  ArWebHandler handler;
  /* ArWebScope bits a token needs (all of them); 0: not open to tokens. On an
   * AUTH_NONE route: what a token presented anyway must hold (pairing: a
   * panel minted on a token's authority gets no more than the token). */
  guint scope;
};

struct _ArWebServer {
  ArApiHub *hub;
  ArConfig *config;
  char *state_dir;
  ArWebAudit *audit; /* ar-web-audit.c */
  char *ui_dir;
  SoupServer *soup;
  struct _ArApiListener *listener; /* accept, caps, deadlines (ar-api-listener.h) */
  GTlsCertificate *cert;
  char *fingerprint;
  char *url;
  GStrv allowed;
  guint port;               /* the HTTPS port ([admin] listen) */
  char *password_hash;      /* NULL: first-run setup not done */
  GHashTable *sessions;     /* id_hash -> ArWebSession* */
  GPtrArray *tokens;        /* ArWebToken* */
  GHashTable *throttle;     /* client address -> ArThrottleEntry* (bounded; never full) */
  ArBudget login_budget;    /* failed logins from the network, across addresses */
  GPtrArray *login_devices; /* ArWebLoginDevice*: browsers that logged in (device cookie) */
  GHashTable *buckets;      /* client address -> rate bucket */
  ArThrottlePolicy policy;
  guint expire_timer;
  GPtrArray *logins;           /* login jobs whose password is being checked in a thread */
  GArray *routes;              /* ArWebRoute */
  GPtrArray *static_dirs;      /* prefix -> UI subfolder (ar-web-server.c) */
  ArWebRoom *room;             /* room screen, panels, pairing, video (ar-web-room.c) */
  GPtrArray *jobs;             /* ArWebJob* in a worker thread (ar-web-admin.c) */
  gboolean job_busy[3];        /* per kind of job: one at a time */
  GPtrArray *call_links;       /* ArWebCallLink* (ar-web-calls.c) */
  ArBudget call_budget;        /* wrong call-link tokens, across addresses */
  struct _ArWebCallRing *call; /* the last call a link opened */
  char *call_id;               /* its id once answered */
  gint64 preview_audit_us;     /* the last camera_preview audit entry */
  gint64 preview_event_us;     /* the last camera-preview event; 0: no preview runs */
  guint preview_end_timer;     /* says the preview ended when no picture came for a while */
};

/* ---- ar-web-server.c ---- */

/* Adds @n routes; the first route that matches a path serves it. */
void ar_web_server_add_routes(ArWebServer *s, const ArWebRoute *routes, gsize n);
/* Serves the files of @ui_subdir (in the UI dir) under @prefix ("/admin/"):
 * plain names only, index.html for the prefix itself. */
void ar_web_server_add_static_dir(ArWebServer *s, const char *prefix, const char *ui_subdir);

const char *ar_web_client_of(SoupServerMessage *msg);
const char *ar_web_header(SoupServerMessage *msg, const char *name);
/* {"ok": error == NULL, "error": error} with @status. */
void ar_web_error(SoupServerMessage *msg, guint status, const char *error);
/* 429 with Retry-After: "@before N s@after" (N: @retry_us in whole seconds). */
void ar_web_error_retry(SoupServerMessage *msg, gint64 retry_us, const char *before,
                        const char *after);
/* The request body as a JSON object (bounded size and depth), or NULL and
 * @error with a message for the client. */
JsonNode *ar_web_body_object(SoupServerMessage *msg, GError **error);
/* A string member of an object node, or NULL. */
const char *ar_web_string_member(JsonNode *obj, const char *name);

/* ---- ar-web-session.c ---- */

void ar_web_session_free(ArWebSession *se);
/* The owner name of event streams opened with a session or a token. */
char *ar_web_owner_of(const char *kind, const char *hash);
ArWebSession *ar_web_session_of(ArWebServer *s, SoupServerMessage *msg);
void ar_web_expire_sessions(ArWebServer *s, gint64 now_us);
/* Fills @caller or answers 401/403 and returns FALSE. A token passes only
 * if it holds every scope of @scope (0: tokens refused, unless @need is
 * AUTH_NONE: then a valid token is simply named in @caller). */
gboolean ar_web_authorize(ArWebServer *s, SoupServerMessage *msg, ArWebAuthNeed need, guint scope,
                          ArWebCaller *caller);
void ar_web_session_register(ArWebServer *s);
typedef struct _ArWebLoginDevice ArWebLoginDevice;
/* Factory reset: every login device forgotten, the budget full again. */
void ar_web_forget_login_devices(ArWebServer *s);
/* Password checks still running end on their own and then see no server. */
void ar_web_session_shutdown(ArWebServer *s);

/* ---- ar-web-state.c ---- */

char *ar_web_state_path(ArWebServer *s, const char *name);
gboolean ar_web_private_dir(const char *dir, GError **error);
gboolean ar_web_load_password(ArWebServer *s, GError **error);
void ar_web_token_free(ArWebToken *t);
gboolean ar_web_token_name_ok(const char *name);
/* tokens.json's format: ArWebToken* of @tokens, written 0600 (atomic). */
gboolean ar_web_write_tokens(const char *path, GPtrArray *tokens, GError **error);
gboolean ar_web_load_tokens(ArWebServer *s, GError **error);
gboolean ar_web_save_tokens(ArWebServer *s, GError **error);

/* ---- ar-web-audit.c ---- */

/* Appends an event to the audit log (JSON lines, bounded); never a secret.
 * With a caller that holds a credential (or an event that proves one: login,
 * setup, panel-paired, factory_reset) it goes in the authenticated stream;
 * else in the unauthenticated one, within its budget. */
void ar_web_audit_local(const char *event, const char *detail, gpointer server);
void ar_web_audit(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller,
                  const char *event, const char *detail);
/* GET /api/v1/audit; the log's state. */
void ar_web_audit_register(ArWebServer *s);
/* Writes the pending summaries, then frees. */
void ar_web_audit_free(ArWebServer *s);
/* Factory reset: every audit file goes. */
void ar_web_audit_forget(ArWebServer *s);

/* ---- ar-web-room.c, ar-web-panels.c ---- */

/* Routes, static pages /room/ and /panel/, the kiosk secret, the panels. */
gboolean ar_web_room_register(ArWebServer *s, GError **error);
void ar_web_room_free(ArWebServer *s);
/* Room screen / panel credentials for @need (ROOM or DEVICE); answers 401/403
 * and returns FALSE if there is none. */
gboolean ar_web_room_authorize(ArWebServer *s, SoupServerMessage *msg, ArWebAuthNeed need,
                               ArWebCaller *caller);
void ar_web_room_add_video_client(ArWebServer *s, SoupWebsocketConnection *ws, const char *owner);
gboolean ar_web_room_can_add_video_client(ArWebServer *s, const char *owner);
/* Closes the video streams opened with the credential @owner. */
void ar_web_room_close_video(ArWebServer *s, const char *owner);
/* @parent (a token's owner name, "token:HASH") was revoked: every panel
 * paired on its authority goes, with its event streams (audited). */
void ar_web_room_revoke_derived(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller,
                                const char *parent);
typedef enum {
  AR_WEB_SETUP_OK,
  AR_WEB_SETUP_WRONG,  /* no code or a wrong one: a new code is shown */
  AR_WEB_SETUP_PAUSED, /* too many wrong codes: remote setup waits @retry_us */
} ArWebSetupVerdict;
/* The 64-character value of cookie @name in @msg's Cookie header, or NULL. */
char *ar_web_cookie_value(SoupServerMessage *msg, const char *name);
/* TRUE when @msg comes from a loopback address (this device). */
gboolean ar_web_is_loopback_client(SoupServerMessage *msg);
/* First-run setup: from this device, or with the code the room screen shows
 * ("setup_code" in @body) while the global budget of wrong codes lasts. */
ArWebSetupVerdict ar_web_room_setup_check(ArWebServer *s, SoupServerMessage *msg, JsonNode *body,
                                          gint64 *retry_us);
/* Factory reset: forgets every paired panel (and a pairing in progress). */
void ar_web_room_forget_panels(ArWebServer *s);

/* ---- ar-web-api.c, ar-web-tokens.c, ar-web-admin.c ---- */

void ar_web_api_register(ArWebServer *s);
void ar_web_tokens_register(ArWebServer *s);
void ar_web_admin_register(ArWebServer *s);
/* ar-web-recipes.c: GET /api/v1/recipes, PUT/DELETE /api/v1/recipes/ID. */
void ar_web_recipes_register(ArWebServer *s);
/* Jobs still running end on their own and then see no server. */
void ar_web_admin_shutdown(ArWebServer *s);

/* ---- ar-web-calls.c ---- */

typedef struct _ArWebCallLink ArWebCallLink;
/* Call links (admin, room screen) and the calls they open (docs/room-calls.md). */
void ar_web_calls_register(ArWebServer *s);
void ar_web_calls_free(ArWebServer *s);

/* ---- ar-web-update.c ---- */

void ar_web_update_register(ArWebServer *s);
/* TRUE if @msg is a bundle upload (POST /api/v1/update/upload). */
gboolean ar_web_update_is_upload(SoupServerMessage *msg);
/* At got-headers: authenticates, checks size and type, and streams the body
 * to a file; FALSE after answering with an error. */
gboolean ar_web_update_upload_headers(ArWebServer *s, SoupServerMessage *msg);

G_END_DECLS
