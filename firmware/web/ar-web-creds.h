/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-creds.h: the rules of the web server's long-lived credentials
 * (docs/api.md, docs/decisions.md): what an API token may do (its scopes:
 * every route names the scopes a token needs for it; a route that names none
 * is not open to tokens) and how long a touch panel's credential lives. Pure:
 * unit tested in tests/unit/web/test-web-creds.c.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  AR_WEB_SCOPE_NONE = 0,
  AR_WEB_SCOPE_STATUS = 1 << 0,        /* status, history, events, update status, room info */
  AR_WEB_SCOPE_COMMANDS = 1 << 1,      /* join, leave, mute, camera, volume, self-view */
  AR_WEB_SCOPE_CONFIGURATION = 1 << 2, /* configuration, devices, test tone */
  AR_WEB_SCOPE_MEDIA = 1 << 3,         /* the video WebSocket (pictures of the room) */
  AR_WEB_SCOPE_UPDATE = 1 << 4,        /* install a signed update */
  AR_WEB_SCOPE_METRICS = 1 << 5,       /* GET /metrics (Prometheus): numbers, no names */
} ArWebScope;

#define AR_WEB_SCOPE_ALL                                                                           \
  (AR_WEB_SCOPE_STATUS | AR_WEB_SCOPE_COMMANDS | AR_WEB_SCOPE_CONFIGURATION | AR_WEB_SCOPE_MEDIA | \
   AR_WEB_SCOPE_UPDATE | AR_WEB_SCOPE_METRICS)
/* Tokens saved before scopes existed (tokens.json without "scopes"). */
#define AR_WEB_SCOPE_LEGACY_DEFAULT AR_WEB_SCOPE_STATUS

/* "status" -> AR_WEB_SCOPE_STATUS; 0 for an unknown name. */
guint ar_web_scope_from_name(const char *name);
/* The name of one scope bit, or NULL. */
const char *ar_web_scope_name(guint scope);
/* A JSON array of scope names -> a set: FALSE (and @why) if it is not an
 * array of strings, names an unknown scope, or is empty. @scopes untouched on
 * failure. */
gboolean ar_web_scopes_from_json(JsonNode *node, guint *scopes, const char **why);
/* The names of @scopes as a JSON array, in a fixed order. */
JsonNode *ar_web_scopes_to_json(guint scopes);
/* Whether a token holding @held may use a route that needs @needed: @needed
 * 0 means the route is not open to tokens. */
gboolean ar_web_scopes_allow(guint held, guint needed);
/* "commands, media": the scopes of @needed missing from @held (for the error). */
char *ar_web_scopes_missing(guint held, guint needed);

/* ---- touch panel credentials: a bounded life, renewed by use ---- */
#define AR_WEB_PANEL_LIFE_S (G_GINT64_CONSTANT(30) * 24 * 3600)

typedef enum {
  AR_WEB_PANEL_VALID,
  AR_WEB_PANEL_RENEW,   /* valid, and more than half its life is spent: extend it */
  AR_WEB_PANEL_EXPIRED, /* refused until paired again */
} ArWebPanelLife;

/* The state of a credential that expires at @expires (unix seconds) at
 * @now, for a life of @life seconds. */
ArWebPanelLife ar_web_panel_life(gint64 expires, gint64 now, gint64 life);

G_END_DECLS
