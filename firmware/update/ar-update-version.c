/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-version.c: bundle versions and download URLs, both untrusted
 * (a bundle's manifest, an admin's input). Bounded, never allocating more than
 * the input, fuzzed (tests/fuzz/fuzz-update-version.c).
 */
#include <string.h>

#include "ar-update.h"

G_DEFINE_QUARK(ar - update - error - quark, ar_update_error)

static gboolean
is_ident_char(char c)
{
  return g_ascii_isalnum(c) || c == '-';
}

/* Dot-separated, non-empty identifiers of [0-9A-Za-z-]. */
static gboolean
valid_identifiers(const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  gsize part = 0;
  for (gsize i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (part == 0)
        return FALSE;
      part = 0;
    } else if (is_ident_char(s[i])) {
      part++;
    } else {
      return FALSE;
    }
  }
  return part > 0;
}

gboolean
ar_version_parse(const char *text, gsize len, ArVersion *out, GError **error)
{
  if (!text || len == 0 || len > AR_VERSION_MAX_LEN) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BAD_VERSION,
                "a version must be 1 to %d characters", AR_VERSION_MAX_LEN);
    return FALSE;
  }
  ArVersion v = {0};
  gsize i = 0;
  if (text[0] == 'v' || text[0] == 'V')
    i = 1;
  /* Numeric core: digits separated by dots. */
  gsize digits = 0;
  for (; i < len; i++) {
    char c = text[i];
    if (g_ascii_isdigit(c)) {
      if (digits == 0) {
        if (v.n_num == AR_VERSION_MAX_PARTS)
          goto bad;
        v.n_num++;
      }
      if (++digits > 9)
        goto bad;
      v.num[v.n_num - 1] = v.num[v.n_num - 1] * 10 + (guint64)(c - '0');
    } else if (c == '.') {
      if (digits == 0)
        goto bad;
      digits = 0;
      if (i + 1 == len)
        goto bad;
    } else if (c == '-' || c == '+') {
      break;
    } else {
      goto bad;
    }
  }
  if (v.n_num == 0 || digits == 0)
    goto bad;
  /* Build metadata after the first '+': validated, then ignored. */
  const char *plus = memchr(text + i, '+', len - i);
  gsize core_end = plus ? (gsize)(plus - text) : len;
  if (plus && !valid_identifiers(plus + 1, len - core_end - 1))
    goto bad;
  if (i < core_end) {
    if (text[i] != '-' || !valid_identifiers(text + i + 1, core_end - i - 1))
      goto bad;
    memcpy(v.pre, text + i + 1, core_end - i - 1);
    v.pre[core_end - i - 1] = '\0';
  }
  *out = v;
  return TRUE;
bad:
  g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_BAD_VERSION,
              "'%.*s' is not a version like 1.2.3 or 1.2.3-rc.1", (int)MIN(len, 64), text);
  return FALSE;
}

static gboolean
all_digits(const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit(s[i]))
      return FALSE;
  return len > 0;
}

static int
compare_identifier(const char *a, gsize alen, const char *b, gsize blen)
{
  gboolean an = all_digits(a, alen), bn = all_digits(b, blen);
  if (an && bn) {
    while (alen > 1 && *a == '0')
      a++, alen--;
    while (blen > 1 && *b == '0')
      b++, blen--;
    if (alen != blen)
      return alen < blen ? -1 : 1;
    return memcmp(a, b, alen) < 0 ? -1 : memcmp(a, b, alen) > 0;
  }
  if (an != bn)
    return an ? -1 : 1; /* numbers sort below words */
  int c = memcmp(a, b, MIN(alen, blen));
  if (c != 0)
    return c < 0 ? -1 : 1;
  return alen == blen ? 0 : alen < blen ? -1 : 1;
}

static int
compare_pre(const char *a, const char *b)
{
  if (!*a || !*b)
    return !*a && !*b ? 0 : !*a ? 1 : -1; /* a release is newer than its pre-releases */
  while (*a && *b) {
    gsize alen = strcspn(a, "."), blen = strcspn(b, ".");
    int c = compare_identifier(a, alen, b, blen);
    if (c != 0)
      return c;
    a += alen + (a[alen] == '.');
    b += blen + (b[blen] == '.');
  }
  return !*a && !*b ? 0 : !*a ? -1 : 1;
}

int
ar_version_compare(const ArVersion *a, const ArVersion *b)
{
  guint n = MAX(a->n_num, b->n_num);
  for (guint i = 0; i < n; i++) {
    guint64 x = i < a->n_num ? a->num[i] : 0, y = i < b->n_num ? b->num[i] : 0;
    if (x != y)
      return x < y ? -1 : 1;
  }
  return compare_pre(a->pre, b->pre);
}

gboolean
ar_update_check_url(const char *url, GError **error)
{
  if (!url || strlen(url) > 2048) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "a bundle URL must be at most 2048 characters");
    return FALSE;
  }
  for (const char *p = url; *p; p++) {
    if ((guchar)*p <= ' ' || (guchar)*p >= 0x7f) {
      g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                  "a bundle URL must be plain ASCII without spaces");
      return FALSE;
    }
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, &local);
  if (!uri) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID, "not a URL: %s", local->message);
    return FALSE;
  }
  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "bundles are downloaded over https:// only");
    return FALSE;
  }
  const char *host = g_uri_get_host(uri);
  if (!host || !*host) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID, "the URL has no host");
    return FALSE;
  }
  if (g_uri_get_userinfo(uri)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "user names or passwords in the URL are not accepted");
    return FALSE;
  }
  return TRUE;
}
