/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link.c: public entry points of the meeting-link module, the native
 * link forms (janus+..., whip+...) and the JSON output.
 *
 * Native forms (engine "native"):
 *   janus+ws://HOST[:PORT][/PATH]?room=ID[&pin=PIN][&display=NAME]
 *   janus+wss://  janus+http://  janus+https://
 *       join_url = the scheme without "janus+", the port always written
 *       (defaults ws 8188, wss 8989, http 8088, https 8089), the path as given
 *       ("/" if empty; for http(s) an empty path or "/" becomes "/janus").
 *       room = a Janus room id (digits, or a string id [A-Za-z0-9._-]).
 *   whip+https://HOST[:PORT]/PATH[?QUERY][#token=BEARER]
 *   whip+http://... (a lab/LAN endpoint; the operator chose it explicitly)
 *   whep+https://... / whep+http://... (the same form: the room receives a stream)
 *       join_url = the WHIP endpoint, https://HOST[:PORT]/PATH[?QUERY] (RFC 9725),
 *       passcode = the bearer token from the fragment (never sent as part of
 *       the URL: fragments are not sent to servers). meeting_id = NULL.
 */
#include "ar-json.h"
#include "ar-link-priv.h"

#include <json-glib/json-glib.h>
#include <string.h>

G_DEFINE_QUARK(ar - link - error - quark, ar_link_error)

const char *
ar_engine_to_string(ArEngine engine)
{
  switch (engine) {
  case AR_ENGINE_NATIVE:
    return "native";
  case AR_ENGINE_WEB:
    return "web";
  case AR_ENGINE_SIP:
    return "sip";
  }
  return "unknown";
}

ArLink *
ar_link_new(const char *provider, ArEngine engine)
{
  ArLink *link = g_new0(ArLink, 1);
  link->provider = g_strdup(provider);
  link->engine = engine;
  return link;
}

void
ar_link_free(ArLink *link)
{
  if (link == NULL)
    return;
  g_free(link->provider);
  g_free(link->meeting_id);
  g_free(link->passcode);
  g_free(link->join_url);
  g_free(link->sip_uri);
  g_free(link->display);
  g_free(link->tls_pin);
  g_free(link->whep_url);
  if (link->whep_token != NULL)
    memset(link->whep_token, 0, strlen(link->whep_token));
  g_free(link->whep_token);
  g_free(link);
}

ArLink *
ar_link_copy(const ArLink *link)
{
  if (link == NULL)
    return NULL;
  ArLink *c = g_new0(ArLink, 1);
  c->provider = g_strdup(link->provider);
  c->engine = link->engine;
  c->meeting_id = g_strdup(link->meeting_id);
  c->passcode = g_strdup(link->passcode);
  c->join_url = g_strdup(link->join_url);
  c->sip_uri = g_strdup(link->sip_uri);
  c->display = g_strdup(link->display);
  c->tls_pin = g_strdup(link->tls_pin);
  c->whep_url = g_strdup(link->whep_url);
  c->whep_token = g_strdup(link->whep_token);
  return c;
}

static gboolean
is_clean_text(const char *s, gsize max)
{
  /* ar_url_decode already refused control characters and bad UTF-8. */
  return g_utf8_strlen(s, -1) <= (glong)max;
}

static gboolean
is_room_id(const char *s)
{
  gsize n = strlen(s);
  if (n == 0 || n > 128)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return FALSE;
  return TRUE;
}

static ArLink *
parse_janus(const ArUrl *url, GError **error)
{
  static const struct {
    const char *scheme;
    const char *inner;
    int port;
  } forms[] = {
      {"janus+ws", "ws", 8188},
      {"janus+wss", "wss", 8989},
      {"janus+http", "http", 8088},
      {"janus+https", "https", 8089},
  };
  int i;
  g_autofree char *room = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *display = NULL;

  for (i = 0; i < (int)G_N_ELEMENTS(forms); i++)
    if (strcmp(url->scheme, forms[i].scheme) == 0)
      break;
  if (i == (int)G_N_ELEMENTS(forms)) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME,
                "unknown Janus link form \"%s:\" (use janus+ws, janus+wss, janus+http or "
                "janus+https)",
                url->scheme);
    return NULL;
  }
  if (url->host == NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the Janus link has no host (janus+ws://HOST:PORT/?room=ID)");
    return NULL;
  }
  if (!ar_url_query_get(url, "room", &room, error) || !ar_url_query_get(url, "pin", &pin, error) ||
      !ar_url_query_get(url, "display", &display, error)) {
    g_prefix_error(error, "Janus link: ");
    return NULL;
  }
  if (room == NULL || room[0] == '\0') {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the Janus link names no room (add ?room=ID)");
    return NULL;
  }
  if (!is_room_id(room)) {
    g_set_error_literal(
        error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
        "the Janus room id is not valid (digits, or letters, digits, '.', '_', '-')");
    return NULL;
  }
  if (pin != NULL && !is_clean_text(pin, 256)) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the Janus room PIN is too long");
    return NULL;
  }
  if (display != NULL && !is_clean_text(display, 128)) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the display name is too long");
    return NULL;
  }

  gboolean is_http = g_str_has_prefix(forms[i].inner, "http");
  GString *ju = g_string_new(forms[i].inner);
  g_string_append(ju, "://");
  g_string_append(ju, url->host);
  g_string_append_printf(ju, ":%d", url->port > 0 ? url->port : forms[i].port);
  if (url->path[0] == '\0' || (is_http && strcmp(url->path, "/") == 0))
    g_string_append(ju, is_http ? "/janus" : "/");
  else
    ar_url_append_encoded(ju, url->path, FALSE);

  ArLink *link = ar_link_new("janus", AR_ENGINE_NATIVE);
  link->meeting_id = g_steal_pointer(&room);
  link->passcode = (pin && pin[0]) ? g_steal_pointer(&pin) : NULL;
  link->display = (display && display[0]) ? g_steal_pointer(&display) : NULL;
  link->join_url = g_string_free(ju, FALSE);
  return link;
}

/* RFC 6750 b64token, bounded. */
static gboolean
check_bearer(const char *token, GError **error)
{
  for (const char *p = token; *p; p++) {
    if (!g_ascii_isalnum(*p) && !strchr("-._~+/=", *p)) {
      g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                          "the WHIP bearer token contains characters a token cannot have");
      return FALSE;
    }
  }
  if (strlen(token) > 4096) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the WHIP bearer token is too long");
    return FALSE;
  }
  return TRUE;
}

/* The whep= URL of a two-way WHIP link: an http(s) endpoint on the WHIP endpoint's own origin
 * (scheme, host, port: the bearer token goes to both). Returns it normalized. */
static char *
parse_whep_param(const char *text, const ArUrl *whip, const char *inner, int defport,
                 GError **error)
{
  g_autoptr(GError) e = NULL;
  g_autoptr(ArUrl) u = ar_url_parse(text, strlen(text), NULL, &e);
  if (u == NULL) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                "the WHEP URL of the WHIP link (whep=) is not a URL: %s", e->message);
    return NULL;
  }
  if (g_strcmp0(u->scheme, inner) != 0 || u->host == NULL || g_strcmp0(u->host, whip->host) != 0 ||
      (u->port >= 0 ? u->port : defport) != (whip->port >= 0 ? whip->port : defport)) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_HOST,
                        "the WHEP URL of the WHIP link (whep=) must be on the WHIP endpoint's "
                        "own scheme, host and port");
    return NULL;
  }
  if (u->path[0] != '/' || u->path[1] == '\0' || u->fragment != NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the WHEP URL of the WHIP link (whep=) needs an endpoint path and no "
                        "fragment");
    return NULL;
  }
  GString *ju = g_string_new(NULL);
  ar_url_append_origin(ju, inner, u, defport);
  ar_url_append_encoded(ju, u->path, FALSE);
  if (u->query != NULL) {
    g_string_append_c(ju, '?');
    ar_url_append_encoded(ju, u->query, TRUE);
  }
  return g_string_free(ju, FALSE);
}

/* whip+... (the room publishes) and whep+... (the room receives): the same form. */
static ArLink *
parse_whip(const ArUrl *url, GError **error)
{
  const char *inner;
  int defport;
  g_autofree char *token = NULL;
  gboolean whep = g_str_has_prefix(url->scheme, "whep+");
  const char *id = whep ? "whep" : "whip";
  const char *name = whep ? "WHEP" : "WHIP";

  if (strcmp(url->scheme + 5, "https") == 0) {
    inner = "https";
    defport = 443;
  } else if (strcmp(url->scheme + 5, "http") == 0) {
    inner = "http";
    defport = 80;
  } else {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME,
                "unknown %s link form \"%s:\" (use %s+https://HOST/PATH)", name, url->scheme, id);
    return NULL;
  }
  if (url->host == NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        whep ? "the WHEP link has no host (whep+https://HOST/PATH)"
                             : "the WHIP link has no host (whip+https://HOST/PATH)");
    return NULL;
  }
  if (url->path[0] != '/' || url->path[1] == '\0') {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        whep ? "the WHEP link has no endpoint path (whep+https://HOST/PATH)"
                             : "the WHIP link has no endpoint path (whip+https://HOST/PATH)");
    return NULL;
  }
  if (!ar_url_params_get(url->fragment, "token", &token, error)) {
    g_prefix_error(error, "WHIP link: ");
    return NULL;
  }
  if (token != NULL && !check_bearer(token, error))
    return NULL;
  g_autofree char *whep_text = NULL;
  g_autofree char *whep_token = NULL;
  if (!ar_url_params_get(url->fragment, "whep", &whep_text, error) ||
      !ar_url_params_get(url->fragment, "whep-token", &whep_token, error)) {
    g_prefix_error(error, "WHIP link: ");
    return NULL;
  }
  if (whep && (whep_text != NULL || whep_token != NULL)) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "a WHEP link names no other WHEP URL (a two-way link is "
                        "whip+https://HOST/PATH#whep=URL)");
    return NULL;
  }
  if (whep_token != NULL && whep_text == NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "the WHIP link has a whep-token but no whep URL");
    return NULL;
  }
  if (whep_token != NULL && !check_bearer(whep_token, error))
    return NULL;
  g_autofree char *whep_url = NULL;
  if (whep_text != NULL) {
    whep_url = parse_whep_param(whep_text, url, inner, defport, error);
    if (whep_url == NULL)
      return NULL;
  }

  GString *ju = g_string_new(NULL);
  ar_url_append_origin(ju, inner, url, defport);
  ar_url_append_encoded(ju, url->path, FALSE);
  if (url->query != NULL) {
    g_string_append_c(ju, '?');
    ar_url_append_encoded(ju, url->query, TRUE);
  }
  ArLink *link = ar_link_new(id, AR_ENGINE_NATIVE);
  link->passcode = (token && token[0]) ? g_steal_pointer(&token) : NULL;
  link->join_url = g_string_free(ju, FALSE);
  link->whep_url = g_steal_pointer(&whep_url);
  link->whep_token = (whep_token && whep_token[0]) ? g_steal_pointer(&whep_token) : NULL;
  return link;
}

/* sip:USER@DOMAIN[;params] / sips: of a known meeting service (Zoom's
 * zoomcrc.com, Webex sites, Lifesize, StarLeaf, BlueJeans, Pexip domains).
 * USER "ID.PASSCODE" (digits) is split into meeting_id and passcode. */
static ArLink *
parse_sip(const ArUrl *url, const ArLinkPolicy *policy, GError **error)
{
  const char *p = url->path;
  const char *at = strchr(p, '@');
  const char *semi;
  gboolean is_ip = FALSE;

  if (url->host != NULL || url->query != NULL || url->fragment != NULL || at == NULL ||
      strchr(at + 1, '@') != NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "malformed SIP address (expected sip:ID@DOMAIN)");
    return NULL;
  }
  gsize ulen = at - p;
  if (ulen == 0 || ulen > 64) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                        "malformed SIP address (expected sip:ID@DOMAIN)");
    return NULL;
  }
  for (gsize i = 0; i < ulen; i++) {
    if (!g_ascii_isalnum(p[i]) && !strchr("._+-", p[i])) {
      g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                          "the SIP address has characters a meeting id cannot have");
      return NULL;
    }
  }
  semi = strchr(at + 1, ';');
  const char *hend = semi ? semi : at + 1 + strlen(at + 1);
  if (semi != NULL) {
    for (const char *q = semi; *q; q++) {
      if (!g_ascii_isalnum(*q) && !strchr(";=._-", *q)) {
        g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                            "the SIP address has malformed parameters");
        return NULL;
      }
    }
  }
  g_autofree char *host = ar_url_normalize_host(at + 1, hend - at - 1, policy, &is_ip, error);
  if (host == NULL)
    return NULL;
  const char *provider = is_ip ? NULL : ar_link_provider_for_sip_domain(host, policy);
  if (provider == NULL) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_HOST,
                "%s is not the SIP domain of a known meeting service", host);
    return NULL;
  }
  g_autofree char *user = g_strndup(p, ulen);
  ArLink *link = ar_link_new(provider, AR_ENGINE_SIP);
  const char *dot = strchr(user, '.');
  gboolean split = FALSE;
  if (dot != NULL && dot > user && dot[1] != '\0' && strchr(dot + 1, '.') == NULL) {
    split = TRUE;
    for (const char *q = user; *q; q++)
      if (!g_ascii_isdigit(*q) && q != dot)
        split = FALSE;
  }
  if (split) {
    link->meeting_id = g_strndup(user, dot - user);
    link->passcode = g_strdup(dot + 1);
  } else {
    link->meeting_id = g_strdup(user);
  }
  link->join_url = g_strdup_printf("%s:%s@%s", url->scheme, user, host);
  link->sip_uri = g_strdup(link->join_url);
  return link;
}

ArLink *
ar_link_parse_depth(const char *text, gsize len, const ArLinkPolicy *policy, guint depth,
                    GError **error)
{
  g_autoptr(ArUrl) url = NULL;
  g_autofree char *inner = NULL;
  const char *wrapper = NULL;
  GError *local = NULL;

  url = ar_url_parse(text, len, policy, error);
  if (url == NULL)
    return NULL;

  if (g_str_has_prefix(url->scheme, "janus+"))
    return parse_janus(url, error);
  if (g_str_has_prefix(url->scheme, "whip+") || g_str_has_prefix(url->scheme, "whep+"))
    return parse_whip(url, error);
  if (strcmp(url->scheme, "sip") == 0 || strcmp(url->scheme, "sips") == 0)
    return parse_sip(url, policy, error);

  gboolean call_link = FALSE;
  ArLink *room_call = ar_link_parse_room_call(url, &call_link, error);
  if (call_link)
    return room_call;

  if (!ar_link_unwrap(url, &inner, &wrapper, error))
    return NULL;
  if (inner != NULL) {
    if (depth >= AR_LINK_MAX_WRAP_DEPTH) {
      g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                          "the link is wrapped too many times by mail scanners");
      return NULL;
    }
    ArLink *link = ar_link_parse_depth(inner, strlen(inner), policy, depth + 1, &local);
    if (link == NULL) {
      g_propagate_prefixed_error(error, local,
                                 "the link is wrapped by %s and the link inside "
                                 "was refused: ",
                                 wrapper);
      return NULL;
    }
    return link;
  }

  ArLink *link = ar_link_providers_match(url, policy, &local);
  if (link != NULL)
    return link;
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  if (url->host == NULL)
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME, "\"%s:\" links are not meeting links",
                url->scheme);
  else if (strcmp(url->scheme, "https") != 0 && strcmp(url->scheme, "http") != 0)
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME, "\"%s:\" links are not meeting links",
                url->scheme);
  else
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_HOST,
                "%s is not a known meeting service (an administrator can add self-hosted "
                "Jitsi or Pexip domains)",
                url->host);
  return NULL;
}

ArLink *
ar_link_parse(const char *text, const ArLinkPolicy *policy, GError **error)
{
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  if (text == NULL) {
    g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID, "no link given");
    return NULL;
  }
  gsize len = strnlen(text, AR_LINK_MAX_LEN * 2 + 2);
  if (len > AR_LINK_MAX_LEN * 2) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_TOO_LONG, "the link is longer than %d bytes",
                AR_LINK_MAX_LEN);
    return NULL;
  }
  return ar_link_parse_depth(text, len, policy, 0, error);
}

void ar_link_build_json(JsonBuilder *b, const ArLink *link);

void
ar_link_build_json(JsonBuilder *b, const ArLink *link)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  ar_json_add_string_or_null(b, "provider", link->provider);
  ar_json_add_string_or_null(b, "engine", ar_engine_to_string(link->engine));
  ar_json_add_string_or_null(b, "meeting_id", link->meeting_id);
  ar_json_add_string_or_null(b, "passcode", link->passcode);
  ar_json_add_string_or_null(b, "join_url", link->join_url);
  ar_json_add_string_or_null(b, "sip_uri", link->sip_uri);
  if (link->whep_url != NULL) /* only two-way WHIP links have it (its token is not shown) */
    ar_json_add_string_or_null(b, "whep_url", link->whep_url);
  json_builder_end_object(b);
}

static char *
builder_to_string(JsonBuilder *b, gboolean pretty)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, pretty);
  return json_generator_to_data(gen, NULL);
}

char *
ar_link_to_json(const ArLink *link)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  ar_link_build_json(b, link);
  return builder_to_string(b, FALSE);
}

char *
ar_link_url_info_json(const char *text, const ArLinkPolicy *policy, gboolean *ok)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(text, policy, &error);
  if (ok != NULL)
    *ok = link != NULL;
  if (link != NULL)
    return ar_link_to_json(link);

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, FALSE);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, error->message);
  json_builder_end_object(b);
  return builder_to_string(b, FALSE);
}

char *
ar_link_find_links_json(const char *text, gsize len, const ArLinkPolicy *policy)
{
  g_autoptr(GPtrArray) links = ar_link_find_all(text, len, policy);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < links->len; i++)
    ar_link_build_json(b, g_ptr_array_index(links, i));
  json_builder_end_array(b);
  return builder_to_string(b, FALSE);
}
