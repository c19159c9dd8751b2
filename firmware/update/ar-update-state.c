/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-state.c: what the updater knows and tells (docs/update.md): RAUC's
 * slot status, the running version, the boot health mark, the "update" status
 * object, and the glue to the update channel poller (ar-channel-poll.c).
 */
#include <string.h>

#include "ar-update-priv.h"

#define MARK_RETRY_S 5
#define MARK_MAX_TRIES 12

/* ---- slot status ---- */

static void
add_variant_member(JsonObject *o, const char *name, GVariant *v)
{
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
    g_autofree char *t = ar_update_bounded_text(g_variant_get_string(v, NULL));
    json_object_set_string_member(o, name, t);
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
    json_object_set_int_member(o, name, (gint64)MIN(g_variant_get_uint64(v), G_MAXINT64));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
    json_object_set_int_member(o, name, g_variant_get_uint32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) {
    json_object_set_int_member(o, name, g_variant_get_int32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
    json_object_set_boolean_member(o, name, g_variant_get_boolean(v));
  }
}

/* Slot status from RAUC (a(sa{sv})): kept as JSON, bounded to 16 slots and the
 * keys both RAUC 1.8 and 1.13 have. */
JsonNode *
ar_update_slots_to_json(GVariant *array, char **booted_version)
{
  static const char *const keys[] = {"class",
                                     "bootname",
                                     "state",
                                     "boot-status",
                                     "bundle.version",
                                     "bundle.compatible",
                                     "installed.timestamp",
                                     "activated.timestamp",
                                     "sha256",
                                     "size",
                                     "device",
                                     "type"};
  JsonArray *out = json_array_new();
  GVariantIter iter;
  const char *name;
  GVariant *dict;
  g_variant_iter_init(&iter, array);
  guint n = 0;
  while (n < 16 && g_variant_iter_next(&iter, "(&s@a{sv})", &name, &dict)) {
    JsonObject *o = json_object_new();
    g_autofree char *nm = ar_update_bounded_text(name);
    json_object_set_string_member(o, "name", nm);
    for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
      g_autoptr(GVariant) v = g_variant_lookup_value(dict, keys[k], NULL);
      if (!v)
        continue;
      g_autofree char *jname = g_strdelimit(g_strdup(keys[k]), ".-", '_');
      add_variant_member(o, jname, v);
    }
    const char *state = NULL, *version = NULL;
    if (g_variant_lookup(dict, "state", "&s", &state) && g_str_equal(state, "booted") &&
        g_variant_lookup(dict, "bundle.version", "&s", &version) && booted_version) {
      g_free(*booted_version);
      *booted_version = ar_update_bounded_text(version);
    }
    json_array_add_object_element(out, o);
    g_variant_unref(dict);
    n++;
  }
  JsonNode *node = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(node, out);
  return node;
}

typedef struct {
  ArUpdater *u;
  ArUpdateDoneFunc done;
  gpointer data;
} Refresh;

static void
got_slots(GObject *src, GAsyncResult *res, gpointer data)
{
  Refresh *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_free(r);
    return;
  }
  ArUpdater *u = r->u;
  if (ret && g_variant_is_of_type(ret, G_VARIANT_TYPE("(a(sa{sv}))"))) {
    g_autoptr(GVariant) array = g_variant_get_child_value(ret, 0);
    g_clear_pointer(&u->booted_bundle_version, g_free);
    g_clear_pointer(&u->slots, json_node_unref);
    u->slots = ar_update_slots_to_json(array, &u->booted_bundle_version);
  } else if (error) {
    g_debug("update: GetSlotStatus: %s", error->message);
  }
  if (r->done)
    r->done(error, r->data);
  g_free(r);
}

void
ar_updater_refresh(ArUpdater *u, ArUpdateDoneFunc done, gpointer data)
{
  if (!u->rauc || !ar_update_rauc_present(u)) {
    if (done)
      done(NULL, data);
    return;
  }
  Refresh *r = g_new0(Refresh, 1);
  r->u = u;
  r->done = done;
  r->data = data;
  g_dbus_proxy_call(u->rauc, "GetSlotStatus", NULL, G_DBUS_CALL_FLAGS_NONE, -1, u->cancel,
                    got_slots, r);
}

/* ---- running version ---- */

/* The version this device runs, and where it came from. */
char *
ar_update_running_version(ArUpdater *u, const char **origin)
{
  if (u->booted_bundle_version && *u->booted_bundle_version) {
    *origin = "RAUC slot status";
    return g_strdup(u->booted_bundle_version);
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (u->opt.version_file && g_file_get_contents(u->opt.version_file, &data, &len, NULL) &&
      len <= 4096) {
    g_strstrip(data);
    if (*data) {
      *origin = u->opt.version_file;
      return g_steal_pointer(&data);
    }
  }
  *origin = "anyroomd";
  return g_strdup(u->opt.fallback_version ? u->opt.fallback_version : "0");
}

/* ---- health: mark the booted slot good ---- */

static gboolean mark_good(gpointer data);

static void
marked(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArUpdater *u = data;
  if (!ret) {
    g_dbus_error_strip_remote_error(error);
    g_free(u->mark_error);
    u->mark_error = ar_update_bounded_text(error->message);
    gboolean absent = ar_update_rauc_absent_error(error);
    /* RAUC not there yet, or busy ("already processing a different method",
     * e.g. an install started in the first seconds): try again. */
    if (u->mark_tries < MARK_MAX_TRIES) {
      g_debug("update: marking good: %s; again in %d s", u->mark_error, MARK_RETRY_S);
      u->health_source = g_timeout_add_seconds(MARK_RETRY_S, mark_good, u);
      return;
    }
    if (absent)
      g_message("update: no RAUC service; the booted slot is not marked good (%s)", u->mark_error);
    else
      g_warning("update: marking the booted slot good failed: %s", u->mark_error);
    return;
  }
  const char *slot = "?", *message = "";
  if (g_variant_is_of_type(ret, G_VARIANT_TYPE("(ss)")))
    g_variant_get(ret, "(&s&s)", &slot, &message);
  u->marked_good = TRUE;
  g_clear_pointer(&u->mark_error, g_free);
  g_message("update: healthy: %s (slot %s)", message, slot);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "update-marked-good");
  json_builder_set_member_name(b, "slot");
  g_autofree char *s = ar_update_bounded_text(slot);
  json_builder_add_string_value(b, s);
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_update_emit(u, ev);
  ar_updater_refresh(u, NULL, NULL);
}

static gboolean
mark_good(gpointer data)
{
  ArUpdater *u = data;
  u->health_source = 0;
  u->mark_tries++;
  if (!u->rauc) {
    if (u->conn || !u->connect_error) {
      if (u->mark_tries < MARK_MAX_TRIES)
        u->health_source = g_timeout_add_seconds(MARK_RETRY_S, mark_good, u);
    } else {
      g_message("update: no RAUC service (%s); the booted slot is not marked good",
                u->connect_error);
    }
    return G_SOURCE_REMOVE;
  }
  g_dbus_proxy_call(u->rauc, "Mark", g_variant_new("(ss)", "good", "booted"),
                    G_DBUS_CALL_FLAGS_NONE, -1, u->cancel, marked, u);
  return G_SOURCE_REMOVE;
}

void
ar_updater_start_health_check(ArUpdater *u)
{
  if (!u->opt.enabled || !u->opt.mark_good || u->marked_good || u->health_source || u->mark_tries)
    return;
  g_debug("update: healthy so far; marking the booted slot good in %u s", u->opt.health_settle_s);
  u->health_source = u->opt.health_settle_s
                         ? g_timeout_add_seconds(u->opt.health_settle_s, mark_good, u)
                         : g_idle_add(mark_good, u);
}

/* ---- status ---- */

/* The poller's "channel" object with the updater's "install" in it. */
static JsonNode *
channel_status(ArUpdater *u)
{
  JsonNode *node = ar_channel_poller_status(u->channel);
  JsonNode *install = ar_updater_auto_status(u);
  if (install)
    json_object_set_member(json_node_get_object(node), "install", install);
  return node;
}

JsonNode *
ar_updater_status(ArUpdater *u)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "enabled");
  json_builder_add_boolean_value(b, u->opt.enabled);
  json_builder_set_member_name(b, "rauc");
  json_builder_add_boolean_value(b, ar_update_rauc_present(u));
  const char *origin = NULL;
  g_autofree char *running = ar_update_running_version(u, &origin);
  json_builder_set_member_name(b, "running_version");
  json_builder_add_string_value(b, running);
  json_builder_set_member_name(b, "running_version_from");
  json_builder_add_string_value(b, origin);
  const char *props[][2] = {{"Compatible", "compatible"},
                            {"BootSlot", "booted_slot"},
                            {"Operation", "rauc_operation"},
                            {"LastError", "rauc_last_error"}};
  for (gsize i = 0; i < G_N_ELEMENTS(props); i++) {
    g_autofree char *v = ar_update_rauc_present(u) ? ar_update_rauc_string(u, props[i][0]) : NULL;
    json_builder_set_member_name(b, props[i][1]);
    if (v) {
      json_builder_add_string_value(b, v);
    } else {
      json_builder_add_null_value(b);
    }
  }
  json_builder_set_member_name(b, "marked_good");
  json_builder_add_boolean_value(b, u->marked_good);
  json_builder_set_member_name(b, "mark_error");
  if (u->mark_error)
    json_builder_add_string_value(b, u->mark_error);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "phase");
  json_builder_add_string_value(b, ar_update_phase_names[u->phase]);
  if (u->phase != PHASE_IDLE) {
    json_builder_set_member_name(b, "source");
    json_builder_add_string_value(b, u->source);
    json_builder_set_member_name(b, "percent");
    json_builder_add_int_value(b, u->percent);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, u->progress_message ? u->progress_message : "");
  }
  json_builder_set_member_name(b, "last_error");
  if (u->last_error)
    json_builder_add_string_value(b, u->last_error);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "last_installed_version");
  if (u->last_installed)
    json_builder_add_string_value(b, u->last_installed);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "slots");
  if (u->slots)
    json_builder_add_value(b, json_node_copy(u->slots));
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "channel");
  if (u->channel)
    json_builder_add_value(b, channel_status(u));
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- the update channel ---- */

static void
channel_query(gpointer data, char **compatible, char **running)
{
  ArUpdater *u = data;
  const char *origin = NULL;
  *running = ar_update_running_version(u, &origin);
  *compatible = ar_update_rauc_present(u) ? ar_update_rauc_string(u, "Compatible") : NULL;
  if ((!*compatible || !**compatible) && u->opt.compatible) {
    g_free(*compatible);
    *compatible = g_strdup(u->opt.compatible);
  }
}

static void
channel_changed(gpointer data)
{
  ArUpdater *u = data;
  ar_updater_auto_kick(u);
  ar_update_emit_member(u, "update-channel", "channel", channel_status(u));
}

void
ar_updater_channel_start(ArUpdater *u)
{
  if (!u->opt.channel_url || !*u->opt.channel_url)
    return;
  /* Tests only: seconds instead of poll-minutes (docs/fleet.md, "Following a channel"). */
  guint interval = u->opt.channel_interval_s;
  const char *test_s = g_getenv("ANYROOM_TEST_CHANNEL_POLL_SECONDS");
  guint64 v;
  if (test_s && g_ascii_string_to_unsigned(test_s, 10, 1, 86400, &v, NULL)) {
    g_warning("update: channel: polling every %u s (ANYROOM_TEST_CHANNEL_POLL_SECONDS, tests "
              "only)",
              (guint)v);
    interval = (guint)v;
  }
  ArChannelPollOptions o = {
      .url = u->opt.channel_url,
      .channel = u->opt.channel && *u->opt.channel ? u->opt.channel : "stable",
      .ca_file = u->opt.channel_ca && *u->opt.channel_ca ? u->opt.channel_ca : NULL,
      .keyring_file = u->opt.keyring ? u->opt.keyring : "/etc/rauc/keyring.pem",
      .state_dir = u->opt.state_dir,
      .machine_id_file = g_getenv("ANYROOM_TEST_MACHINE_ID_FILE"),
      .interval_s = interval,
  };
  g_autoptr(GError) error = NULL;
  u->channel = ar_channel_poller_new(&o, channel_query, channel_changed, u, &error);
  if (!u->channel)
    g_warning("update: channel: not followed: %s", error->message);
}
