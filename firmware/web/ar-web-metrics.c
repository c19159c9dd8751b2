/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-metrics.c: the Prometheus exposition of the room (ar-web-metrics.h). */
#include "ar-web-metrics.h"

#include <math.h>
#include <string.h>

static const char *const call_states[] = {"idle",      "joining",      "lobby",   "needs-attention",
                                          "connected", "reconnecting", "leaving", "failed",
                                          NULL};
static const char *const engines[] = {"native", "web", NULL};
static const char *const kinds[] = {"audio", "video", NULL};
static const char *const directions[] = {"send", "recv", NULL};
static const char *const device_kinds[] = {"camera", "microphone", "speaker", "display", NULL};
static const char *const update_phases[] = {"idle", "downloading", "checking", "installing", NULL};
static const char *const source_kinds[] = {"feed", "caldav", NULL};
static const char *const channel_states[] = {"offered", "waiting", "up-to-date", NULL};
static const char *const install_states[] = {"idle",
                                             "manual",
                                             "downloading",
                                             "paused-call",
                                             "checking",
                                             "failed-retrying",
                                             "ready-waiting-call",
                                             "ready-waiting-window",
                                             "installing",
                                             "installed-waiting-call",
                                             "installed-waiting-window",
                                             "restarting",
                                             NULL};

/* ---- values and labels ---- */

const char *
ar_web_metrics_bounded(const char *value, const char *const *allowed)
{
  if (!value)
    return "none";
  for (gsize i = 0; allowed && allowed[i]; i++)
    if (strcmp(value, allowed[i]) == 0)
      return allowed[i];
  return "other";
}

const char *
ar_web_metrics_version(const char *version)
{
  gsize n = version ? strlen(version) : 0;
  if (n == 0 || n > 64)
    return "other";
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(version[i]) && !strchr(".+~_:-", version[i]))
      return "other";
  return version;
}

void
ar_web_metrics_escape(GString *out, const char *value)
{
  g_autofree char *valid = g_utf8_make_valid(value ? value : "", -1);
  for (const char *p = valid; *p; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

static void
append_number(GString *out, double v)
{
  if (isnan(v)) {
    g_string_append(out, "NaN");
  } else if (isinf(v)) {
    g_string_append(out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == floor(v) && fabs(v) < 1e15) {
    g_string_append_printf(out, "%" G_GINT64_FORMAT, (gint64)v);
  } else {
    /* The shortest of 15 or 17 digits that reads back the same. */
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(buf, sizeof buf, "%.15g", v);
    if (g_ascii_strtod(buf, NULL) != v)
      g_ascii_formatd(buf, sizeof buf, "%.17g", v);
    g_string_append(out, buf);
  }
}

/* ---- the writer: families, then samples ---- */

typedef struct {
  GString *out;
  gboolean full; /* the size cap was reached: nothing more is written */
} Writer;

static gboolean
room_for(Writer *w, gsize more)
{
  if (!w->full && w->out->len + more > AR_WEB_METRICS_MAX_BYTES)
    w->full = TRUE;
  return !w->full;
}

static void
family(Writer *w, const char *name, const char *type, const char *help)
{
  if (!room_for(w, strlen(name) * 2 + strlen(type) + strlen(help) + 20))
    return;
  g_string_append_printf(w->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; @labels: name, value pairs, NULL-terminated. */
static void
sample(Writer *w, const char *name, double value, ...)
{
  if (w->full)
    return;
  gsize mark = w->out->len;
  g_string_append(w->out, name);
  va_list ap;
  va_start(ap, value);
  const char *label = va_arg(ap, const char *);
  if (label) {
    g_string_append_c(w->out, '{');
    for (gboolean first = TRUE; label; label = va_arg(ap, const char *), first = FALSE) {
      const char *v = va_arg(ap, const char *);
      g_string_append_printf(w->out, "%s%s=\"", first ? "" : ",", label);
      ar_web_metrics_escape(w->out, v);
      g_string_append_c(w->out, '"');
    }
    g_string_append_c(w->out, '}');
  }
  va_end(ap);
  g_string_append_c(w->out, ' ');
  append_number(w->out, value);
  g_string_append_c(w->out, '\n');
  if (w->out->len > AR_WEB_METRICS_MAX_BYTES) {
    g_string_truncate(w->out, mark);
    w->full = TRUE;
  }
}

/* ---- reading the status object (any JSON: never trusted to be ours) ---- */

static JsonObject *
object_member(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
array_member(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static const char *
string_member(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

/* A number member, or @fallback when it is missing or not a number. */
static double
number_member(JsonObject *o, const char *name, double fallback)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return fallback;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    return (double)json_node_get_int(n);
  if (t == G_TYPE_DOUBLE)
    return json_node_get_double(n);
  return fallback;
}

/* 1 / 0 for a boolean member, -1 when missing, null or not a boolean. */
static int
bool_member(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return -1;
  return json_node_get_boolean(n) ? 1 : 0;
}

/* ---- families ---- */

static void
write_process(Writer *w, const ArWebMetricsInput *in, JsonObject *st)
{
  JsonObject *update = object_member(st, "update");
  const char *version = string_member(update, "running_version");
  family(w, "anyroom_build_info", "gauge", "The firmware version this room runs (always 1).");
  sample(w, "anyroom_build_info", 1, "version",
         version ? ar_web_metrics_version(version) : "unknown", NULL);
  if (in->uptime_s >= 0) {
    family(w, "anyroom_uptime_seconds", "gauge", "Seconds since anyroomd started.");
    sample(w, "anyroom_uptime_seconds", in->uptime_s, NULL);
  }
  if (in->rss_bytes >= 0) {
    family(w, "anyroom_resident_memory_bytes", "gauge", "anyroomd's resident memory (RSS).");
    sample(w, "anyroom_resident_memory_bytes", (double)in->rss_bytes, NULL);
  }
  family(w, "anyroom_web_bridge_stuck_paths", "gauge",
         "Paths of a web call's device bridge that did not stop within the deadline and are "
         "still stopping, each on a thread of its own.");
  sample(w, "anyroom_web_bridge_stuck_paths", in->bridge_stuck_paths, NULL);
}

static void
write_call(Writer *w, const ArWebMetricsInput *in, JsonObject *st)
{
  const char *state = st ? ar_web_metrics_bounded(string_member(st, "state"), call_states) : NULL;
  if (st) {
    family(w, "anyroom_call_state", "gauge", "The call state: 1 for the current one, else 0.");
    for (gsize i = 0; call_states[i]; i++)
      sample(w, "anyroom_call_state", g_strcmp0(state, call_states[i]) == 0, "state",
             call_states[i], NULL);
    const char *engine = string_member(st, "engine");
    if (engine && state && !g_str_equal(state, "idle")) {
      family(w, "anyroom_call_info", "gauge",
             "The engine and provider of the call under way (always 1).");
      sample(w, "anyroom_call_info", 1, "engine", ar_web_metrics_bounded(engine, engines),
             "provider", ar_web_metrics_bounded(string_member(st, "provider"), in->providers),
             NULL);
    }
    JsonArray *parts = array_member(st, "participants");
    family(w, "anyroom_call_participants", "gauge", "Other participants in the meeting.");
    sample(w, "anyroom_call_participants", parts ? json_array_get_length(parts) : 0, NULL);
    JsonObject *timing = object_member(st, "timing");
    double join_ms = number_member(timing, "join_to_connected_ms", -1);
    if (join_ms >= 0) {
      family(w, "anyroom_call_join_duration_seconds", "gauge",
             "How long the current call took from the join command to connected.");
      sample(w, "anyroom_call_join_duration_seconds", join_ms / 1000.0, NULL);
    }
    JsonObject *rec = object_member(st, "recovery");
    family(w, "anyroom_call_reconnects", "gauge",
           "Times the current call was re-established after a broken connection.");
    sample(w, "anyroom_call_reconnects", MAX(number_member(rec, "reconnects", 0), 0), NULL);
    JsonObject *controls = object_member(st, "controls");
    int cam = bool_member(controls, "camera_live"), mic = bool_member(controls, "microphone_live");
    if (cam >= 0) {
      family(w, "anyroom_camera_live", "gauge", "1 while a meeting receives the room's camera.");
      sample(w, "anyroom_camera_live", cam, NULL);
    }
    if (mic >= 0) {
      family(w, "anyroom_microphone_live", "gauge",
             "1 while a meeting receives the room's microphone.");
      sample(w, "anyroom_microphone_live", mic, NULL);
    }
  }
  if (in->joins && in->join_names) {
    family(w, "anyroom_joins_total", "counter",
           "Joins since anyroomd started, by outcome (connected, or why not).");
    for (gsize i = 0; i < in->n_joins; i++)
      sample(w, "anyroom_joins_total", (double)in->joins[i], "outcome", in->join_names[i], NULL);
    family(w, "anyroom_calls_dropped_total", "counter",
           "Calls that failed after they had connected.");
    sample(w, "anyroom_calls_dropped_total", (double)in->calls_dropped, NULL);
  }
}

typedef struct {
  JsonObject *track;
  const char *kind, *direction;
  char index[4];
} Track;

/* The reported tracks: at most AR_WEB_METRICS_MAX_TRACKS of each kind and
 * direction, labelled by their position among those. */
static GArray *
collect_tracks(JsonObject *st, guint counts[2][2])
{
  GArray *out = g_array_new(FALSE, TRUE, sizeof(Track));
  JsonArray *a = array_member(st, "tracks");
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      continue;
    JsonObject *o = json_node_get_object(n);
    const char *k = ar_web_metrics_bounded(string_member(o, "kind"), kinds);
    const char *d = ar_web_metrics_bounded(string_member(o, "direction"), directions);
    if (k != kinds[0] && k != kinds[1])
      continue;
    if (d != directions[0] && d != directions[1])
      continue;
    guint *c = &counts[k == kinds[1]][d == directions[1]];
    if (*c < AR_WEB_METRICS_MAX_TRACKS) {
      Track t = {.track = o, .kind = k, .direction = d};
      g_snprintf(t.index, sizeof t.index, "%u", *c);
      g_array_append_val(out, t);
    }
    (*c)++;
  }
  return out;
}

/* How a track member becomes a sample: as it is, milliseconds to seconds,
 * video tracks only, bits to bytes. */
enum { F_PLAIN = 0, F_MS_TO_S = 1 << 0, F_VIDEO = 1 << 1, F_BITS_TO_BYTES = 1 << 2 };

static void
track_family(Writer *w, GArray *tracks, const char *name, const char *type, const char *help,
             const char *member, guint conv)
{
  gboolean any = FALSE;
  for (guint i = 0; i < tracks->len; i++) {
    const Track *t = &g_array_index(tracks, Track, i);
    if ((conv & F_VIDEO) && !g_str_equal(t->kind, "video"))
      continue;
    double v = number_member(t->track, member, -1);
    if (v < 0 || !isfinite(v))
      continue; /* unknown (-1) or missing */
    if (!any)
      family(w, name, type, help);
    any = TRUE;
    if (conv & F_MS_TO_S)
      v /= 1000.0;
    if (conv & F_BITS_TO_BYTES)
      v /= 8.0;
    sample(w, name, v, "kind", t->kind, "direction", t->direction, "track", t->index, NULL);
  }
}

static void
write_tracks(Writer *w, JsonObject *st)
{
  guint counts[2][2] = {{0}};
  g_autoptr(GArray) tracks = collect_tracks(st, counts);
  family(w, "anyroom_call_tracks", "gauge",
         "Media tracks of the call by kind and direction (all of them; the anyroom_track_* "
         "families report the first 8 of each).");
  for (guint k = 0; k < 2; k++)
    for (guint d = 0; d < 2; d++)
      sample(w, "anyroom_call_tracks", counts[k][d], "kind", kinds[k], "direction", directions[d],
             NULL);
  track_family(w, tracks, "anyroom_track_bytes_per_second", "gauge",
               "RTP payload rate over the last second (bytes: times 8 for the bitrate).",
               "bitrate_bps", F_BITS_TO_BYTES);
  track_family(w, tracks, "anyroom_track_bytes_total", "counter",
               "RTP payload bytes sent or received in this call.", "bytes", F_PLAIN);
  track_family(w, tracks, "anyroom_track_packets_total", "counter",
               "RTP packets sent or received in this call.", "packets", F_PLAIN);
  track_family(w, tracks, "anyroom_track_packets_lost_total", "counter",
               "RTP packets lost (received: ours; sent: as the far end reports).", "packets_lost",
               F_PLAIN);
  track_family(w, tracks, "anyroom_track_jitter_seconds", "gauge",
               "RTP interarrival jitter (received: ours; sent: as the far end reports).",
               "jitter_ms", F_MS_TO_S);
  track_family(w, tracks, "anyroom_track_round_trip_seconds", "gauge", "Round-trip time from RTCP.",
               "rtt_ms", F_MS_TO_S);
  track_family(w, tracks, "anyroom_track_frames_per_second", "gauge",
               "Video frames per second (sent: encoded; received: decoded).", "framerate", F_VIDEO);
  track_family(w, tracks, "anyroom_track_freezes_total", "counter",
               "Video freezes (no new frame for 1 s or more) in this call.", "freezes", F_VIDEO);
  track_family(w, tracks, "anyroom_track_freeze_seconds_total", "counter",
               "Total length of those freezes.", "freeze_ms", F_MS_TO_S | F_VIDEO);
}

static void
write_devices(Writer *w, JsonObject *st)
{
  JsonObject *devices = object_member(st, "devices");
  gboolean any = FALSE;
  for (gsize i = 0; devices && device_kinds[i]; i++) {
    int present = bool_member(object_member(devices, device_kinds[i]), "present");
    if (present < 0)
      continue; /* anyroomd cannot tell (auto, test, a PulseAudio name) */
    if (!any)
      family(w, "anyroom_device_present", "gauge",
             "1 if the configured device is there, 0 if it is missing (left out when anyroomd "
             "cannot tell).");
    any = TRUE;
    sample(w, "anyroom_device_present", present, "kind", device_kinds[i], NULL);
  }
}

/* The update channel followed (docs/fleet.md): absent without one. */
static void
write_channel(Writer *w, JsonObject *c)
{
  if (!c)
    return;
  const char *state = string_member(c, "state");
  family(w, "anyroom_update_channel_state", "gauge",
         "The channel's verdict for this room: 1 for the current one (all 0 before a file was "
         "accepted).");
  for (gsize i = 0; channel_states[i]; i++)
    sample(w, "anyroom_update_channel_state",
           state && g_str_equal(ar_web_metrics_bounded(state, channel_states), channel_states[i]),
           "state", channel_states[i], NULL);
  double serial = number_member(c, "serial", -1);
  if (serial >= 0) {
    family(w, "anyroom_update_channel_serial", "gauge", "The serial of the last accepted file.");
    sample(w, "anyroom_update_channel_serial", serial, NULL);
  }
  family(w, "anyroom_update_channel_failures", "gauge", "Failed polls of the channel in a row.");
  sample(w, "anyroom_update_channel_failures", MAX(number_member(c, "failures", 0), 0), NULL);
  JsonObject *in = object_member(c, "install");
  if (!in)
    return;
  const char *is = ar_web_metrics_bounded(string_member(in, "state"), install_states);
  family(w, "anyroom_update_channel_install_state", "gauge",
         "Installing the channel's release: 1 for the current step.");
  for (gsize i = 0; install_states[i]; i++)
    sample(w, "anyroom_update_channel_install_state", g_str_equal(is, install_states[i]), "state",
           install_states[i], NULL);
  family(w, "anyroom_update_channel_download_bytes", "gauge",
         "Bytes of the channel's release downloaded so far.");
  sample(w, "anyroom_update_channel_download_bytes",
         MAX(number_member(in, "downloaded_bytes", 0), 0), NULL);
  family(w, "anyroom_update_channel_download_size_bytes", "gauge",
         "The size of the channel's release (0 when none).");
  sample(w, "anyroom_update_channel_download_size_bytes", MAX(number_member(in, "size", 0), 0),
         NULL);
  family(w, "anyroom_update_channel_install_failures", "gauge",
         "Failed downloads, checks or installs of the channel's release in a row.");
  sample(w, "anyroom_update_channel_install_failures", MAX(number_member(in, "failures", 0), 0),
         NULL);
  int open = bool_member(in, "window_open");
  if (open >= 0) {
    family(w, "anyroom_update_window_open", "gauge",
           "1 while the maintenance window ([update] window) is open.");
    sample(w, "anyroom_update_window_open", open, NULL);
  }
}

static void
write_update(Writer *w, JsonObject *st)
{
  JsonObject *u = object_member(st, "update");
  if (!u)
    return;
  const char *phase = ar_web_metrics_bounded(string_member(u, "phase"), update_phases);
  family(w, "anyroom_update_phase", "gauge", "The updater's phase: 1 for the current one.");
  for (gsize i = 0; update_phases[i]; i++)
    sample(w, "anyroom_update_phase", g_str_equal(phase, update_phases[i]), "phase",
           update_phases[i], NULL);
  family(w, "anyroom_update_last_install_failed", "gauge",
         "1 if the last update install since anyroomd started failed.");
  sample(w, "anyroom_update_last_install_failed", string_member(u, "last_error") != NULL, NULL);
  int good = bool_member(u, "marked_good");
  if (good >= 0) {
    family(w, "anyroom_update_marked_good", "gauge",
           "1 once the running slot was marked good (the boot health check passed).");
    sample(w, "anyroom_update_marked_good", good, NULL);
  }
  int rauc = bool_member(u, "rauc");
  if (rauc >= 0) {
    family(w, "anyroom_update_rauc_available", "gauge", "1 if RAUC answers on the bus.");
    sample(w, "anyroom_update_rauc_available", rauc, NULL);
  }
  write_channel(w, object_member(u, "channel"));
}

static void
write_calendar(Writer *w, JsonObject *st)
{
  JsonArray *a = array_member(object_member(st, "calendar"), "sources");
  guint n = a ? MIN(json_array_get_length(a), AR_WEB_METRICS_MAX_SOURCES) : 0;
  if (!a)
    return;
  static const struct {
    const char *name, *help;
  } fams[] = {
      {"anyroom_calendar_source_up", "1 if the calendar source's last read succeeded."},
      {"anyroom_calendar_source_meetings", "Meetings the source gave at its last good read."},
      {"anyroom_calendar_source_last_success_timestamp_seconds",
       "When the source was last read successfully (Unix time)."},
  };
  for (gsize f = 0; f < G_N_ELEMENTS(fams); f++) {
    gboolean any = FALSE;
    for (guint i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element(a, i);
      if (!JSON_NODE_HOLDS_OBJECT(e))
        continue;
      JsonObject *o = json_node_get_object(e);
      double v = -1;
      if (f == 0) {
        v = bool_member(o, "ok");
      } else if (f == 1) {
        v = number_member(o, "meetings", -1);
      } else {
        const char *updated = string_member(o, "updated");
        g_autoptr(GDateTime) t = updated ? g_date_time_new_from_iso8601(updated, NULL) : NULL;
        v = t ? (double)g_date_time_to_unix(t) : -1;
      }
      if (v < 0)
        continue;
      if (!any)
        family(w, fams[f].name, "gauge", fams[f].help);
      any = TRUE;
      char index[4];
      g_snprintf(index, sizeof index, "%u", i);
      sample(w, fams[f].name, v, "source", index, "kind",
             ar_web_metrics_bounded(string_member(o, "kind"), source_kinds), NULL);
    }
  }
}

char *
ar_web_metrics_render(const ArWebMetricsInput *in, gsize *len)
{
  Writer w = {.out = g_string_sized_new(8192)};
  JsonObject *st =
      in->status && JSON_NODE_HOLDS_OBJECT(in->status) ? json_node_get_object(in->status) : NULL;
  write_process(&w, in, st);
  write_call(&w, in, st);
  if (st) {
    write_tracks(&w, st);
    write_devices(&w, st);
    write_update(&w, st);
    write_calendar(&w, st);
  }
  *len = w.out->len;
  return g_string_free(w.out, FALSE);
}
