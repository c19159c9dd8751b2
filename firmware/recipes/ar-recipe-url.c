/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-url.c: what a recipe makes of a link and a page: the join URL the
 * meeting browser opens, the display name the page gets, the origins the page
 * may use, and what a toggle's attribute says.
 *
 * Every value substituted into the URL is percent-encoded (only RFC 3986
 * unreserved characters stay as they are; the link's path keeps its '/' and
 * the other characters a path may hold). The link's fragment is never read:
 * a fragment is built from the recipe's fixed keys (Jitsi's URL settings),
 * each value JSON-encoded and then percent-encoded.
 */
#include "ar-recipe-priv.h"

#include <string.h>

gboolean
ar_recipe_host_matches(const char *pattern, const char *host)
{
  if (g_str_has_prefix(pattern, "*.")) {
    const char *domain = pattern + 2;
    gsize hl = strlen(host), dl = strlen(domain);
    if (hl == dl)
      return g_ascii_strcasecmp(host, domain) == 0;
    return hl > dl && host[hl - dl - 1] == '.' && g_ascii_strcasecmp(host + hl - dl, domain) == 0;
  }
  return g_ascii_strcasecmp(pattern, host) == 0;
}

char *
ar_recipe_url_origin(const char *url, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) uri =
      g_uri_parse(url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, &local);
  if (uri == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "not a URL: %s", local->message);
    return NULL;
  }
  const char *scheme = g_uri_get_scheme(uri);
  const char *host = g_uri_get_host(uri);
  if ((g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0) || host == NULL ||
      host[0] == '\0' || g_uri_get_userinfo(uri) != NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "not an http(s) URL with a host and no user name");
    return NULL;
  }
  g_autofree char *lhost = g_ascii_strdown(host, -1);
  int port = g_uri_get_port(uri);
  gboolean ipv6 = strchr(lhost, ':') != NULL;
  GString *o = g_string_new(scheme);
  g_string_append(o, "://");
  g_string_append_printf(o, ipv6 ? "[%s]" : "%s", lhost);
  if (port > 0 && !((g_str_equal(scheme, "https") && port == 443) ||
                    (g_str_equal(scheme, "http") && port == 80)))
    g_string_append_printf(o, ":%d", port);
  return g_string_free(o, FALSE);
}

/* ORIGIN ("scheme://host[:port]") against PATTERN (may start with a "*." host). */
static gboolean
origin_matches(const char *pattern, const char *origin)
{
  const char *ps = strstr(pattern, "://"), *os = strstr(origin, "://");
  if (ps == NULL || os == NULL || ps - pattern != os - origin ||
      strncmp(pattern, origin, ps - pattern) != 0)
    return FALSE;
  g_autofree char *ph = g_strdup(ps + 3), *oh = g_strdup(os + 3);
  char *pport = ph[0] == '[' ? strstr(ph, "]:") : strrchr(ph, ':');
  char *oport = oh[0] == '[' ? strstr(oh, "]:") : strrchr(oh, ':');
  if (pport != NULL && pport[0] == ']')
    pport++;
  if (oport != NULL && oport[0] == ']')
    oport++;
  if (g_strcmp0(pport, oport) != 0)
    return FALSE;
  if (pport != NULL)
    *pport = '\0';
  if (oport != NULL)
    *oport = '\0';
  return ar_recipe_host_matches(ph, oh);
}

gboolean
ar_recipe_allows_origin(const ArRecipe *recipe, const ArLink *link, const char *origin)
{
  g_return_val_if_fail(recipe != NULL && origin != NULL, FALSE);
  for (guint i = 0; recipe->origins[i] != NULL; i++) {
    const char *p = recipe->origins[i];
    if (g_str_equal(p, "{link}")) {
      if (link == NULL || link->join_url == NULL)
        continue;
      g_autofree char *lo = ar_recipe_url_origin(link->join_url, NULL);
      if (lo != NULL && g_str_equal(lo, origin))
        return TRUE;
    } else if (origin_matches(p, origin)) {
      return TRUE;
    }
  }
  return FALSE;
}

/* ---- display name ---- */

char *
ar_recipe_display_name(const ArRecipe *recipe, const char *room_name)
{
  g_return_val_if_fail(recipe != NULL, NULL);
  const char *fallback = recipe->name_fallback != NULL ? recipe->name_fallback : "Meeting room";
  if (room_name == NULL || !g_utf8_validate(room_name, -1, NULL))
    room_name = "";
  g_autofree char *nfc = g_utf8_normalize(room_name, -1, G_NORMALIZE_NFC);
  GString *out = g_string_new(NULL);
  guint chars = 0;
  gboolean space = FALSE;
  for (const char *p = nfc != NULL ? nfc : ""; *p && chars < recipe->name_max_len;
       p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    GUnicodeType t = g_unichar_type(ch);
    if (g_unichar_isspace(ch)) { /* runs of spaces, tabs, newlines: one space */
      space = out->len > 0 && recipe->name_chars != AR_RECIPE_CHARS_LETTERS_DIGITS;
      continue;
    }
    if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
        t == G_UNICODE_SURROGATE || t == G_UNICODE_PRIVATE_USE || t == G_UNICODE_LINE_SEPARATOR ||
        t == G_UNICODE_PARAGRAPH_SEPARATOR)
      continue;
    if (recipe->name_chars != AR_RECIPE_CHARS_ANY) {
      /* letters and digits: ASCII only, as the pages that ask for it check */
      if (ch > 0x7f || !g_ascii_isalnum((char)ch))
        continue;
    }
    if (space && chars + 1 < recipe->name_max_len) {
      g_string_append_c(out, ' ');
      chars++;
    }
    space = FALSE;
    g_string_append_unichar(out, ch);
    chars++;
  }
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return g_strdup(fallback);
  }
  return g_string_free(out, FALSE);
}

static char *
expand(const char *tmpl, const char *const *names, const char *const *values, GError **error)
{
  GString *out = g_string_new(NULL);
  for (const char *p = tmpl; *p;) {
    if (*p != '{') {
      g_string_append_c(out, *p++);
      continue;
    }
    const char *end = strchr(p, '}');
    g_autofree char *name = g_strndup(p + 1, end != NULL ? end - p - 1 : 0);
    guint i;
    for (i = 0; names[i] != NULL && !g_str_equal(names[i], name); i++)
      ;
    if (end == NULL || names[i] == NULL || values[i] == NULL) {
      g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "{%s} has no value here", name);
      g_string_free(out, TRUE);
      return NULL;
    }
    g_string_append(out, values[i]);
    p = end + 1;
  }
  return g_string_free(out, FALSE);
}

char *
ar_recipe_expand_value(const ArRecipe *recipe, const ArRecipeStep *step, const char *room_name,
                       const char *room_email, GError **error)
{
  g_return_val_if_fail(recipe != NULL && step != NULL && step->value != NULL, NULL);
  g_autofree char *name = ar_recipe_display_name(recipe, room_name);
  const char *names[] = {"display-name", "room-email", NULL};
  const char *values[] = {name, room_email != NULL && room_email[0] ? room_email : NULL, NULL};
  return expand(step->value, names, values, error);
}

/* ---- join URL ---- */

static void
append_encoded(GString *out, const char *s, const char *keep)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const guchar *p = (const guchar *)s; *p; p++) {
    if (g_ascii_isalnum(*p) || strchr("-._~", *p) != NULL || (keep && strchr(keep, *p))) {
      g_string_append_c(out, *p);
    } else if (*p == '%' && keep != NULL && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
      g_string_append_c(out, '%'); /* an escape already in the link's path */
    } else {
      g_string_append_c(out, '%');
      g_string_append_c(out, hex[*p >> 4]);
      g_string_append_c(out, hex[*p & 15]);
    }
  }
}

static char *
encode(const char *s, const char *keep)
{
  GString *out = g_string_new(NULL);
  append_encoded(out, s != NULL ? s : "", keep);
  return g_string_free(out, FALSE);
}

static char *
json_string(const char *s)
{
  g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), s);
  return json_to_string(node, FALSE);
}

char *
ar_recipe_build_join_url(const ArRecipe *recipe, const ArLink *link, const char *display_name,
                         GError **error)
{
  g_return_val_if_fail(recipe != NULL && link != NULL, NULL);
  if (link->engine != AR_ENGINE_WEB || link->join_url == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "%s: this link is not for the web engine", recipe->file);
    return NULL;
  }
  if (strlen(link->join_url) > AR_LINK_MAX_LEN) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s: the link is too long",
                recipe->file);
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) uri =
      g_uri_parse(link->join_url, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, &local);
  g_autofree char *origin = uri != NULL ? ar_recipe_url_origin(link->join_url, &local) : NULL;
  if (origin == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s: the link's URL: %s",
                recipe->file, local->message);
    return NULL;
  }
  if (!ar_recipe_allows_origin(recipe, link, origin)) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "%s: the link's origin %s is not one this recipe allows", recipe->file, origin);
    return NULL;
  }

  /* The link's query, decoded (dropped: its fragment, always). */
  g_autoptr(GHashTable) params = NULL;
  const char *query = g_uri_get_query(uri);
  if (query != NULL && query[0] != '\0') {
    params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_WWW_FORM, &local);
    if (params == NULL) {
      g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s: the link's query: %s",
                  recipe->file, local->message);
      return NULL;
    }
  }

  g_autofree char *name = ar_recipe_display_name(recipe, display_name);
  g_autofree char *path = encode(g_uri_get_path(uri), "/:@!$&'()*+,;=");
  g_autofree char *id = encode(link->meeting_id, NULL);
  g_autofree char *pass = encode(link->passcode, NULL);
  const char *base_names[] = {"origin", "path", "meeting-id", "passcode", NULL};
  const char *base_values[] = {origin, path, link->meeting_id ? id : NULL,
                               link->passcode ? pass : NULL, NULL};
  g_autofree char *base = expand(recipe->base, base_names, base_values, &local);
  if (base == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s: join-url.base: %s", recipe->file,
                local->message);
    return NULL;
  }
  GString *url = g_string_new(base);
  char sep = '?';

  if (recipe->keep_all_query && query != NULL && query[0] != '\0') {
    g_string_append_c(url, sep);
    sep = '&';
    append_encoded(url, query, "=&/:@!$'()*+,;?");
  }
  for (guint i = 0; recipe->keep_query[i] != NULL; i++) {
    const char *v = params != NULL ? g_hash_table_lookup(params, recipe->keep_query[i]) : NULL;
    if (v == NULL)
      continue;
    g_string_append_c(url, sep);
    sep = '&';
    append_encoded(url, recipe->keep_query[i], NULL);
    g_string_append_c(url, '=');
    append_encoded(url, v, NULL);
  }

  const char *v_names[] = {"display-name", "meeting-id", "passcode", NULL};
  const char *v_values[] = {name, link->meeting_id ? link->meeting_id : "",
                            link->passcode ? link->passcode : "", NULL};
  for (guint i = 0; i < recipe->query->len; i++) {
    const ArRecipeParam *p = g_ptr_array_index(recipe->query, i);
    if (p->value == NULL) { /* a flag */
      g_string_append_c(url, sep);
      sep = '&';
      append_encoded(url, p->key, NULL);
      continue;
    }
    g_autofree char *v = expand(p->value, v_names, v_values, NULL);
    if (v == NULL || v[0] == '\0')
      continue; /* an empty value (no passcode) leaves the parameter out */
    g_string_append_c(url, sep);
    sep = '&';
    append_encoded(url, p->key, NULL);
    g_string_append_c(url, '=');
    append_encoded(url, v, NULL);
  }

  for (guint i = 0; i < recipe->fragment->len; i++) {
    const ArRecipeFragmentParam *p = g_ptr_array_index(recipe->fragment, i);
    g_autofree char *json = NULL;
    if (json_node_get_value_type(p->value) == G_TYPE_STRING) {
      g_autofree char *v = expand(json_node_get_string(p->value), v_names, v_values, NULL);
      json = json_string(v != NULL ? v : "");
    } else {
      json = json_to_string(p->value, FALSE);
    }
    g_string_append_c(url, i == 0 ? '#' : '&');
    append_encoded(url, p->key, NULL);
    g_string_append_c(url, '=');
    append_encoded(url, json, NULL);
  }

  if (url->len > AR_RECIPE_MAX_JOIN_URL_LEN) {
    g_string_free(url, TRUE);
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s: the join URL is too long",
                recipe->file);
    return NULL;
  }
  /* What the browser will open must itself be an allowed origin. */
  g_autofree char *out_origin = ar_recipe_url_origin(url->str, NULL);
  if (out_origin == NULL || !ar_recipe_allows_origin(recipe, link, out_origin)) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "%s: the join URL's origin %s is not one this recipe allows", recipe->file,
                out_origin != NULL ? out_origin : "(none)");
    g_string_free(url, TRUE);
    return NULL;
  }
  return g_string_free(url, FALSE);
}

/* ---- toggles ---- */

static gsize
longest_prefix(char **words, const char *value)
{
  gsize best = 0;
  for (guint i = 0; words != NULL && words[i] != NULL; i++) {
    gsize n = strlen(words[i]);
    if (n > best && g_ascii_strncasecmp(value, words[i], n) == 0)
      best = n;
  }
  return best;
}

ArRecipeToggleState
ar_recipe_toggle_state(const ArRecipeStep *step, const char *value)
{
  g_return_val_if_fail(step != NULL, AR_RECIPE_TOGGLE_UNKNOWN);
  if (value == NULL || step->action != AR_RECIPE_ACTION_TOGGLE)
    return AR_RECIPE_TOGGLE_UNKNOWN;
  while (g_ascii_isspace(*value))
    value++;
  gsize on = longest_prefix(step->state_on, value);
  gsize off = longest_prefix(step->state_off, value);
  if (on == off)
    return AR_RECIPE_TOGGLE_UNKNOWN;
  return on > off ? AR_RECIPE_TOGGLE_ON : AR_RECIPE_TOGGLE_OFF;
}

gboolean
ar_recipe_toggle_needs_click(const ArRecipeStep *step, const char *value)
{
  ArRecipeToggleState s = ar_recipe_toggle_state(step, value);
  if (s == AR_RECIPE_TOGGLE_UNKNOWN)
    return FALSE;
  return (s == AR_RECIPE_TOGGLE_ON) != step->want_on;
}
