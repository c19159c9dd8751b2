/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-browser-priv.h: the meeting browser's insides, shared by its sources:
 * ar-browser.c (the browser, its page and operations) and ar-browser-rules.c
 * (what the page may reach: permissions, requests, the policy its documents
 * get). Not for users of ar-browser.h.
 */
#pragma once

#include "ar-browser.h"

struct _ArBrowser {
  guint ref;      /* held while a callback of ours may free it */
  gboolean freed; /* ar_browser_free() was called */
  char *chromium;
  gboolean headless, chromium_log;
  char *wayland_display;
  guint width, height;
  GStrv allowed, blocked, media, extra, env;
  guint answer_timeout_ms, heartbeat_ms, start_timeout_ms;

  char *profile;
  ArCdp *cdp;
  char *page_target;
  char *page_session;
  char *url;
  GHashTable *granted;  /* origins with camera and microphone */
  GHashTable *sessions; /* session id -> target type, the sessions we hold to the rules */
  char *csp;            /* the Content-Security-Policy every response gets */
  GList *ops;
  guint watchers; /* navigations that need the page's Network domain (its failed loads) */
  guint heartbeat;
  gboolean heartbeat_waiting;
  gboolean ready_done;
  ArBrowserReadyFunc ready;
  ArBrowserClosedFunc closed;
  gpointer user_data;
};

/* ---- small CDP helpers ---- */

static inline JsonNode *
params_new(JsonObject **out)
{
  JsonObject *o = json_object_new();
  JsonNode *n = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  *out = o;
  return n;
}

static inline const char *
obj_string(JsonObject *o, const char *name)
{
  if (o == NULL)
    return NULL;
  JsonNode *n = json_object_get_member(o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

static inline JsonObject *
obj_object(JsonObject *o, const char *name)
{
  if (o == NULL)
    return NULL;
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static inline void
log_reply(ArCdp *cdp, JsonObject *result, const GError *error, gpointer user_data)
{
  if (error != NULL)
    g_debug("browser: %s", error->message);
}

static inline guint
call(ArBrowser *b, const char *session, const char *method, JsonNode *params,
     ArCdpReplyFunc callback, gpointer data)
{
  return ar_cdp_call(b->cdp, session, method, params, b->answer_timeout_ms,
                     callback ? callback : log_reply, data);
}

/* ---- ar-browser-rules.c: what the page may reach ---- */

/* Browser.setPermission @name to @setting ("granted", "denied") for @origin
 * (NULL: every origin). */
void ar_browser_set_permission(ArBrowser *b, const char *name, const char *setting,
                               const char *origin, ArCdpReplyFunc callback, gpointer data);
/* Camera and microphone for @origin ("https://host:port"), once, if it is
 * a media origin: TRUE when asked for (@last is called with the last reply). */
gboolean ar_browser_grant_media(ArBrowser *b, const char *origin, ArCdpReplyFunc last,
                                gpointer data);
/* The origin of an http(s) URL, "https://host:port" (default port left
 * out), or NULL. */
char *ar_browser_origin_of(const char *url);
/* The Content-Security-Policy every response gets (connect-src: the allowed
 * origins). */
char *ar_browser_build_csp(ArBrowser *b);
/* Fetch.requestPaused: a request outside the allowed origins fails; a
 * document or worker script gets our policy. */
void ar_browser_on_request_paused(ArCdp *cdp, const char *session, JsonObject *params,
                                  gpointer data);
