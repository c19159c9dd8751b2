/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-url.c: a strict URL parser (RFC 3986 subset) for meeting links.
 *
 * Deliberately not GUri: GUri with G_URI_FLAGS_NONE percent-decodes the host
 * and path, accepts userinfo silently and turns IDN hosts into Unicode; here
 * every component is kept as written, nothing is decoded unless a caller
 * asks for one parameter, and anything a browser could read differently from
 * us is refused:
 *   - control characters, spaces and backslashes (WHATWG reads '\' as '/');
 *   - userinfo ("zoom.us@evil.example" puts the real host after the '@');
 *   - percent-escapes in the host, bad escapes anywhere;
 *   - non-ASCII and punycode ("xn--") hosts unless the policy allows IDN;
 *   - numeric hosts other than dotted-decimal IPv4 (WHATWG parses 0x7f.1);
 *   - ports outside 1..65535, empty ports, signs, more than 5 digits.
 */
#include "ar-link-priv.h"

#include <string.h>

void
ar_url_free(ArUrl *url)
{
  if (url == NULL)
    return;
  g_free(url->scheme);
  g_free(url->host);
  g_free(url->path);
  g_free(url->query);
  g_free(url->fragment);
  g_free(url);
}

static gboolean
set_error(GError **error, ArLinkError code, const char *msg)
{
  g_set_error_literal(error, AR_LINK_ERROR, code, msg);
  return FALSE;
}

static gboolean
is_unreserved(guchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static gboolean
is_sub_delim(guchar c)
{
  return strchr("!$&'()*+,;=", c) != NULL && c != 0;
}

/* Checks that every '%' in [s, s+len) starts a valid escape. */
static gboolean
escapes_valid(const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len)
        return FALSE;
      if (!g_ascii_isxdigit(s[i + 1]) || !g_ascii_isxdigit(s[i + 2]))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
is_all_digits(const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit(s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_dotted_ipv4(const char *host)
{
  g_auto(GStrv) parts = g_strsplit(host, ".", -1);
  if (g_strv_length(parts) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++) {
    gsize n = strlen(parts[i]);
    if (n == 0 || n > 3 || !is_all_digits(parts[i], n))
      return FALSE;
    if (n > 1 && parts[i][0] == '0')
      return FALSE; /* octal in WHATWG */
    if (atoi(parts[i]) > 255)
      return FALSE;
  }
  return TRUE;
}

/* Validates and normalizes a reg-name host; returns the ASCII host or NULL. */
static char *
normalize_host(const char *raw, gsize len, const ArLinkPolicy *policy, gboolean *is_ip,
               GError **error)
{
  gboolean allow_idn = policy != NULL && policy->allow_idn;
  g_autofree char *host = NULL;
  gboolean non_ascii = FALSE;

  *is_ip = FALSE;
  if (len == 0) {
    set_error(error, AR_LINK_ERROR_INVALID, "the link has no host name");
    return NULL;
  }
  if (raw[0] == '[') {
    /* IPv6 literal; no zone ids, no IPvFuture. */
    if (len < 3 || raw[len - 1] != ']') {
      set_error(error, AR_LINK_ERROR_INVALID, "malformed IPv6 address in the link");
      return NULL;
    }
    g_autofree char *inner = g_strndup(raw + 1, len - 2);
    for (const char *p = inner; *p; p++) {
      if (!g_ascii_isxdigit(*p) && *p != ':' && *p != '.') {
        set_error(error, AR_LINK_ERROR_INVALID, "malformed IPv6 address in the link");
        return NULL;
      }
    }
    if (!g_hostname_is_ip_address(inner) || strchr(inner, ':') == NULL) {
      set_error(error, AR_LINK_ERROR_INVALID, "malformed IPv6 address in the link");
      return NULL;
    }
    *is_ip = TRUE;
    return g_ascii_strdown(raw, len);
  }
  for (gsize i = 0; i < len; i++) {
    guchar c = raw[i];
    if (c == '%') {
      set_error(error, AR_LINK_ERROR_HOST, "the host name contains percent-escapes");
      return NULL;
    }
    if (c >= 0x80)
      non_ascii = TRUE;
  }
  if (non_ascii) {
    if (!allow_idn) {
      set_error(error, AR_LINK_ERROR_HOST,
                "the host name contains non-ASCII characters (possible lookalike); "
                "an administrator can allow international host names");
      return NULL;
    }
    g_autofree char *u = g_strndup(raw, len);
    if (!g_utf8_validate(u, -1, NULL) || (host = g_hostname_to_ascii(u)) == NULL) {
      set_error(error, AR_LINK_ERROR_HOST, "the host name is not a valid international name");
      return NULL;
    }
    char *low = g_ascii_strdown(host, -1);
    g_free(host);
    host = low;
  } else {
    host = g_ascii_strdown(raw, len);
  }

  gsize hlen = strlen(host);
  if (hlen > 0 && host[hlen - 1] == '.')
    host[--hlen] = '\0'; /* "zoom.us." is "zoom.us" in DNS */
  if (hlen == 0 || hlen > 253) {
    set_error(error, AR_LINK_ERROR_INVALID, "the host name is empty or too long");
    return NULL;
  }
  /* Labels: LDH, 1..63, no leading/trailing hyphen. */
  const char *label = host;
  const char *last_label = host;
  for (const char *p = host;; p++) {
    if (*p == '.' || *p == '\0') {
      gsize n = p - label;
      if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-') {
        set_error(error, AR_LINK_ERROR_HOST, "the host name is malformed");
        return NULL;
      }
      if (!allow_idn && n >= 4 && g_ascii_strncasecmp(label, "xn--", 4) == 0) {
        set_error(error, AR_LINK_ERROR_HOST,
                  "the host name is an encoded international name (punycode, possible "
                  "lookalike); an administrator can allow international host names");
        return NULL;
      }
      last_label = label;
      if (*p == '\0')
        break;
      label = p + 1;
      continue;
    }
    if (!g_ascii_isalnum(*p) && *p != '-') {
      set_error(error, AR_LINK_ERROR_HOST,
                "the host name contains characters not allowed in a host name");
      return NULL;
    }
  }
  if (is_all_digits(last_label, strlen(last_label)) ||
      (last_label[0] == '0' && (last_label[1] == 'x' || last_label[1] == 'X'))) {
    /* A numeric last label: only a plain dotted-decimal IPv4 address. */
    if (!is_dotted_ipv4(host)) {
      set_error(error, AR_LINK_ERROR_HOST, "the host is a malformed numeric address");
      return NULL;
    }
    *is_ip = TRUE;
  }
  return g_steal_pointer(&host);
}

char *
ar_url_normalize_host(const char *raw, gsize len, const ArLinkPolicy *policy, gboolean *is_ip,
                      GError **error)
{
  return normalize_host(raw, len, policy, is_ip, error);
}

ArUrl *
ar_url_parse(const char *text, gsize len, const ArLinkPolicy *policy, GError **error)
{
  g_autoptr(ArUrl) url = NULL;
  const char *end;
  const char *p;

  if (text == NULL) {
    set_error(error, AR_LINK_ERROR_INVALID, "no link given");
    return NULL;
  }
  /* Trim ASCII whitespace around the link. */
  while (len > 0 && g_ascii_isspace(text[0])) {
    text++;
    len--;
  }
  while (len > 0 && g_ascii_isspace(text[len - 1]))
    len--;
  if (len == 0) {
    set_error(error, AR_LINK_ERROR_INVALID, "the link is empty");
    return NULL;
  }
  if (len > AR_LINK_MAX_LEN) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_TOO_LONG, "the link is longer than %d bytes",
                AR_LINK_MAX_LEN);
    return NULL;
  }
  for (gsize i = 0; i < len; i++) {
    guchar c = text[i];
    if (c < 0x20 || c == 0x7f || c == ' ') {
      set_error(error, AR_LINK_ERROR_INVALID, "the link contains spaces or control characters");
      return NULL;
    }
    if (c == '\\') {
      set_error(error, AR_LINK_ERROR_INVALID, "the link contains a backslash");
      return NULL;
    }
  }
  if (!g_utf8_validate(text, len, NULL)) {
    set_error(error, AR_LINK_ERROR_INVALID, "the link is not valid UTF-8 text");
    return NULL;
  }

  end = text + len;
  /* scheme */
  p = text;
  if (!g_ascii_isalpha(*p)) {
    set_error(error, AR_LINK_ERROR_INVALID, "not a link (no scheme such as https://)");
    return NULL;
  }
  while (p < end && (g_ascii_isalnum(*p) || *p == '+' || *p == '-' || *p == '.'))
    p++;
  if (p == end || *p != ':' || p - text > 32) {
    set_error(error, AR_LINK_ERROR_INVALID, "not a link (no scheme such as https://)");
    return NULL;
  }
  url = g_new0(ArUrl, 1);
  url->port = -1;
  url->scheme = g_ascii_strdown(text, p - text);
  p++; /* ':' */

  if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
    const char *auth = p + 2;
    const char *auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
      auth_end++;
    if (memchr(auth, '@', auth_end - auth) != NULL) {
      set_error(error, AR_LINK_ERROR_HOST,
                "the link contains a user name before the host (user@host), a trick to "
                "disguise the real host");
      return NULL;
    }
    const char *host_end = auth_end;
    if (auth < auth_end && auth[0] == '[') {
      const char *rb = memchr(auth, ']', auth_end - auth);
      if (rb == NULL) {
        set_error(error, AR_LINK_ERROR_INVALID, "malformed IPv6 address in the link");
        return NULL;
      }
      host_end = rb + 1;
      if (host_end != auth_end && *host_end != ':') {
        set_error(error, AR_LINK_ERROR_INVALID, "malformed IPv6 address in the link");
        return NULL;
      }
    } else {
      const char *colon = memchr(auth, ':', auth_end - auth);
      if (colon != NULL)
        host_end = colon;
    }
    if (host_end < auth_end) {
      /* ":port" */
      const char *ps = host_end + 1;
      gsize plen = auth_end - ps;
      if (plen == 0 || plen > 5 || !is_all_digits(ps, plen)) {
        set_error(error, AR_LINK_ERROR_INVALID, "the link has an invalid port");
        return NULL;
      }
      int port = 0;
      for (gsize i = 0; i < plen; i++)
        port = port * 10 + (ps[i] - '0');
      if (port < 1 || port > 65535) {
        set_error(error, AR_LINK_ERROR_INVALID, "the link has an invalid port");
        return NULL;
      }
      url->port = port;
    }
    url->host = normalize_host(auth, host_end - auth, policy, &url->host_is_ip, error);
    if (url->host == NULL)
      return NULL;
    p = auth_end;
  }

  const char *path_end = p;
  while (path_end < end && *path_end != '?' && *path_end != '#')
    path_end++;
  url->path = g_strndup(p, path_end - p);
  p = path_end;
  if (p < end && *p == '?') {
    const char *q = ++p;
    while (p < end && *p != '#')
      p++;
    url->query = g_strndup(q, p - q);
  }
  if (p < end && *p == '#') {
    p++;
    url->fragment = g_strndup(p, end - p);
  }
  if (!escapes_valid(url->path, strlen(url->path)) ||
      (url->query && !escapes_valid(url->query, strlen(url->query))) ||
      (url->fragment && !escapes_valid(url->fragment, strlen(url->fragment)))) {
    set_error(error, AR_LINK_ERROR_INVALID, "the link contains a malformed percent-escape");
    return NULL;
  }
  if (url->host == NULL && url->path[0] == '/' && url->path[1] == '/') {
    set_error(error, AR_LINK_ERROR_INVALID, "the link is malformed");
    return NULL;
  }
  return g_steal_pointer(&url);
}

static int
hexval(char c)
{
  return g_ascii_xdigit_value(c);
}

char *
ar_url_decode(const char *s, gssize len, gboolean plus_is_space, GError **error)
{
  gsize n = len < 0 ? strlen(s) : (gsize)len;
  GString *out = g_string_sized_new(n);
  for (gsize i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) {
        g_string_free(out, TRUE);
        set_error(error, AR_LINK_ERROR_INVALID, "the link contains a malformed percent-escape");
        return NULL;
      }
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) {
        g_string_free(out, TRUE);
        set_error(error, AR_LINK_ERROR_INVALID, "the link contains a malformed percent-escape");
        return NULL;
      }
      c = (char)(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if ((guchar)c < 0x20 || c == 0x7f) {
      g_string_free(out, TRUE);
      set_error(error, AR_LINK_ERROR_INVALID, "the link encodes control characters");
      return NULL;
    }
    g_string_append_c(out, c);
  }
  if (!g_utf8_validate(out->str, out->len, NULL)) {
    g_string_free(out, TRUE);
    set_error(error, AR_LINK_ERROR_INVALID, "the link encodes text that is not valid UTF-8");
    return NULL;
  }
  return g_string_free(out, FALSE);
}

gboolean
ar_url_params_get(const char *params, const char *name, char **value, GError **error)
{
  g_autofree char *found = NULL;
  gsize nlen = strlen(name);

  if (params == NULL) {
    *value = NULL;
    return TRUE;
  }
  const char *p = params;
  while (*p) {
    const char *amp = strchr(p, '&');
    const char *pe = amp ? amp : p + strlen(p);
    const char *eq = memchr(p, '=', pe - p);
    const char *ke = eq ? eq : pe;
    if ((gsize)(ke - p) == nlen && g_ascii_strncasecmp(p, name, nlen) == 0) {
      if (found != NULL) {
        g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                    "the link gives the parameter \"%s\" twice", name);
        return FALSE;
      }
      found = eq ? ar_url_decode(eq + 1, pe - eq - 1, TRUE, error) : g_strdup("");
      if (found == NULL)
        return FALSE;
    }
    if (amp == NULL)
      break;
    p = amp + 1;
  }
  *value = g_steal_pointer(&found);
  return TRUE;
}

gboolean
ar_url_query_get(const ArUrl *url, const char *name, char **value, GError **error)
{
  return ar_url_params_get(url->query, name, value, error);
}

void
ar_url_append_encoded(GString *out, const char *raw, gboolean is_query)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const guchar *p = (const guchar *)raw; *p; p++) {
    guchar c = *p;
    if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
        (is_query && c == '?') || c == '%') {
      g_string_append_c(out, c);
    } else {
      g_string_append_c(out, '%');
      g_string_append_c(out, hex[c >> 4]);
      g_string_append_c(out, hex[c & 15]);
    }
  }
}

void
ar_url_append_param(GString *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const guchar *p = (const guchar *)s; *p; p++) {
    if (is_unreserved(*p)) {
      g_string_append_c(out, *p);
    } else {
      g_string_append_c(out, '%');
      g_string_append_c(out, hex[*p >> 4]);
      g_string_append_c(out, hex[*p & 15]);
    }
  }
}

void
ar_url_append_origin(GString *out, const char *scheme, const ArUrl *url, int default_port)
{
  g_string_append(out, scheme);
  g_string_append(out, "://");
  g_string_append(out, url->host);
  if (url->port > 0 && url->port != default_port)
    g_string_append_printf(out, ":%d", url->port);
}

gboolean
ar_host_is_or_under(const char *host, const char *domain)
{
  gsize hl, dl;
  if (host == NULL || domain == NULL)
    return FALSE;
  hl = strlen(host);
  dl = strlen(domain);
  if (hl == dl)
    return g_ascii_strcasecmp(host, domain) == 0;
  if (hl > dl + 1 && host[hl - dl - 1] == '.')
    return g_ascii_strcasecmp(host + hl - dl, domain) == 0;
  return FALSE;
}
