/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-find.c: find the meeting links in an invitation (calendar event
 * body or e-mail, plain text or HTML, possibly quoted-printable).
 *
 * One linear pass cuts the text into tokens at whitespace, quotes and angle
 * brackets; inside a token a candidate starts at "scheme://" (or "msteams:",
 * "sip:", "sips:"), or at a bare "host/path" whose host is a known meeting
 * service. A candidate gets its HTML entities decoded and its trailing
 * punctuation stripped, then goes through ar_link_parse() (which unwraps
 * SafeLinks & co. and refuses everything that is not a join link: help,
 * download, dial-in, "meeting options", "learn more" pages are not in the
 * result). The links that remain are ranked: the words around a link (its
 * anchor text in HTML, else the text before it on its line or the line above) raise "join" links
 * and lower option/help/dial-in ones; https links beat app-scheme and SIP forms; then the order of
 * appearance. Duplicates (same join URL) are merged.
 *
 * Limits: the first AR_LINK_FIND_MAX_INPUT bytes are scanned, at most
 * AR_LINK_FIND_MAX_CANDIDATES candidates are parsed, at most
 * AR_LINK_FIND_MAX_RESULTS links are returned.
 */
#include "ar-link-priv.h"

#include <string.h>

#define AR_LINK_FIND_MAX_INPUT (1024 * 1024)
#define AR_LINK_FIND_MAX_CANDIDATES 512
#define AR_LINK_FIND_MAX_RESULTS 32

typedef struct {
  ArLink *link;
  int score;
  gsize pos;
} Found;

static gboolean
is_terminator(const guchar *p, const guchar *end, gsize *width)
{
  guchar c = *p;
  *width = 1;
  if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '`' || c == '\'')
    return TRUE;
  /* U+00A0 NO-BREAK SPACE, U+2000..U+200F spaces/zero-width, U+2028/9, U+3000 */
  if (c == 0xc2 && p + 1 < end && p[1] == 0xa0) {
    *width = 2;
    return TRUE;
  }
  if (c == 0xe2 && p + 2 < end && p[1] == 0x80 &&
      ((p[2] >= 0x80 && p[2] <= 0x8f) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) {
    *width = 3;
    return TRUE;
  }
  if (c == 0xe3 && p + 2 < end && p[1] == 0x80 && p[2] == 0x80) {
    *width = 3;
    return TRUE;
  }
  return FALSE;
}

static gboolean
is_scheme_char(char c)
{
  return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

/* Decodes the few HTML entities that appear in links (&amp; &quot; &#38; ...). */
static char *
decode_entities(const char *s, gsize len)
{
  static const struct {
    const char *name;
    char c;
  } named[] = {{"amp", '&'},   {"quot", '"'},   {"apos", '\''}, {"lt", '<'},
               {"gt", '>'},    {"equals", '='}, {"sol", '/'},   {"colon", ':'},
               {"quest", '?'}, {"num", '#'},    {"percnt", '%'}};
  GString *out = g_string_sized_new(len);
  for (gsize i = 0; i < len; i++) {
    if (s[i] != '&') {
      g_string_append_c(out, s[i]);
      continue;
    }
    const char *semi = memchr(s + i, ';', MIN(len - i, 12));
    if (semi == NULL) {
      g_string_append_c(out, '&');
      continue;
    }
    const char *name = s + i + 1;
    gsize nlen = semi - name;
    int c = -1;
    if (nlen >= 2 && name[0] == '#') {
      guint64 v = 0;
      gboolean ok = TRUE;
      if (name[1] == 'x' || name[1] == 'X') {
        if (nlen < 3)
          ok = FALSE;
        for (gsize k = 2; ok && k < nlen; k++) {
          if (!g_ascii_isxdigit(name[k]))
            ok = FALSE;
          else
            v = v * 16 + g_ascii_xdigit_value(name[k]);
        }
      } else {
        for (gsize k = 1; ok && k < nlen; k++) {
          if (!g_ascii_isdigit(name[k]))
            ok = FALSE;
          else
            v = v * 10 + (name[k] - '0');
        }
      }
      if (ok && v > 0x20 && v < 0x7f)
        c = (int)v;
    } else {
      for (gsize k = 0; k < G_N_ELEMENTS(named); k++)
        if (strlen(named[k].name) == nlen && strncmp(named[k].name, name, nlen) == 0)
          c = named[k].c;
    }
    if (c < 0) {
      g_string_append_c(out, '&');
      continue;
    }
    g_string_append_c(out, (char)c);
    i = semi - s;
  }
  return g_string_free(out, FALSE);
}

/* Strips trailing punctuation; a ')' or ']' stays if it closes one opened inside. */
static gsize
trim_trailing(const char *s, gsize len)
{
  int paren = 0, bracket = 0, brace = 0; /* opened minus closed */
  for (gsize i = 0; i < len; i++) {
    switch (s[i]) {
    case '(':
      paren++;
      break;
    case ')':
      paren--;
      break;
    case '[':
      bracket++;
      break;
    case ']':
      bracket--;
      break;
    case '{':
      brace++;
      break;
    case '}':
      brace--;
      break;
    default:
      break;
    }
  }
  while (len > 0) {
    char c = s[len - 1];
    if (strchr(".,;:!?*'\"", c) != NULL) {
      len--;
      continue;
    }
    int *depth = c == ')' ? &paren : c == ']' ? &bracket : c == '}' ? &brace : NULL;
    if (depth != NULL && *depth < 0) {
      (*depth)++;
      len--;
      continue;
    }
    break;
  }
  return len;
}

static gboolean
contains_word(const char *hay, gsize len, const char *word)
{
  gsize wl = strlen(word);
  if (wl > len)
    return FALSE;
  for (gsize i = 0; i + wl <= len; i++)
    if (g_ascii_strncasecmp(hay + i, word, wl) == 0)
      return TRUE;
  return FALSE;
}

/* The words that describe a link: in HTML its anchor text (after the '>' that
 * closes the tag the link sits in, up to "</a"), else the text before it on
 * its line and the line above. */
static int
context_score(const char *text, gsize len, gsize start, gsize end)
{
  static const struct {
    const char *word;
    int score;
  } words[] = {
      {"join", 6},
      {"click here", 2},
      {"meeting link", 3},
      {"option", -8},
      {"learn more", -8},
      {"help", -6},
      {"download", -6},
      {"dial", -4},
      {"phone", -4},
      {"by video system", -3},
      {"video conferencing device", -3},
      {"sip", -2},
      {"privacy", -6},
      {"legal", -6},
      {"unsubscribe", -6},
  };
  const char *ctx;
  gsize ctx_len;
  gboolean in_attr = start >= 1 && (text[start - 1] == '"' || text[start - 1] == '\'') &&
                     start >= 6 && contains_word(text + start - 6, 6, "href=");
  if (in_attr) {
    gsize i = end;
    while (i < len && i < end + 1024 && text[i] != '>')
      i++;
    gsize a = i + 1;
    gsize b = a;
    while (b < len && b < a + 200 &&
           !(text[b] == '<' && b + 2 < len && text[b + 1] == '/' &&
             g_ascii_tolower(text[b + 2]) == 'a'))
      b++;
    ctx = text + MIN(a, len);
    ctx_len = b > a ? b - a : 0;
  } else {
    /* the text before the link on its line; if there is none, the line above
     * ("Join Zoom Meeting\nhttps://...") */
    gsize a = start;
    while (a > 0 && start - a < 160 && text[a - 1] != '\n')
      a--;
    gboolean words_before = FALSE;
    for (gsize k = a; k < start; k++)
      if (g_ascii_isalpha(text[k]))
        words_before = TRUE;
    if (!words_before && a > 0) {
      gsize line_end = a - 1;
      a = line_end;
      while (a > 0 && line_end - a < 160 && text[a - 1] != '\n')
        a--;
    }
    ctx = text + a;
    ctx_len = start - a;
  }
  int score = 0;
  for (gsize k = 0; k < G_N_ELEMENTS(words); k++)
    if (contains_word(ctx, ctx_len, words[k].word))
      score += words[k].score;
  return score;
}

static void
add_found(GArray *found, ArLink *link, int score, gsize pos)
{
  for (guint i = 0; i < found->len; i++) {
    Found *f = &g_array_index(found, Found, i);
    if (strcmp(f->link->join_url, link->join_url) == 0) {
      if (score > f->score)
        f->score = score;
      ar_link_free(link);
      return;
    }
  }
  Found f = {link, score, pos};
  g_array_append_val(found, f);
}

static int
compare_found(gconstpointer a, gconstpointer b)
{
  const Found *fa = a, *fb = b;
  if (fa->score != fb->score)
    return fb->score - fa->score;
  return fa->pos < fb->pos ? -1 : fa->pos > fb->pos;
}

static void
try_candidate(const char *text, gsize len, gsize start, gsize end, gboolean schemeless,
              const ArLinkPolicy *policy, GArray *found, guint *budget)
{
  if (*budget == 0 || end <= start || end - start > AR_LINK_MAX_LEN * 8)
    return;
  (*budget)--;

  g_autofree char *dec = decode_entities(text + start, end - start);
  /* an entity may have decoded into a character that ends a link */
  gsize dl = strcspn(dec, " \t\r\n\"'<>`");
  dl = trim_trailing(dec, dl);
  if (dl == 0 || dl > AR_LINK_MAX_LEN)
    return;
  g_autofree char *cand =
      schemeless ? g_strdup_printf("https://%.*s", (int)dl, dec) : g_strndup(dec, dl);

  ArLink *link = ar_link_parse_depth(cand, strlen(cand), policy, 0, NULL);
  if (link == NULL)
    return;
  int score = 100 + context_score(text, len, start, end);
  if (link->engine == AR_ENGINE_SIP)
    score -= 20;
  else if (!schemeless && !g_str_has_prefix(cand, "https://") && link->engine == AR_ENGINE_WEB)
    score -= 10; /* app scheme (zoommtg:, msteams:): the https form is better */
  if (schemeless)
    score -= 2;
  if (link->passcode != NULL)
    score += 1;
  add_found(found, link, score, start);
}

/* Handles one token [s, e): finds the candidates inside it. */
static void
scan_token(const char *text, gsize len, gsize s, gsize e, const ArLinkPolicy *policy, GArray *found,
           guint *budget)
{
  gsize i = s;
  gboolean any = FALSE;
  while (i < e) {
    /* next "://" or opaque scheme */
    gsize start = (gsize)-1, cend = e;
    for (gsize k = i; k + 2 < e; k++) {
      if (text[k] == ':' && text[k + 1] == '/' && text[k + 2] == '/') {
        gsize a = k;
        while (a > i && is_scheme_char(text[a - 1]))
          a--;
        while (a < k && !g_ascii_isalpha(text[a]))
          a++;
        if (a < k) {
          start = a;
          break;
        }
      }
    }
    /* opaque forms: msteams:/..., sip:, sips: at a word start */
    for (gsize k = i; k < e && (start == (gsize)-1 || k < start); k++) {
      if (k > i && is_scheme_char(text[k - 1]))
        continue;
      if ((e - k > 8 && g_ascii_strncasecmp(text + k, "msteams:", 8) == 0) ||
          (e - k > 4 && g_ascii_strncasecmp(text + k, "sip:", 4) == 0) ||
          (e - k > 5 && g_ascii_strncasecmp(text + k, "sips:", 5) == 0)) {
        start = k;
        break;
      }
    }
    if (start == (gsize)-1)
      break;
    /* the candidate ends where the next one starts ("...https://a...https://b") */
    for (gsize k = start + 3; k + 2 < e; k++) {
      if (text[k] == ':' && text[k + 1] == '/' && text[k + 2] == '/') {
        gsize a = k;
        while (a > start && is_scheme_char(text[a - 1]))
          a--;
        if (a > start + 8 && g_ascii_isalpha(text[a])) {
          /* a URL inside a parameter (?url=https://...) is part of this one */
          char prev = text[a - 1];
          if (prev != '=' && prev != '/' && prev != '_' && prev != '%') {
            cend = a;
            break;
          }
        }
      }
    }
    try_candidate(text, len, start, cend, FALSE, policy, found, budget);
    any = TRUE;
    i = cend;
  }
  if (any)
    return;

  /* bare "host/path" of a known service */
  gsize a = s;
  while (a < e && !g_ascii_isalnum(text[a]))
    a++;
  const char *slash = memchr(text + a, '/', e - a);
  if (slash == NULL || slash == text + a)
    return;
  gsize hl = slash - (text + a);
  if (hl > 253 || memchr(text + a, '.', hl) == NULL)
    return;
  for (gsize k = 0; k < hl; k++)
    if (!g_ascii_isalnum(text[a + k]) && text[a + k] != '.' && text[a + k] != '-')
      return;
  char host[256];
  for (gsize k = 0; k < hl; k++)
    host[k] = g_ascii_tolower(text[a + k]);
  host[hl] = '\0';
  if (!ar_link_providers_knows_host(host, policy))
    return;
  try_candidate(text, len, a, e, TRUE, policy, found, budget);
}

/* Quoted-printable (a raw e-mail): "=XX" escapes and "=\n" soft breaks. */
static char *
qp_decode(const char *s, gsize len, gsize *out_len)
{
  GString *out = g_string_sized_new(len);
  for (gsize i = 0; i < len; i++) {
    if (s[i] == '=' && i + 1 < len && s[i + 1] == '\n') {
      i += 1;
    } else if (s[i] == '=' && i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) &&
               g_ascii_isxdigit(s[i + 2]) &&
               (g_ascii_isdigit(s[i + 1]) || g_ascii_isupper(s[i + 1])) &&
               (g_ascii_isdigit(s[i + 2]) || g_ascii_isupper(s[i + 2]))) {
      g_string_append_c(
          out, (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2])));
      i += 2;
    } else {
      g_string_append_c(out, s[i]);
    }
  }
  *out_len = out->len;
  return g_string_free(out, FALSE);
}

GPtrArray *
ar_link_find_all(const char *text, gsize len, const ArLinkPolicy *policy)
{
  GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify)ar_link_free);
  g_autofree char *qp = NULL;
  guint budget = AR_LINK_FIND_MAX_CANDIDATES;

  if (text == NULL || len == 0)
    return result;
  if (len > AR_LINK_FIND_MAX_INPUT)
    len = AR_LINK_FIND_MAX_INPUT;
  if (contains_word(text, MIN(len, 64 * 1024), "quoted-printable")) {
    qp = qp_decode(text, len, &len);
    text = qp;
  }

  g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(Found));
  const guchar *u = (const guchar *)text;
  gsize i = 0;
  while (i < len && budget > 0) {
    gsize w;
    while (i < len && is_terminator(u + i, u + len, &w))
      i += w;
    gsize s = i;
    while (i < len && !is_terminator(u + i, u + len, &w))
      i++;
    if (i > s && i - s >= 6)
      scan_token(text, len, s, i, policy, found, &budget);
  }

  g_array_sort(found, compare_found);
  for (guint k = 0; k < found->len; k++) {
    Found *f = &g_array_index(found, Found, k);
    if (result->len < AR_LINK_FIND_MAX_RESULTS)
      g_ptr_array_add(result, f->link);
    else
      ar_link_free(f->link);
  }
  return result;
}
