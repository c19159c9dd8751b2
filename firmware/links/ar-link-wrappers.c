/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-wrappers.c: links that carry another link.
 *
 * Mail scanners rewrite every link of a message so that a click goes through
 * them first (Outlook SafeLinks, Proofpoint URL Defense, ...), calendar
 * descriptions go through Google's redirector, and Teams itself has launcher
 * and "/_#/" forms. A wrapper is unwrapped only if the wrapped link can be
 * read from the wrapper (it is then parsed with the same strict rules, so a
 * wrapper pointing at a non-meeting host is refused, not followed); wrappers
 * that hide their target (Mimecast) are refused with a reason. The caller
 * bounds the nesting (AR_LINK_MAX_WRAP_DEPTH).
 *
 *   *.safelinks.protection.outlook.com, *.safelinks.protection.office365.us  ?url=
 *   urldefense.proofpoint.com /v1/url?u= (plain)   /v2/url?u= (-XX and _ encoding)
 *   urldefense.com /v3/__URL__;B64!!...  ('*' stands for the characters in B64)
 *   www.google.com, google.com /url?q=  (and ?url=)
 *   linkprotect.cudasvc.com /url?a=       (Barracuda)
 *   *.trendmicro.com /wis/clicktime/v1/query?url=   (Trend Micro)
 *   clicktime.symantec.com /...?u=        (Symantec / Broadcom)
 *   *.protection.sophos.com ?u=BASE64     (Sophos)
 *   secure-web.cisco.com /TOKEN/URL-ENCODED-URL     (Cisco Secure Email)
 *   slack-redir.net /link?url=
 *   *.mimecast.com /s/...                  refused: the target is not in the link
 *   teams.microsoft.com (and gov hosts) /dl/launcher/launcher.html?url=/_#/l/...
 *   teams.microsoft.com /_#/l/meetup-join/..., /v2/?meetingjoin=true#/l/meetup-join/...
 */
#include "ar-link-priv.h"

#include <string.h>

typedef enum {
  WRAP_PARAM,       /* a query parameter holds the URL, form-decoded once */
  WRAP_PROOFPOINT2, /* param u, then Proofpoint v2 decoding */
  WRAP_PROOFPOINT3, /* in the path */
  WRAP_BASE64,      /* param holds base64 of the URL */
  WRAP_PATH_TAIL,   /* /TOKEN/<percent-encoded URL> */
  WRAP_OPAQUE,      /* cannot be unwrapped */
  WRAP_TEAMS_LAUNCHER,
  WRAP_TEAMS_FRAGMENT,
} WrapKind;

typedef struct {
  const char *name;
  const char *hosts; /* "*.d" = d or a subdomain; exact otherwise */
  const char *path;  /* required path prefix, or NULL */
  const char *param;
  WrapKind kind;
} ArLinkWrapper;

#define TEAMS_HOSTS                                                                                \
  "teams.microsoft.com gov.teams.microsoft.us dod.teams.microsoft.us teams.live.com"

static const ArLinkWrapper wrappers[] = {
    {"Outlook Safe Links", "*.safelinks.protection.outlook.com *.safelinks.protection.office365.us",
     NULL, "url", WRAP_PARAM},
    {"Proofpoint URL Defense", "urldefense.proofpoint.com", "/v1/url", "u", WRAP_PARAM},
    {"Proofpoint URL Defense", "urldefense.proofpoint.com", "/v2/url", "u", WRAP_PROOFPOINT2},
    {"Proofpoint URL Defense", "urldefense.com urldefense.proofpoint.com", "/v3/__", NULL,
     WRAP_PROOFPOINT3},
    {"Google", "www.google.com google.com", "/url", "q", WRAP_PARAM},
    {"Google", "www.google.com google.com", "/url", "url", WRAP_PARAM},
    {"Barracuda Link Protection", "linkprotect.cudasvc.com", "/url", "a", WRAP_PARAM},
    {"Trend Micro", "*.trendmicro.com *.trendmicro.eu", "/wis/clicktime/v1/query", "url",
     WRAP_PARAM},
    {"Symantec Click-time", "clicktime.symantec.com", NULL, "u", WRAP_PARAM},
    {"Sophos", "*.protection.sophos.com", NULL, "u", WRAP_BASE64},
    {"Cisco Secure Email", "secure-web.cisco.com", NULL, NULL, WRAP_PATH_TAIL},
    {"Slack", "slack-redir.net", "/link", "url", WRAP_PARAM},
    {"Mimecast", "*.mimecast.com", "/s/", NULL, WRAP_OPAQUE},
    {"Microsoft Teams", TEAMS_HOSTS, "/dl/launcher/launcher.html", "url", WRAP_TEAMS_LAUNCHER},
    {"Microsoft Teams", TEAMS_HOSTS, NULL, NULL, WRAP_TEAMS_FRAGMENT},
};

static gboolean
host_in(const char *hosts, const char *host)
{
  g_auto(GStrv) list = g_strsplit(hosts, " ", -1);
  for (char **h = list; *h; h++) {
    if ((*h)[0] == '*' && (*h)[1] == '.') {
      if (ar_host_is_or_under(host, *h + 2))
        return TRUE;
    } else if (g_ascii_strcasecmp(host, *h) == 0) {
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
set_error(GError **error, ArLinkError code, const char *name, const char *msg)
{
  g_set_error(error, AR_LINK_ERROR, code, "the link is wrapped by %s and %s", name, msg);
  return FALSE;
}

/* Proofpoint v2: "-XX" is the byte 0xXX, "_" is "/". */
static char *
proofpoint2_decode(const char *s)
{
  GString *out = g_string_new(NULL);
  for (const char *p = s; *p; p++) {
    if (*p == '_') {
      g_string_append_c(out, '/');
    } else if (*p == '-' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
      char c = (char)(g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2]));
      if ((guchar)c < 0x20 || c == 0x7f) {
        g_string_free(out, TRUE);
        return NULL;
      }
      g_string_append_c(out, c);
      p += 2;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

/* Decodes base64 or base64url (with or without padding) into clean text. */
static char *
base64_text(const char *s)
{
  gsize n = strlen(s);
  if (n == 0 || n > AR_LINK_MAX_LEN * 2)
    return NULL;
  GString *b = g_string_sized_new(n + 3);
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!g_ascii_isalnum(c) && c != '+' && c != '/' && c != '=') {
      g_string_free(b, TRUE);
      return NULL;
    }
    g_string_append_c(b, c);
  }
  while (b->len % 4 != 0)
    g_string_append_c(b, '=');
  gsize out_len = 0;
  guchar *raw = g_base64_decode(b->str, &out_len);
  g_string_free(b, TRUE);
  if (raw == NULL)
    return NULL;
  char *text = g_malloc(out_len + 1);
  memcpy(text, raw, out_len);
  text[out_len] = '\0';
  g_free(raw);
  if (strlen(text) != out_len || !g_utf8_validate(text, -1, NULL)) {
    g_free(text);
    return NULL;
  }
  return text;
}

/* Proofpoint v3: https://urldefense.com/v3/__URL__;B64!!TRAILER$
 * Each '*' in URL stands for the next character of the decoded B64. Runs
 * ("**") are not supported: refused. */
static char *
proofpoint3_decode(const ArUrl *url)
{
  g_autoptr(GString) full = g_string_new(url->path);
  if (url->query != NULL) {
    g_string_append_c(full, '?');
    g_string_append(full, url->query);
  }
  if (url->fragment != NULL) {
    g_string_append_c(full, '#');
    g_string_append(full, url->fragment);
  }
  const char *start = full->str + strlen("/v3/__");
  const char *end = strstr(start, "__;");
  if (end == NULL || end == start)
    return NULL;
  const char *b64 = end + 3;
  const char *b64_end = strstr(b64, "!!");
  if (b64_end == NULL)
    return NULL;
  g_autofree char *b64s = g_strndup(b64, b64_end - b64);
  g_autofree char *repl = NULL;
  const char *rp = "";
  if (memchr(start, '*', end - start) != NULL) {
    repl = base64_text(b64s);
    if (repl == NULL)
      return NULL;
    rp = repl;
  }
  GString *out = g_string_new(NULL);
  for (const char *p = start; p < end; p++) {
    if (*p != '*') {
      g_string_append_c(out, *p);
      continue;
    }
    if (p + 1 < end && p[1] == '*') {
      g_string_free(out, TRUE);
      return NULL;
    }
    if (*rp == '\0') {
      g_string_free(out, TRUE);
      return NULL;
    }
    const char *next = g_utf8_next_char(rp);
    g_string_append_len(out, rp, next - rp);
    rp = next;
  }
  return g_string_free(out, FALSE);
}

gboolean
ar_link_unwrap(const ArUrl *url, char **inner, const char **wrapper_name, GError **error)
{
  *inner = NULL;
  *wrapper_name = NULL;
  if (url->host == NULL)
    return TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS(wrappers); i++) {
    const ArLinkWrapper *w = &wrappers[i];
    if (!host_in(w->hosts, url->host))
      continue;
    if (w->path != NULL && !g_str_has_prefix(url->path, w->path))
      continue;

    g_autofree char *value = NULL;
    if (w->param != NULL) {
      if (!ar_url_query_get(url, w->param, &value, error)) {
        g_prefix_error(error, "the link is wrapped by %s: ", w->name);
        return FALSE;
      }
      if (value == NULL)
        continue; /* e.g. google.com/url without q=: try the next form */
    }
    if (strcmp(url->scheme, "https") != 0)
      return set_error(error, AR_LINK_ERROR_SCHEME, w->name, "is not an https:// link");

    char *result = NULL;
    switch (w->kind) {
    case WRAP_PARAM:
      result = g_steal_pointer(&value);
      break;
    case WRAP_PROOFPOINT2:
      result = proofpoint2_decode(value);
      break;
    case WRAP_PROOFPOINT3:
      result = proofpoint3_decode(url);
      break;
    case WRAP_BASE64:
      result = base64_text(value);
      break;
    case WRAP_PATH_TAIL: {
      /* /TOKEN/https%3A%2F%2F... */
      const char *slash = url->path[0] == '/' ? strchr(url->path + 1, '/') : NULL;
      if (slash != NULL)
        result = ar_url_decode(slash + 1, -1, FALSE, NULL);
      break;
    }
    case WRAP_OPAQUE:
      return set_error(error, AR_LINK_ERROR_UNSUPPORTED, w->name,
                       "the real link cannot be read from it; use the link from the original "
                       "invitation");
    case WRAP_TEAMS_LAUNCHER:
      /* url= is a path on the same host ("/_#/l/meetup-join/..."), never absolute */
      if (value[0] != '/' || value[1] == '/')
        return set_error(error, AR_LINK_ERROR_INVALID, w->name,
                         "its target is not a Teams meeting path");
      result = g_strdup_printf("https://%s%s", url->host, value);
      break;
    case WRAP_TEAMS_FRAGMENT:
      if (url->fragment == NULL || !g_str_has_prefix(url->fragment, "/l/meetup-join/") ||
          !(strcmp(url->path, "/_") == 0 || strcmp(url->path, "/v2/") == 0 ||
            strcmp(url->path, "/") == 0 || url->path[0] == '\0'))
        continue;
      result = g_strdup_printf("https://%s%s", url->host, url->fragment);
      break;
    }
    if (result == NULL || result[0] == '\0') {
      g_free(result);
      return set_error(error, AR_LINK_ERROR_INVALID, w->name, "the wrapped link is malformed");
    }
    *inner = result;
    *wrapper_name = w->name;
    return TRUE;
  }
  return TRUE;
}
