/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe.c: one join recipe, JSON -> validated ArRecipe.
 *
 * Every object's keys are checked against the keys it may have (unknown keys
 * are refused), every string and list is bounded, and every error names the
 * file and the field path: "zoom.json: steps[2].selectors[0]: unbalanced ']'".
 * The format is described in docs/recipes.md.
 */
#include "ar-recipe-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(ar - recipe - error - quark, ar_recipe_error)

#define MAX_DEPTH 16
#define MAX_NAME_LEN 64
#define MAX_SOURCES 16
#define MAX_SOURCE_LEN 512
#define MAX_SERVES 32
#define MAX_ORIGINS 16
#define MAX_ORIGIN_LEN 256
#define MAX_TEMPLATE_LEN 1024
#define MAX_PARAMS 16
#define MAX_TEXTS 16
#define MAX_TEXT_LEN 256
#define MAX_SCRIPT_LEN 2048
#define MAX_MESSAGE_LEN 200
#define MAX_NOTE_LEN 1024
#define MAX_LEAVE_STEPS 8
#define MAX_TOGGLE_WORDS 8
#define MAX_DISPLAY_NAME_LEN 128

/* NULL-terminated: also the allowed keys of "probes" and "controls". */
static const char *const state_names[AR_RECIPE_N_STATES + 1] = {
    "captcha", "sign-in-required", "denied", "removed",  "ended",
    "error",   "in-call",          "lobby",  "pre-join", NULL,
};

static const char *const control_names[AR_RECIPE_N_CONTROLS + 1] = {
    "mute", "unmute", "camera-off", "camera-on", NULL,
};

static const char *const action_names[] = {
    "wait-for", "click", "fill", "toggle", "press", "script",
};

const char *
ar_recipe_state_to_string(ArRecipeState state)
{
  return (guint)state < AR_RECIPE_N_STATES ? state_names[state] : "unknown";
}

gboolean
ar_recipe_state_is_failure(ArRecipeState state)
{
  return state <= AR_RECIPE_STATE_ERROR;
}

const char *
ar_recipe_control_to_string(ArRecipeControl control)
{
  return (guint)control < AR_RECIPE_N_CONTROLS ? control_names[control] : "unknown";
}

const char *
ar_recipe_action_to_string(ArRecipeAction action)
{
  return (guint)action < G_N_ELEMENTS(action_names) ? action_names[action] : "unknown";
}

/* ---- freeing ---- */

static void
step_clear(ArRecipeStep *s)
{
  g_strfreev(s->selectors);
  g_free(s->frame);
  g_free(s->text);
  g_free(s->value);
  g_free(s->key);
  g_free(s->state_attribute);
  g_strfreev(s->state_on);
  g_strfreev(s->state_off);
  g_free(s->script);
  g_free(s->note);
  memset(s, 0, sizeof(*s));
}

static void
param_free(gpointer p)
{
  ArRecipeParam *param = p;
  g_free(param->key);
  g_free(param->value);
  g_free(param);
}

static void
fragment_param_free(gpointer p)
{
  ArRecipeFragmentParam *param = p;
  g_free(param->key);
  if (param->value != NULL)
    json_node_unref(param->value);
  g_free(param);
}

static void
participants_free(ArRecipeParticipants *pp)
{
  if (pp == NULL)
    return;
  g_strfreev(pp->selectors);
  g_free(pp->frame);
  g_free(pp->name);
  g_free(pp->name_attribute);
  g_free(pp->id_attribute);
  g_free(pp->self);
  g_free(pp->count);
  g_free(pp);
}

static void
recipe_free(ArRecipe *r)
{
  g_free(r->file);
  g_free(r->id);
  g_free(r->name);
  g_strfreev(r->sources);
  g_strfreev(r->providers);
  g_strfreev(r->hosts);
  g_strfreev(r->origins);
  g_free(r->base);
  g_strfreev(r->keep_query);
  g_clear_pointer(&r->query, g_ptr_array_unref);
  g_clear_pointer(&r->fragment, g_ptr_array_unref);
  g_free(r->name_fallback);
  g_clear_pointer(&r->steps, g_array_unref);
  g_clear_pointer(&r->leave, g_array_unref);
  for (guint i = 0; i < AR_RECIPE_N_STATES; i++) {
    ArRecipeProbe *p = &r->probes[i];
    g_free(p->reason);
    g_strfreev(p->selectors);
    g_strfreev(p->texts);
    g_free(p->script);
    g_free(p->frame);
    g_free(p->message);
  }
  for (guint i = 0; i < AR_RECIPE_N_CONTROLS; i++) {
    g_free(r->controls[i].reason);
    if (r->controls[i].step != NULL) {
      step_clear(r->controls[i].step);
      g_free(r->controls[i].step);
    }
  }
  participants_free(r->participants);
  g_free(r);
}

ArRecipe *
ar_recipe_ref(ArRecipe *recipe)
{
  g_return_val_if_fail(recipe != NULL, NULL);
  g_atomic_ref_count_inc(&recipe->ref);
  return recipe;
}

void
ar_recipe_unref(ArRecipe *recipe)
{
  if (recipe != NULL && g_atomic_ref_count_dec(&recipe->ref))
    recipe_free(recipe);
}

/* ---- validation context ---- */

typedef struct {
  const char *file;
  GError **error;
} Ctx;

static gboolean G_GNUC_PRINTF(3, 4) fail(Ctx *c, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (path != NULL && path[0] != '\0')
    g_set_error(c->error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_INVALID, "%s: %s: %s", c->file, path,
                msg);
  else
    g_set_error(c->error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_INVALID, "%s: %s", c->file, msg);
  return FALSE;
}

static char *
sub(const char *path, const char *key)
{
  return path[0] != '\0' ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);
}

static char *
idx(const char *path, guint i)
{
  return g_strdup_printf("%s[%u]", path, i);
}

static const char *
json_type_name(JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT(node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY(node))
    return "a list";
  switch (json_node_get_value_type(node)) {
  case G_TYPE_BOOLEAN:
    return "true/false";
  case G_TYPE_STRING:
    return "a string";
  default:
    return "a number";
  }
}

/* Every key of OBJ must be in ALLOWED; every key of REQUIRED must be present. */
static gboolean
check_keys(Ctx *c, const char *path, JsonObject *obj, const char *const *allowed,
           const char *const *required)
{
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l != NULL; l = l->next) {
    const char *k = l->data;
    if (!g_strv_contains(allowed, k)) {
      g_autofree char *p = sub(path, k);
      return fail(c, p, "unknown key");
    }
  }
  for (guint i = 0; required != NULL && required[i] != NULL; i++) {
    if (!json_object_has_member(obj, required[i])) {
      g_autofree char *p = sub(path, required[i]);
      return fail(c, p, "missing");
    }
  }
  return TRUE;
}

/* Printable text: valid UTF-8 (json-glib checks), no control characters
 * (newline and tab allowed only if MULTILINE), 1..MAX bytes. */
static gboolean
check_text(Ctx *c, const char *path, const char *s, gsize max, gboolean multiline)
{
  gsize len = strlen(s);
  if (len == 0)
    return fail(c, path, "empty");
  if (len > max)
    return fail(c, path, "too long (%zu bytes, at most %zu)", len, max);
  if (!g_utf8_validate(s, len, NULL))
    return fail(c, path, "not UTF-8");
  for (const char *p = s; *p; p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    if (multiline && (ch == '\n' || ch == '\t'))
      continue;
    if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || ch == 0x2028 || ch == 0x2029)
      return fail(c, path, "control character");
  }
  return TRUE;
}

static gboolean
get_string(Ctx *c, const char *path, JsonNode *node, gsize max, gboolean multiline, char **out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_STRING)
    return fail(c, path, "must be a string, not %s", json_type_name(node));
  const char *s = json_node_get_string(node);
  if (!check_text(c, path, s, max, multiline))
    return FALSE;
  *out = g_strdup(s);
  return TRUE;
}

static gboolean
member_string(Ctx *c, const char *path, JsonObject *obj, const char *key, gsize max,
              gboolean multiline, char **out)
{
  if (!json_object_has_member(obj, key))
    return TRUE;
  g_autofree char *p = sub(path, key);
  return get_string(c, p, json_object_get_member(obj, key), max, multiline, out);
}

static gboolean
get_bool(Ctx *c, const char *path, JsonNode *node, gboolean *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_BOOLEAN)
    return fail(c, path, "must be true or false, not %s", json_type_name(node));
  *out = json_node_get_boolean(node);
  return TRUE;
}

static gboolean
get_uint(Ctx *c, const char *path, JsonNode *node, guint min, guint max, guint *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_INT64)
    return fail(c, path, "must be a whole number, not %s", json_type_name(node));
  gint64 v = json_node_get_int(node);
  if (v < min || v > max)
    return fail(c, path, "%" G_GINT64_FORMAT " is out of range (%u..%u)", v, min, max);
  *out = (guint)v;
  return TRUE;
}

typedef gboolean (*ItemCheck)(Ctx *c, const char *path, const char *s);

/* A list of MIN..MAX strings, each up to MAX_LEN bytes and passing CHECK. */
static gboolean
get_strv(Ctx *c, const char *path, JsonNode *node, guint min, guint max, gsize max_len,
         ItemCheck check, char ***out)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
    return fail(c, path, "must be a list, not %s", json_type_name(node));
  JsonArray *a = json_node_get_array(node);
  guint n = json_array_get_length(a);
  if (n < min)
    return fail(c, path, min == 1 ? "must not be empty" : "needs at least %u items", min);
  if (n > max)
    return fail(c, path, "too many items (%u, at most %u)", n, max);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; i < n; i++) {
    g_autofree char *p = idx(path, i);
    g_autofree char *s = NULL;
    if (!get_string(c, p, json_array_get_element(a, i), max_len, FALSE, &s))
      return FALSE;
    if (check != NULL && !check(c, p, s))
      return FALSE;
    g_strv_builder_add(b, s);
  }
  *out = g_strv_builder_end(b);
  return TRUE;
}

static gboolean
member_strv(Ctx *c, const char *path, JsonObject *obj, const char *key, guint min, guint max,
            gsize max_len, ItemCheck check, char ***out)
{
  if (!json_object_has_member(obj, key))
    return TRUE;
  g_autofree char *p = sub(path, key);
  return get_strv(c, p, json_object_get_member(obj, key), min, max, max_len, check, out);
}

static JsonObject *
get_object(Ctx *c, const char *path, JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
    fail(c, path, "must be an object, not %s", json_type_name(node));
    return NULL;
  }
  return json_node_get_object(node);
}

/* ---- item checks ---- */

static gboolean
check_selector(Ctx *c, const char *path, const char *s)
{
  const char *why = ar_recipe_css_check(s);
  return why == NULL ? TRUE : fail(c, path, "%s", why);
}

static gboolean
check_source(Ctx *c, const char *path, const char *s)
{
  if (strchr(s, '/') == NULL)
    return fail(c, path, "cite a URL (https://...) or a file (/usr/share/..., docs/...)");
  if (strchr(s, ' ') != NULL)
    return fail(c, path, "a URL has no spaces");
  return TRUE;
}

static gboolean
is_id(const char *s, gsize max)
{
  gsize n = strlen(s);
  if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-')
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
check_provider(Ctx *c, const char *path, const char *s)
{
  if (!g_strv_contains(ar_link_provider_ids(), s))
    return fail(c, path, "\"%s\" is not a provider id of the link module", s);
  return TRUE;
}

static gboolean
is_dns_name(const char *s)
{
  gsize n = strlen(s);
  if (n == 0 || n > 253 || strchr(s, '.') == NULL)
    return FALSE;
  g_auto(GStrv) labels = g_strsplit(s, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++) {
    gsize l = strlen(labels[i]);
    if (l == 0 || l > 63 || labels[i][0] == '-' || labels[i][l - 1] == '-')
      return FALSE;
    for (const char *p = labels[i]; *p; p++)
      if (!(g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '-'))
        return FALSE;
  }
  return TRUE;
}

static gboolean
is_host(const char *s)
{
  if (g_str_equal(s, "localhost"))
    return TRUE;
  if (g_hostname_is_ip_address(s))
    return strchr(s, ':') == NULL; /* IPv4 literals; IPv6 needs brackets in URLs */
  return is_dns_name(s);
}

static gboolean
check_host_pattern(Ctx *c, const char *path, const char *s)
{
  const char *h = g_str_has_prefix(s, "*.") ? s + 2 : s;
  if (!is_host(h) || (h != s && g_hostname_is_ip_address(h)))
    return fail(c, path, "\"%s\" is not a lower-case host name, IPv4 address or *.domain", s);
  return TRUE;
}

static gboolean
is_loopback(const char *host)
{
  return g_str_equal(host, "localhost") || g_str_has_prefix(host, "127.") ||
         g_str_equal(host, "[::1]");
}

static gboolean
check_origin(Ctx *c, const char *path, const char *s)
{
  if (g_str_equal(s, "{link}"))
    return TRUE;
  const char *rest;
  gboolean http = FALSE;
  if (g_str_has_prefix(s, "https://")) {
    rest = s + 8;
  } else if (g_str_has_prefix(s, "http://")) {
    rest = s + 7;
    http = TRUE;
  } else {
    return fail(c, path, "\"%s\" is not https://host[:port], https://*.domain or {link}", s);
  }
  g_autofree char *host = g_strdup(rest);
  char *colon = strrchr(host, ':');
  if (colon != NULL) {
    guint64 port = 0;
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
      return fail(c, path, "\"%s\": bad port", s);
    *colon = '\0';
  }
  const char *h = g_str_has_prefix(host, "*.") ? host + 2 : host;
  if (!(is_host(h) && !(h != host && g_hostname_is_ip_address(h))) && !g_str_equal(host, "[::1]"))
    return fail(c, path, "\"%s\" is not https://host[:port], https://*.domain or {link}", s);
  if (http && !is_loopback(host))
    return fail(c, path, "\"%s\": http:// only for loopback addresses (use https://)", s);
  return TRUE;
}

static gboolean
check_param_name(Ctx *c, const char *path, const char *s)
{
  if (strlen(s) > 64)
    return fail(c, path, "parameter name too long");
  for (const char *p = s; *p; p++)
    if (!(g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.'))
      return fail(c, path, "\"%s\" is not a parameter name (letters, digits, - _ .)", s);
  return TRUE;
}

/* Templates: "{name}" placeholders out of ALLOWED, no stray braces. */
static gboolean
check_template(Ctx *c, const char *path, const char *s, const char *const *allowed)
{
  for (const char *p = s; *p;) {
    if (*p == '}')
      return fail(c, path, "stray '}'");
    if (*p != '{') {
      p++;
      continue;
    }
    const char *end = strchr(p, '}');
    if (end == NULL)
      return fail(c, path, "unclosed '{'");
    g_autofree char *name = g_strndup(p + 1, end - p - 1);
    if (!g_strv_contains(allowed, name)) {
      g_autofree char *list = g_strjoinv("}, {", (char **)allowed);
      return fail(c, path, "unknown placeholder {%s} (known: {%s})", name, list);
    }
    p = end + 1;
  }
  return TRUE;
}

static const char *const value_placeholders[] = {"display-name", "meeting-id", "passcode", NULL};
static const char *const fill_placeholders[] = {"display-name", "room-email", NULL};
static const char *const base_placeholders[] = {"origin", "path", "meeting-id", "passcode", NULL};

static const char *const fragment_keys[] = {
    "config.prejoinConfig.enabled", "config.prejoinPageEnabled",
    "config.startWithAudioMuted",   "config.startWithVideoMuted",
    "config.defaultLanguage",       "config.disableDeepLinking",
    "userInfo.displayName",         NULL,
};

gboolean
ar_recipe_fragment_key_allowed(const char *key)
{
  return g_strv_contains(fragment_keys, key);
}

/* ---- steps ---- */

static gboolean
parse_action(Ctx *c, const char *path, JsonObject *o, ArRecipeAction *out)
{
  g_autofree char *p = sub(path, "action");
  g_autofree char *s = NULL;
  if (!get_string(c, p, json_object_get_member(o, "action"), 32, FALSE, &s))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(action_names); i++) {
    if (g_str_equal(s, action_names[i])) {
      *out = i;
      return TRUE;
    }
  }
  return fail(c, p, "\"%s\" is not an action (wait-for, click, fill, toggle, press, script)", s);
}

static gboolean
parse_step(Ctx *c, const char *path, JsonNode *node, ArRecipeStep *st)
{
  static const char *const all[] = {
      "action", "selectors", "frame",  "text",     "value",      "typing", "key",
      "want",   "state",     "script", "optional", "timeout-ms", "note",   NULL,
  };
  static const char *const allowed_by_action[][9] = {
      [AR_RECIPE_ACTION_WAIT_FOR] = {"selectors", "frame", "text", NULL},
      [AR_RECIPE_ACTION_CLICK] = {"selectors", "frame", "text", NULL},
      [AR_RECIPE_ACTION_FILL] = {"selectors", "frame", "value", "typing", NULL},
      [AR_RECIPE_ACTION_TOGGLE] = {"selectors", "frame", "text", "want", "state", NULL},
      [AR_RECIPE_ACTION_PRESS] = {"selectors", "frame", "key", NULL},
      [AR_RECIPE_ACTION_SCRIPT] = {"script", NULL},
  };
  static const char *const common[] = {"action", "optional", "timeout-ms", "note", NULL};
  static const char *const required[] = {"action", NULL};

  memset(st, 0, sizeof(*st)); /* cleared by the caller even when this fails */
  JsonObject *o = get_object(c, path, node);
  if (o == NULL || !check_keys(c, path, o, all, required))
    return FALSE;
  st->type_keys = TRUE;
  st->timeout_ms = AR_RECIPE_DEFAULT_TIMEOUT_MS;
  if (!parse_action(c, path, o, &st->action))
    return FALSE;

  /* Keys that do not apply to this action are refused: they would be ignored. */
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l != NULL; l = l->next) {
    if (g_strv_contains(common, l->data) || g_strv_contains(allowed_by_action[st->action], l->data))
      continue;
    g_autofree char *p = sub(path, l->data);
    return fail(c, p, "not used by action %s", action_names[st->action]);
  }

  if (!member_strv(c, path, o, "selectors", 1, AR_RECIPE_MAX_SELECTORS, AR_RECIPE_MAX_SELECTOR_LEN,
                   check_selector, &st->selectors) ||
      !member_string(c, path, o, "frame", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &st->frame) ||
      !member_string(c, path, o, "text", MAX_TEXT_LEN, FALSE, &st->text) ||
      !member_string(c, path, o, "value", MAX_TEXT_LEN, FALSE, &st->value) ||
      !member_string(c, path, o, "key", 16, FALSE, &st->key) ||
      !member_string(c, path, o, "script", MAX_SCRIPT_LEN, TRUE, &st->script) ||
      !member_string(c, path, o, "note", MAX_NOTE_LEN, TRUE, &st->note))
    return FALSE;
  if (st->frame != NULL) {
    g_autofree char *p = sub(path, "frame");
    if (!check_selector(c, p, st->frame))
      return FALSE;
  }
  if (json_object_has_member(o, "optional")) {
    g_autofree char *p = sub(path, "optional");
    if (!get_bool(c, p, json_object_get_member(o, "optional"), &st->optional))
      return FALSE;
  }
  if (json_object_has_member(o, "timeout-ms")) {
    g_autofree char *p = sub(path, "timeout-ms");
    if (!get_uint(c, p, json_object_get_member(o, "timeout-ms"), 100, AR_RECIPE_MAX_TIMEOUT_MS,
                  &st->timeout_ms))
      return FALSE;
  }

  switch (st->action) {
  case AR_RECIPE_ACTION_WAIT_FOR:
  case AR_RECIPE_ACTION_CLICK:
  case AR_RECIPE_ACTION_FILL:
  case AR_RECIPE_ACTION_TOGGLE:
    if (st->selectors == NULL) {
      g_autofree char *p = sub(path, "selectors");
      return fail(c, p, "missing (action %s needs an element)", action_names[st->action]);
    }
    break;
  case AR_RECIPE_ACTION_PRESS:
    if (st->key == NULL) {
      g_autofree char *p = sub(path, "key");
      return fail(c, p, "missing");
    }
    if (!g_strv_contains((const char *const[]){"Enter", "Escape", "Tab", "Space", NULL}, st->key)) {
      g_autofree char *p = sub(path, "key");
      return fail(c, p, "\"%s\" is not one of Enter, Escape, Tab, Space", st->key);
    }
    break;
  case AR_RECIPE_ACTION_SCRIPT:
    if (st->script == NULL) {
      g_autofree char *p = sub(path, "script");
      return fail(c, p, "missing");
    }
    break;
  }
  if (st->selectors == NULL)
    st->selectors = g_new0(char *, 1);

  if (st->action == AR_RECIPE_ACTION_FILL) {
    g_autofree char *p = sub(path, "value");
    if (st->value == NULL)
      return fail(c, p, "missing");
    if (!check_template(c, p, st->value, fill_placeholders))
      return FALSE;
    if (json_object_has_member(o, "typing")) {
      g_autofree char *tp = sub(path, "typing");
      g_autofree char *t = NULL;
      if (!get_string(c, tp, json_object_get_member(o, "typing"), 8, FALSE, &t))
        return FALSE;
      if (g_str_equal(t, "keys"))
        st->type_keys = TRUE;
      else if (g_str_equal(t, "set"))
        st->type_keys = FALSE;
      else
        return fail(c, tp, "\"%s\" is not \"keys\" or \"set\"", t);
    }
  }

  if (st->action == AR_RECIPE_ACTION_TOGGLE) {
    static const char *const state_keys[] = {"attribute", "on", "off", NULL};
    g_autofree char *wp = sub(path, "want");
    g_autofree char *want = NULL;
    if (!json_object_has_member(o, "want"))
      return fail(c, wp, "missing (\"on\" or \"off\")");
    if (!get_string(c, wp, json_object_get_member(o, "want"), 8, FALSE, &want))
      return FALSE;
    if (!g_str_equal(want, "on") && !g_str_equal(want, "off"))
      return fail(c, wp, "\"%s\" is not \"on\" or \"off\"", want);
    st->want_on = g_str_equal(want, "on");

    g_autofree char *sp = sub(path, "state");
    if (!json_object_has_member(o, "state"))
      return fail(c, sp, "missing (a toggle reads the element's state before clicking)");
    JsonObject *so = get_object(c, sp, json_object_get_member(o, "state"));
    if (so == NULL || !check_keys(c, sp, so, state_keys, state_keys))
      return FALSE;
    if (!member_string(c, sp, so, "attribute", 64, FALSE, &st->state_attribute) ||
        !member_strv(c, sp, so, "on", 1, MAX_TOGGLE_WORDS, 64, NULL, &st->state_on) ||
        !member_strv(c, sp, so, "off", 1, MAX_TOGGLE_WORDS, 64, NULL, &st->state_off))
      return FALSE;
    g_autofree char *ap = sub(sp, "attribute");
    if (!g_str_equal(st->state_attribute, "text") && !check_param_name(c, ap, st->state_attribute))
      return FALSE;
  }
  return TRUE;
}

static gboolean
parse_steps(Ctx *c, const char *path, JsonNode *node, guint max, GArray *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
    return fail(c, path, "must be a list, not %s", json_type_name(node));
  JsonArray *a = json_node_get_array(node);
  guint n = json_array_get_length(a);
  if (n > max)
    return fail(c, path, "too many steps (%u, at most %u)", n, max);
  for (guint i = 0; i < n; i++) {
    g_autofree char *p = idx(path, i);
    ArRecipeStep st = {0};
    if (!parse_step(c, p, json_array_get_element(a, i), &st)) {
      step_clear(&st);
      return FALSE;
    }
    g_array_append_val(out, st);
  }
  return TRUE;
}

/* ---- probes and controls ---- */

static gboolean
parse_probe(Ctx *c, const char *path, JsonNode *node, ArRecipeState state, ArRecipeProbe *pr)
{
  static const char *const keys[] = {"selectors", "texts",          "script", "frame",
                                     "message",   "not-applicable", "note",   NULL};
  JsonObject *o = get_object(c, path, node);
  if (o == NULL || !check_keys(c, path, o, keys, NULL))
    return FALSE;
  g_autofree char *note = NULL;
  if (!member_string(c, path, o, "note", MAX_NOTE_LEN, TRUE, &note))
    return FALSE;
  if (json_object_has_member(o, "not-applicable")) {
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l != NULL; l = l->next) {
      if (!g_str_equal(l->data, "not-applicable") && !g_str_equal(l->data, "note")) {
        g_autofree char *p = sub(path, l->data);
        return fail(c, p, "a state marked not-applicable has no probe");
      }
    }
    pr->applicable = FALSE;
    return member_string(c, path, o, "not-applicable", MAX_NOTE_LEN, FALSE, &pr->reason);
  }
  pr->applicable = TRUE;
  if (!member_strv(c, path, o, "selectors", 1, AR_RECIPE_MAX_SELECTORS, AR_RECIPE_MAX_SELECTOR_LEN,
                   check_selector, &pr->selectors) ||
      !member_strv(c, path, o, "texts", 1, MAX_TEXTS, MAX_TEXT_LEN, NULL, &pr->texts) ||
      !member_string(c, path, o, "script", MAX_SCRIPT_LEN, TRUE, &pr->script) ||
      !member_string(c, path, o, "frame", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &pr->frame) ||
      !member_string(c, path, o, "message", MAX_MESSAGE_LEN, FALSE, &pr->message))
    return FALSE;
  if (pr->frame != NULL) {
    g_autofree char *p = sub(path, "frame");
    if (!check_selector(c, p, pr->frame))
      return FALSE;
  }
  if (pr->selectors == NULL && pr->texts == NULL && pr->script == NULL)
    return fail(c, path, "give selectors, texts or a script (or \"not-applicable\": reason)");
  if (ar_recipe_state_is_failure(state) && pr->message == NULL) {
    g_autofree char *p = sub(path, "message");
    return fail(c, p, "missing (a failure state needs words for people)");
  }
  if (pr->selectors == NULL)
    pr->selectors = g_new0(char *, 1);
  if (pr->texts == NULL)
    pr->texts = g_new0(char *, 1);
  return TRUE;
}

static gboolean
parse_control(Ctx *c, const char *path, JsonNode *node, ArRecipeControlSpec *cs)
{
  JsonObject *o = get_object(c, path, node);
  if (o == NULL)
    return FALSE;
  if (json_object_has_member(o, "not-applicable")) {
    static const char *const keys[] = {"not-applicable", "note", NULL};
    g_autofree char *note = NULL;
    if (!check_keys(c, path, o, keys, NULL) ||
        !member_string(c, path, o, "note", MAX_NOTE_LEN, TRUE, &note))
      return FALSE;
    cs->applicable = FALSE;
    return member_string(c, path, o, "not-applicable", MAX_NOTE_LEN, FALSE, &cs->reason);
  }
  cs->applicable = TRUE;
  cs->step = g_new0(ArRecipeStep, 1);
  if (!parse_step(c, path, node, cs->step))
    return FALSE;
  if (cs->step->action == AR_RECIPE_ACTION_WAIT_FOR || cs->step->action == AR_RECIPE_ACTION_FILL) {
    g_autofree char *p = sub(path, "action");
    return fail(c, p, "a control clicks, toggles, presses a key or runs a script");
  }
  return TRUE;
}

/* The participants probe: where the page lists who is in the call. */
static gboolean
parse_participants(Ctx *c, ArRecipe *r, JsonNode *node)
{
  static const char *const keys[] = {
      "selectors",           "frame", "name", "name-attribute", "id-attribute", "self", "count",
      "count-includes-self", "note",  NULL,
  };
  static const char *const selector_keys[] = {"frame", "name", "self", "count", NULL};
  const char *path = "participants";
  JsonObject *o = get_object(c, path, node);
  if (o == NULL || !check_keys(c, path, o, keys, NULL))
    return FALSE;
  ArRecipeParticipants *pp = g_new0(ArRecipeParticipants, 1);
  r->participants = pp; /* freed with the recipe, also when this fails */
  pp->count_includes_self = TRUE;
  g_autofree char *note = NULL;
  if (!member_strv(c, path, o, "selectors", 1, AR_RECIPE_MAX_SELECTORS, AR_RECIPE_MAX_SELECTOR_LEN,
                   check_selector, &pp->selectors) ||
      !member_string(c, path, o, "frame", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &pp->frame) ||
      !member_string(c, path, o, "name", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &pp->name) ||
      !member_string(c, path, o, "name-attribute", 64, FALSE, &pp->name_attribute) ||
      !member_string(c, path, o, "id-attribute", 64, FALSE, &pp->id_attribute) ||
      !member_string(c, path, o, "self", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &pp->self) ||
      !member_string(c, path, o, "count", AR_RECIPE_MAX_SELECTOR_LEN, FALSE, &pp->count) ||
      !member_string(c, path, o, "note", MAX_NOTE_LEN, TRUE, &note))
    return FALSE;
  char *const selector_values[] = {pp->frame, pp->name, pp->self, pp->count};
  for (guint i = 0; selector_keys[i] != NULL; i++) {
    g_autofree char *p = sub(path, selector_keys[i]);
    if (selector_values[i] != NULL && !check_selector(c, p, selector_values[i]))
      return FALSE;
  }
  if (pp->name_attribute != NULL &&
      !check_param_name(c, "participants.name-attribute", pp->name_attribute))
    return FALSE;
  if (pp->id_attribute != NULL &&
      !check_param_name(c, "participants.id-attribute", pp->id_attribute))
    return FALSE;
  if (json_object_has_member(o, "count-includes-self") &&
      !get_bool(c, "participants.count-includes-self",
                json_object_get_member(o, "count-includes-self"), &pp->count_includes_self))
    return FALSE;
  if (pp->selectors == NULL && pp->count == NULL)
    return fail(c, path, "give selectors (one element per participant) or a count");
  if (pp->selectors == NULL) {
    pp->selectors = g_new0(char *, 1);
    const char *const per_element[] = {"name", "name-attribute", "id-attribute", "self", NULL};
    for (guint i = 0; per_element[i] != NULL; i++) {
      if (json_object_has_member(o, per_element[i])) {
        g_autofree char *p = sub(path, per_element[i]);
        return fail(c, p, "needs selectors (it is read from each participant's element)");
      }
    }
  }
  return TRUE;
}

/* ---- the recipe ---- */

static gboolean
parse_serves(Ctx *c, ArRecipe *r, JsonNode *node)
{
  static const char *const keys[] = {"providers", "hosts", "fallback", NULL};
  JsonObject *o = get_object(c, "serves", node);
  if (o == NULL || !check_keys(c, "serves", o, keys, NULL))
    return FALSE;
  if (json_object_get_size(o) != 1)
    return fail(c, "serves", "give exactly one of providers, hosts or fallback");
  if (!member_strv(c, "serves", o, "providers", 1, MAX_SERVES, 32, check_provider, &r->providers) ||
      !member_strv(c, "serves", o, "hosts", 1, MAX_SERVES, 255, check_host_pattern, &r->hosts))
    return FALSE;
  if (json_object_has_member(o, "fallback")) {
    if (!get_bool(c, "serves.fallback", json_object_get_member(o, "fallback"), &r->fallback))
      return FALSE;
    if (!r->fallback)
      return fail(c, "serves.fallback", "must be true when given");
  }
  if (r->providers == NULL)
    r->providers = g_new0(char *, 1);
  if (r->hosts == NULL)
    r->hosts = g_new0(char *, 1);
  return TRUE;
}

static gboolean
parse_join_url(Ctx *c, ArRecipe *r, JsonNode *node)
{
  static const char *const keys[] = {"base", "keep-query", "query", "fragment", NULL};
  static const char *const required[] = {"base", NULL};
  JsonObject *o = get_object(c, "join-url", node);
  if (o == NULL || !check_keys(c, "join-url", o, keys, required))
    return FALSE;
  if (!member_string(c, "join-url", o, "base", MAX_TEMPLATE_LEN, FALSE, &r->base) ||
      !check_template(c, "join-url.base", r->base, base_placeholders))
    return FALSE;
  if (!g_str_has_prefix(r->base, "{origin}") && !g_str_has_prefix(r->base, "https://"))
    return fail(c, "join-url.base", "must start with {origin} or https://");
  if (strchr(r->base, '?') != NULL || strchr(r->base, '#') != NULL)
    return fail(c, "join-url.base", "no '?' or '#' here: use query and fragment");
  JsonNode *kq = json_object_get_member(o, "keep-query");
  if (kq != NULL && JSON_NODE_HOLDS_VALUE(kq) && json_node_get_value_type(kq) == G_TYPE_STRING) {
    /* "all": the link's whole query, re-encoded (for self-hosted apps) */
    if (!g_str_equal(json_node_get_string(kq), "all"))
      return fail(c, "join-url.keep-query", "a list of parameter names, or \"all\"");
    r->keep_all_query = TRUE;
  } else if (!member_strv(c, "join-url", o, "keep-query", 1, MAX_PARAMS, 64, check_param_name,
                          &r->keep_query)) {
    return FALSE;
  }
  if (r->keep_query == NULL)
    r->keep_query = g_new0(char *, 1);

  r->query = g_ptr_array_new_with_free_func(param_free);
  if (json_object_has_member(o, "query")) {
    JsonObject *q = get_object(c, "join-url.query", json_object_get_member(o, "query"));
    if (q == NULL)
      return FALSE;
    if (json_object_get_size(q) > MAX_PARAMS)
      return fail(c, "join-url.query", "too many parameters (at most %d)", MAX_PARAMS);
    g_autoptr(GList) members = json_object_get_members(q);
    for (GList *l = members; l != NULL; l = l->next) {
      g_autofree char *p = sub("join-url.query", l->data);
      g_autofree char *v = NULL;
      if (!check_param_name(c, p, l->data))
        return FALSE;
      if (g_strv_contains((const char *const *)r->keep_query, l->data))
        return fail(c, p, "also in keep-query");
      JsonNode *vn = json_object_get_member(q, l->data);
      if (vn != NULL && JSON_NODE_HOLDS_VALUE(vn) &&
          json_node_get_value_type(vn) == G_TYPE_BOOLEAN) {
        /* true: a flag without a value ("?minimal") */
        if (!json_node_get_boolean(vn))
          return fail(c, p, "a flag is true (leave it out otherwise)");
      } else if (!get_string(c, p, vn, MAX_TEMPLATE_LEN, FALSE, &v) ||
                 !check_template(c, p, v, value_placeholders)) {
        return FALSE;
      }
      ArRecipeParam *param = g_new0(ArRecipeParam, 1);
      param->key = g_strdup(l->data);
      param->value = g_steal_pointer(&v);
      g_ptr_array_add(r->query, param);
    }
  }

  r->fragment = g_ptr_array_new_with_free_func(fragment_param_free);
  if (json_object_has_member(o, "fragment")) {
    JsonObject *f = get_object(c, "join-url.fragment", json_object_get_member(o, "fragment"));
    if (f == NULL)
      return FALSE;
    g_autoptr(GList) members = json_object_get_members(f);
    for (GList *l = members; l != NULL; l = l->next) {
      g_autofree char *p = sub("join-url.fragment", l->data);
      if (!ar_recipe_fragment_key_allowed(l->data)) {
        g_autofree char *list = g_strjoinv(", ", (char **)fragment_keys);
        return fail(c, p, "not one of the fixed fragment keys (%s)", list);
      }
      JsonNode *v = json_object_get_member(f, l->data);
      if (v == NULL || !JSON_NODE_HOLDS_VALUE(v) ||
          (json_node_get_value_type(v) != G_TYPE_BOOLEAN &&
           json_node_get_value_type(v) != G_TYPE_INT64 &&
           json_node_get_value_type(v) != G_TYPE_STRING))
        return fail(c, p, "must be true/false, a whole number or a string, not %s",
                    json_type_name(v));
      if (json_node_get_value_type(v) == G_TYPE_STRING) {
        g_autofree char *s = NULL;
        if (!get_string(c, p, v, MAX_TEMPLATE_LEN, FALSE, &s) ||
            !check_template(c, p, s, value_placeholders))
          return FALSE;
      }
      ArRecipeFragmentParam *param = g_new0(ArRecipeFragmentParam, 1);
      param->key = g_strdup(l->data);
      param->value = json_node_copy(v);
      g_ptr_array_add(r->fragment, param);
    }
  }
  return TRUE;
}

static gboolean
parse_display_name(Ctx *c, ArRecipe *r, JsonObject *root)
{
  static const char *const keys[] = {"max-length", "characters", "fallback", NULL};
  r->name_max_len = 64;
  r->name_chars = AR_RECIPE_CHARS_ANY;
  if (!json_object_has_member(root, "display-name"))
    return TRUE;
  JsonObject *o = get_object(c, "display-name", json_object_get_member(root, "display-name"));
  if (o == NULL || !check_keys(c, "display-name", o, keys, NULL))
    return FALSE;
  if (json_object_has_member(o, "max-length") &&
      !get_uint(c, "display-name.max-length", json_object_get_member(o, "max-length"), 1,
                MAX_DISPLAY_NAME_LEN, &r->name_max_len))
    return FALSE;
  if (!member_string(c, "display-name", o, "fallback", MAX_DISPLAY_NAME_LEN, FALSE,
                     &r->name_fallback))
    return FALSE;
  if (json_object_has_member(o, "characters")) {
    g_autofree char *s = NULL;
    if (!get_string(c, "display-name.characters", json_object_get_member(o, "characters"), 32,
                    FALSE, &s))
      return FALSE;
    if (g_str_equal(s, "any"))
      r->name_chars = AR_RECIPE_CHARS_ANY;
    else if (g_str_equal(s, "letters-digits"))
      r->name_chars = AR_RECIPE_CHARS_LETTERS_DIGITS;
    else if (g_str_equal(s, "letters-digits-spaces"))
      r->name_chars = AR_RECIPE_CHARS_LETTERS_DIGITS_SPACES;
    else
      return fail(c, "display-name.characters",
                  "\"%s\" is not any, letters-digits or letters-digits-spaces", s);
  }
  return TRUE;
}

/* A pass over the JSON text before json-glib sees it: the nesting depth
 * (json-glib's parser recurses; a deep file must be refused first), and keys
 * given twice in one object (json-glib keeps the last one silently, which
 * would hide a mistake such as two "selectors"). Keys are compared as written.
 * Malformed text is left to json-glib. NULL if fine, else why not. */
static char *
prescan(const char *data, gsize len, gboolean *too_deep)
{
  GHashTable *keys[MAX_DEPTH + 1] = {NULL}; /* per open object; NULL for lists */
  gboolean expect_key[MAX_DEPTH + 1] = {FALSE};
  guint depth = 0;
  char *why = NULL;
  *too_deep = FALSE;
  for (gsize i = 0; i < len && why == NULL; i++) {
    char ch = data[i];
    if (ch == '"') {
      gsize start = ++i;
      while (i < len && data[i] != '"')
        i += data[i] == '\\' ? 2 : 1;
      if (i >= len)
        break;
      if (depth > 0 && keys[depth] != NULL && expect_key[depth]) {
        expect_key[depth] = FALSE;
        char *key = g_strndup(data + start, i - start);
        if (!g_hash_table_add(keys[depth], key))
          why = g_strdup_printf("key \"%.64s\" given twice in one object", key);
      }
    } else if (ch == '{' || ch == '[') {
      if (++depth > MAX_DEPTH) {
        *too_deep = TRUE;
        why = g_strdup_printf("nested deeper than %d levels", MAX_DEPTH);
        depth--;
        break;
      }
      keys[depth] = ch == '{' ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) : NULL;
      expect_key[depth] = ch == '{';
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      g_clear_pointer(&keys[depth], g_hash_table_unref);
      depth--;
    } else if (ch == ',' && depth > 0 && keys[depth] != NULL) {
      expect_key[depth] = TRUE;
    }
  }
  for (guint d = 0; d <= MAX_DEPTH; d++)
    g_clear_pointer(&keys[d], g_hash_table_unref);
  return why;
}

static gboolean
parse_root(Ctx *c, ArRecipe *r, JsonNode *root_node, const char *expected_id)
{
  static const char *const keys[] = {
      "format",   "id",           "name",
      "sources",  "serves",       "origins",
      "join-url", "display-name", "needs-attention-at-once",
      "steps",    "probes",       "controls",
      "leave",    "notes",        "participants",
      NULL,
  };
  static const char *const required[] = {
      "format",   "id",     "name",     "sources", "serves", "origins",
      "join-url", "probes", "controls", "leave",   NULL,
  };
  JsonObject *root = get_object(c, "", root_node);
  if (root == NULL || !check_keys(c, "", root, keys, required))
    return FALSE;

  guint format = 0;
  if (!get_uint(c, "format", json_object_get_member(root, "format"), 0, 1000, &format))
    return FALSE;
  if (format != 1)
    return fail(c, "format", "format %u is not known (this firmware reads format 1)", format);

  if (!get_string(c, "id", json_object_get_member(root, "id"), 32, FALSE, &r->id))
    return FALSE;
  if (!is_id(r->id, 32))
    return fail(c, "id", "\"%s\" is not an id (lower-case letters, digits and '-')", r->id);
  if (expected_id != NULL && !g_str_equal(r->id, expected_id))
    return fail(c, "id", "\"%s\" does not match the file name (%s.json)", r->id, expected_id);
  g_autofree char *notes = NULL;
  if (!member_string(c, "", root, "name", MAX_NAME_LEN, FALSE, &r->name) ||
      !member_strv(c, "", root, "sources", 1, MAX_SOURCES, MAX_SOURCE_LEN, check_source,
                   &r->sources) ||
      !member_string(c, "", root, "notes", MAX_NOTE_LEN * 4, TRUE, &notes) ||
      !parse_serves(c, r, json_object_get_member(root, "serves")) ||
      !member_strv(c, "", root, "origins", 1, MAX_ORIGINS, MAX_ORIGIN_LEN, check_origin,
                   &r->origins) ||
      !parse_join_url(c, r, json_object_get_member(root, "join-url")) ||
      !parse_display_name(c, r, root))
    return FALSE;

  /* An administrator's app: each of its hosts must be an allowed origin. */
  for (guint i = 0; r->hosts[i] != NULL; i++) {
    gboolean covered = g_strv_contains((const char *const *)r->origins, "{link}");
    for (guint j = 0; !covered && r->origins[j] != NULL; j++) {
      const char *o = strstr(r->origins[j], "://") + 3;
      g_autofree char *h = g_strdup(o);
      char *colon = strrchr(h, ':');
      if (colon != NULL && h[0] != '[')
        *colon = '\0';
      covered = g_str_equal(h, r->hosts[i]) ||
                (!g_str_has_prefix(r->hosts[i], "*.") && ar_recipe_host_matches(h, r->hosts[i]));
    }
    if (!covered) {
      g_autofree char *p = idx("serves.hosts", i);
      return fail(c, p, "\"%s\" is not among the origins", r->hosts[i]);
    }
  }

  if (json_object_has_member(root, "needs-attention-at-once") &&
      !get_bool(c, "needs-attention-at-once",
                json_object_get_member(root, "needs-attention-at-once"), &r->attention_at_once))
    return FALSE;

  r->steps = g_array_new(FALSE, TRUE, sizeof(ArRecipeStep));
  g_array_set_clear_func(r->steps, (GDestroyNotify)step_clear);
  r->leave = g_array_new(FALSE, TRUE, sizeof(ArRecipeStep));
  g_array_set_clear_func(r->leave, (GDestroyNotify)step_clear);
  if (json_object_has_member(root, "steps") &&
      !parse_steps(c, "steps", json_object_get_member(root, "steps"), AR_RECIPE_MAX_STEPS,
                   r->steps))
    return FALSE;
  if (!parse_steps(c, "leave", json_object_get_member(root, "leave"), MAX_LEAVE_STEPS, r->leave))
    return FALSE;

  /* Every state: a probe or "not-applicable" with a reason. */
  JsonObject *probes = get_object(c, "probes", json_object_get_member(root, "probes"));
  if (probes == NULL || !check_keys(c, "probes", probes, state_names, NULL))
    return FALSE;
  for (guint i = 0; i < AR_RECIPE_N_STATES; i++) {
    g_autofree char *p = sub("probes", state_names[i]);
    if (!json_object_has_member(probes, state_names[i]))
      return fail(c, p, "missing (give a probe, or \"not-applicable\": reason)");
    if (!parse_probe(c, p, json_object_get_member(probes, state_names[i]), i, &r->probes[i]))
      return FALSE;
  }
  if (!r->probes[AR_RECIPE_STATE_IN_CALL].applicable && !r->attention_at_once)
    return fail(c, "probes.in-call",
                "only a recipe that hands the page to a person at once "
                "may have no in-call probe");

  if (json_object_has_member(root, "participants") &&
      !parse_participants(c, r, json_object_get_member(root, "participants")))
    return FALSE;

  JsonObject *controls = get_object(c, "controls", json_object_get_member(root, "controls"));
  if (controls == NULL || !check_keys(c, "controls", controls, control_names, control_names))
    return FALSE;
  for (guint i = 0; i < AR_RECIPE_N_CONTROLS; i++) {
    g_autofree char *p = sub("controls", control_names[i]);
    if (!parse_control(c, p, json_object_get_member(controls, control_names[i]), &r->controls[i]))
      return FALSE;
  }
  return TRUE;
}

ArRecipe *
ar_recipe_new_from_data(const char *name, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(name != NULL, NULL);
  g_return_val_if_fail(data != NULL || len == 0, NULL);
  g_autofree char *base = g_path_get_basename(name);
  Ctx c = {.file = base, .error = error};

  if (len > AR_RECIPE_MAX_FILE_SIZE) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_TOO_LARGE,
                "%s: too large (%zu bytes, at most %d)", base, len, AR_RECIPE_MAX_FILE_SIZE);
    return NULL;
  }
  if (!g_str_has_suffix(base, ".json") || strlen(base) <= 5) {
    fail(&c, NULL, "a recipe file is named <id>.json");
    return NULL;
  }
  g_autofree char *expected_id = g_strndup(base, strlen(base) - 5);
  if (memchr(data, '\0', len) != NULL) {
    fail(&c, NULL, "NUL byte in the file");
    return NULL;
  }
  gboolean too_deep = FALSE;
  g_autofree char *why = prescan(data, len, &too_deep);
  if (why != NULL) {
    g_set_error(error, AR_RECIPE_ERROR,
                too_deep ? AR_RECIPE_ERROR_TOO_LARGE : AR_RECIPE_ERROR_INVALID, "%s: %s", base,
                why);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, len ? data : "", len, &local)) {
    fail(&c, NULL, "not JSON: %s", local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL) {
    fail(&c, NULL, "empty file");
    return NULL;
  }

  ArRecipe *r = g_new0(ArRecipe, 1);
  g_atomic_ref_count_init(&r->ref);
  r->file = g_strdup(name);
  if (!parse_root(&c, r, root, expected_id)) {
    ar_recipe_unref(r);
    return NULL;
  }
  return r;
}

ArRecipe *
ar_recipe_new_from_file(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  g_autofree char *base = g_path_get_basename(path);
  /* O_NONBLOCK: a FIFO put in the folder must not hang the daemon; then only
   * regular files are read. Symbolic links are not followed. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO, "%s: cannot open: %s", base,
                g_strerror(e));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO, "%s: not a regular file", base);
    return NULL;
  }
  /* Read at most one byte more than allowed, to tell "too large". */
  g_autofree char *buf = g_malloc(AR_RECIPE_MAX_FILE_SIZE + 1);
  gsize len = 0;
  while (len < AR_RECIPE_MAX_FILE_SIZE + 1) {
    ssize_t n = read(fd, buf + len, AR_RECIPE_MAX_FILE_SIZE + 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO, "%s: cannot read: %s", base,
                  g_strerror(e));
      return NULL;
    }
    if (n == 0)
      break;
    len += n;
  }
  close(fd);
  ArRecipe *r = ar_recipe_new_from_data(path, buf, len, error);
  return r;
}

/* ---- getters ---- */

const char *
ar_recipe_get_id(const ArRecipe *r)
{
  return r->id;
}

const char *
ar_recipe_get_name(const ArRecipe *r)
{
  return r->name;
}

const char *
ar_recipe_get_file(const ArRecipe *r)
{
  return r->file;
}

const char *const *
ar_recipe_get_sources(const ArRecipe *r)
{
  return (const char *const *)r->sources;
}

const char *const *
ar_recipe_get_providers(const ArRecipe *r)
{
  return (const char *const *)r->providers;
}

const char *const *
ar_recipe_get_hosts(const ArRecipe *r)
{
  return (const char *const *)r->hosts;
}

gboolean
ar_recipe_is_fallback(const ArRecipe *r)
{
  return r->fallback;
}

const char *const *
ar_recipe_get_origins(const ArRecipe *r)
{
  return (const char *const *)r->origins;
}

gboolean
ar_recipe_needs_attention_at_once(const ArRecipe *r)
{
  return r->attention_at_once;
}

const ArRecipeStep *
ar_recipe_get_steps(const ArRecipe *r, guint *n_steps)
{
  if (n_steps != NULL)
    *n_steps = r->steps->len;
  return (const ArRecipeStep *)r->steps->data;
}

const ArRecipeStep *
ar_recipe_get_leave(const ArRecipe *r, guint *n_steps)
{
  if (n_steps != NULL)
    *n_steps = r->leave->len;
  return (const ArRecipeStep *)r->leave->data;
}

const ArRecipeProbe *
ar_recipe_get_probe(const ArRecipe *r, ArRecipeState state)
{
  g_return_val_if_fail((guint)state < AR_RECIPE_N_STATES, NULL);
  return &r->probes[state];
}

const ArRecipeControlSpec *
ar_recipe_get_control(const ArRecipe *r, ArRecipeControl control)
{
  g_return_val_if_fail((guint)control < AR_RECIPE_N_CONTROLS, NULL);
  return &r->controls[control];
}

const ArRecipeParticipants *
ar_recipe_get_participants(const ArRecipe *r)
{
  return r->participants;
}

static void
add_step_selectors(GStrvBuilder *b, const ArRecipeStep *st)
{
  if (st == NULL)
    return;
  g_strv_builder_addv(b, (const char **)st->selectors);
  if (st->frame != NULL)
    g_strv_builder_add(b, st->frame);
}

char **
ar_recipe_dup_all_selectors(const ArRecipe *r)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; i < r->steps->len; i++)
    add_step_selectors(b, &g_array_index(r->steps, ArRecipeStep, i));
  for (guint i = 0; i < r->leave->len; i++)
    add_step_selectors(b, &g_array_index(r->leave, ArRecipeStep, i));
  for (guint i = 0; i < AR_RECIPE_N_STATES; i++) {
    const ArRecipeProbe *p = &r->probes[i];
    if (!p->applicable)
      continue;
    g_strv_builder_addv(b, (const char **)p->selectors);
    if (p->frame != NULL)
      g_strv_builder_add(b, p->frame);
  }
  const ArRecipeParticipants *pp = r->participants;
  if (pp != NULL) {
    g_strv_builder_addv(b, (const char **)pp->selectors);
    const char *const more[] = {pp->frame, pp->name, pp->self, pp->count};
    for (guint i = 0; i < G_N_ELEMENTS(more); i++)
      if (more[i] != NULL)
        g_strv_builder_add(b, more[i]);
  }
  for (guint i = 0; i < AR_RECIPE_N_CONTROLS; i++)
    add_step_selectors(b, r->controls[i].step);
  return g_strv_builder_end(b);
}
