/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a WHIP/WHEP endpoint's HTTP answers (see ar-whip-msg.h). */
#include "ar-whip-msg.h"

#include <string.h>

#include "ar-media.h"

G_DEFINE_QUARK(ar - whip - error - quark, ar_whip_error)

#define MAX_PARAM_VALUE 512
#define MAX_PARAMS 16

void
ar_whip_ice_server_free(ArWhipIceServer *s)
{
  if (s == NULL)
    return;
  g_free(s->uri);
  g_free(s->username);
  if (s->credential != NULL)
    memset(s->credential, 0, strlen(s->credential));
  g_free(s->credential);
  g_free(s);
}

/* RFC 9110 tchar. */
static gboolean
is_tchar(char c)
{
  return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
skip_ows(const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

/* One link-param's value: a token or a quoted-string (backslash escapes), bounded. */
static char *
read_param_value(const char **p, GError **error)
{
  g_autoptr(GString) v = g_string_new(NULL);

  if (**p == '"') {
    (*p)++;
    for (;;) {
      char c = **p;
      if (c == '\0') {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "a quoted Link parameter is not closed");
        return NULL;
      }
      (*p)++;
      if (c == '"')
        break;
      if (c == '\\') {
        c = **p;
        if (c == '\0')
          continue; /* the missing quote is reported above */
        (*p)++;
      }
      if ((guchar)c < 0x20 || c == 0x7f) {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "a Link parameter has a control character");
        return NULL;
      }
      if (v->len >= MAX_PARAM_VALUE) {
        g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                    "a Link parameter is longer than %d bytes", MAX_PARAM_VALUE);
        return NULL;
      }
      g_string_append_c(v, c);
    }
  } else {
    while (is_tchar(**p)) {
      if (v->len >= MAX_PARAM_VALUE) {
        g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                    "a Link parameter is longer than %d bytes", MAX_PARAM_VALUE);
        return NULL;
      }
      g_string_append_c(v, *(*p)++);
    }
  }
  return g_string_free(g_steal_pointer(&v), FALSE);
}

/* Whether the relation types of @rel (space-separated, case-insensitive) include @type. */
static gboolean
rel_has(const char *rel, const char *type)
{
  g_auto(GStrv) types = g_strsplit_set(rel, " \t", -1);
  for (guint i = 0; types[i] != NULL; i++)
    if (g_ascii_strcasecmp(types[i], type) == 0)
      return TRUE;
  return FALSE;
}

/* The use of one link: an ICE server, or a line in @skipped, or nothing (another relation). */
static void
take_link(GPtrArray *out, GString *skipped, const char *uri, GHashTable *params)
{
  const char *rel = g_hash_table_lookup(params, "rel");
  const char *user = g_hash_table_lookup(params, "username");
  const char *cred = g_hash_table_lookup(params, "credential");
  const char *type = g_hash_table_lookup(params, "credential-type");
  ArIceUri parsed;
  g_autoptr(GError) why = NULL;

  if (rel == NULL || !rel_has(rel, "ice-server"))
    return;
  if (!ar_ice_uri_parse(uri, &parsed, &why)) {
    if (skipped != NULL)
      g_string_append_printf(skipped, "ice-server link skipped: %s\n", why->message);
    return;
  }
  if (parsed.scheme != AR_ICE_STUN) {
    if (user == NULL || cred == NULL || user[0] == '\0') {
      if (skipped != NULL)
        g_string_append_printf(skipped, "ice-server link %s skipped: no username and credential\n",
                               uri);
      return;
    }
    if (type != NULL && g_ascii_strcasecmp(type, "password") != 0) {
      if (skipped != NULL)
        g_string_append_printf(
            skipped, "ice-server link %s skipped: credential-type is not \"password\"\n", uri);
      return;
    }
  }
  if (out->len >= AR_WHIP_MAX_ICE_SERVERS) {
    if (skipped != NULL)
      g_string_append_printf(skipped, "ice-server link %s skipped: more than %d servers\n", uri,
                             AR_WHIP_MAX_ICE_SERVERS);
    return;
  }
  ArWhipIceServer *s = g_new0(ArWhipIceServer, 1);
  s->uri = g_strdup(uri);
  if (parsed.scheme != AR_ICE_STUN) {
    s->username = g_strdup(user);
    s->credential = g_strdup(cred);
  }
  g_ptr_array_add(out, s);
}

/* One Link field value: link-value *( OWS "," OWS link-value ), empty elements allowed. */
static gboolean
parse_value(const char *value, GPtrArray *out, GString *skipped, GError **error)
{
  const char *p = value;

  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0')
      return TRUE;
    if (*p != '<') {
      g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                          "a Link value does not start with <URI>");
      return FALSE;
    }
    const char *start = ++p;
    while (*p != '\0' && *p != '>') {
      if ((guchar)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '"') {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "a Link URI has a character a URI cannot have");
        return FALSE;
      }
      p++;
    }
    if (*p != '>') {
      g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID, "a Link URI is not closed");
      return FALSE;
    }
    g_autofree char *uri = g_strndup(start, p - start);
    p++;
    g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    guint n = 0;
    for (;;) {
      skip_ows(&p);
      if (*p == '\0' || *p == ',')
        break;
      if (*p != ';') {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "a Link parameter is not introduced by ';'");
        return FALSE;
      }
      p++;
      skip_ows(&p);
      const char *name = p;
      while (is_tchar(*p))
        p++;
      if (p == name) {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "a Link parameter has no name");
        return FALSE;
      }
      g_autofree char *key = g_ascii_strdown(name, p - name);
      g_autofree char *val = NULL;
      skip_ows(&p);
      if (*p == '=') {
        p++;
        skip_ows(&p);
        val = read_param_value(&p, error);
        if (val == NULL)
          return FALSE;
      } else {
        val = g_strdup("");
      }
      if (++n > MAX_PARAMS) {
        g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                    "a Link has more than %d parameters", MAX_PARAMS);
        return FALSE;
      }
      /* RFC 8288: only the first occurrence of a parameter counts. */
      if (!g_hash_table_contains(params, key))
        g_hash_table_insert(params, g_steal_pointer(&key), g_steal_pointer(&val));
    }
    take_link(out, skipped, uri, params);
  }
}

GPtrArray *
ar_whip_parse_ice_links(const char *const *values, GString *skipped, GError **error)
{
  g_autoptr(GPtrArray) out =
      g_ptr_array_new_with_free_func((GDestroyNotify)ar_whip_ice_server_free);
  gsize total = 0;

  for (guint i = 0; values != NULL && values[i] != NULL; i++) {
    total += strlen(values[i]);
    if (total > AR_WHIP_MAX_LINK_BYTES) {
      g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                  "the answer's Link headers are larger than %d bytes", AR_WHIP_MAX_LINK_BYTES);
      return NULL;
    }
    if (!parse_value(values[i], out, skipped, error)) {
      g_prefix_error(error, "Link header: ");
      return NULL;
    }
  }
  return g_steal_pointer(&out);
}

char *
ar_whip_resolve_location(const char *endpoint, const char *location, GError **error)
{
  g_autoptr(GUri) base = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) why = NULL;

  if (location == NULL || location[0] == '\0') {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "the answer has no Location (the session URL)");
    return NULL;
  }
  if (strlen(location) > AR_WHIP_MAX_URL) {
    g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                "the answer's Location is longer than %d bytes", AR_WHIP_MAX_URL);
    return NULL;
  }
  for (const char *p = location; *p; p++) {
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f) {
      g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                          "the answer's Location has a character a URL cannot have");
      return NULL;
    }
  }
  base = g_uri_parse(endpoint, G_URI_FLAGS_ENCODED, &why);
  if (base != NULL)
    uri = g_uri_parse_relative(base, location, G_URI_FLAGS_ENCODED, &why);
  if (uri == NULL) {
    g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                "the answer's Location cannot be read: %s", why->message);
    return NULL;
  }
  const char *scheme = g_uri_get_scheme(uri);
  if (g_ascii_strcasecmp(scheme, "https") != 0 && g_ascii_strcasecmp(scheme, "http") != 0) {
    g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                "the answer's Location is not an http(s) URL (%s:)", scheme);
    return NULL;
  }
  if (g_ascii_strcasecmp(g_uri_get_scheme(base), "https") == 0 &&
      g_ascii_strcasecmp(scheme, "http") == 0) {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "the answer's Location leaves https for http");
    return NULL;
  }
  if (g_uri_get_userinfo(uri) != NULL || g_uri_get_host(uri) == NULL ||
      g_uri_get_host(uri)[0] == '\0') {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "the answer's Location has user information or no host");
    return NULL;
  }
  char *s = g_uri_to_string(uri);
  if (strlen(s) > AR_WHIP_MAX_URL) {
    g_free(s);
    g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                "the session URL is longer than %d bytes", AR_WHIP_MAX_URL);
    return NULL;
  }
  return s;
}

static int
month_index(const char *m)
{
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; i++)
    if (strncmp(m, months[i], 3) == 0)
      return i + 1;
  return 0;
}

/* IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): what RFC 9110 senders must send. */
static gboolean
parse_http_date(const char *v, gint64 *unix_out)
{
  if (strlen(v) != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
      v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25] != ' ' || strcmp(v + 26, "GMT") != 0)
    return FALSE;
  const int digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
  for (gsize i = 0; i < G_N_ELEMENTS(digits); i++)
    if (!g_ascii_isdigit(v[digits[i]]))
      return FALSE;
  int day = (v[5] - '0') * 10 + (v[6] - '0');
  int month = month_index(v + 8);
  int year = (v[12] - '0') * 1000 + (v[13] - '0') * 100 + (v[14] - '0') * 10 + (v[15] - '0');
  int h = (v[17] - '0') * 10 + (v[18] - '0');
  int m = (v[20] - '0') * 10 + (v[21] - '0');
  int s = (v[23] - '0') * 10 + (v[24] - '0');
  if (month == 0 || year < 1970 || day < 1 || h > 23 || m > 59 || s > 60)
    return FALSE;
  g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, h, m, MIN(s, 59));
  if (dt == NULL)
    return FALSE;
  *unix_out = g_date_time_to_unix(dt);
  return TRUE;
}

gboolean
ar_whip_parse_retry_after(const char *value, gint64 now_unix, guint *seconds)
{
  gint64 delta;

  if (value == NULL)
    return FALSE;
  while (*value == ' ' || *value == '\t')
    value++;
  if (g_ascii_isdigit(value[0])) {
    gsize n = strspn(value, "0123456789");
    if (value[n] != '\0' && value[n] != ' ' && value[n] != '\t')
      return FALSE;
    delta = n > 6 ? 3600 : g_ascii_strtoll(value, NULL, 10);
  } else {
    gint64 at;
    if (!parse_http_date(value, &at))
      return FALSE;
    delta = at - now_unix;
  }
  *seconds = (guint)CLAMP(delta, 1, 3600);
  return TRUE;
}

char *
ar_whip_status_message(guint status, const char *what)
{
  const char *why;

  switch (status) {
  case 400:
    why = "the endpoint could not read the request";
    break;
  case 401:
    why = "the endpoint refused the token (check the link's token)";
    break;
  case 403:
    why = "the endpoint refused access";
    break;
  case 404:
    why = "no such endpoint or session (the stream or room may not exist)";
    break;
  case 405:
    why = "the endpoint does not take this request";
    break;
  case 406:
    why = "the endpoint cannot take what the room offers";
    break;
  case 409:
    why = "the endpoint is in use (conflict)";
    break;
  case 412:
    why = "the session changed meanwhile (precondition failed)";
    break;
  case 413:
    why = "the endpoint finds the request too large";
    break;
  case 415:
    why = "the endpoint does not take this content type";
    break;
  case 422:
    why = "the endpoint cannot process the offer";
    break;
  case 429:
    why = "the endpoint is busy (too many requests)";
    break;
  default:
    why = status >= 500 && status <= 599 ? "the endpoint failed" : "the endpoint answered an error";
    break;
  }
  return g_strdup_printf("%s: %s (HTTP %u)", what != NULL ? what : "WHIP", why, status);
}

/* ---- trickle ICE fragments ---- */

/* The value of "a=NAME:" in @line, or NULL. */
static const char *
attr_value(const char *line, const char *name)
{
  gsize n = strlen(name);
  if (g_str_has_prefix(line, "a=") && strncmp(line + 2, name, n) == 0 && line[2 + n] == ':')
    return line + 3 + n;
  return NULL;
}

typedef struct {
  char *mline; /* "m=..." */
  char *mid;
} Section;

static void
section_free(Section *s)
{
  g_free(s->mline);
  g_free(s->mid);
  g_free(s);
}

char *
ar_whip_sdpfrag_build(const char *offer_sdp, const ArWhipCandidate *candidates, gsize n,
                      gboolean end, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(offer_sdp != NULL ? offer_sdp : "", "\n", -1);
  g_autoptr(GPtrArray) sections = g_ptr_array_new_with_free_func((GDestroyNotify)section_free);
  g_autofree char *ufrag = NULL, *pwd = NULL;
  g_autoptr(GString) out = g_string_new(NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    g_strchomp(lines[i]);
    const char *v;
    if (g_str_has_prefix(lines[i], "m=")) {
      Section *s = g_new0(Section, 1);
      s->mline = g_strdup(lines[i]);
      g_ptr_array_add(sections, s);
    } else if ((v = attr_value(lines[i], "mid")) != NULL && sections->len > 0) {
      Section *s = g_ptr_array_index(sections, sections->len - 1);
      if (s->mid == NULL)
        s->mid = g_strdup(v);
    } else if ((v = attr_value(lines[i], "ice-ufrag")) != NULL && ufrag == NULL) {
      ufrag = g_strdup(v);
    } else if ((v = attr_value(lines[i], "ice-pwd")) != NULL && pwd == NULL) {
      pwd = g_strdup(v);
    }
  }
  if (ufrag == NULL || pwd == NULL) {
    g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                        "the local description has no ice-ufrag or ice-pwd");
    return NULL;
  }
  g_string_append_printf(out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd);
  /* Section by section, in the offer's order, each with its candidates. */
  for (guint m = 0; m < sections->len; m++) {
    Section *s = g_ptr_array_index(sections, m);
    gboolean any = FALSE;
    for (gsize i = 0; i < n; i++) {
      if (candidates[i].mline != m)
        continue;
      if (!any) {
        if (s->mid == NULL) {
          g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                      "media section %u of the local description has no a=mid", m);
          return NULL;
        }
        g_string_append_printf(out, "%s\r\na=mid:%s\r\n", s->mline, s->mid);
        any = TRUE;
      }
      g_string_append_printf(out, "a=%s\r\n", candidates[i].candidate);
    }
    if (end && m == 0 && !any && s->mid != NULL)
      g_string_append_printf(out, "%s\r\na=mid:%s\r\n", s->mline, s->mid);
  }
  for (gsize i = 0; i < n; i++) {
    if (candidates[i].mline >= sections->len) {
      g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                  "a candidate names media section %u; the description has %u", candidates[i].mline,
                  sections->len);
      return NULL;
    }
  }
  if (end)
    g_string_append(out, "a=end-of-candidates\r\n");
  return g_string_free(g_steal_pointer(&out), FALSE);
}

void
ar_whip_sdpfrag_free(ArWhipSdpfrag *f)
{
  if (f == NULL)
    return;
  g_free(f->ufrag);
  g_free(f->pwd);
  g_clear_pointer(&f->mids, g_ptr_array_unref);
  g_clear_pointer(&f->candidates, g_ptr_array_unref);
  g_free(f);
}

ArWhipSdpfrag *
ar_whip_sdpfrag_parse(const char *text, gsize len, GError **error)
{
  g_autoptr(ArWhipSdpfrag) f = g_new0(ArWhipSdpfrag, 1);
  g_autofree char *mid = NULL; /* of the media section the lines are in */
  gsize pos = 0;

  f->mids = g_ptr_array_new_with_free_func(g_free);
  f->candidates = g_ptr_array_new_with_free_func(g_free);
  if (len > AR_WHIP_MAX_SDPFRAG) {
    g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                "the endpoint's ICE fragment is larger than %d bytes", AR_WHIP_MAX_SDPFRAG);
    return NULL;
  }
  while (pos < len) {
    gsize e = pos;
    while (e < len && text[e] != '\n')
      e++;
    gsize l = e;
    if (l > pos && text[l - 1] == '\r')
      l--;
    for (gsize i = pos; i < l; i++) {
      if ((guchar)text[i] < 0x20 || (guchar)text[i] >= 0x7f) {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "the endpoint's ICE fragment has a byte that is not printable ASCII");
        return NULL;
      }
    }
    g_autofree char *line = g_strndup(text + pos, l - pos);
    const char *v;
    pos = e + 1;
    if (line[0] == '\0')
      continue;
    if ((v = attr_value(line, "ice-ufrag")) != NULL) {
      g_free(f->ufrag);
      f->ufrag = g_strdup(v);
    } else if ((v = attr_value(line, "ice-pwd")) != NULL) {
      g_free(f->pwd);
      f->pwd = g_strdup(v);
    } else if ((v = attr_value(line, "mid")) != NULL) {
      g_free(mid);
      mid = g_strdup(v);
    } else if (g_str_has_prefix(line, "a=candidate:")) {
      if (mid == NULL) {
        g_set_error_literal(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                            "the endpoint's ICE fragment has a candidate before any a=mid");
        return NULL;
      }
      if (f->candidates->len >= AR_WHIP_MAX_FRAG_CANDIDATES) {
        g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_TOO_LARGE,
                    "the endpoint's ICE fragment has more than %d candidates",
                    AR_WHIP_MAX_FRAG_CANDIDATES);
        return NULL;
      }
      g_ptr_array_add(f->mids, g_strdup(mid));
      g_ptr_array_add(f->candidates, g_strdup(line + 2));
    } else if (g_str_equal(line, "a=end-of-candidates")) {
      f->end = TRUE;
    }
  }
  return g_steal_pointer(&f);
}

char *
ar_whip_offer_with_candidates(const char *offer_sdp, const ArWhipCandidate *candidates, gsize n,
                              gboolean end, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(offer_sdp != NULL ? offer_sdp : "", "\n", -1);
  g_autoptr(GString) out = g_string_new(NULL);
  guint sections = 0;
  gint section = -1;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix(lines[i], "m="))
      sections++;
  for (gsize i = 0; i < n; i++) {
    if (candidates[i].mline >= sections) {
      g_set_error(error, AR_WHIP_ERROR, AR_WHIP_ERROR_INVALID,
                  "a candidate names media section %u; the offer has %u", candidates[i].mline,
                  sections);
      return NULL;
    }
  }
  /* Each section's lines, then its candidates: at the next m= line and at the end. */
  for (guint i = 0;; i++) {
    gboolean last = lines[i] == NULL;
    if (last || g_str_has_prefix(lines[i], "m=")) {
      if (section >= 0) {
        gboolean any = FALSE;
        for (gsize c = 0; c < n; c++) {
          if (candidates[c].mline == (guint)section) {
            g_string_append_printf(out, "a=%s\r\n", candidates[c].candidate);
            any = TRUE;
          }
        }
        if (end && any)
          g_string_append(out, "a=end-of-candidates\r\n");
      }
      section++;
    }
    if (last)
      break;
    g_strchomp(lines[i]);
    if (lines[i][0] != '\0')
      g_string_append_printf(out, "%s\r\n", lines[i]);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}
