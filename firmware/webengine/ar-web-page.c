/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-page.h"

#include "ar-api-call.h"
#include "ar-web-page-init.h"

#include <math.h>
#include <string.h>

/* The one function that acts in the page. It takes a request as JSON data:
 *   {op: "step", action, selectors, frame, text, value, key, want_on,
 *    state_attribute, state_on, state_off}
 *     -> {r: "done" | "not-found" | "unknown"}
 *   {op: "probe", probes: [{state, selectors, texts, frame}]}
 *     -> the first state whose probe matches, or null.
 *   {op: "participants", selectors, frame, name, name_attribute, id_attribute,
 *    self, count, max}
 *     -> {list: [{id, name}], self: N, count: N | null}, or null (no frame).
 *   Participants' elements count when rendered (not display: none, not
 *   hidden), in view or not: a long list scrolls. At most MAX are read; names
 *   and ids are cut here already so that the answer stays small.
 * Elements count only when shown (a size, not hidden); a text matches the
 * element's text, aria-label or value, in any case. */
static const char runtime[] =
    "(function (req) {\n"
    "  'use strict';\n"
    "  function rootOf(frame) {\n"
    "    if (!frame) return document;\n"
    "    let f = null;\n"
    "    try { f = document.querySelector(frame); } catch (e) { return null; }\n"
    "    if (!f) return null;\n"
    "    try { return f.contentDocument || null; } catch (e) { return null; }\n"
    "  }\n"
    "  function shown(el) {\n"
    "    if (!el || !el.getBoundingClientRect) return false;\n"
    "    const r = el.getBoundingClientRect();\n"
    "    if (r.width <= 0 || r.height <= 0) return false;\n"
    "    const view = el.ownerDocument.defaultView || window;\n"
    "    const s = view.getComputedStyle(el);\n"
    "    return s.visibility !== 'hidden' && s.display !== 'none';\n"
    "  }\n"
    "  function textOf(el) {\n"
    "    const label = el.getAttribute ? (el.getAttribute('aria-label') || '') : '';\n"
    "    const value = typeof el.value === 'string' ? el.value : '';\n"
    "    return ((el.innerText || el.textContent || '') + ' ' + label + ' ' + value)"
    ".toLowerCase();\n"
    "  }\n"
    "  function find(spec) {\n"
    "    const root = rootOf(spec.frame);\n"
    "    if (!root) return null;\n"
    "    let sels = spec.selectors || [];\n"
    "    if (!sels.length && spec.text)\n"
    "      sels = ['button', 'a', '[role=\"button\"]', 'input[type=\"submit\"]'];\n"
    "    for (const sel of sels) {\n"
    "      let list;\n"
    "      try { list = root.querySelectorAll(sel); } catch (e) { continue; }\n"
    "      for (const el of list) {\n"
    "        if (!shown(el)) continue;\n"
    "        if (spec.text && !textOf(el).includes(spec.text.toLowerCase())) continue;\n"
    "        return el;\n"
    "      }\n"
    "    }\n"
    "    return null;\n"
    "  }\n"
    "  function setValue(el, v) {\n"
    "    el.focus();\n"
    "    const view = el.ownerDocument.defaultView || window;\n"
    "    const proto = el instanceof view.HTMLTextAreaElement ? "
    "view.HTMLTextAreaElement.prototype\n"
    "      : view.HTMLInputElement.prototype;\n"
    "    const d = Object.getOwnPropertyDescriptor(proto, 'value');\n"
    "    if (d && d.set) d.set.call(el, v); else el.value = v;\n"
    "    el.dispatchEvent(new view.Event('input', { bubbles: true }));\n"
    "    el.dispatchEvent(new view.Event('change', { bubbles: true }));\n"
    "  }\n"
    "  function isOn(el, spec) {\n"
    "    const a = spec.state_attribute || 'aria-pressed';\n"
    "    const v = (a === 'text' ? textOf(el) : (el.getAttribute(a) || '')).toLowerCase();\n"
    "    const has = (list) => (list || []).some((s) => v.includes(String(s).toLowerCase()));\n"
    "    if (has(spec.state_on)) return true;\n"
    "    if (has(spec.state_off)) return false;\n"
    "    return null;\n"
    "  }\n"
    "  function press(el, k) {\n"
    "    const t = el || document.activeElement || document.body;\n"
    "    const key = k === 'Space' ? ' ' : k;\n"
    "    for (const type of ['keydown', 'keypress', 'keyup'])\n"
    "      t.dispatchEvent(new KeyboardEvent(type, { key: key, code: k, bubbles: true }));\n"
    "  }\n"
    "  if (req.op === 'step') {\n"
    "    const needs = req.action !== 'press' || (req.selectors || []).length > 0;\n"
    "    const el = needs ? find(req) : null;\n"
    "    if (needs && !el) return { r: 'not-found' };\n"
    "    switch (req.action) {\n"
    "    case 'wait-for': return { r: 'done' };\n"
    "    case 'click': el.click(); return { r: 'done' };\n"
    "    case 'fill': setValue(el, req.value || ''); return { r: 'done' };\n"
    "    case 'press': press(el, req.key || 'Enter'); return { r: 'done' };\n"
    "    case 'toggle': {\n"
    "      const on = isOn(el, req);\n"
    "      if (on === null) return { r: 'unknown' };\n"
    "      if (on !== !!req.want_on) el.click();\n"
    "      return { r: 'done' };\n"
    "    }\n"
    "    }\n"
    "    return { r: 'unknown' };\n"
    "  }\n"
    "  if (req.op === 'probe') {\n"
    "    const bodyText = (root) => {\n"
    "      try { return (root.body ? root.body.innerText : '').toLowerCase(); }\n"
    "      catch (e) { return ''; }\n"
    "    };\n"
    "    for (const p of req.probes) {\n"
    "      for (const sel of p.selectors || [])\n"
    "        if (find({ selectors: [sel], frame: p.frame })) return p.state;\n"
    "      if ((p.texts || []).length) {\n"
    "        const root = rootOf(p.frame);\n"
    "        const text = root ? bodyText(root) : '';\n"
    "        for (const t of p.texts) if (text.includes(String(t).toLowerCase())) return p.state;\n"
    "      }\n"
    "    }\n"
    "    return null;\n"
    "  }\n"
    "  if (req.op === 'participants') {\n"
    "    const root = rootOf(req.frame);\n"
    "    if (!root) return null;\n"
    "    const rendered = (el) => {\n"
    "      if (!el.getClientRects || el.getClientRects().length === 0) return false;\n"
    "      const view = el.ownerDocument.defaultView || window;\n"
    "      return view.getComputedStyle(el).visibility !== 'hidden';\n"
    "    };\n"
    "    const cut = (v, n) => (typeof v === 'string' ? v.slice(0, n) : null);\n"
    "    const matches = (el, sel) => {\n"
    "      try { return el.matches(sel) || !!el.querySelector(sel); } catch (e) { return false; }\n"
    "    };\n"
    "    let els = [];\n"
    "    for (const sel of req.selectors || []) {\n"
    "      let all;\n"
    "      try { all = root.querySelectorAll(sel); } catch (e) { continue; }\n"
    "      els = [];\n"
    "      for (const el of all) {\n"
    "        if (els.length >= req.max * 2) break;\n"
    "        if (rendered(el)) els.push(el);\n"
    "      }\n"
    "      if (els.length) break;\n"
    "    }\n"
    "    const list = [];\n"
    "    let self = 0;\n"
    "    for (const el of els) {\n"
    "      if (list.length >= req.max) break;\n"
    "      if (req.self && matches(el, req.self)) { self++; continue; }\n"
    "      let n = el;\n"
    "      if (req.name) { try { n = el.querySelector(req.name); } catch (e) { n = null; } }\n"
    "      let name = null;\n"
    "      if (n) name = req.name_attribute ? n.getAttribute(req.name_attribute)\n"
    "                                      : (n.innerText || n.textContent || '');\n"
    "      const id = req.id_attribute ? el.getAttribute(req.id_attribute) : null;\n"
    "      list.push({ id: cut(id, 64), name: cut(name, 128) });\n"
    "    }\n"
    "    let count = null;\n"
    "    if (req.count) {\n"
    "      let c = null;\n"
    "      try { c = root.querySelector(req.count); } catch (e) { c = null; }\n"
    "      const m = c ? String(c.innerText || c.textContent || '').match(/\\d{1,9}/) : null;\n"
    "      if (m) count = Number(m[0]);\n"
    "    }\n"
    "    return { list: list, self: self, count: count };\n"
    "  }\n"
    "  return null;\n"
    "})";

static void
add_strv(JsonBuilder *b, const char *name, char **v)
{
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (guint i = 0; v && v[i]; i++)
    json_builder_add_string_value(b, v[i]);
  json_builder_end_array(b);
}

static char *
call_runtime(JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *req = json_to_string(root, FALSE);
  return g_strdup_printf("%s(%s)", runtime, req);
}

char *
ar_web_page_step_expression(const ArRecipeStep *step, const char *value)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "op", "step");
  ar_json_add_string_or_null(b, "action", ar_recipe_action_to_string(step->action));
  add_strv(b, "selectors", step->selectors);
  ar_json_add_string_or_null(b, "frame", step->frame);
  ar_json_add_string_or_null(b, "text", step->text);
  ar_json_add_string_or_null(b, "value", value);
  ar_json_add_string_or_null(b, "key", step->key);
  json_builder_set_member_name(b, "want_on");
  json_builder_add_boolean_value(b, step->want_on);
  ar_json_add_string_or_null(b, "state_attribute", step->state_attribute);
  add_strv(b, "state_on", step->state_on);
  add_strv(b, "state_off", step->state_off);
  json_builder_end_object(b);
  return call_runtime(b);
}

ArWebStepResult
ar_web_page_step_result(JsonNode *answer)
{
  if (!answer || !JSON_NODE_HOLDS_OBJECT(answer))
    return AR_WEB_STEP_NOT_FOUND;
  const char *r = json_object_get_string_member_with_default(json_node_get_object(answer), "r", "");
  if (g_strcmp0(r, "done") == 0)
    return AR_WEB_STEP_DONE;
  if (g_strcmp0(r, "unknown") == 0)
    return AR_WEB_STEP_UNKNOWN;
  return AR_WEB_STEP_NOT_FOUND;
}

char *
ar_web_page_probe_expression(const ArRecipe *recipe)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "op", "probe");
  json_builder_set_member_name(b, "probes");
  json_builder_begin_array(b);
  for (int s = 0; s < AR_RECIPE_N_STATES; s++) {
    const ArRecipeProbe *p = ar_recipe_get_probe(recipe, (ArRecipeState)s);
    if (!p || !p->applicable)
      continue;
    if ((!p->selectors || !p->selectors[0]) && (!p->texts || !p->texts[0]))
      continue; /* a script alone: ar_web_page_script_probe_expression */
    json_builder_begin_object(b);
    ar_json_add_string_or_null(b, "state", ar_recipe_state_to_string((ArRecipeState)s));
    add_strv(b, "selectors", p->selectors);
    add_strv(b, "texts", p->texts);
    ar_json_add_string_or_null(b, "frame", p->frame);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return call_runtime(b);
}

gboolean
ar_web_page_probe_result(JsonNode *answer, ArRecipeState *out)
{
  if (!answer || !JSON_NODE_HOLDS_VALUE(answer) ||
      json_node_get_value_type(answer) != G_TYPE_STRING)
    return FALSE;
  const char *name = json_node_get_string(answer);
  for (int s = 0; s < AR_RECIPE_N_STATES; s++) {
    if (g_strcmp0(name, ar_recipe_state_to_string((ArRecipeState)s)) == 0) {
      *out = (ArRecipeState)s;
      return TRUE;
    }
  }
  return FALSE;
}

char *
ar_web_page_script_probe_expression(const char *script)
{
  /* The script is the recipe's own code (an administrator's or ours); the
   * page's exceptions count as "no". A syntax error fails the evaluation. */
  return g_strdup_printf("(function () { try { return !!(%s\n); } catch (e) { return false; } })()",
                         script);
}

/* ar-web-page-init.js, built in (embed-js.py). */
const char *
ar_web_page_init_script(void)
{
  return ar_web_page_init_js;
}

const char *
ar_web_page_stats_expression(void)
{
  return "(async () => {\n"
         "  const out = [];\n"
         "  const pcs = (window.__arPeerConnections || []).filter((pc) => pc.connectionState !== "
         "'closed');\n"
         "  for (const [i, pc] of pcs.entries()) {\n"
         "    let report;\n"
         "    try { report = await pc.getStats(); } catch (e) { continue; }\n"
         "    const byId = new Map();\n"
         "    report.forEach((s) => byId.set(s.id, s));\n"
         "    report.forEach((s) => {\n"
         "      if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') return;\n"
         "      const codec = s.codecId && byId.get(s.codecId);\n"
         "      const remote = s.type === 'outbound-rtp' && s.remoteId ? byId.get(s.remoteId) : "
         "null;\n"
         "      out.push({\n"
         "        source: 'pc' + i, kind: s.kind, direction: s.type === 'inbound-rtp' ? 'recv' : "
         "'send',\n"
         "        codec: codec ? String(codec.mimeType || '').replace(/^.*\\//, '') : '',\n"
         "        width: s.frameWidth || 0, height: s.frameHeight || 0,\n"
         "        frames: s.framesDecoded || s.framesEncoded || 0,\n"
         "        packets: s.packetsReceived || s.packetsSent || 0,\n"
         "        bytes: s.bytesReceived || s.bytesSent || 0,\n"
         "        lost: s.packetsLost || (remote && remote.packetsLost) || 0,\n"
         "        nack: s.nackCount || 0, fps: s.framesPerSecond || 0,\n"
         "        rtt: remote && remote.roundTripTime ? remote.roundTripTime * 1000 : -1,\n"
         "        jitter: typeof s.jitter === 'number' ? s.jitter * 1000\n"
         "          : remote && typeof remote.jitter === 'number' ? remote.jitter * 1000 : -1,\n"
         "        level: typeof s.audioLevel === 'number' ? s.audioLevel : -1,\n"
         "        freezes: s.freezeCount || 0,\n"
         "        freeze_ms: (s.totalFreezesDuration || 0) * 1000, ts: s.timestamp,\n"
         "      });\n"
         "      if (out.length >= 32) return;\n"
         "    });\n"
         "  }\n"
         "  const cap = window.__arCapture || {};\n"
         "  return [{ source: 'page', kind: 'capture', restarted: cap.restarted || 0,\n"
         "            lost: cap.lost || 0 }, ...out.slice(0, 31)];\n"
         "})()";
}

static double
num(JsonObject *o, const char *name, double fallback, double lo, double hi)
{
  JsonNode *n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return fallback;
  GType t = json_node_get_value_type(n);
  double v = t == G_TYPE_DOUBLE  ? json_node_get_double(n)
             : t == G_TYPE_INT64 ? (double)json_node_get_int(n)
                                 : fallback;
  if (!isfinite(v))
    return fallback;
  return CLAMP(v, lo, hi);
}

static void
copy_str(char *dst, gsize size, JsonObject *o, const char *name)
{
  const char *v = json_object_get_string_member_with_default(o, name, "");
  gsize n = 0;
  /* Printable ASCII only: a page's strings reach logs and the admin page. */
  for (; v && *v && n + 1 < size; v++)
    if (g_ascii_isalnum(*v) || *v == '-' || *v == '_' || *v == '.')
      dst[n++] = *v;
  dst[n] = '\0';
}

/* A stats answer is read up to this many entries. */
#define STATS_MAX_ENTRIES 32

/* Entry @i of a stats answer when it is an object, else NULL. */
static JsonObject *
stats_entry(JsonNode *answer, guint i)
{
  if (!answer || !JSON_NODE_HOLDS_ARRAY(answer) || i >= STATS_MAX_ENTRIES)
    return NULL;
  JsonArray *a = json_node_get_array(answer);
  if (i >= json_array_get_length(a))
    return NULL;
  JsonNode *e = json_array_get_element(a, i);
  return JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
}

gboolean
ar_web_page_stats_capture(JsonNode *answer, guint *restarted, guint *lost)
{
  *restarted = *lost = 0;
  for (guint i = 0; i < STATS_MAX_ENTRIES; i++) {
    JsonObject *o = stats_entry(answer, i);
    if (!o)
      continue;
    char kind[16];
    copy_str(kind, sizeof kind, o, "kind");
    if (!g_str_equal(kind, "capture"))
      continue;
    *restarted = (guint)num(o, "restarted", 0, 0, 1000000);
    *lost = (guint)num(o, "lost", 0, 0, 1000000);
    return TRUE;
  }
  return FALSE;
}

/* Bitrate and frame rate need two readings; the page's own framesPerSecond
 * is used for video, and bitrate is left at 0 by this one-shot reading (the
 * caller keeps the previous answer and diffs bytes: see ar-web-call.c). */
void
ar_web_page_stats_to_tracks(JsonNode *answer, GPtrArray *out)
{
  for (guint i = 0; i < STATS_MAX_ENTRIES; i++) {
    JsonObject *o = stats_entry(answer, i);
    if (!o)
      continue;
    ArTrackInfo *t = g_new0(ArTrackInfo, 1);
    char source[32];
    copy_str(source, sizeof source, o, "source");
    t->source = g_strdup(source);
    copy_str(t->stats.kind, sizeof t->stats.kind, o, "kind");
    copy_str(t->stats.direction, sizeof t->stats.direction, o, "direction");
    copy_str(t->stats.codec, sizeof t->stats.codec, o, "codec");
    if (!g_str_equal(t->stats.kind, "audio") && !g_str_equal(t->stats.kind, "video")) {
      ar_track_info_free(t);
      continue;
    }
    t->stats.width = (guint)num(o, "width", 0, 0, 16384);
    t->stats.height = (guint)num(o, "height", 0, 0, 16384);
    t->stats.frames = (guint64)num(o, "frames", 0, 0, 1e15);
    t->stats.packets = (guint64)num(o, "packets", 0, 0, 1e15);
    t->stats.bytes = (guint64)num(o, "bytes", 0, 0, 1e15);
    t->stats.packets_lost = (guint64)num(o, "lost", 0, 0, 1e15);
    t->stats.nack_count = (guint64)num(o, "nack", 0, 0, 1e15);
    t->stats.framerate = num(o, "fps", 0, 0, 1000);
    t->stats.rtt_ms = num(o, "rtt", -1, -1, 1e6);
    t->stats.jitter_ms = num(o, "jitter", -1, -1, 1e6);
    double level = num(o, "level", -1, -1, 1);
    /* RTCStats audioLevel is linear 0..1; ours is dBov. */
    t->stats.audio_level = level < 0 ? -127 : level <= 1e-7 ? -127 : 20.0 * log10(level);
    t->stats.luma = -1;
    t->stats.freezes = (guint64)num(o, "freezes", 0, 0, 1e12);
    t->stats.freeze_ms = num(o, "freeze_ms", 0, 0, 1e12);
    g_ptr_array_add(out, t);
  }
}

/* ---- participants ---- */

char *
ar_web_page_participants_expression(const ArRecipe *recipe)
{
  const ArRecipeParticipants *pp = ar_recipe_get_participants(recipe);
  if (!pp)
    return NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "op", "participants");
  add_strv(b, "selectors", pp->selectors);
  ar_json_add_string_or_null(b, "frame", pp->frame);
  ar_json_add_string_or_null(b, "name", pp->name);
  ar_json_add_string_or_null(b, "name_attribute", pp->name_attribute);
  ar_json_add_string_or_null(b, "id_attribute", pp->id_attribute);
  ar_json_add_string_or_null(b, "self", pp->self);
  ar_json_add_string_or_null(b, "count", pp->count);
  json_builder_set_member_name(b, "max");
  json_builder_add_int_value(b, AR_RECIPE_MAX_PARTICIPANTS);
  json_builder_end_object(b);
  return call_runtime(b);
}

char *
ar_web_page_clean_name(const char *s)
{
  if (!s)
    return NULL;
  /* The page's text: made valid, composed, without control, format (bidi
   * overrides), private-use or unassigned characters; runs of white space
   * (newlines of a tile's text too) become one space; at most
   * AR_RECIPE_MAX_PARTICIPANT_NAME characters. */
  gsize len = strnlen(s, 4096);
  g_autofree char *valid = g_utf8_make_valid(s, (gssize)len);
  g_autofree char *nfc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFC);
  GString *out = g_string_new(NULL);
  guint chars = 0;
  gboolean space = FALSE;
  for (const char *p = nfc ? nfc : ""; *p && chars < AR_RECIPE_MAX_PARTICIPANT_NAME;
       p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    GUnicodeType t = g_unichar_type(ch);
    if (g_unichar_isspace(ch) || t == G_UNICODE_LINE_SEPARATOR ||
        t == G_UNICODE_PARAGRAPH_SEPARATOR) {
      space = out->len > 0;
      continue;
    }
    if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
        t == G_UNICODE_SURROGATE || t == G_UNICODE_PRIVATE_USE)
      continue;
    if (space && chars + 1 < AR_RECIPE_MAX_PARTICIPANT_NAME) {
      g_string_append_c(out, ' ');
      chars++;
    }
    space = FALSE;
    g_string_append_unichar(out, ch);
    chars++;
  }
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

/* A page's id: letters, digits and - _ . : only, at most 64 bytes; NULL if
 * nothing is left. */
static char *
clean_id(JsonObject *o)
{
  JsonNode *n = json_object_get_member(o, "id");
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  const char *v = json_node_get_string(n);
  char buf[65];
  gsize k = 0;
  for (; v && *v && k + 1 < sizeof buf; v++)
    if (g_ascii_isalnum(*v) || strchr("-_.:", *v))
      buf[k++] = *v;
  buf[k] = '\0';
  return k ? g_strdup(buf) : NULL;
}

/* BASE (taken), or BASE-2, BASE-3... : unique among IDS (a page's own ids
 * may look like the ones made here). */
static char *
make_unique(GHashTable *ids, char *base)
{
  char *id = base;
  for (guint k = 2; g_hash_table_contains(ids, id); k++) {
    if (id != base)
      g_free(id);
    id = g_strdup_printf("%s-%u", base, k);
  }
  if (id != base)
    g_free(base);
  return id;
}

static ArParticipant *
participant_new(char *id, char *display)
{
  ArParticipant *p = g_new0(ArParticipant, 1);
  p->id = id;
  p->display = display;
  return p;
}

gboolean
ar_web_page_participants_result(JsonNode *answer, const ArRecipeParticipants *spec, GPtrArray *out)
{
  if (!answer || !JSON_NODE_HOLDS_OBJECT(answer) || !spec)
    return FALSE;
  JsonObject *o = json_node_get_object(answer);
  JsonNode *ln = json_object_get_member(o, "list");
  if (!ln || !JSON_NODE_HOLDS_ARRAY(ln))
    return FALSE;
  JsonArray *a = json_node_get_array(ln);
  guint n = MIN(json_array_get_length(a), AR_RECIPE_MAX_PARTICIPANTS);
  g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal); /* borrowed */
  g_autoptr(GHashTable) page_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  guint first = out->len;
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *eo = json_node_get_object(e);
    JsonNode *nn = json_object_get_member(eo, "name");
    const char *raw =
        nn && JSON_NODE_HOLDS_VALUE(nn) && json_node_get_value_type(nn) == G_TYPE_STRING
            ? json_node_get_string(nn)
            : NULL;
    char *id = clean_id(eo);
    /* page_ids owns ID from here. An id given twice: the same participant
     * in two places (a tile and a roster row), listed once. */
    if (id && !g_hash_table_add(page_ids, id))
      continue;
    /* The page's id, or without one the position (stable only while nobody
     * before it leaves); unique either way. */
    id = make_unique(ids, id ? g_strdup(id) : g_strdup_printf("web-%u", i + 1));
    ArParticipant *p = participant_new(id, ar_web_page_clean_name(raw));
    g_hash_table_add(ids, p->id);
    g_ptr_array_add(out, p);
  }
  /* A count above the elements shown (a list that shows only some): the
   * others are listed without names. */
  double count = num(o, "count", -1, -1, AR_RECIPE_MAX_PARTICIPANTS + 1);
  if (count >= 0) {
    guint others = (guint)count;
    if (spec->count_includes_self)
      others = others > 0 ? others - 1 : 0;
    others = MIN(others, AR_RECIPE_MAX_PARTICIPANTS);
    for (guint k = out->len - first; k < others; k++) {
      ArParticipant *p =
          participant_new(make_unique(ids, g_strdup_printf("web-more-%u", k + 1)), NULL);
      g_hash_table_add(ids, p->id);
      g_ptr_array_add(out, p);
    }
  }
  return TRUE;
}
