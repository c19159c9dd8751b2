/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-call.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <string.h>

#include "ar-provider.h"
#include "ar-self.h"

G_DEFINE_QUARK(ar - call - error - quark, ar_call_error)

struct _ArCallManager {
  const ArConfig *config;
  const ArBoard *board;
  ArMediaEngine *engine;
  ArProviderRegistry *providers; /* filled from outside core (ar_call_manager_get_providers) */
  ArCallState state;
  ArProvider *provider;
  ArProvider *dying; /* freed from an idle callback, never inside its own callback */
  guint reap_id;
  guint trim_id; /* the heap's trim while connected */
  char *link;
  ArEngine engine_id; /* the call's engine (with provider_id) */
  char *provider_id;
  char *room;
  char *error;
  char *message;        /* lobby, needs-attention: what the provider says */
  guint join_timeout_s; /* this join's: the config's, or more for the provider's class */
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
  gboolean self_view; /* UI setting: the room screen shows our camera */
  /* The provider re-establishes a broken call (AR_CALL_RECONNECTING). */
  guint reconnect_attempts; /* in this episode */
  gint64 lost_us;           /* when the loss was noticed */
  char *lost_reason;
  guint reconnects; /* successful re-establishments in this call */
  gint64 last_recovery_us;
  ArCapture *capture; /* capture (issue 11): held while the call is live */
  /* Metrics: joins by outcome since start; a join is counted once, when it
   * is refused, connects or ends before connecting. */
  gboolean join_pending;
  guint64 joins[AR_JOIN_N_OUTCOMES];
  guint64 dropped; /* calls that failed after connecting */
};

const char *
ar_join_outcome_to_string(ArJoinOutcome outcome)
{
  static const char *const names[] = {"connected",    "cancelled",   "timeout", "busy",
                                      "invalid_link", "unsupported", "network", "fingerprint",
                                      "media",        "provider"};
  G_STATIC_ASSERT(G_N_ELEMENTS(names) == AR_JOIN_N_OUTCOMES);
  return outcome < G_N_ELEMENTS(names) ? names[outcome] : "provider";
}

ArJoinOutcome
ar_join_outcome_of(const GError *error)
{
  if (!error)
    return AR_JOIN_CONNECTED;
  if (error->domain == AR_CALL_ERROR) {
    switch (error->code) {
    case AR_CALL_ERROR_BUSY:
      return AR_JOIN_BUSY;
    case AR_CALL_ERROR_UNSUPPORTED:
      return AR_JOIN_UNSUPPORTED;
    case AR_CALL_ERROR_TIMEOUT:
      return AR_JOIN_TIMEOUT;
    case AR_CALL_ERROR_CANCELLED:
      return AR_JOIN_CANCELLED;
    case AR_CALL_ERROR_INVALID:
      return AR_JOIN_INVALID_LINK;
    default:
      return AR_JOIN_PROVIDER;
    }
  }
  if (error->domain == AR_LINK_ERROR)
    return error->code == AR_LINK_ERROR_UNSUPPORTED ? AR_JOIN_UNSUPPORTED : AR_JOIN_INVALID_LINK;
  if (error->domain == AR_MEDIA_ERROR) {
    switch (error->code) {
    case AR_MEDIA_ERROR_ICE:
    case AR_MEDIA_ERROR_DTLS:
    case AR_MEDIA_ERROR_TIMEOUT:
      return AR_JOIN_NETWORK;
    case AR_MEDIA_ERROR_FINGERPRINT:
      return AR_JOIN_FINGERPRINT;
    default:
      return AR_JOIN_MEDIA;
    }
  }
  return AR_JOIN_PROVIDER;
}

void
ar_call_manager_get_join_counts(ArCallManager *m, guint64 *counts, guint64 *dropped)
{
  memcpy(counts, m->joins, sizeof m->joins);
  *dropped = m->dropped;
}

static void
count_join(ArCallManager *m, const GError *error)
{
  m->joins[ar_join_outcome_of(error)]++;
}

const char *
ar_call_state_to_string(ArCallState state)
{
  static const char *const names[] = {"idle",   "joining",      "connected", "leaving",
                                      "failed", "reconnecting", "lobby",     "needs-attention"};
  return state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

gboolean
ar_call_state_is_active(ArCallState state)
{
  return state == AR_CALL_JOINING || state == AR_CALL_LOBBY || state == AR_CALL_NEEDS_ATTENTION ||
         state == AR_CALL_CONNECTED || state == AR_CALL_RECONNECTING;
}

static void
emit(ArCallManager *m, ArCallEvent *event)
{
  event->engine = m->provider_id ? ar_engine_to_string(m->engine_id) : NULL;
  event->provider = m->provider_id;
  if (m->event_func)
    m->event_func(event, m->event_data);
}

static void emit_controls(ArCallManager *m);

/* ---- capture (issue 11): the camera and microphone open once per call ----
 * The call holds the media engine's capture graph from join to its end, so a
 * reconnection's new peers reuse the open camera. If it cannot open, the
 * send peer's own acquire reports the device error and fails the join. */
static void
hold_capture(ArCallManager *m, gboolean live)
{
  if (live && m->capture && ar_capture_get_error(m->capture))
    g_clear_pointer(&m->capture, ar_capture_unref); /* a device error: open again */
  if (live && !m->capture) {
    g_autoptr(GError) error = NULL;
    m->capture = ar_media_engine_capture_acquire(m->engine, &error);
    if (!m->capture)
      g_warning("call: cannot open the camera and microphone: %s", error->message);
  } else if (!live) {
    g_clear_pointer(&m->capture, ar_capture_unref);
  }
}
/* ---- end of capture (issue 11) ---- */

static void
emit_state(ArCallManager *m)
{
  ArCallEvent e = {
      .kind = AR_CALL_EVENT_STATE,
      .state = m->state,
      .error = m->error,
      .reason = m->state == AR_CALL_RECONNECTING ? (m->lost_reason ? m->lost_reason : "") : NULL,
      .message = m->message,
  };
  emit(m, &e);
}

/* ---- the heap while connected ---- */

/* A join leaves freed memory in glibc's heap, which keeps it: ICE gathering,
 * the DTLS handshake, SDP, the encoder's start and the frames queued before
 * it ran, the first key frame; later the picture's size follows the network
 * (its frames are reallocated) and a reconnection makes new transports.
 * Trimmed 3 s after the call connects, then every 30 s while it is live
 * (docs/decisions.md "Media efficiency, part 5"). */
#define AR_CALL_TRIM_AFTER_CONNECT_S 3
#define AR_CALL_TRIM_EVERY_S 30

static double
rss_mb(void)
{
  gint64 bytes = ar_self_rss_bytes();

  return bytes > 0 ? (double)bytes / (1024.0 * 1024.0) : 0; /* unreadable: 0, as before */
}

/* Logged once per call (the first), then at debug level. */
static void
trim_heap(gboolean first)
{
#ifdef __GLIBC__
  double before = rss_mb();
  gint64 t0 = g_get_monotonic_time();

  malloc_trim(0);
  double ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
  if (first)
    g_message("call: heap trimmed after connecting: RSS %.1f -> %.1f MB in %.1f ms", before,
              rss_mb(), ms);
  else
    g_debug("call: heap trimmed: RSS %.1f -> %.1f MB in %.1f ms", before, rss_mb(), ms);
#else
  (void)first;
#endif
}

static gboolean
trim_cb(gpointer data)
{
  (void)data;
  trim_heap(FALSE);
  return G_SOURCE_CONTINUE;
}

static gboolean
trim_first_cb(gpointer data)
{
  ArCallManager *m = data;

  trim_heap(TRUE);
  m->trim_id = g_timeout_add_seconds(AR_CALL_TRIM_EVERY_S, trim_cb, m);
  return G_SOURCE_REMOVE;
}

static void
follow_heap(ArCallManager *m, ArCallState state)
{
  if (state == AR_CALL_CONNECTED && m->trim_id == 0)
    m->trim_id = g_timeout_add_seconds(AR_CALL_TRIM_AFTER_CONNECT_S, trim_first_cb, m);
  else if (!ar_call_state_is_active(state))
    g_clear_handle_id(&m->trim_id, g_source_remove);
}

static void
set_state(ArCallManager *m, ArCallState state)
{
  if (m->state == state)
    return;
  g_message("call: %s -> %s", ar_call_state_to_string(m->state), ar_call_state_to_string(state));
  /* Reconnecting counts as live: the room resumes sending without user action. */
  gboolean was_live = ar_call_state_is_active(m->state);
  gboolean live = ar_call_state_is_active(state);
  if (state != AR_CALL_LOBBY && state != AR_CALL_NEEDS_ATTENTION)
    g_clear_pointer(&m->message, g_free);
  m->state = state;
  hold_capture(m, live); /* capture (issue 11) */
  follow_heap(m, state);
  emit_state(m);
  /* microphone_live / camera_live follow the call state. */
  if (was_live != live)
    emit_controls(m);
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
  if (m->join_pending) {
    m->join_pending = FALSE;
    count_join(m, error);
  }
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
  if (!m->join_pending && (m->state == AR_CALL_CONNECTED || m->state == AR_CALL_RECONNECTING))
    m->dropped++;
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
  if (m->state == AR_CALL_RECONNECTING) {
    m->last_recovery_us = MAX(g_get_monotonic_time() - m->lost_us, 1);
    m->reconnects++;
    m->reconnect_attempts = 0;
    set_state(m, AR_CALL_CONNECTED);
    return;
  }
  m->connected_us = g_get_monotonic_time();
  set_state(m, AR_CALL_CONNECTED);
  finish_join(m, NULL);
}

static gboolean join_timeout_cb(gpointer data);

/* Lobby or a person's help: the join timeout gives way to a longer one. */
static void
on_waiting(ArProvider *p, ArProviderWait what, const char *message, gpointer data)
{
  ArCallManager *m = data;
  int state = what == AR_PROVIDER_WAIT_HOST        ? AR_CALL_LOBBY
              : what == AR_PROVIDER_WAIT_ATTENTION ? AR_CALL_NEEDS_ATTENTION
                                                   : AR_CALL_JOINING;
  if (m->state != AR_CALL_JOINING && m->state != AR_CALL_LOBBY &&
      m->state != AR_CALL_NEEDS_ATTENTION)
    return;
  if (state != AR_CALL_JOINING && state != AR_CALL_LOBBY && state != AR_CALL_NEEDS_ATTENTION)
    return;
  guint timeout_s = state == AR_CALL_LOBBY             ? AR_CALL_LOBBY_TIMEOUT_S
                    : state == AR_CALL_NEEDS_ATTENTION ? AR_CALL_ATTENTION_TIMEOUT_S
                                                       : m->join_timeout_s;
  if (state != (int)m->state) {
    g_clear_handle_id(&m->join_timeout_id, g_source_remove);
    m->join_timeout_id = g_timeout_add_seconds(timeout_s, join_timeout_cb, m);
  }
  if (g_strcmp0(message, m->message) != 0 || state != (int)m->state) {
    g_free(m->message);
    m->message = state == AR_CALL_JOINING ? NULL : g_strdup(message);
    if (m->message)
      g_message("call: %s", m->message);
    if (state != (int)m->state)
      set_state(m, (ArCallState)state);
    else
      emit_state(m);
  }
}

/* The provider is re-establishing a broken call by itself. */
static void
on_reconnecting(ArProvider *p, const char *reason, guint attempt, gpointer data)
{
  ArCallManager *m = data;
  m->reconnect_attempts = attempt;
  if (m->state == AR_CALL_RECONNECTING || m->state != AR_CALL_CONNECTED)
    return;
  m->lost_us = g_get_monotonic_time();
  g_free(m->lost_reason);
  m->lost_reason = g_strdup(reason);
  set_state(m, AR_CALL_RECONNECTING);
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
  ArCallEvent e = {.kind = AR_CALL_EVENT_PARTICIPANTS};
  emit(m, &e);
}

static void
on_media_event(ArProvider *p, const ArTrackEvent *event, gpointer data)
{
  ArCallManager *m = data;
  if (event->what == AR_TRACK_EVENT_FIRST_VIDEO_FRAME && event->direction == AR_TRACK_RECV &&
      !m->first_remote_video_us) {
    m->first_remote_video_us = g_get_monotonic_time();
    g_message("call: first remote video frame %.0f ms after join",
              (m->first_remote_video_us - m->join_started_us) / 1000.0);
  }
  ArCallEvent e = {.kind = AR_CALL_EVENT_MEDIA, .track = *event};
  emit(m, &e);
}

static const ArProviderCallbacks provider_callbacks = {
    .connected = on_connected,
    .failed = on_failed,
    .left = on_left,
    .participants_changed = on_participants_changed,
    .media_event = on_media_event,
    .reconnecting = on_reconnecting,
    .waiting = on_waiting,
};

static gboolean
join_timeout_cb(gpointer data)
{
  ArCallManager *m = data;
  m->join_timeout_id = 0;
  g_autoptr(GError) e = NULL;
  if (m->state == AR_CALL_LOBBY)
    e = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
                    "nobody let the room in within %u minutes", AR_CALL_LOBBY_TIMEOUT_S / 60);
  else if (m->state == AR_CALL_NEEDS_ATTENTION)
    e = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
                    "nobody finished joining on the room screen within %u minutes",
                    AR_CALL_ATTENTION_TIMEOUT_S / 60);
  else
    e = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT, "the meeting did not connect within %u s",
                    m->join_timeout_s);
  call_failed(m, e);
  return G_SOURCE_REMOVE;
}

/* Creates the provider for @link (does not start it). */
static gboolean
start_provider(ArCallManager *m, const ArLink *link, GError **error)
{
  const char *display = m->config->display_name ? m->config->display_name : m->config->room_name;
  ArProvider *p =
      ar_provider_registry_create(m->providers, link, display, &provider_callbacks, m, error);
  if (!p)
    return FALSE;
  m->provider = p;
  m->engine_id = link->engine;
  g_free(m->provider_id);
  m->provider_id = g_strdup(link->provider);
  g_free(m->room);
  m->room = g_strdup(link->meeting_id);
  g_message("call: joining %s meeting %s", link->provider,
            link->meeting_id ? link->meeting_id : "");
  return TRUE;
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
  m->providers = ar_provider_registry_new();
  m->self_view = TRUE;
  g_message("media: %s", ar_media_engine_describe(m->engine));
  return m;
}

gboolean
ar_call_manager_reload_devices(ArCallManager *m, GError **error)
{
  ArMediaConfig media;
  ar_config_to_media(m->config, m->board, &media);
  if (!ar_media_engine_set_devices(m->engine, media.video_source, media.audio_source,
                                   media.audio_sink, error))
    return FALSE;
  ar_media_engine_set_processing(m->engine, media.echo_cancellation, media.noise_suppression,
                                 media.gain_control);
  g_message("media: %s%s", ar_media_engine_describe(m->engine),
            m->state == AR_CALL_IDLE ? "" : " (from the next call)");
  return TRUE;
}

gboolean
ar_call_manager_reload_network(ArCallManager *m, GError **error)
{
  /* ICE servers and TURN credentials are the engines' business. */
  return ar_provider_registry_reload_network(m->providers, error);
}

void
ar_call_manager_free(ArCallManager *m)
{
  if (!m)
    return;
  g_clear_handle_id(&m->join_timeout_id, g_source_remove);
  g_clear_handle_id(&m->reap_id, g_source_remove);
  g_clear_handle_id(&m->trim_id, g_source_remove);
  if (m->provider)
    m->provider->klass->free(m->provider);
  if (m->dying)
    m->dying->klass->free(m->dying);
  ar_provider_registry_free(m->providers);
  g_clear_pointer(&m->capture, ar_capture_unref); /* capture (issue 11) */
  ar_media_engine_free(m->engine);
  g_free(m->link);
  g_free(m->provider_id);
  g_free(m->room);
  g_free(m->error);
  g_free(m->message);
  g_free(m->lost_reason);
  g_free(m);
}

void
ar_call_manager_set_event_func(ArCallManager *m, ArCallEventFunc func, gpointer user_data)
{
  m->event_func = func;
  m->event_data = user_data;
}

static gboolean join_link(ArCallManager *m, const ArLink *link, const char *text,
                          ArCallDoneFunc done, gpointer user_data, GError **error);

static gboolean
join_text(ArCallManager *m, const char *text, ArCallDoneFunc done, gpointer user_data,
          GError **error)
{
  if (ar_call_state_is_active(m->state) || m->state == AR_CALL_LEAVING) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY,
                "the room is %s a meeting; leave it first",
                m->state == AR_CALL_LEAVING ? "still leaving" : "already in");
    return FALSE;
  }
  g_autoptr(ArLink) link = ar_provider_registry_parse_link(
      m->providers, text, ar_link_config_get_policy(m->config->links), error);
  if (!link)
    return FALSE;
  return join_link(m, link, text, done, user_data, error);
}

/* A refused join is counted here; an accepted one when it connects or ends. */
gboolean
ar_call_manager_join(ArCallManager *m, const char *text, ArCallDoneFunc done, gpointer user_data,
                     GError **error)
{
  GError *local = NULL;
  if (join_text(m, text, done, user_data, &local))
    return TRUE;
  count_join(m, local);
  g_propagate_error(error, local);
  return FALSE;
}

gboolean
ar_call_manager_join_link(ArCallManager *m, const ArLink *link, const char *text,
                          ArCallDoneFunc done, gpointer user_data, GError **error)
{
  GError *local = NULL;
  if (join_link(m, link, text, done, user_data, &local))
    return TRUE;
  count_join(m, local);
  g_propagate_error(error, local);
  return FALSE;
}

static gboolean
join_link(ArCallManager *m, const ArLink *link, const char *text, ArCallDoneFunc done,
          gpointer user_data, GError **error)
{
  if (ar_call_state_is_active(m->state) || m->state == AR_CALL_LEAVING) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY,
                "the room is %s a meeting; leave it first",
                m->state == AR_CALL_LEAVING ? "still leaving" : "already in");
    return FALSE;
  }
  if (!ar_provider_registry_lookup(m->providers, link->engine, link->provider)) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                "%s meetings are recognized but this room cannot join them yet", link->provider);
    return FALSE;
  }
  if (!start_provider(m, link, error))
    return FALSE;
  g_free(m->link);
  m->link = g_strdup(text);
  g_clear_pointer(&m->error, g_free);
  m->join_done = done;
  m->join_data = user_data;
  m->join_started_us = g_get_monotonic_time();
  m->connected_us = m->first_remote_video_us = 0;
  m->join_timeout_s = MAX(m->config->join_timeout_s, m->provider->klass->min_join_timeout_s);
  m->join_timeout_id = g_timeout_add_seconds(m->join_timeout_s, join_timeout_cb, m);
  m->reconnects = 0;
  m->last_recovery_us = 0;
  m->join_pending = TRUE;
  set_state(m, AR_CALL_JOINING);
  m->provider->klass->join(m->provider);
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
  if (m->state == AR_CALL_JOINING || m->state == AR_CALL_LOBBY ||
      m->state == AR_CALL_NEEDS_ATTENTION) {
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

/* ---- media controls ---- */

void
ar_call_manager_get_controls(ArCallManager *m, ArCallControls *out)
{
  gboolean in_call = ar_call_state_is_active(m->state);
  *out = (ArCallControls){
      .microphone_muted = ar_media_engine_get_microphone_muted(m->engine),
      .camera_enabled = ar_media_engine_get_camera_enabled(m->engine),
      .speaker_volume = ar_media_engine_get_speaker_volume(m->engine),
      .self_view = m->self_view,
  };
  out->microphone_live = in_call && !out->microphone_muted;
  out->camera_live = in_call && out->camera_enabled;
}

static void
emit_controls(ArCallManager *m)
{
  ArCallEvent e = {.kind = AR_CALL_EVENT_CONTROLS};
  ar_call_manager_get_controls(m, &e.controls);
  emit(m, &e);
}

static void
tell_provider_controls(ArCallManager *m)
{
  if (m->provider && m->provider->klass->set_controls)
    m->provider->klass->set_controls(m->provider, ar_media_engine_get_microphone_muted(m->engine),
                                     ar_media_engine_get_camera_enabled(m->engine));
}

void
ar_call_manager_set_microphone_muted(ArCallManager *m, gboolean muted)
{
  if (ar_media_engine_get_microphone_muted(m->engine) == !!muted)
    return;
  ar_media_engine_set_microphone_muted(m->engine, muted);
  tell_provider_controls(m);
  g_message("controls: microphone %s", muted ? "muted" : "unmuted");
  emit_controls(m);
}

void
ar_call_manager_set_camera_enabled(ArCallManager *m, gboolean enabled)
{
  if (ar_media_engine_get_camera_enabled(m->engine) == !!enabled)
    return;
  ar_media_engine_set_camera_enabled(m->engine, enabled);
  tell_provider_controls(m);
  g_message("controls: camera %s", enabled ? "on" : "off");
  emit_controls(m);
}

gboolean
ar_call_manager_set_speaker_volume(ArCallManager *m, gint64 level, GError **error)
{
  if (level < 0 || level > AR_MEDIA_VOLUME_MAX) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_INVALID,
                "the volume is a level from 0 to %d, not %" G_GINT64_FORMAT, AR_MEDIA_VOLUME_MAX,
                level);
    return FALSE;
  }
  if (ar_media_engine_get_speaker_volume(m->engine) == (guint)level)
    return TRUE;
  ar_media_engine_set_speaker_volume(m->engine, (guint)level);
  g_message("controls: speaker volume %" G_GINT64_FORMAT, level);
  emit_controls(m);
  return TRUE;
}

void
ar_call_manager_set_self_view(ArCallManager *m, gboolean on)
{
  if (m->self_view == !!on)
    return;
  m->self_view = !!on;
  emit_controls(m);
}

ArMediaEngine *
ar_call_manager_get_engine(ArCallManager *m)
{
  return m->engine;
}

ArProviderRegistry *
ar_call_manager_get_providers(ArCallManager *m)
{
  return m->providers;
}

ArCallState
ar_call_manager_get_state(ArCallManager *m)
{
  return m->state;
}

void
ar_call_status_free(ArCallStatus *status)
{
  if (!status)
    return;
  g_free(status->room_name);
  g_free(status->engine);
  g_free(status->provider);
  g_free(status->link);
  g_free(status->room);
  g_free(status->error);
  g_free(status->message);
  g_free(status->encoder);
  g_free(status->media);
  g_clear_pointer(&status->participants, g_ptr_array_unref);
  g_free(status->recovery_reason);
  g_clear_pointer(&status->tracks, g_ptr_array_unref);
  g_free(status);
}

static gint64
span_us(gint64 from, gint64 to)
{
  return from && to ? MAX(to - from, 1) : 0;
}

ArCallStatus *
ar_call_manager_get_status(ArCallManager *m)
{
  ArCallStatus *s = g_new0(ArCallStatus, 1);
  gboolean active = m->provider != NULL;
  gboolean in_call = active || m->state == AR_CALL_RECONNECTING;
  gboolean reconnecting = m->state == AR_CALL_RECONNECTING;
  const ArEncoderInfo *enc = ar_media_engine_get_encoder(m->engine);

  s->config = m->config;
  s->board = m->board;
  s->state = m->state;
  s->room_name = g_strdup(m->config->room_name);
  if (in_call) {
    s->engine = g_strdup(ar_engine_to_string(m->engine_id));
    s->provider = g_strdup(m->provider_id);
    s->link = g_strdup(m->link);
    s->room = g_strdup(m->room);
  }
  s->error = g_strdup(m->error);
  s->message = g_strdup(m->message);
  s->encoder = g_strdup(enc ? enc->factory : NULL);
  s->media = g_strdup(ar_media_engine_describe(m->engine));
  ar_call_manager_get_controls(m, &s->controls);
  s->participants = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
  s->tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  if (active) {
    m->provider->klass->collect_participants(m->provider, s->participants);
    m->provider->klass->collect_tracks(m->provider, s->tracks);
  }
  s->join_to_connected_us = span_us(m->join_started_us, m->connected_us);
  s->join_to_first_remote_video_us = span_us(m->join_started_us, m->first_remote_video_us);
  s->reconnects = m->reconnects;
  s->recovery_reason = reconnecting ? g_strdup(m->lost_reason) : NULL;
  s->attempt = reconnecting ? m->reconnect_attempts : 0;
  s->last_recovery_us = m->last_recovery_us;
  return s;
}
