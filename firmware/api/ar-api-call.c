/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-api-call.h"

#include "ar-devices.h"

static void
add_bool(JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

static void
add_ms_or_null(JsonBuilder *b, const char *name, gint64 us)
{
  json_builder_set_member_name(b, name);
  if (us)
    json_builder_add_double_value(b, us / 1000.0);
  else
    json_builder_add_null_value(b);
}

static void
add_controls(JsonBuilder *b, const ArCallControls *c)
{
  add_bool(b, "microphone_muted", c->microphone_muted);
  add_bool(b, "camera_enabled", c->camera_enabled);
  json_builder_set_member_name(b, "speaker_volume");
  json_builder_add_int_value(b, c->speaker_volume);
  add_bool(b, "self_view", c->self_view);
  add_bool(b, "microphone_live", c->microphone_live);
  add_bool(b, "camera_live", c->camera_live);
}

JsonNode *
ar_api_call_controls_to_json(const ArCallControls *controls)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_controls(b, controls);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
ar_api_call_event_to_json(const ArCallEvent *e)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  switch (e->kind) {
  case AR_CALL_EVENT_STATE:
    ar_json_add_string_or_null(b, "event", "state");
    ar_json_add_string_or_null(b, "state", ar_call_state_to_string(e->state));
    ar_json_add_string_or_null(b, "error", e->error);
    if (e->state == AR_CALL_RECONNECTING)
      ar_json_add_string_or_null(b, "reason", e->reason ? e->reason : "");
    if (e->state == AR_CALL_LOBBY || e->state == AR_CALL_NEEDS_ATTENTION)
      ar_json_add_string_or_null(b, "message", e->message);
    break;
  case AR_CALL_EVENT_CONTROLS:
    add_controls(b, &e->controls);
    ar_json_add_string_or_null(b, "event", "controls");
    break;
  case AR_CALL_EVENT_PARTICIPANTS:
    ar_json_add_string_or_null(b, "event", "participants");
    break;
  case AR_CALL_EVENT_MEDIA:
    ar_json_add_string_or_null(b, "event", "media");
    ar_json_add_string_or_null(b, "peer", e->track.source ? e->track.source : "");
    ar_json_add_string_or_null(b, "what", ar_track_event_kind_to_string(e->track.what));
    break;
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void
add_device(JsonBuilder *b, const char *role, const char *device, int present)
{
  json_builder_set_member_name(b, role);
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "device", device);
  json_builder_set_member_name(b, "present");
  if (present < 0)
    json_builder_add_null_value(b);
  else
    json_builder_add_boolean_value(b, present > 0);
  json_builder_end_object(b);
}

/* "devices": the configured devices (the config overrides the board, as for
 * the media) and whether each is there right now. */
static void
add_devices(JsonBuilder *b, const ArConfig *config, const ArBoard *board)
{
  ArMediaConfig m;
  ar_config_to_media(config, board, &m);
  json_builder_set_member_name(b, "devices");
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "board", board ? board->name : "none");
  add_device(b, "camera", m.video_source, ar_devices_video_present(m.video_source));
  add_device(b, "microphone", m.audio_source, ar_devices_alsa_present(m.audio_source, NULL));
  add_device(b, "speaker", m.audio_sink, ar_devices_alsa_present(m.audio_sink, NULL));
  add_device(b, "display", m.video_sink, -1);
  json_builder_end_object(b);
}

static void
add_track(JsonBuilder *b, const ArTrackInfo *t)
{
  const ArTrackStats *s = &t->stats;
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "peer", t->source);
  ar_json_add_string_or_null(b, "ice_path", t->path);
  ar_json_add_string_or_null(b, "kind", s->kind);
  ar_json_add_string_or_null(b, "direction", s->direction);
  ar_json_add_string_or_null(b, "codec", s->codec);
#define INT(n, v)                                                                                  \
  json_builder_set_member_name(b, n);                                                              \
  json_builder_add_int_value(b, (gint64)(v))
#define DBL(n, v)                                                                                  \
  json_builder_set_member_name(b, n);                                                              \
  json_builder_add_double_value(b, v)
  INT("width", s->width);
  INT("height", s->height);
  INT("frames", s->frames);
  INT("packets", s->packets);
  INT("bytes", s->bytes);
  INT("packets_lost", s->packets_lost);
  INT("nack_count", s->nack_count);
  DBL("bitrate_bps", s->bitrate_bps);
  DBL("framerate", s->framerate);
  DBL("rtt_ms", s->rtt_ms);
  DBL("jitter_ms", s->jitter_ms);
  DBL("audio_level", s->audio_level);
  DBL("luma", s->luma);
  INT("freezes", s->freezes);
  DBL("freeze_ms", s->freeze_ms);
  /* Only in the latency benchmark (ANYROOM_TEST_STAMP=1, docs/latency.md). */
  if (s->stamps > 0) {
    INT("stamps", s->stamps);
    DBL("stamp_p50_ms", s->stamp_p50_ms);
    DBL("stamp_p95_ms", s->stamp_p95_ms);
  }
  /* The native engine's sent video: the bandwidth controller's target. */
  if (s->target_kbps > 0) {
    INT("target_kbps", s->target_kbps);
    ar_json_add_string_or_null(b, "limited_by", s->limit);
  }
#undef INT
#undef DBL
  json_builder_end_object(b);
}

JsonNode *
ar_api_call_status_to_json(const ArCallStatus *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  ar_json_add_string_or_null(b, "state", ar_call_state_to_string(s->state));
  ar_json_add_string_or_null(b, "room_name", s->room_name);
  ar_json_add_string_or_null(b, "engine", s->engine);
  ar_json_add_string_or_null(b, "provider", s->provider);
  ar_json_add_string_or_null(b, "link", s->link);
  ar_json_add_string_or_null(b, "room", s->room);
  ar_json_add_string_or_null(b, "error", s->error);
  ar_json_add_string_or_null(b, "message", s->message);
  ar_json_add_string_or_null(b, "encoder", s->encoder);
  ar_json_add_string_or_null(b, "media", s->media);
  json_builder_set_member_name(b, "controls");
  json_builder_add_value(b, ar_api_call_controls_to_json(&s->controls));
  add_devices(b, s->config, s->board);

  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; s->participants && i < s->participants->len; i++) {
    const ArParticipant *pt = s->participants->pdata[i];
    json_builder_begin_object(b);
    ar_json_add_string_or_null(b, "id", pt->id);
    ar_json_add_string_or_null(b, "display", pt->display);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);

  json_builder_set_member_name(b, "timing");
  json_builder_begin_object(b);
  add_ms_or_null(b, "join_to_connected_ms", s->join_to_connected_us);
  add_ms_or_null(b, "join_to_first_remote_video_ms", s->join_to_first_remote_video_us);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "recovery");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "reconnects");
  json_builder_add_int_value(b, s->reconnects);
  ar_json_add_string_or_null(b, "reason", s->recovery_reason);
  json_builder_set_member_name(b, "attempt");
  json_builder_add_int_value(b, s->attempt);
  add_ms_or_null(b, "last_recovery_ms", s->last_recovery_us);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "tracks");
  json_builder_begin_array(b);
  for (guint i = 0; s->tracks && i < s->tracks->len; i++)
    add_track(b, s->tracks->pdata[i]);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
