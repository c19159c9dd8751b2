/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-json.c: the strict RFC 8259 check (ar-json.h). A recursive descent that
 * builds nothing; recursion is bounded by the depth limit (at most
 * AR_JSON_MAX_DEPTH frames). */
#include "ar-json.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK(ar - json - error - quark, ar_json_error)

#define MAX_NUMBER_LEN 128

typedef struct {
  const guchar *p;
  gsize len, pos;
  guint depth, max_depth;
  GError **error;
} Reader;

static gboolean G_GNUC_PRINTF(3, 4) fail(Reader *r, ArJsonError code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(r->error, AR_JSON_ERROR, code, "byte %" G_GSIZE_FORMAT ": %s", r->pos, what);
  return FALSE;
}

static int
peek(const Reader *r)
{
  return r->pos < r->len ? r->p[r->pos] : -1;
}

static void
skip_ws(Reader *r)
{
  while (r->pos < r->len) {
    guchar c = r->p[r->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    r->pos++;
  }
}

static gboolean
unexpected(Reader *r, const char *wanted)
{
  int c = peek(r);
  if (c < 0)
    return fail(r, AR_JSON_ERROR_SYNTAX, "the text ends where %s was expected", wanted);
  if (c >= 0x20 && c < 0x7f)
    return fail(r, AR_JSON_ERROR_SYNTAX, "'%c' where %s was expected", c, wanted);
  return fail(r, AR_JSON_ERROR_SYNTAX, "byte 0x%02x where %s was expected", c, wanted);
}

static int
hex4(const Reader *r, gsize at)
{
  if (at + 4 > r->len)
    return -1;
  int v = 0;
  for (gsize i = 0; i < 4; i++) {
    int d = g_ascii_xdigit_value(r->p[at + i]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static gboolean
string(Reader *r)
{
  r->pos++; /* the opening quote */
  for (;;) {
    int c = peek(r);
    if (c < 0)
      return fail(r, AR_JSON_ERROR_SYNTAX, "a string without its closing quote");
    if (c == '"') {
      r->pos++;
      return TRUE;
    }
    if (c < 0x20)
      return fail(r, AR_JSON_ERROR_STRING, "control character 0x%02x in a string (must be escaped)",
                  c);
    if (c >= 0x80) { /* the whole text was UTF-8-checked first */
      r->pos += g_utf8_skip[c];
      continue;
    }
    if (c != '\\') {
      r->pos++;
      continue;
    }
    int e = r->pos + 1 < r->len ? r->p[r->pos + 1] : -1;
    if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
        e == 't') {
      r->pos += 2;
      continue;
    }
    if (e != 'u') {
      if (e >= 0x20 && e < 0x7f)
        return fail(r, AR_JSON_ERROR_STRING, "invalid escape \\%c in a string", e);
      return fail(r, AR_JSON_ERROR_STRING, "invalid escape in a string");
    }
    int u = hex4(r, r->pos + 2);
    if (u < 0)
      return fail(r, AR_JSON_ERROR_STRING, "\\u without four hex digits");
    if (u == 0)
      return fail(r, AR_JSON_ERROR_STRING, "\\u0000 in a string");
    if (u >= 0xDC00 && u <= 0xDFFF)
      return fail(r, AR_JSON_ERROR_STRING, "a lone low surrogate \\u%04X", (guint)u);
    if (u >= 0xD800 && u <= 0xDBFF) {
      gsize next = r->pos + 6;
      int low =
          next + 1 < r->len && r->p[next] == '\\' && r->p[next + 1] == 'u' ? hex4(r, next + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail(r, AR_JSON_ERROR_STRING, "a lone high surrogate \\u%04X", (guint)u);
      r->pos += 12;
      continue;
    }
    r->pos += 6;
  }
}

static gboolean
digits(Reader *r)
{
  gsize start = r->pos;
  while (r->pos < r->len && g_ascii_isdigit(r->p[r->pos]))
    r->pos++;
  return r->pos > start;
}

/* Does the integer text @s (@n digits, no sign) fit in int64 (its magnitude
 * at most 2^63 - 1, or 2^63 when @negative)? */
static gboolean
int64_fits(const guchar *s, gsize n, gboolean negative)
{
  static const char max[] = "9223372036854775807";
  static const char min[] = "9223372036854775808";
  const char *limit = negative ? min : max;
  gsize ln = sizeof max - 1;
  if (n != ln)
    return n < ln;
  return memcmp(s, limit, ln) <= 0;
}

static gboolean
number(Reader *r)
{
  gsize start = r->pos;
  gboolean negative = FALSE;
  if (peek(r) == '-') {
    negative = TRUE;
    r->pos++;
  }
  gsize int_start = r->pos;
  int c = peek(r);
  if (c == '0') {
    r->pos++;
    c = peek(r);
    if (c == 'x' || c == 'X')
      return fail(r, AR_JSON_ERROR_NUMBER, "a hexadecimal number (JSON numbers are decimal)");
    if (c >= '0' && c <= '9')
      return fail(r, AR_JSON_ERROR_NUMBER, "a number with a leading zero");
  } else if (!digits(r)) {
    return fail(r, AR_JSON_ERROR_NUMBER, "a '-' without digits");
  }
  gsize int_end = r->pos;
  gboolean integer = TRUE;
  if (peek(r) == '.') {
    r->pos++;
    integer = FALSE;
    if (!digits(r))
      return fail(r, AR_JSON_ERROR_NUMBER, "a '.' without digits after it");
  }
  c = peek(r);
  if (c == 'e' || c == 'E') {
    r->pos++;
    integer = FALSE;
    c = peek(r);
    if (c == '+' || c == '-')
      r->pos++;
    if (!digits(r))
      return fail(r, AR_JSON_ERROR_NUMBER, "an exponent without digits");
  }
  c = peek(r);
  if (c >= 0 && (g_ascii_isalnum(c) || c == '.' || c == '_'))
    return fail(r, AR_JSON_ERROR_NUMBER, "'%c' in a number", c);
  gsize n = r->pos - start;
  if (n > MAX_NUMBER_LEN) {
    r->pos = start;
    return fail(r, AR_JSON_ERROR_NUMBER, "a number longer than %d characters", MAX_NUMBER_LEN);
  }
  if (integer) {
    if (!int64_fits(r->p + int_start, int_end - int_start, negative)) {
      r->pos = start;
      return fail(r, AR_JSON_ERROR_NUMBER, "an integer out of the 64-bit range");
    }
    return TRUE;
  }
  char buf[MAX_NUMBER_LEN + 1];
  memcpy(buf, r->p + start, n);
  buf[n] = '\0';
  double d = g_ascii_strtod(buf, NULL);
  if (!isfinite(d)) {
    r->pos = start;
    return fail(r, AR_JSON_ERROR_NUMBER, "a number out of range");
  }
  return TRUE;
}

static gboolean
literal(Reader *r, const char *word)
{
  gsize n = strlen(word);
  if (r->len - r->pos < n || memcmp(r->p + r->pos, word, n) != 0)
    return unexpected(r, "a value");
  r->pos += n;
  int c = peek(r);
  if (c >= 0 && (g_ascii_isalnum(c) || c == '_'))
    return unexpected(r, "',', ']' or '}' after a literal");
  return TRUE;
}

static gboolean value(Reader *r);

static gboolean
container(Reader *r, gboolean object)
{
  if (++r->depth > r->max_depth)
    return fail(r, AR_JSON_ERROR_DEPTH, "nests deeper than %u levels", r->max_depth);
  char close = object ? '}' : ']';
  r->pos++;
  skip_ws(r);
  if (peek(r) == close) {
    r->pos++;
    r->depth--;
    return TRUE;
  }
  for (;;) {
    if (object) {
      if (peek(r) != '"')
        return unexpected(r, "a member name (a string)");
      if (!string(r))
        return FALSE;
      skip_ws(r);
      if (peek(r) != ':')
        return unexpected(r, "':'");
      r->pos++;
    }
    if (!value(r))
      return FALSE;
    skip_ws(r);
    int c = peek(r);
    if (c == close) {
      r->pos++;
      r->depth--;
      return TRUE;
    }
    if (c != ',')
      return unexpected(r, object ? "',' or '}'" : "',' or ']'");
    r->pos++;
    skip_ws(r);
    if (peek(r) == close)
      return fail(r, AR_JSON_ERROR_SYNTAX, "a trailing comma");
  }
}

static gboolean
value(Reader *r)
{
  skip_ws(r);
  switch (peek(r)) {
  case '{':
    return container(r, TRUE);
  case '[':
    return container(r, FALSE);
  case '"':
    return string(r);
  case 't':
    return literal(r, "true");
  case 'f':
    return literal(r, "false");
  case 'n':
    return literal(r, "null");
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9':
    return number(r);
  case '+':
  case '.':
  case 'N':
  case 'I':
    return fail(r, AR_JSON_ERROR_NUMBER, "not a JSON number");
  default:
    return unexpected(r, "a value");
  }
}

gboolean
ar_json_check(const char *data, gsize len, guint max_depth, GError **error)
{
  Reader r = {.p = (const guchar *)data,
              .len = len,
              .max_depth = MIN(max_depth, AR_JSON_MAX_DEPTH),
              .error = error};
  const char *bad = NULL;
  if (!g_utf8_validate(data, (gssize)len, &bad)) {
    r.pos = (gsize)(bad - data);
    return fail(&r, AR_JSON_ERROR_ENCODING, "%s", *bad ? "not UTF-8" : "a NUL byte");
  }
  skip_ws(&r);
  if (r.pos == r.len)
    return fail(&r, AR_JSON_ERROR_SYNTAX, "no JSON value");
  if (!value(&r))
    return FALSE;
  skip_ws(&r);
  if (r.pos != r.len)
    return fail(&r, AR_JSON_ERROR_SYNTAX, "more after the JSON value");
  return TRUE;
}

void
ar_json_add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}
