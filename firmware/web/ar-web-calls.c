/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-calls.c: call links and the calls they open (docs/room-calls.md).
 *
 *   GET, POST /api/v1/call-links      list; make one (the token is shown once)
 *   DELETE    /api/v1/call-links/ID   revoke (its call, if any, ends)
 *   POST      /api/v1/call            a caller rings, with a link's token
 *   GET, PUT, DELETE /api/v1/call/ID[/answer]   the call of that token
 *
 * A call link's token opens these last routes and nothing else: the core
 * never takes it for an API token (AR_WEB_AUTH_CALL_LINK), and it is kept
 * only as a SHA-256. Tokens that fail draw on one budget for the whole
 * room (not per address): a LAN with a thousand addresses guesses no faster. */
#include "ar-web-priv.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <qrencode.h>
#include <string.h>

#include "ar-janus-msg.h"
#include "ar-link.h"
#include "ar-room-call.h"

#define MAX_LINKS 32
#define MAX_USES 100
#define MIN_LIFE_S 60
#define MAX_LIFE_S (30 * 24 * 3600)
#define DEFAULT_LIFE_S (24 * 3600)
#define BAD_TOKEN_BURST 20
#define BAD_TOKEN_PER_HOUR 120
#define FILE_NAME "call-links.json"

struct _ArWebCallLink {
  char *id;                /* 8 hex: names the link in lists, audits and revocations */
  char *name;              /* who it was given to */
  char *hash;              /* SHA-256 hex of the token */
  gint64 created, expires; /* unix seconds */
  guint uses;              /* calls it may still open */
  gboolean auto_answer;
};

/* The call in progress: which link opened it (its hash), for its later requests. */
typedef struct _ArWebCallRing {
  ArWebServer *s;
  SoupServerMessage *msg; /* the held POST, until answered */
  gboolean paused;
  char *link_hash;
} Ring;

static void
link_free(ArWebCallLink *l)
{
  g_free(l->id);
  g_free(l->name);
  g_free(l->hash);
  g_free(l);
}

static gboolean
save_links(ArWebServer *s, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < s->call_links->len; i++) {
    ArWebCallLink *l = s->call_links->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, l->id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, l->name);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, l->hash);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, l->created);
    json_builder_set_member_name(b, "expires");
    json_builder_add_int_value(b, l->expires);
    json_builder_set_member_name(b, "uses");
    json_builder_add_int_value(b, l->uses);
    json_builder_set_member_name(b, "auto_answer");
    json_builder_add_boolean_value(b, l->auto_answer);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, TRUE);
  g_autofree char *path = ar_web_state_path(s, FILE_NAME);
  return ar_web_write_private_file(path, text, strlen(text), error);
}

static gboolean
hex_ok(const char *s, gsize n)
{
  if (!s || strlen(s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
      return FALSE;
  return TRUE;
}

static void
load_links(ArWebServer *s)
{
  g_autofree char *path = ar_web_state_path(s, FILE_NAME);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_test(path, G_FILE_TEST_EXISTS) || !g_file_get_contents(path, &data, &len, NULL))
    return;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > 256 * 1024 || !ar_json_depth_ok(data, len, 4) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
    g_warning("admin: %s is not a list of call links; they are forgotten", path);
    return;
  }
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  for (guint i = 0; i < json_array_get_length(a) && s->call_links->len < MAX_LINKS; i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      continue;
    JsonObject *o = json_node_get_object(n);
    const char *id = json_object_get_string_member_with_default(o, "id", NULL);
    const char *name = json_object_get_string_member_with_default(o, "name", NULL);
    const char *hash = json_object_get_string_member_with_default(o, "sha256", NULL);
    gint64 expires = json_object_get_int_member_with_default(o, "expires", 0);
    gint64 uses = json_object_get_int_member_with_default(o, "uses", 0);
    if (!hex_ok(id, 8) || !ar_web_token_name_ok(name) || !hex_ok(hash, 64) || expires <= now ||
        uses <= 0 || uses > MAX_USES)
      continue;
    ArWebCallLink *l = g_new0(ArWebCallLink, 1);
    l->id = g_strdup(id);
    l->name = g_strdup(name);
    l->hash = g_strdup(hash);
    l->created = json_object_get_int_member_with_default(o, "created", 0);
    l->expires = expires;
    l->uses = (guint)uses;
    l->auto_answer = json_object_get_boolean_member_with_default(o, "auto_answer", FALSE);
    g_ptr_array_add(s->call_links, l);
  }
}

/* Links that expired or were used up go (saved when any did). */
static void
prune(ArWebServer *s)
{
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  gboolean changed = FALSE;
  for (guint i = s->call_links->len; i-- > 0;) {
    ArWebCallLink *l = s->call_links->pdata[i];
    if (l->expires <= now || l->uses == 0) {
      g_ptr_array_remove_index(s->call_links, i);
      changed = TRUE;
    }
  }
  g_autoptr(GError) error = NULL;
  if (changed && !save_links(s, &error))
    g_warning("admin: cannot save call links: %s", error->message);
}

/* ---- the link's addresses ---- */

/* "lowercase hex" of the certificate's "AA:BB:..." SHA-256. */
static char *
pin_of(ArWebServer *s)
{
  GString *out = g_string_new(NULL);
  for (const char *c = s->fingerprint; c && *c; c++)
    if (*c != ':')
      g_string_append_c(out, g_ascii_tolower(*c));
  return g_string_free(out, FALSE);
}

/* The hosts a caller reaches this room at: the address the admin server
 * listens on, or every IPv4 address of an interface that is up (not
 * loopback), then NAME.local (avahi on the device). */
static GPtrArray *
room_hosts(ArWebServer *s)
{
  GPtrArray *hosts = g_ptr_array_new_with_free_func(g_free);
  const char *listen = s->config->admin_listen;
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  g_autofree char *lhost = colon ? g_strndup(listen, colon - listen) : NULL;
  if (lhost && *lhost && !g_str_equal(lhost, "0.0.0.0") && !g_str_equal(lhost, "[::]") &&
      !g_str_equal(lhost, "127.0.0.1"))
    g_ptr_array_add(hosts, g_strdup(lhost));
  struct ifaddrs *ifs = NULL;
  if (hosts->len == 0 && getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i && hosts->len < 4; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
          (i->ifa_flags & IFF_LOOPBACK))
        continue;
      g_autoptr(GSocketAddress) sa =
          g_socket_address_new_from_native(i->ifa_addr, sizeof(struct sockaddr_in));
      if (sa)
        g_ptr_array_add(hosts, g_inet_address_to_string(
                                   g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa))));
    }
    freeifaddrs(ifs);
  }
  const char *host = g_get_host_name();
  if (host && *host && !strchr(host, '.') && !g_str_equal(host, "localhost"))
    g_ptr_array_add(hosts, g_strconcat(host, ".local", NULL));
  return hosts;
}

static char *
link_url(ArWebServer *s, const char *host, const char *token, const char *pin)
{
  gboolean v6 = strchr(host, ':') != NULL;
  g_autofree char *hp = s->port == 443 ? g_strdup_printf(v6 ? "[%s]" : "%s", host)
                                       : g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", host, s->port);
  return g_strdup_printf("https://%s/call#t=%s&fp=%s", hp, token, pin);
}

/* The QR code of @text as SVG (one path; 4 modules of quiet zone). */
static char *
qr_svg(const char *text)
{
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (qr == NULL)
    return NULL;
  int w = qr->width, size = w + 8;
  GString *svg = g_string_new(NULL);
  g_string_append_printf(svg,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                         "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                         "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                         size, size, size, size);
  for (int y = 0; y < w; y++)
    for (int x = 0; x < w; x++)
      if (qr->data[y * w + x] & 1)
        g_string_append_printf(svg, "M%d %dh1v1h-1z", x + 4, y + 4);
  g_string_append(svg, "\"/></svg>");
  QRcode_free(qr);
  return g_string_free(svg, FALSE);
}

static JsonNode *
link_to_json(const ArWebCallLink *l)
{
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", l->id);
  json_object_set_string_member(o, "name", l->name);
  g_autoptr(GDateTime) c = g_date_time_new_from_unix_utc(l->created);
  g_autoptr(GDateTime) e = g_date_time_new_from_unix_utc(l->expires);
  g_autofree char *ci = c ? g_date_time_format_iso8601(c) : NULL;
  g_autofree char *ei = e ? g_date_time_format_iso8601(e) : NULL;
  json_object_set_string_member(o, "created", ci);
  json_object_set_string_member(o, "expires", ei);
  json_object_set_int_member(o, "uses", l->uses);
  json_object_set_boolean_member(o, "auto_answer", l->auto_answer);
  return json_node_init_object(json_node_alloc(), o);
}

/* ---- administration ---- */

static gboolean
member_uint(JsonObject *o, const char *name, gint64 min, gint64 max, gint64 def, gint64 *out)
{
  JsonNode *n = json_object_get_member(o, name);
  if (n == NULL) {
    *out = def;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int(n);
  return *out >= min && *out <= max;
}

static void
create_link(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  JsonObject *o = json_node_get_object(body);
  const char *name = ar_web_string_member(body, "name");
  gint64 uses = 0, life = 0;
  if (!ar_web_token_name_ok(name)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 "name: 1 to 64 characters of letters, digits, '.', '_' and '-'");
    return;
  }
  if (!member_uint(o, "uses", 1, MAX_USES, 1, &uses)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "uses: an integer from 1 to 100 (default 1)");
    return;
  }
  if (!member_uint(o, "expires_in_s", MIN_LIFE_S, MAX_LIFE_S, DEFAULT_LIFE_S, &life)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 "expires_in_s: seconds from 60 to 2592000 (30 days; default 86400)");
    return;
  }
  JsonNode *aa = json_object_get_member(o, "auto_answer");
  if (aa && (!JSON_NODE_HOLDS_VALUE(aa) || json_node_get_value_type(aa) != G_TYPE_BOOLEAN)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "auto_answer: true or false (default false)");
    return;
  }
  gboolean auto_answer = aa && json_node_get_boolean(aa);
  /* Only an administrator lets a link answer by itself. */
  if (auto_answer && caller->session == NULL && caller->token == NULL) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "only an administrator makes links that answer");
    return;
  }
  prune(s);
  if (s->call_links->len >= MAX_LINKS) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "too many call links (32): revoke one first");
    return;
  }
  g_autofree char *token = ar_web_random_hex(AR_LINK_ROOM_CALL_TOKEN_PREFIX);
  g_autofree char *idhex = ar_web_random_hex("");
  if (!token || !idhex) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  ArWebCallLink *l = g_new0(ArWebCallLink, 1);
  l->id = g_strndup(idhex, 8);
  l->name = g_strdup(name);
  l->hash = ar_web_sha256_hex(token, strlen(token));
  l->created = g_get_real_time() / G_USEC_PER_SEC;
  l->expires = l->created + life;
  l->uses = (guint)uses;
  l->auto_answer = auto_answer;
  g_ptr_array_add(s->call_links, l);
  if (!save_links(s, &error)) {
    g_warning("admin: cannot save call links: %s", error->message);
    g_ptr_array_remove(s->call_links, l);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the call link");
    return;
  }
  g_autofree char *detail =
      g_strdup_printf("call link %s (%s) made: %u use(s), %" G_GINT64_FORMAT " s%s", l->id, l->name,
                      l->uses, life, auto_answer ? ", answers by itself" : "");
  ar_web_audit(s, msg, caller, "call_link_created", detail);
  g_autofree char *pin = pin_of(s);
  g_autoptr(GPtrArray) hosts = room_hosts(s);
  g_autoptr(JsonNode) node = link_to_json(l);
  JsonObject *out = json_node_get_object(node);
  json_object_set_boolean_member(out, "ok", TRUE);
  json_object_set_string_member(out, "token", token);
  JsonArray *links = json_array_new();
  for (guint i = 0; i < hosts->len; i++) {
    g_autofree char *url = link_url(s, hosts->pdata[i], token, pin);
    json_array_add_string_element(links, url);
  }
  if (hosts->len == 0) {
    g_autofree char *url = link_url(s, "127.0.0.1", token, pin);
    json_array_add_string_element(links, url);
  }
  const char *first = json_array_get_string_element(links, 0);
  json_object_set_string_member(out, "link", first);
  g_autofree char *svg = qr_svg(first);
  if (svg)
    json_object_set_string_member(out, "qr_svg", svg);
  else
    json_object_set_null_member(out, "qr_svg");
  json_object_set_array_member(out, "links", links);
  ar_api_respond_json(msg, SOUP_STATUS_CREATED, node);
}

static void
handle_links(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_has_prefix(path, "/api/v1/call-links/")) {
    const char *id = path + strlen("/api/v1/call-links/");
    for (guint i = 0; i < s->call_links->len; i++) {
      ArWebCallLink *l = s->call_links->pdata[i];
      if (!g_str_equal(l->id, id))
        continue;
      g_autofree char *detail = g_strdup_printf("call link %s (%s) revoked", l->id, l->name);
      /* Its call ends with it. */
      if (s->call && g_str_equal(s->call->link_hash, l->hash) && s->call_id)
        if (!ar_room_call_desk_hang_up(ar_api_hub_get_room_calls(s->hub), s->call_id, NULL))
          g_debug("roomcall: the revoked link's call was already over");
      g_ptr_array_remove_index(s->call_links, i);
      g_autoptr(GError) error = NULL;
      if (!save_links(s, &error))
        g_warning("admin: cannot save call links: %s", error->message);
      ar_web_audit(s, msg, caller, "call_link_revoked", detail);
      ar_web_error(msg, SOUP_STATUS_OK, NULL);
      return;
    }
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no call link of that id");
    return;
  }
  if (g_str_equal(method, "POST")) {
    create_link(s, msg, caller);
    return;
  }
  prune(s);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "call_links");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->call_links->len; i++)
    json_builder_add_value(b, link_to_json(s->call_links->pdata[i]));
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

/* ---- the caller's side ---- */

/* The SHA-256 of the request's call-link token, or NULL: none, or not of a
 * token's shape; *refused: answered 429 already (the budget of wrong tokens
 * is spent). */
static char *
bearer_hash(ArWebServer *s, SoupServerMessage *msg, gboolean *refused)
{
  gint64 wait = ar_budget_wait_us(&s->call_budget, g_get_monotonic_time());
  *refused = wait > 0;
  if (*refused) {
    ar_web_error_retry(msg, wait, "too many wrong call links: try again in ", "");
    return NULL;
  }
  const char *authz = ar_web_header(msg, "Authorization");
  const char *token = authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7 : NULL;
  return ar_link_room_call_token_ok(token) ? ar_web_sha256_hex(token, strlen(token)) : NULL;
}

/* 401, on the room's one budget of wrong tokens. */
static void
refuse(ArWebServer *s, SoupServerMessage *msg)
{
  ar_budget_spend(&s->call_budget, g_get_monotonic_time());
  g_message("roomcall: refused a call link from %s (wrong, used, expired or revoked)",
            ar_web_client_of(msg));
  ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED,
               "this call link is not valid: it is wrong, used, expired or revoked");
}

/* The link whose token the request bears, or NULL after answering 401 or 429. */
static ArWebCallLink *
link_of_request(ArWebServer *s, SoupServerMessage *msg)
{
  gboolean refused = FALSE;
  g_autofree char *hash = bearer_hash(s, msg, &refused);
  if (refused)
    return NULL;
  ArWebCallLink *found = NULL;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  for (guint i = 0; hash && i < s->call_links->len; i++) {
    ArWebCallLink *l = s->call_links->pdata[i];
    if (ar_web_secret_equal(l->hash, hash) && l->expires > now && l->uses > 0)
      found = l;
  }
  if (found == NULL)
    refuse(s, msg);
  return found;
}

/* The token of the request opened the call in progress; else 401 or 429. */
static gboolean
call_token_ok(ArWebServer *s, SoupServerMessage *msg)
{
  gboolean refused = FALSE;
  g_autofree char *hash = bearer_hash(s, msg, &refused);
  if (refused)
    return FALSE;
  if (hash && s->call && ar_web_secret_equal(s->call->link_hash, hash))
    return TRUE;
  refuse(s, msg);
  return FALSE;
}

static void
ring_free(Ring *r)
{
  if (r == NULL)
    return;
  if (r->msg)
    g_signal_handlers_disconnect_by_data(r->msg, r);
  g_clear_object(&r->msg);
  g_free(r->link_hash);
  g_free(r);
}

static void
on_ring_answered(const GError *error, const char *id, const char *answer, const char *offer,
                 gpointer data)
{
  Ring *r = data;
  ArWebServer *s = r->s;
  SoupServerMessage *msg = r->msg;
  if (msg == NULL)
    return;
  if (error) {
    ar_web_error(msg, ar_room_call_error_status(error), error->message);
  } else {
    g_free(s->call_id);
    s->call_id = g_strdup(id);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "answer", answer);
    json_object_set_string_member(o, "offer", offer);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    g_autofree char *loc = g_strconcat("/api/v1/call/", id, NULL);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Location", loc);
    ar_api_respond_json(msg, SOUP_STATUS_CREATED, node);
  }
  if (r->paused)
    soup_server_message_unpause(msg);
  r->paused = FALSE;
  g_signal_handlers_disconnect_by_data(msg, r);
  g_clear_object(&r->msg);
}

static void
on_ring_gone(SoupServerMessage *msg, gpointer data)
{
  Ring *r = data;
  ArWebServer *s = r->s;
  g_signal_handlers_disconnect_by_data(msg, r);
  g_clear_object(&r->msg);
  ar_room_call_desk_forget(ar_api_hub_get_room_calls(s->hub), r);
}

static void
handle_ring(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller)
{
  ArRoomCallDesk *desk = ar_api_hub_get_room_calls(s->hub);
  ArWebCallLink *l = link_of_request(s, msg);
  if (!l)
    return;
  if (desk == NULL) {
    ar_web_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "this room takes no calls");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  Ring *r = g_new0(Ring, 1);
  r->s = s;
  r->msg = g_object_ref(msg);
  r->link_hash = g_strdup(l->hash);
  if (!ar_room_call_desk_ring(desk, ar_web_string_member(body, "name"), l->name, l->auto_answer,
                              ar_web_string_member(body, "offer"), on_ring_answered, r, &error)) {
    ring_free(r);
    ar_web_error(msg, ar_room_call_error_status(error), error->message);
    return;
  }
  /* One call per use: the link is spent as it rings. */
  l->uses--;
  g_autoptr(GError) save_error = NULL;
  if (!save_links(s, &save_error))
    g_warning("admin: cannot save call links: %s", save_error->message);
  g_autofree char *detail = g_strdup_printf("call link %s (%s) rings the room", l->id, l->name);
  ar_web_audit(s, msg, caller, "call_ring", detail);
  ring_free(s->call);
  s->call = r;
  g_clear_pointer(&s->call_id, g_free);
  if (r->msg) {
    g_signal_connect(msg, "disconnected", G_CALLBACK(on_ring_gone), r);
    soup_server_message_pause(msg);
    r->paused = TRUE;
  }
}

/* DELETE /api/v1/call: the caller hangs up the call its token opened, even
 * while it rings (it has no id yet then). */
static void
handle_hang_up(ArWebServer *s, SoupServerMessage *msg)
{
  if (!call_token_ok(s, msg))
    return;
  ArRoomCallDesk *desk = ar_api_hub_get_room_calls(s->hub);
  Ring *r = s->call;
  if (desk && r->msg) {
    SoupServerMessage *held = r->msg;
    ar_room_call_desk_forget(desk, r);
    ar_web_error(held, SOUP_STATUS_NOT_FOUND, "the caller hung up");
    if (r->paused)
      soup_server_message_unpause(held);
    r->paused = FALSE;
    g_signal_handlers_disconnect_by_data(held, r);
    g_clear_object(&r->msg);
  } else if (desk && s->call_id) {
    g_autoptr(GError) error = NULL;
    if (!ar_room_call_desk_hang_up(desk, s->call_id, &error))
      g_debug("roomcall: hang-up of a call that was over: %s", error->message);
  }
  ar_web_error(msg, SOUP_STATUS_OK, NULL);
}

static void
handle_call(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  if (g_str_equal(path, "/api/v1/call")) {
    if (g_str_equal(soup_server_message_get_method(msg), "DELETE"))
      handle_hang_up(s, msg);
    else
      handle_ring(s, msg, caller);
    return;
  }
  /* The call's own requests: the token that opened it (its link may be used
   * up by now; a revoked link's call has ended). */
  if (!call_token_ok(s, msg))
    return;
  ArRoomCallDesk *desk = ar_api_hub_get_room_calls(s->hub);
  const char *rest = path + strlen("/api/v1/call/");
  g_autofree char *id = g_strndup(rest, strcspn(rest, "/"));
  const char *sub = rest + strlen(id);
  /* A token reaches only the call it opened. */
  if (!desk || !s->call_id || !ar_web_secret_equal(s->call_id, id)) {
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no such call");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  g_autoptr(GError) error = NULL;
  if (g_str_equal(sub, "/answer") && g_str_equal(method, "PUT")) {
    g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
    if (!body ||
        !ar_room_call_desk_caller_answer(desk, id, ar_web_string_member(body, "answer"), &error)) {
      ar_web_error(msg, body ? ar_room_call_error_status(error) : SOUP_STATUS_BAD_REQUEST,
                   error->message);
      return;
    }
    ar_web_error(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  if (sub[0] != '\0') {
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
    return;
  }
  if (g_str_equal(method, "GET")) {
    const char *state = ar_room_call_desk_state(desk, id);
    JsonObject *o = json_object_new();
    json_object_set_boolean_member(o, "ok", TRUE);
    json_object_set_string_member(o, "state", state ? state : "ended");
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
    ar_api_respond_json(msg, SOUP_STATUS_OK, node);
    return;
  }
  if (g_str_equal(method, "DELETE")) {
    if (!ar_room_call_desk_hang_up(desk, id, &error)) {
      ar_web_error(msg, ar_room_call_error_status(error), error->message);
      return;
    }
    ar_web_error(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or DELETE, or PUT .../answer");
}

void
ar_web_calls_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/call-links", "GET POST", AR_WEB_AUTH_ROOM, handle_links,
       AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/call-links/", "DELETE", AR_WEB_AUTH_ROOM, handle_links, AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/call", "POST DELETE", AR_WEB_AUTH_CALL_LINK, handle_call},
      {"/api/v1/call/", "GET PUT DELETE", AR_WEB_AUTH_CALL_LINK, handle_call},
  };
  s->call_links = g_ptr_array_new_with_free_func((GDestroyNotify)link_free);
  ar_budget_init(&s->call_budget, BAD_TOKEN_BURST, BAD_TOKEN_PER_HOUR, g_get_monotonic_time());
  load_links(s);
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}

void
ar_web_calls_free(ArWebServer *s)
{
  if (s->call && s->call->msg) {
    ArRoomCallDesk *desk = ar_api_hub_get_room_calls(s->hub);
    if (desk)
      ar_room_call_desk_forget(desk, s->call);
  }
  g_clear_pointer(&s->call, ring_free);
  g_clear_pointer(&s->call_id, g_free);
  g_clear_pointer(&s->call_links, g_ptr_array_unref);
}
