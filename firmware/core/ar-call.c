/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-call.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ar-provider.h"

G_DEFINE_QUARK(ar-call-error-quark, ar_call_error)

struct _ArCallManager {
  const ArConfig *config;
  const ArBoard *board;
  ArMediaEngine *engine;
  ArCallState state;
  ArProvider *provider;
  ArProvider *dying; /* freed from an idle callback, never inside its own callback */
  guint reap_id;
  char *link;
  char *provider_id;
  char *room;
  char *error;
  ArCallDoneFunc join_done;
  gpointer join_data;
  ArCallDoneFunc leave_done;
  gpointer leave_data;
  guint join_timeout_id;
  gint64 join_started_us;
  gint64 connected_us;
  gint64 first_remote_video_us;
  ArCallEventFunc event_func;
  gpointer event_data;
};

const char *
ar_call_state_to_string(ArCallState state)
{
  static const char *const names[] = {"idle", "joining", "connected", "leaving", "failed"};
  return state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

static void
emit(ArCallManager *m, JsonBuilder *b)
{
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  if (m->event_func)
    m->event_func(node, m->event_data);
}

static void
emit_state(ArCallManager *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "state");
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, ar_call_state_to_string(m->state));
  json_builder_set_member_name(b, "error");
  if (m->error)
    json_builder_add_string_value(b, m->error);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  emit(m, b);
}

static void
set_state(ArCallManager *m, ArCallState state)
{
  if (m->state == state)
    return;
  g_message("call: %s -> %s", ar_call_state_to_string(m->state), ar_call_state_to_string(state));
  m->state = state;
  emit_state(m);
}

static gboolean
reap_cb(gpointer data)
{
  ArCallManager *m = data;
  m->reap_id = 0;
  if (m->dying) {
    m->dying->klass->free(m->dying);
    m->dying = NULL;
#ifdef __GLIBC__
    /* A call's pipelines are gone: give their memory back to the system. */
    malloc_trim(0);
#endif
  }
  return G_SOURCE_REMOVE;
}

/* Drops the current provider. Its memory goes from an idle callback because we
 * may be inside one of its callbacks right now. */
static void
drop_provider(ArCallManager *m)
{
  if (!m->provider)
    return;
  if (m->dying)
    m->dying->klass->free(m->dying);
  m->dying = g_steal_pointer(&m->provider);
  if (!m->reap_id)
    m->reap_id = g_idle_add(reap_cb, m);
}

static void
finish_join(ArCallManager *m, const GError *error)
{
  g_clear_handle_id(&m->join_timeout_id, g_source_remove);
  ArCallDoneFunc done = m->join_done;
  gpointer data = m->join_data;
  m->join_done = NULL;
  m->join_data = NULL;
  if (done)
    done(error, data);
}

static void
finish_leave(ArCallManager *m, const GError *error)
{
  ArCallDoneFunc done = m->leave_done;
  gpointer data = m->leave_data;
  m->leave_done = NULL;
  m->leave_data = NULL;
  if (done)
    done(error, data);
}

static void
call_failed(ArCallManager *m, const GError *error)
{
  g_warning("call: failed: %s", error->message);
  g_free(m->error);
  m->error = g_strdup(error->message);
  drop_provider(m);
  set_state(m, AR_CALL_FAILED);
  finish_join(m, error);
  finish_leave(m, NULL);
}

/* ---- provider callbacks ---- */

static void
on_connected(ArProvider *p, gpointer data)
{
  ArCallManager *m = data;
  m->connected_us = g_get_monotonic_time();
  set_state(m, AR_CALL_CONNECTED);
  finish_join(m, NULL);
}

static void
on_failed(ArProvider *p, const GError *error, gpointer data)
{
  call_failed(data, error);
}

static void
on_left(ArProvider *p, gpointer data)
{
  ArCallManager *m = data;
  drop_provider(m);
  set_state(m, AR_CALL_IDLE);
  finish_leave(m, NULL);
}

static void
on_participants_changed(ArProvider *p, gpointer data)
{
  ArCallManager *m = data;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "participants");
  json_builder_end_object(b);
  emit(m, b);
}

static void
on_media_event(ArProvider *p, ArPeer *peer, ArPeerEvent event, gpointer data)
{
  ArCallManager *m = data;
  const char *what = event == AR_PEER_EVENT_FIRST_VIDEO_FRAME ? "first-video-frame"
                                                              : "first-audio";
  if (event == AR_PEER_EVENT_FIRST_VIDEO_FRAME && ar_peer_get_direction(peer) == AR_PEER_RECV &&
      !m->first_remote_video_us) {
    m->first_remote_video_us = g_get_monotonic_time();
    g_message("call: first remote video frame %.0f ms after join",
              (m->first_remote_video_us - m->join_started_us) / 1000.0);
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "media");
  json_builder_set_member_name(b, "peer");
  json_builder_add_string_value(b, ar_peer_get_label(peer));
  json_builder_set_member_name(b, "what");
  json_builder_add_string_value(b, what);
  json_builder_end_object(b);
  emit(m, b);
}

static const ArProviderCallbacks provider_callbacks = {
  .connected = on_connected,
  .failed = on_failed,
  .left = on_left,
  .participants_changed = on_participants_changed,
  .media_event = on_media_event,
};

static gboolean
join_timeout_cb(gpointer data)
{
  ArCallManager *m = data;
  m->join_timeout_id = 0;
  g_autoptr(GError) e =
      g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
                  "the meeting did not connect within %u s", m->config->join_timeout_s);
  call_failed(m, e);
  return G_SOURCE_REMOVE;
}

/* ---- public ---- */

ArCallManager *
ar_call_manager_new(const ArConfig *config, const ArBoard *board, GError **error)
{
  ArMediaConfig media;
  ar_config_to_media(config, board, &media);
  g_autoptr(ArMediaEngine) engine = ar_media_engine_new(&media, error);
  if (!engine)
    return NULL;
  ArCallManager *m = g_new0(ArCallManager, 1);
  m->config = config;
  m->board = board;
  m->engine = g_steal_pointer(&engine);
  g_message("media: %s", ar_media_engine_describe(m->engine));
  return m;
}

void
ar_call_manager_free(ArCallManager *m)
{
  if (!m)
    return;
  g_clear_handle_id(&m->join_timeout_id, g_source_remove);
  g_clear_handle_id(&m->reap_id, g_source_remove);
  if (m->provider)
    m->provider->klass->free(m->provider);
  if (m->dying)
    m->dying->klass->free(m->dying);
  ar_media_engine_free(m->engine);
  g_free(m->link);
  g_free(m->provider_id);
  g_free(m->room);
  g_free(m->error);
  g_free(m);
}

void
ar_call_manager_set_event_func(ArCallManager *m, ArCallEventFunc func, gpointer user_data)
{
  m->event_func = func;
  m->event_data = user_data;
}

gboolean
ar_call_manager_join(ArCallManager *m, const char *text, ArCallDoneFunc done, gpointer user_data,
                     GError **error)
{
  if (m->state == AR_CALL_JOINING || m->state == AR_CALL_CONNECTED ||
      m->state == AR_CALL_LEAVING) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY,
                "the room is %s a meeting; leave it first",
                m->state == AR_CALL_LEAVING ? "still leaving" : "already in");
    return FALSE;
  }
  g_autoptr(ArLink) link = ar_link_parse(text, ar_link_config_get_policy(m->config->links), error);
  if (!link)
    return FALSE;
  const ArProviderClass *klass = ar_provider_lookup(link->provider);
  if (!klass) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                "%s meetings are recognized but this room cannot join them yet",
                link->provider);
    return FALSE;
  }
  const char *display = m->config->display_name ? m->config->display_name
                                                 : m->config->room_name;
  ArProvider *p = klass->create(link, m->engine, display, &provider_callbacks, m, error);
  if (!p)
    return FALSE;
  m->provider = p;
  g_free(m->link);
  m->link = g_strdup(text);
  g_free(m->provider_id);
  m->provider_id = g_strdup(link->provider);
  g_free(m->room);
  m->room = g_strdup(link->meeting_id);
  g_clear_pointer(&m->error, g_free);
  m->join_done = done;
  m->join_data = user_data;
  m->join_started_us = g_get_monotonic_time();
  m->connected_us = m->first_remote_video_us = 0;
  m->join_timeout_id = g_timeout_add_seconds(m->config->join_timeout_s, join_timeout_cb, m);
  g_message("call: joining %s meeting %s", link->provider, link->meeting_id ? link->meeting_id : "");
  set_state(m, AR_CALL_JOINING);
  klass->join(p);
  return TRUE;
}

gboolean
ar_call_manager_leave(ArCallManager *m, ArCallDoneFunc done, gpointer user_data, GError **error)
{
  if (m->state == AR_CALL_IDLE || m->state == AR_CALL_FAILED) {
    if (m->state == AR_CALL_FAILED) {
      g_clear_pointer(&m->error, g_free);
      set_state(m, AR_CALL_IDLE);
      if (done)
        done(NULL, user_data);
      return TRUE;
    }
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_NOT_IN_CALL, "the room is not in a meeting");
    return FALSE;
  }
  if (m->state == AR_CALL_LEAVING) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY, "the room is already leaving");
    return FALSE;
  }
  if (m->state == AR_CALL_JOINING) {
    g_autoptr(GError) e =
        g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_CANCELLED, "the join was cancelled by a leave");
    finish_join(m, e);
  }
  m->leave_done = done;
  m->leave_data = user_data;
  set_state(m, AR_CALL_LEAVING);
  m->provider->klass->leave(m->provider);
  return TRUE;
}

void
ar_call_manager_forget_waiter(ArCallManager *m, gpointer user_data)
{
  if (m->join_data == user_data) {
    m->join_done = NULL;
    m->join_data = NULL;
  }
  if (m->leave_data == user_data) {
    m->leave_done = NULL;
    m->leave_data = NULL;
  }
}

ArCallState
ar_call_manager_get_state(ArCallManager *m)
{
  return m->state;
}

static void
add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_ms_or_null(JsonBuilder *b, const char *name, gint64 from, gint64 to)
{
  json_builder_set_member_name(b, name);
  if (from && to)
    json_builder_add_double_value(b, (to - from) / 1000.0);
  else
    json_builder_add_null_value(b);
}

static void
add_track(JsonBuilder *b, ArPeer *peer, const ArTrackStats *s)
{
  json_builder_begin_object(b);
  add_string_or_null(b, "peer", ar_peer_get_label(peer));
  add_string_or_null(b, "kind", s->kind);
  add_string_or_null(b, "direction", s->direction);
  add_string_or_null(b, "codec", s->codec);
#define INT(n, v)                    \
  json_builder_set_member_name(b, n); \
  json_builder_add_int_value(b, (gint64)(v))
#define DBL(n, v)                    \
  json_builder_set_member_name(b, n); \
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
  DBL("audio_level", s->audio_level);
#undef INT
#undef DBL
  json_builder_end_object(b);
}

JsonNode *
ar_call_manager_status(ArCallManager *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  gboolean active = m->provider != NULL;
  json_builder_begin_object(b);
  add_string_or_null(b, "state", ar_call_state_to_string(m->state));
  add_string_or_null(b, "room_name", m->config->room_name);
  add_string_or_null(b, "provider", active ? m->provider_id : NULL);
  add_string_or_null(b, "link", active ? m->link : NULL);
  add_string_or_null(b, "room", active ? m->room : NULL);
  add_string_or_null(b, "error", m->error);
  const ArEncoderInfo *enc = ar_media_engine_get_encoder(m->engine);
  add_string_or_null(b, "encoder", enc ? enc->factory : NULL);
  add_string_or_null(b, "media", ar_media_engine_describe(m->engine));

  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  if (active) {
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
    m->provider->klass->collect_participants(m->provider, parts);
    for (guint i = 0; i < parts->len; i++) {
      ArParticipant *pt = parts->pdata[i];
      json_builder_begin_object(b);
      add_string_or_null(b, "id", pt->id);
      add_string_or_null(b, "display", pt->display);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);

  json_builder_set_member_name(b, "timing");
  json_builder_begin_object(b);
  add_ms_or_null(b, "join_to_connected_ms", m->join_started_us, m->connected_us);
  add_ms_or_null(b, "join_to_first_remote_video_ms", m->join_started_us, m->first_remote_video_us);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "tracks");
  json_builder_begin_array(b);
  if (active) {
    g_autoptr(GPtrArray) peers = g_ptr_array_new();
    m->provider->klass->collect_peers(m->provider, peers);
    for (guint i = 0; i < peers->len; i++) {
      g_autoptr(GArray) stats = ar_peer_get_stats(peers->pdata[i]);
      for (guint j = 0; j < stats->len; j++)
        add_track(b, peers->pdata[i], &g_array_index(stats, ArTrackStats, j));
    }
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
