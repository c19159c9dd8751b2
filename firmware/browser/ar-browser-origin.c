/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-browser-origin.c: which URLs the meeting browser may request
 * (ar-browser.h, docs/web-engine.md "What the page may reach"). */
#include "ar-browser.h"

#include <string.h>

#define MAX_PATTERN_LEN 300

typedef struct {
  char *scheme; /* "https", "http", or NULL for any (a bare blocked host) */
  char *host;   /* lower case; without "*." when wildcard */
  gboolean wildcard;
  int port; /* -1: the scheme's default (any port for a bare host) */
} Pattern;

/* 127.0.0.0/8, ::1 and localhost: the room itself. */
static gboolean
is_loopback_host(const char *host)
{
  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp(host, "localhost") == 0 || g_str_equal(host, "::1") ||
      g_str_equal(host, "[::1]"))
    return TRUE;
  return g_str_has_prefix(host, "127.") && g_hostname_is_ip_address(host);
}

static void
pattern_clear(Pattern *p)
{
  g_free(p->scheme);
  g_free(p->host);
}

static gboolean
host_chars_ok(const char *host)
{
  if (*host == '\0')
    return FALSE;
  for (const char *c = host; *c; c++)
    if (!g_ascii_isalnum(*c) && *c != '-' && *c != '.' && *c != ':')
      return FALSE;
  return TRUE;
}

static gboolean
parse_pattern(const char *text, gboolean blocked, Pattern *out, GError **error)
{
  if (text == NULL || strlen(text) > MAX_PATTERN_LEN) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                "an origin pattern must be 1 to %d bytes", MAX_PATTERN_LEN);
    return FALSE;
  }
  Pattern p = {NULL, NULL, FALSE, -1};
  if (blocked && strstr(text, "://") == NULL) {
    /* A bare host: blocked on every scheme and port. */
    const char *h = text;
    if (g_str_has_prefix(h, "*.")) {
      p.wildcard = TRUE;
      h += 2;
    }
    p.host = g_ascii_strdown(h, -1);
  } else {
    g_autofree char *scheme = NULL, *host = NULL;
    int port = -1;
    g_autoptr(GError) e = NULL;
    if (!g_uri_split_network(text, G_URI_FLAGS_NONE, &scheme, &host, &port, &e)) {
      g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS, "'%s' is not an origin (%s)",
                  text, e->message);
      return FALSE;
    }
    g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
    if (uri == NULL || g_uri_get_userinfo(uri) != NULL || *g_uri_get_path(uri) != '\0' ||
        g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL) {
      g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                  "'%s' is not an origin (scheme://host[:port], nothing after)", text);
      return FALSE;
    }
    if (g_strcmp0(scheme, "https") != 0 &&
        !(g_strcmp0(scheme, "http") == 0 && (blocked || is_loopback_host(host)))) {
      g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                  "'%s': only https:// origins can be allowed (http:// for loopback only)", text);
      return FALSE;
    }
    const char *h = host;
    if (g_str_has_prefix(h, "*.")) {
      p.wildcard = TRUE;
      h += 2;
    }
    p.scheme = g_steal_pointer(&scheme);
    p.host = g_ascii_strdown(h, -1);
    p.port = port;
  }
  if (!host_chars_ok(p.host) || p.host[0] == '.' || strstr(p.host, "..") != NULL ||
      (p.wildcard && strchr(p.host, '.') == NULL && !blocked)) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                "'%s': not a host name, an address, or *.domain.tld", text);
    pattern_clear(&p);
    return FALSE;
  }
  *out = p;
  return TRUE;
}

gboolean
ar_browser_check_pattern(const char *pattern, gboolean blocked, GError **error)
{
  Pattern p;
  if (!parse_pattern(pattern, blocked, &p, error))
    return FALSE;
  pattern_clear(&p);
  return TRUE;
}

static int
default_port(const char *scheme)
{
  return g_strcmp0(scheme, "https") == 0 ? 443 : 80;
}

static gboolean
host_matches(const Pattern *p, const char *host)
{
  if (!p->wildcard)
    return strcmp(p->host, host) == 0;
  gsize hl = strlen(host), pl = strlen(p->host);
  return hl > pl + 1 && host[hl - pl - 1] == '.' && strcmp(host + hl - pl, p->host) == 0;
}

static gboolean
matches_any(const char *const *patterns, gboolean blocked, const char *scheme, const char *host,
            int port)
{
  for (guint i = 0; patterns != NULL && patterns[i] != NULL; i++) {
    Pattern p;
    if (!parse_pattern(patterns[i], blocked, &p, NULL))
      continue;
    gboolean hit = host_matches(&p, host);
    if (hit && p.scheme != NULL) {
      int pport = p.port > 0 ? p.port : default_port(p.scheme);
      hit = strcmp(p.scheme, scheme) == 0 && pport == port;
    }
    pattern_clear(&p);
    if (hit)
      return TRUE;
  }
  return FALSE;
}

gboolean
ar_browser_url_allowed(const char *const *allowed, const char *const *blocked, const char *url)
{
  if (url == NULL || strlen(url) > 64 * 1024)
    return FALSE;
  g_autofree char *scheme = NULL, *host = NULL;
  int port = -1;
  if (!g_uri_split_network(url, G_URI_FLAGS_NONE, &scheme, &host, &port, NULL) || host == NULL)
    return FALSE;
  /* A WebSocket's origin is its http(s) one. */
  const char *s = scheme;
  if (g_ascii_strcasecmp(s, "wss") == 0)
    s = "https";
  else if (g_ascii_strcasecmp(s, "ws") == 0)
    s = "http";
  g_autofree char *ls = g_ascii_strdown(s, -1);
  g_autofree char *lh = g_ascii_strdown(host, -1);
  /* A trailing dot names the same host. */
  gsize hl = strlen(lh);
  if (hl > 1 && lh[hl - 1] == '.')
    lh[hl - 1] = '\0';
  if (port <= 0)
    port = default_port(ls);
  if (matches_any(blocked, TRUE, ls, lh, port))
    return FALSE;
  /* http only to loopback (a meeting app on the room itself, or a lab's):
   * a secure context for Chromium, and never the network. */
  if (strcmp(ls, "https") != 0 && !(strcmp(ls, "http") == 0 && is_loopback_host(lh)))
    return FALSE;
  return matches_any(allowed, FALSE, ls, lh, port);
}
