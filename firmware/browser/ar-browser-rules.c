/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-browser-rules.c: what the meeting browser's page may reach (ar-browser.h,
 * docs/web-engine.md "What the page may reach"): camera and microphone for
 * the media origins only, every request checked against the allowed origins
 * (Fetch interception), and every document and worker script served with a
 * Content-Security-Policy that limits its connections to them.
 */
#include "ar-browser-priv.h"

#include <string.h>

/* A document or worker script that gets our policy passes through the pipe
 * twice, base64 (4/3): 8 MiB stays well under AR_CDP_MAX_MESSAGE. */
#define MAX_POLICY_BODY (8 * 1024 * 1024)

void
ar_browser_set_permission(ArBrowser *b, const char *name, const char *setting, const char *origin,
                          ArCdpReplyFunc callback, gpointer data)
{
  JsonObject *o, *perm = json_object_new();
  JsonNode *params = params_new(&o);
  json_object_set_string_member(perm, "name", name);
  json_object_set_object_member(o, "permission", perm);
  json_object_set_string_member(o, "setting", setting);
  if (origin != NULL)
    json_object_set_string_member(o, "origin", origin);
  call(b, NULL, "Browser.setPermission", params, callback, data);
}

/* Camera and microphone for @origin ("https://host:port"), once, if it is
 * a media origin. */
gboolean
ar_browser_grant_media(ArBrowser *b, const char *origin, ArCdpReplyFunc last, gpointer data)
{
  if (g_hash_table_contains(b->granted, origin))
    return FALSE;
  if (b->media != NULL && !ar_browser_url_allowed((const char *const *)b->media,
                                                  (const char *const *)b->blocked, origin))
    return FALSE;
  g_hash_table_add(b->granted, g_strdup(origin));
  ar_browser_set_permission(b, "camera", "granted", origin, NULL, NULL);
  ar_browser_set_permission(b, "microphone", "granted", origin, last, data);
  return TRUE;
}

/* The origin of an http(s) URL, "https://host:port" (default port left out;
 * http only for the loopback pages ar_browser_url_allowed() lets through). */
char *
ar_browser_origin_of(const char *url)
{
  g_autofree char *scheme = NULL, *host = NULL;
  int port = -1;
  if (!g_uri_split_network(url, G_URI_FLAGS_NONE, &scheme, &host, &port, NULL) || host == NULL)
    return NULL;
  const char *sc = g_ascii_strcasecmp(scheme, "http") == 0 ? "http" : "https";
  int default_port = g_str_equal(sc, "http") ? 80 : 443;
  g_autofree char *lh = g_ascii_strdown(host, -1);
  gboolean v6 = strchr(lh, ':') != NULL;
  if (port <= 0 || port == default_port)
    return g_strdup_printf("%s://%s%s%s", sc, v6 ? "[" : "", lh, v6 ? "]" : "");
  return g_strdup_printf("%s://%s%s%s:%d", sc, v6 ? "[" : "", lh, v6 ? "]" : "", port);
}

/* Fetch interception does not see WebSocket handshakes (nor does
 * Network.setBlockedURLs block them: both checked with Chromium 156), so
 * every response gets one more Content-Security-Policy: connect-src limits
 * fetch, XHR, WebSocket, EventSource, beacons and WebTransport to the
 * allowed origins (CSP3: an https: source also matches wss:). A page's own
 * policies still apply: every policy must pass. */
char *
ar_browser_build_csp(ArBrowser *b)
{
  GString *s = g_string_new("connect-src 'self'");
  for (guint i = 0; b->allowed[i]; i++)
    if (ar_browser_url_allowed((const char *const *)b->allowed, (const char *const *)b->blocked,
                               b->allowed[i]) ||
        strstr(b->allowed[i], "*.") != NULL) {
      g_string_append_printf(s, " %s", b->allowed[i]);
      /* Named again as ws:/wss: (CSP3's http->ws matching is not what every
       * Chromium does for a loopback http origin). */
      if (g_str_has_prefix(b->allowed[i], "https://"))
        g_string_append_printf(s, " wss://%s", b->allowed[i] + 8);
      else if (g_str_has_prefix(b->allowed[i], "http://"))
        g_string_append_printf(s, " ws://%s", b->allowed[i] + 7);
    }
  g_string_append(s, " blob: data:");
  return g_string_free(s, FALSE);
}

typedef struct {
  ArBrowser *b;
  char *session;
  char *request;
  gint64 status;
  JsonArray *headers;
} Paused;

static void
continue_paused(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Paused *p = data;
  if (error == NULL || (cdp && ar_cdp_is_running(cdp))) {
    JsonObject *o;
    JsonNode *params = params_new(&o);
    json_object_set_string_member(o, "requestId", p->request);
    call(p->b, p->session, "Fetch.continueRequest", params, NULL, NULL);
  }
  g_free(p->session);
  g_free(p->request);
  g_free(p);
}

static void
paused_free(Paused *p)
{
  g_free(p->session);
  g_free(p->request);
  g_clear_pointer(&p->headers, json_array_unref);
  g_free(p);
}

static void
paused_reply(Paused *p, const char *method, const char *reason)
{
  JsonObject *o;
  JsonNode *params = params_new(&o);
  json_object_set_string_member(o, "requestId", p->request);
  if (reason != NULL)
    json_object_set_string_member(o, "errorReason", reason);
  call(p->b, p->session, method, params, NULL, NULL);
}

static void
fulfilled(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Paused *p = data;
  if (error != NULL && cdp != NULL && ar_cdp_is_running(cdp)) {
    /* Never a document without our policy: fail it. */
    g_debug("browser: %s", error->message);
    paused_reply(p, "Fetch.failRequest", "BlockedByClient");
  }
  paused_free(p);
}

static void
got_body(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Paused *p = data;
  if (error != NULL) {
    if (cdp != NULL && ar_cdp_is_running(cdp)) {
      g_debug("browser: %s", error->message);
      paused_reply(p, "Fetch.failRequest", "BlockedByClient");
    }
    paused_free(p);
    return;
  }
  const char *body = obj_string(result, "body");
  JsonNode *b64 = json_object_get_member(result, "base64Encoded");
  gboolean encoded = b64 && JSON_NODE_HOLDS_VALUE(b64) &&
                     json_node_get_value_type(b64) == G_TYPE_BOOLEAN && json_node_get_boolean(b64);
  g_autofree char *owned = NULL;
  if (body != NULL && !encoded)
    body = owned = g_base64_encode((const guchar *)body, strlen(body));
  JsonObject *o;
  JsonNode *params = params_new(&o);
  json_object_set_string_member(o, "requestId", p->request);
  json_object_set_int_member(o, "responseCode", p->status);
  json_object_set_array_member(o, "responseHeaders", g_steal_pointer(&p->headers));
  json_object_set_string_member(o, "body", body ? body : "");
  call(p->b, p->session, "Fetch.fulfillRequest", params, fulfilled, p);
}

/* The response stage: the request was allowed. A document's response, and
 * a worker's script, get our Content-Security-Policy (ar_browser_build_csp()): the
 * headers of a response Fetch.continueResponse changes are not parsed again
 * (checked: the policy was not enforced), those of Fetch.fulfillRequest are,
 * so the body is read and the response fulfilled with it. */
static void
on_response_paused(ArBrowser *b, const char *session, const char *request, JsonObject *params)
{
  Paused *p = g_new0(Paused, 1);
  p->b = b;
  p->session = g_strdup(session);
  p->request = g_strdup(request);
  const char *type = obj_string(params, "resourceType");
  const char *session_type = g_hash_table_lookup(b->sessions, session);
  gboolean worker = g_strcmp0(session_type, "worker") == 0 ||
                    g_strcmp0(session_type, "shared_worker") == 0 ||
                    g_strcmp0(session_type, "service_worker") == 0;
  gint64 status = json_object_get_int_member_with_default(params, "responseStatusCode", 0);
  /* Documents (any frame) and worker scripts: Chromium fetches a dedicated
   * worker's script in its page's session, typed "Other". Scripts of
   * pages are left alone (their headers give no policy, and reading
   * megabytes of them back through the pipe would cost much). */
  gboolean needs_policy = g_strcmp0(type, "Document") == 0 || g_strcmp0(type, "Other") == 0 ||
                          (worker && g_strcmp0(type, "Script") == 0);
  if (json_object_get_member(params, "responseErrorReason") != NULL || status < 200 ||
      (status >= 300 && status < 400) || !needs_policy) {
    paused_reply(p, "Fetch.continueRequest", NULL);
    paused_free(p);
    return;
  }
  /* The body comes back through the pipe: a bound (fail closed). */
  JsonNode *n = json_object_get_member(params, "responseHeaders");
  JsonArray *old = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  for (guint i = 0; old != NULL && i < json_array_get_length(old); i++) {
    JsonNode *e = json_array_get_element(old, i);
    JsonObject *h = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    const char *name = obj_string(h, "name"), *value = obj_string(h, "value");
    if (name && value && g_ascii_strcasecmp(name, "Content-Length") == 0 &&
        g_ascii_strtoull(value, NULL, 10) > MAX_POLICY_BODY) {
      g_debug("browser: refused a %s over %d bytes", type, MAX_POLICY_BODY);
      paused_reply(p, "Fetch.failRequest", "BlockedByClient");
      paused_free(p);
      return;
    }
  }
  p->status = status;
  p->headers = json_array_new();
  for (guint i = 0; old != NULL && i < json_array_get_length(old); i++) {
    JsonNode *e = json_array_get_element(old, i);
    JsonObject *h = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    if (obj_string(h, "name") != NULL && obj_string(h, "value") != NULL)
      json_array_add_element(p->headers, json_node_copy(e));
  }
  JsonObject *csp = json_object_new();
  json_object_set_string_member(csp, "name", "Content-Security-Policy");
  json_object_set_string_member(csp, "value", b->csp);
  json_array_add_object_element(p->headers, csp);
  JsonObject *o;
  JsonNode *reply = params_new(&o);
  json_object_set_string_member(o, "requestId", request);
  call(b, session, "Fetch.getResponseBody", reply, got_body, p);
}

void
ar_browser_on_request_paused(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  const char *request = obj_string(params, "requestId");
  const char *url = obj_string(obj_object(params, "request"), "url");
  const char *type = obj_string(params, "resourceType");
  if (request == NULL)
    return;
  if (json_object_get_member(params, "responseStatusCode") != NULL ||
      json_object_get_member(params, "responseErrorReason") != NULL) {
    on_response_paused(b, session, request, params);
    return;
  }
  JsonObject *o;
  JsonNode *reply = params_new(&o);
  json_object_set_string_member(o, "requestId", request);
  if (url == NULL || !ar_browser_url_allowed((const char *const *)b->allowed,
                                             (const char *const *)b->blocked, url)) {
    g_debug("browser: blocked %s %.200s", type ? type : "request", url ? url : "(no url)");
    json_object_set_string_member(o, "errorReason", "BlockedByClient");
    call(b, session, "Fetch.failRequest", reply, NULL, NULL);
    return;
  }
  /* A new allowed origin (a *.domain pattern) gets camera and microphone
   * before its document loads. */
  if (g_strcmp0(type, "Document") == 0) {
    g_autofree char *origin = ar_browser_origin_of(url);
    if (origin != NULL) {
      Paused *p = g_new0(Paused, 1);
      p->b = b;
      p->session = g_strdup(session);
      p->request = g_strdup(request);
      if (ar_browser_grant_media(b, origin, continue_paused, p)) {
        json_node_unref(reply);
        return;
      }
      g_free(p->session);
      g_free(p->request);
      g_free(p);
    }
  }
  call(b, session, "Fetch.continueRequest", reply, NULL, NULL);
}
