/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-janus-msg.h"

#include "ar-json.h"

#include <string.h>

G_DEFINE_QUARK(ar - janus - error - quark, ar_janus_error)

/* ---- safe accessors: never assume the type of a member ---- */

static JsonNode *
member(JsonObject *o, const char *name)
{
  return o ? json_object_get_member(o, name) : NULL;
}

static JsonObject *
get_object(JsonObject *o, const char *name)
{
  JsonNode *n = member(o, name);
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
get_array(JsonObject *o, const char *name)
{
  JsonNode *n = member(o, name);
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static const char *
get_string(JsonObject *o, const char *name)
{
  JsonNode *n = member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

static gboolean
get_int(JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int(n);
  return TRUE;
}

static gboolean
get_bool(JsonObject *o, const char *name)
{
  JsonNode *n = member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
         json_node_get_boolean(n);
}

/* Janus ids are positive integers below 2^53 (JavaScript-safe). */
static guint64
get_id64(JsonObject *o, const char *name)
{
  gint64 v = 0;
  if (!get_int(o, name, &v) || v <= 0 || v > (G_GINT64_CONSTANT(1) << 53))
    return 0;
  return (guint64)v;
}

static char *
dup_bounded(const char *s, gsize max)
{
  if (!s)
    return NULL;
  gsize len = strlen(s);
  if (len <= max)
    return g_strdup(s);
  /* cut at a character boundary */
  const char *end = g_utf8_find_prev_char(s, s + max + 1);
  return g_strndup(s, end ? (gsize)(end - s) : max);
}

static gboolean
id_from_node(ArJanusId *id, JsonNode *n)
{
  ar_janus_id_clear(id);
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64) {
    gint64 v = json_node_get_int(n);
    if (v <= 0 || v > (G_GINT64_CONSTANT(1) << 53))
      return FALSE;
    id->str = g_strdup_printf("%" G_GINT64_FORMAT, v);
    id->numeric = TRUE;
    return TRUE;
  }
  if (t == G_TYPE_STRING) {
    const char *s = json_node_get_string(n);
    gsize len = strlen(s);
    if (len == 0 || len > AR_JANUS_MAX_ID_LEN)
      return FALSE;
    for (const char *p = s; *p; p++)
      if ((guchar)*p < 0x21 || (guchar)*p > 0x7e)
        return FALSE;
    id->str = g_strdup(s);
    id->numeric = FALSE;
    return TRUE;
  }
  return FALSE;
}

void
ar_janus_id_clear(ArJanusId *id)
{
  g_clear_pointer(&id->str, g_free);
  id->numeric = FALSE;
}

gboolean
ar_janus_id_equal(const ArJanusId *a, const ArJanusId *b)
{
  return a->str && b->str && g_str_equal(a->str, b->str);
}

void
ar_janus_id_copy(ArJanusId *dst, const ArJanusId *src)
{
  ar_janus_id_clear(dst);
  dst->str = g_strdup(src->str);
  dst->numeric = src->numeric;
}

gboolean
ar_janus_id_from_string(ArJanusId *id, const char *text)
{
  ar_janus_id_clear(id);
  if (!text || !*text || strlen(text) > AR_JANUS_MAX_ID_LEN)
    return FALSE;
  guint64 v;
  if (g_ascii_string_to_unsigned(text, 10, 1, G_GUINT64_CONSTANT(1) << 53, &v, NULL) &&
      text[0] != '0') {
    id->str = g_strdup_printf("%" G_GUINT64_FORMAT, v);
    id->numeric = TRUE;
    return TRUE;
  }
  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  id->str = g_strdup(text);
  return TRUE;
}

void
ar_janus_id_add_to_builder(const ArJanusId *id, JsonBuilder *b)
{
  if (id->numeric)
    json_builder_add_int_value(b, g_ascii_strtoll(id->str, NULL, 10));
  else
    json_builder_add_string_value(b, id->str);
}

static void
publisher_free(gpointer p)
{
  ArJanusPublisher *pub = p;
  ar_janus_id_clear(&pub->id);
  g_free(pub->display);
  g_free(pub);
}

void
ar_janus_msg_free(ArJanusMsg *m)
{
  if (!m)
    return;
  g_free(m->janus);
  g_free(m->transaction);
  g_free(m->error_reason);
  g_free(m->plugin);
  g_free(m->videoroom);
  ar_janus_id_clear(&m->id);
  ar_janus_id_clear(&m->private_id);
  g_clear_pointer(&m->publishers, g_ptr_array_unref);
  ar_janus_id_clear(&m->unpublished);
  ar_janus_id_clear(&m->leaving);
  g_free(m->configured);
  g_free(m->started);
  g_free(m->jsep_type);
  g_free(m->jsep_sdp);
  g_free(m->candidate);
  g_free(m->reason);
  g_free(m);
}

gboolean
ar_json_depth_ok(const char *data, gsize len, guint max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = data[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    if (c == '"')
      in_string = TRUE;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return FALSE;
    } else if ((c == '}' || c == ']') && depth > 0)
      depth--;
  }
  return TRUE;
}

static const struct {
  const char *name;
  ArJanusMsgType type;
} msg_types[] = {
    {"success", AR_JANUS_MSG_SUCCESS}, {"error", AR_JANUS_MSG_ERROR},
    {"ack", AR_JANUS_MSG_ACK},         {"event", AR_JANUS_MSG_EVENT},
    {"trickle", AR_JANUS_MSG_TRICKLE}, {"webrtcup", AR_JANUS_MSG_WEBRTCUP},
    {"media", AR_JANUS_MSG_MEDIA},     {"slowlink", AR_JANUS_MSG_SLOWLINK},
    {"hangup", AR_JANUS_MSG_HANGUP},   {"detached", AR_JANUS_MSG_DETACHED},
    {"timeout", AR_JANUS_MSG_TIMEOUT}, {"server_info", AR_JANUS_MSG_SERVER_INFO},
};

static gboolean
parse_publishers(ArJanusMsg *m, JsonArray *arr, GError **error)
{
  guint n = json_array_get_length(arr);
  if (n > AR_JANUS_MAX_PUBLISHERS) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE,
                "Janus listed %u publishers (limit %d)", n, AR_JANUS_MAX_PUBLISHERS);
    return FALSE;
  }
  m->publishers = g_ptr_array_new_with_free_func(publisher_free);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(arr, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue; /* tolerate junk entries, skip them */
    JsonObject *po = json_node_get_object(e);
    ArJanusPublisher *p = g_new0(ArJanusPublisher, 1);
    if (!id_from_node(&p->id, member(po, "id"))) {
      publisher_free(p);
      continue;
    }
    const char *display = get_string(po, "display");
    p->display = dup_bounded(display, AR_JANUS_MAX_DISPLAY);
    g_ptr_array_add(m->publishers, p);
  }
  return TRUE;
}

static void
parse_self_or_id(JsonObject *data, const char *name, ArJanusId *id, gboolean *self)
{
  JsonNode *n = member(data, name);
  if (!n)
    return;
  const char *s = get_string(data, name);
  if (s && g_str_equal(s, "ok"))
    *self = TRUE;
  else
    id_from_node(id, n);
}

static gboolean
parse_plugindata(ArJanusMsg *m, JsonObject *pd, GError **error)
{
  m->plugin = dup_bounded(get_string(pd, "plugin"), 64);
  JsonObject *data = get_object(pd, "data");
  if (!data)
    return TRUE;
  m->videoroom = dup_bounded(get_string(data, "videoroom"), 64);
  gint64 code = 0;
  if (get_int(data, "error_code", &code)) {
    m->error_code = (int)CLAMP(code, 0, G_MAXINT);
    m->error_reason = dup_bounded(get_string(data, "error"), 512);
  }
  id_from_node(&m->id, member(data, "id"));
  id_from_node(&m->private_id, member(data, "private_id"));
  JsonArray *pubs = get_array(data, "publishers");
  if (pubs && !parse_publishers(m, pubs, error))
    return FALSE;
  parse_self_or_id(data, "unpublished", &m->unpublished, &m->unpublished_self);
  parse_self_or_id(data, "leaving", &m->leaving, &m->leaving_self);
  m->configured = dup_bounded(get_string(data, "configured"), 16);
  m->started = dup_bounded(get_string(data, "started"), 16);
  return TRUE;
}

static gboolean
parse_jsep(ArJanusMsg *m, JsonObject *jsep, GError **error)
{
  const char *type = get_string(jsep, "type");
  const char *sdp = get_string(jsep, "sdp");
  if (!type || !sdp || (!g_str_equal(type, "offer") && !g_str_equal(type, "answer"))) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus sent a jsep without a valid type and sdp");
    return FALSE;
  }
  if (strlen(sdp) > AR_JANUS_MAX_SDP) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE, "Janus sent an SDP over %d bytes",
                AR_JANUS_MAX_SDP);
    return FALSE;
  }
  m->jsep_type = g_strdup(type);
  m->jsep_sdp = g_strdup(sdp);
  return TRUE;
}

static gboolean
parse_trickle(ArJanusMsg *m, JsonObject *cand, GError **error)
{
  if (get_bool(cand, "completed")) {
    m->completed = TRUE;
    return TRUE;
  }
  const char *c = get_string(cand, "candidate");
  gint64 mline = 0;
  if (!c || !get_int(cand, "sdpMLineIndex", &mline) || mline < 0 || mline > 64) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus sent a trickle candidate without candidate/sdpMLineIndex");
    return FALSE;
  }
  if (strlen(c) > AR_JANUS_MAX_CANDIDATE) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE,
                "Janus sent a candidate over %d bytes", AR_JANUS_MAX_CANDIDATE);
    return FALSE;
  }
  m->candidate = g_strdup(c);
  m->mline_index = (int)mline;
  return TRUE;
}

static ArJanusMsg *
parse_object(JsonObject *o, GError **error)
{
  g_autoptr(ArJanusMsg) m = g_new0(ArJanusMsg, 1);
  const char *janus = get_string(o, "janus");
  if (!janus) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus message has no \"janus\" field");
    return NULL;
  }
  m->janus = dup_bounded(janus, 64);
  for (gsize i = 0; i < G_N_ELEMENTS(msg_types); i++)
    if (g_str_equal(janus, msg_types[i].name))
      m->type = msg_types[i].type;
  m->transaction = dup_bounded(get_string(o, "transaction"), 64);
  m->session_id = get_id64(o, "session_id");
  m->sender = get_id64(o, "sender");
  JsonObject *data = get_object(o, "data");
  if (data)
    m->data_id = get_id64(data, "id");
  JsonObject *err = get_object(o, "error");
  if (m->type == AR_JANUS_MSG_ERROR) {
    gint64 code = 0;
    get_int(err, "code", &code);
    m->error_code = (int)CLAMP(code, 0, G_MAXINT);
    m->error_reason = dup_bounded(get_string(err, "reason"), 512);
  }
  JsonObject *pd = get_object(o, "plugindata");
  if (pd && !parse_plugindata(m, pd, error))
    return NULL;
  JsonObject *jsep = get_object(o, "jsep");
  if (jsep && !parse_jsep(m, jsep, error))
    return NULL;
  if (m->type == AR_JANUS_MSG_TRICKLE) {
    JsonObject *cand = get_object(o, "candidate");
    if (!cand) {
      g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                  "Janus sent a trickle message without a candidate");
      return NULL;
    }
    if (!parse_trickle(m, cand, error))
      return NULL;
  }
  m->reason = dup_bounded(get_string(o, "reason"), 512);
  return g_steal_pointer(&m);
}

static JsonNode *
parse_root(const char *data, gsize len, GError **error)
{
  if (len > AR_JANUS_MAX_MESSAGE) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE,
                "Janus message of %" G_GSIZE_FORMAT " bytes is over the %d byte limit", len,
                AR_JANUS_MAX_MESSAGE);
    return NULL;
  }
  /* Strict RFC 8259 before json-glib (ar-json.h): what it would read
   * differently from the text (0x32, a wrapped huge integer, a string cut at
   * \u0000) never reaches the call. Janus ids are below 2^53: int64 fits. */
  g_autoptr(GError) invalid = NULL;
  if (!ar_json_check(data, len, AR_JANUS_MAX_DEPTH, &invalid)) {
    if (g_error_matches(invalid, AR_JSON_ERROR, AR_JSON_ERROR_DEPTH))
      g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE,
                  "Janus message nests deeper than %d levels", AR_JANUS_MAX_DEPTH);
    else
      g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                  "Janus message is not JSON (RFC 8259): %s", invalid->message);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "Janus message is not JSON: %s",
                local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "Janus message is empty");
    return NULL;
  }
  return json_node_copy(root);
}

ArJanusMsg *
ar_janus_msg_parse(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonNode) root = parse_root(data, len, error);
  if (!root)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus message is not a JSON object");
    return NULL;
  }
  return parse_object(json_node_get_object(root), error);
}

GPtrArray *
ar_janus_msg_parse_many(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonNode) root = parse_root(data, len, error);
  if (!root)
    return NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_janus_msg_free);
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    ArJanusMsg *m = parse_object(json_node_get_object(root), error);
    if (!m)
      return NULL;
    g_ptr_array_add(out, m);
  } else if (JSON_NODE_HOLDS_ARRAY(root)) {
    JsonArray *arr = json_node_get_array(root);
    guint n = json_array_get_length(arr);
    if (n > 64) {
      g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_TOO_LARGE,
                  "Janus sent %u events at once (limit 64)", n);
      return NULL;
    }
    for (guint i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element(arr, i);
      if (!JSON_NODE_HOLDS_OBJECT(e)) {
        g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                    "Janus event list holds a non-object");
        return NULL;
      }
      ArJanusMsg *m = parse_object(json_node_get_object(e), error);
      if (!m)
        return NULL;
      g_ptr_array_add(out, m);
    }
  } else {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus answer is neither an object nor an array");
    return NULL;
  }
  return g_steal_pointer(&out);
}

gboolean
ar_janus_msg_to_error(const ArJanusMsg *m, GError **error)
{
  if (m->type != AR_JANUS_MSG_ERROR && m->error_code == 0)
    return FALSE;
  const char *reason = m->error_reason && *m->error_reason ? m->error_reason : "no reason given";
  ArJanusError code = AR_JANUS_ERROR_SERVER;
  const char *what = "Janus refused the request";
  if (m->type != AR_JANUS_MSG_ERROR) {
    /* VideoRoom plugin error codes (janus_videoroom.c). */
    switch (m->error_code) {
    case 426:
      code = AR_JANUS_ERROR_NO_SUCH_ROOM;
      what = "the meeting room does not exist";
      break;
    case 433:
      code = AR_JANUS_ERROR_UNAUTHORIZED;
      what = "the room refused us: wrong or missing PIN";
      break;
    case 432:
      code = AR_JANUS_ERROR_PLUGIN;
      what = "the room is full";
      break;
    default:
      code = AR_JANUS_ERROR_PLUGIN;
      what = "the meeting room refused the request";
    }
  } else if (m->error_code == 458) {
    code = AR_JANUS_ERROR_TRANSPORT;
    what = "the Janus session is gone";
  }
  g_set_error(error, AR_JANUS_ERROR, code, "%s (Janus error %d: %s)", what, m->error_code, reason);
  return TRUE;
}

char *
ar_janus_build(const char *janus, const char *transaction, guint64 session_id, guint64 handle_id,
               JsonNode *body, const char *jsep_type, const char *jsep_sdp)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "janus");
  json_builder_add_string_value(b, janus);
  json_builder_set_member_name(b, "transaction");
  json_builder_add_string_value(b, transaction);
  if (session_id) {
    json_builder_set_member_name(b, "session_id");
    json_builder_add_int_value(b, (gint64)session_id);
  }
  if (handle_id) {
    json_builder_set_member_name(b, "handle_id");
    json_builder_add_int_value(b, (gint64)handle_id);
  }
  if (body) {
    json_builder_set_member_name(b, "body");
    json_builder_add_value(b, json_node_copy(body));
  }
  if (jsep_type && jsep_sdp) {
    json_builder_set_member_name(b, "jsep");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, jsep_type);
    json_builder_set_member_name(b, "sdp");
    json_builder_add_string_value(b, jsep_sdp);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

char *
ar_janus_build_trickle(const char *transaction, guint64 session_id, guint64 handle_id,
                       guint mline_index, const char *candidate)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "janus");
  json_builder_add_string_value(b, "trickle");
  json_builder_set_member_name(b, "transaction");
  json_builder_add_string_value(b, transaction);
  json_builder_set_member_name(b, "session_id");
  json_builder_add_int_value(b, (gint64)session_id);
  json_builder_set_member_name(b, "handle_id");
  json_builder_add_int_value(b, (gint64)handle_id);
  json_builder_set_member_name(b, "candidate");
  json_builder_begin_object(b);
  if (candidate) {
    json_builder_set_member_name(b, "candidate");
    json_builder_add_string_value(b, candidate);
    json_builder_set_member_name(b, "sdpMLineIndex");
    json_builder_add_int_value(b, mline_index);
  } else {
    json_builder_set_member_name(b, "completed");
    json_builder_add_boolean_value(b, TRUE);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}
