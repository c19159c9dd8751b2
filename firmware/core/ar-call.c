/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-call.h"
#include "ar-devices.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <libsoup/soup.h>

#include "ar-provider.h"

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
  /* [network] turn-credentials-url: fetched at join, kept until ttl/2. */
  SoupSession *soup;
  GCancellable *creds_cancel; /* a fetch is running */
  ArTurnCredentials *creds;
  gint64 creds_refresh_us; /* monotonic: fetch again from then on */
  ArLink *pending_link;    /* the join waiting for the fetch */
  gboolean self_view;      /* UI setting: the room screen shows our camera */
  /* Re-establishing a broken call (AR_CALL_RECONNECTING). */
  guint reconnect_id;           /* the backoff wait before the next attempt */
  guint deadline_id;            /* the episode's deadline */
  guint attempt_id;             /* an attempt whose server answered: its media deadline */
  guint reconnect_attempts;     /* in this episode */
  gint64 reconnect_deadline_us; /* monotonic: give up then */
  gint64 lost_us;               /* when the loss was noticed */
  char *lost_reason;
  char *attempt_error; /* why the last attempt failed */
  guint reconnects;    /* successful re-establishments in this call */
  guint renew_id;      /* URL credentials: rebuild a relayed call before they expire */
  gint64 last_recovery_us;
  ArCapture *capture; /* capture (issue 11): held while the call is live */
};

const char *
ar_call_state_to_string(ArCallState state)
{
  static const char *const names[] = {"idle",    "joining", "connected",
                                      "leaving", "failed",  "reconnecting"};
  return state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

static void
emit(ArCallManager *m, JsonBuilder *b)
{
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  if (m->event_func)
    m->event_func(node, m->event_data);
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
  if (m->state == AR_CALL_RECONNECTING) {
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, m->lost_reason ? m->lost_reason : "");
  }
  json_builder_end_object(b);
  emit(m, b);
}

static void
set_state(ArCallManager *m, ArCallState state)
{
  if (m->state == state)
    return;
  g_message("call: %s -> %s", ar_call_state_to_string(m->state), ar_call_state_to_string(state));
  /* Reconnecting counts as live: the room resumes sending without user action. */
  gboolean was_live = m->state == AR_CALL_JOINING || m->state == AR_CALL_CONNECTED ||
                      m->state == AR_CALL_RECONNECTING;
  gboolean live =
      state == AR_CALL_JOINING || state == AR_CALL_CONNECTED || state == AR_CALL_RECONNECTING;
  m->state = state;
  hold_capture(m, live); /* capture (issue 11) */
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
stop_reconnecting(ArCallManager *m)
{
  g_clear_handle_id(&m->reconnect_id, g_source_remove);
  g_clear_handle_id(&m->deadline_id, g_source_remove);
  g_clear_handle_id(&m->attempt_id, g_source_remove);
  m->reconnect_attempts = 0;
  g_clear_pointer(&m->attempt_error, g_free);
}

static void
call_failed(ArCallManager *m, const GError *error)
{
  g_warning("call: failed: %s", error->message);
  stop_reconnecting(m);
  g_clear_handle_id(&m->renew_id, g_source_remove);
  if (m->creds_cancel)
    g_cancellable_cancel(m->creds_cancel);
  g_clear_object(&m->creds_cancel);
  g_clear_pointer(&m->pending_link, ar_link_free);
  g_free(m->error);
  m->error = g_strdup(error->message);
  drop_provider(m);
  set_state(m, AR_CALL_FAILED);
  finish_join(m, error);
  finish_leave(m, NULL);
}

/* ---- provider callbacks ---- */

static void begin_attempt(ArCallManager *m);
static void on_lost(ArProvider *p, const GError *error, gpointer data);

/* TURN REST credentials are due (half their ttl): a call whose media goes
 * through a relay is rebuilt with fresh ones now, while the old ones are still
 * valid. coturn refuses an expired user name on the allocation's next refresh,
 * and the relay then dies with the allocation (docs/network.md "TURN
 * credentials in long calls"). A call on a direct path keeps going. */
static gboolean
renew_cb(gpointer data)
{
  ArCallManager *m = data;
  m->renew_id = 0;
  if (m->state != AR_CALL_CONNECTED || !m->provider || !m->creds)
    return G_SOURCE_REMOVE;
  g_autoptr(GPtrArray) tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  m->provider->klass->collect_tracks(m->provider, tracks);
  gboolean relayed = FALSE;
  for (guint i = 0; i < tracks->len && !relayed; i++) {
    const char *path = ((ArTrackInfo *)tracks->pdata[i])->path;
    relayed = path && g_str_has_prefix(path, "relay");
  }
  if (!relayed) {
    g_message("network: TURN credentials are due; the call uses no relay: it keeps them");
    return G_SOURCE_REMOVE;
  }
  g_autoptr(GError) e =
      g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
                  "the TURN credentials expire in %u s: rebuilding the call with fresh ones",
                  m->creds->ttl_s / 2);
  on_lost(m->provider, e, m);
  return G_SOURCE_REMOVE;
}

static void
arm_renewal(ArCallManager *m)
{
  g_clear_handle_id(&m->renew_id, g_source_remove);
  if (!m->config->turn_credentials_url || !m->creds)
    return;
  gint64 ms = MAX((m->creds_refresh_us - g_get_monotonic_time()) / 1000, 1000);
  m->renew_id = g_timeout_add((guint)MIN(ms, (gint64)G_MAXUINT32), renew_cb, m);
}

static void
on_connected(ArProvider *p, gpointer data)
{
  ArCallManager *m = data;
  arm_renewal(m);
  if (m->state == AR_CALL_RECONNECTING) {
    m->last_recovery_us = g_get_monotonic_time() - m->lost_us;
    m->reconnects++;
    g_message("call: re-established %.0f ms after the loss (attempt %u; %s)",
              m->last_recovery_us / 1000.0, m->reconnect_attempts, m->lost_reason);
    stop_reconnecting(m);
    set_state(m, AR_CALL_CONNECTED);
    return;
  }
  m->connected_us = g_get_monotonic_time();
  set_state(m, AR_CALL_CONNECTED);
  finish_join(m, NULL);
}

/* The episode is over: the call fails, naming the loss and the last attempt. */
static void
give_up(ArCallManager *m, const GError *last)
{
  g_autoptr(GError) e = g_error_new(
      AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
      "the connection to the meeting was lost (%s) and could not be re-established "
      "(%u attempt(s) in %.1f s; last: %s)",
      m->lost_reason, m->reconnect_attempts, (g_get_monotonic_time() - m->lost_us) / 1e6,
      last               ? last->message
      : m->attempt_error ? m->attempt_error
                         : "none finished in time");
  call_failed(m, e);
}

static gboolean
reconnect_deadline_cb(gpointer data)
{
  ArCallManager *m = data;
  m->deadline_id = 0;
  give_up(m, NULL);
  return G_SOURCE_REMOVE;
}

static void
arm_deadline(ArCallManager *m)
{
  g_clear_handle_id(&m->deadline_id, g_source_remove);
  gint64 left = MAX(m->reconnect_deadline_us - g_get_monotonic_time(), 0);
  m->deadline_id = g_timeout_add((guint)(left / 1000), reconnect_deadline_cb, m);
}

static gboolean
reconnect_attempt_cb(gpointer data)
{
  ArCallManager *m = data;
  m->reconnect_id = 0;
  m->reconnect_attempts++;
  g_message("call: reconnecting, attempt %u (%.1f s left)", m->reconnect_attempts,
            (m->reconnect_deadline_us - g_get_monotonic_time()) / 1e6);
  /* The attempt runs until the call is back, it fails, or the deadline. */
  begin_attempt(m);
  return G_SOURCE_REMOVE;
}

/* Waits (exponential backoff with jitter) before the next attempt, or gives up
 * when the next one would start after the deadline. */
static void
schedule_attempt(ArCallManager *m)
{
  g_clear_handle_id(&m->reconnect_id, g_source_remove);
  g_clear_handle_id(&m->attempt_id, g_source_remove);
  guint n = MIN(m->reconnect_attempts, 5);
  gint64 delay_ms = MIN((gint64)AR_CALL_RECONNECT_FIRST_MS << n, AR_CALL_RECONNECT_MAX_MS);
  delay_ms = delay_ms * g_random_int_range(75, 126) / 100;
  if (g_get_monotonic_time() + delay_ms * 1000 >= m->reconnect_deadline_us) {
    give_up(m, NULL);
    return;
  }
  m->reconnect_id = g_timeout_add((guint)delay_ms, reconnect_attempt_cb, m);
}

/* A connected call broke, or a reconnection attempt failed for a passing reason. */
static void
on_lost(ArProvider *p, const GError *error, gpointer data)
{
  ArCallManager *m = data;
  if (m->state == AR_CALL_RECONNECTING) {
    if (!error) {
      /* attempt_cb: the server answered but the media did not connect. */
      g_autoptr(GError) e =
          g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT,
                      "the media did not connect within %d ms", AR_CALL_RECONNECT_ATTEMPT_MS);
      on_lost(p, e, data);
      return;
    }
    g_message("call: reconnection attempt %u failed: %s", m->reconnect_attempts, error->message);
    g_free(m->attempt_error);
    m->attempt_error = g_strdup(error->message);
    drop_provider(m);
    schedule_attempt(m);
    return;
  }
  if (m->state != AR_CALL_CONNECTED) {
    /* A join the user is waiting for fails at once, as before. */
    call_failed(m, error);
    return;
  }
  g_warning("call: connection lost: %s; reconnecting", error->message);
  g_clear_handle_id(&m->renew_id, g_source_remove);
  m->lost_us = g_get_monotonic_time();
  g_free(m->lost_reason);
  m->lost_reason = g_strdup(error->message);
  stop_reconnecting(m);
  /* The budget counts from when the path went silent: a dead peer was silent
   * for the dead-peer timeout already. */
  gint64 budget_ms = AR_CALL_RECONNECT_BUDGET_MS;
  if (g_error_matches(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_DEAD_PEER))
    budget_ms -= AR_PEER_DEAD_TIMEOUT_S * 1000;
  m->reconnect_deadline_us = m->lost_us + budget_ms * 1000;
  drop_provider(m);
  set_state(m, AR_CALL_RECONNECTING);
  arm_deadline(m);
  schedule_attempt(m);
}

static gboolean
attempt_timeout_cb(gpointer data)
{
  ArCallManager *m = data;
  m->attempt_id = 0;
  on_lost(NULL, NULL, m);
  return G_SOURCE_REMOVE;
}

/* The server accepted an attempt's join: the meeting is there, so the media
 * path is what is broken. Allow the longer budget, and give this attempt a
 * bounded time before a fresh one. */
static void
on_signalling_up(ArProvider *p, gpointer data)
{
  ArCallManager *m = data;
  if (m->state != AR_CALL_RECONNECTING)
    return;
  gint64 media_deadline = m->lost_us + (gint64)AR_CALL_RECONNECT_MEDIA_BUDGET_MS * 1000;
  if (media_deadline > m->reconnect_deadline_us) {
    m->reconnect_deadline_us = media_deadline;
    arm_deadline(m);
  }
  g_clear_handle_id(&m->attempt_id, g_source_remove);
  m->attempt_id = g_timeout_add(AR_CALL_RECONNECT_ATTEMPT_MS, attempt_timeout_cb, m);
}

static void
on_failed(ArProvider *p, const GError *error, gpointer data)
{
  ArCallManager *m = data;
  if (m->state == AR_CALL_RECONNECTING) {
    /* A definite answer (no such room any more, a certificate that does not
     * match): no point in trying again. */
    give_up(m, error);
    return;
  }
  call_failed(m, error);
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
on_media_event(ArProvider *p, const ArTrackEvent *event, gpointer data)
{
  ArCallManager *m = data;
  if (event->what == AR_TRACK_EVENT_FIRST_VIDEO_FRAME && event->direction == AR_TRACK_RECV &&
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
  json_builder_add_string_value(b, event->source ? event->source : "");
  json_builder_set_member_name(b, "what");
  json_builder_add_string_value(b, ar_track_event_kind_to_string(event->what));
  json_builder_end_object(b);
  emit(m, b);
}

static const ArProviderCallbacks provider_callbacks = {
    .connected = on_connected,
    .failed = on_failed,
    .left = on_left,
    .participants_changed = on_participants_changed,
    .media_event = on_media_event,
    .lost = on_lost,
    .signalling_up = on_signalling_up,
};

static gboolean
join_timeout_cb(gpointer data)
{
  ArCallManager *m = data;
  m->join_timeout_id = 0;
  g_autoptr(GError) e =
      g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT, "the meeting did not connect within %u s",
                  m->config->join_timeout_s);
  call_failed(m, e);
  return G_SOURCE_REMOVE;
}

/* ---- TURN credentials from a URL ---- */

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
  g_free(m->provider_id);
  m->provider_id = g_strdup(link->provider);
  g_free(m->room);
  m->room = g_strdup(link->meeting_id);
  g_message("call: joining %s meeting %s", link->provider,
            link->meeting_id ? link->meeting_id : "");
  return TRUE;
}

static void
credentials_ready(ArCallManager *m, ArTurnCredentials *creds, const GError *fetch_error)
{
  g_autoptr(ArLink) link = g_steal_pointer(&m->pending_link);
  g_autoptr(GError) error = NULL;
  if (fetch_error) {
    error = g_error_copy(fetch_error);
  } else {
    g_auto(ArIceConfig) ice = {0};
    if (ar_config_ice(m->config, creds->username, creds->password, (const char *const *)creds->uris,
                      &ice, &error)) {
      if (!ar_media_engine_set_ice(m->engine, &ice, &error))
        goto done;
      ar_turn_credentials_free(m->creds);
      m->creds = creds;
      creds = NULL;
      m->creds_refresh_us = g_get_monotonic_time() + (gint64)m->creds->ttl_s / 2 * G_USEC_PER_SEC;
      g_message("network: TURN credentials valid for %u s (%u server(s)); refreshed after %u s",
                m->creds->ttl_s, g_strv_length(ice.turn), m->creds->ttl_s / 2);
    } else {
      g_prefix_error(&error, "TURN credentials: ");
    }
  }
done:
  ar_turn_credentials_free(creds);
  if (!error && !start_provider(m, link, &error))
    g_prefix_error(&error, "cannot join: ");
  if (error) {
    if (m->state == AR_CALL_RECONNECTING)
      on_lost(NULL, error, m);
    else
      call_failed(m, error);
    return;
  }
  m->provider->klass->join(m->provider);
}

static void
credentials_read_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  GInputStream *in = G_INPUT_STREAM(source);
  g_autoptr(GBytes) buf = data;
  gsize n = 0;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_input_stream_read_all_finish(in, res, &n, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  ArCallManager *m = g_object_get_data(G_OBJECT(in), "ar-call-manager");
  g_clear_object(&m->creds_cancel);
  g_input_stream_close(in, NULL, NULL);
  if (!ok) {
    g_prefix_error(&error, "TURN credentials: ");
    credentials_ready(m, NULL, error);
    return;
  }
  gsize size = 0;
  const char *bytes = g_bytes_get_data(buf, &size);
  if (n >= size) {
    g_set_error(&error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                "TURN credentials: answer larger than %d bytes", AR_TURN_CREDENTIALS_MAX_SIZE);
    credentials_ready(m, NULL, error);
    return;
  }
  ArTurnCredentials *creds = ar_turn_credentials_parse(bytes, n, &error);
  credentials_ready(m, creds, error);
}

static void
credentials_sent_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  ArCallManager *m = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!in) {
    g_clear_object(&m->creds_cancel);
    g_prefix_error(&error, "TURN credentials: cannot fetch them: ");
    credentials_ready(m, NULL, error);
    return;
  }
  SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
  guint status = msg ? soup_message_get_status(msg) : 0;
  if (status != SOUP_STATUS_OK) {
    g_clear_object(&m->creds_cancel);
    g_set_error(&error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                "TURN credentials: the credentials URL answered HTTP %u", status);
    credentials_ready(m, NULL, error);
    return;
  }
  /* One byte more than allowed tells "too large" from "just fits". */
  gsize size = AR_TURN_CREDENTIALS_MAX_SIZE + 1;
  GBytes *buf = g_bytes_new_take(g_malloc0(size), size);
  g_object_set_data(G_OBJECT(in), "ar-call-manager", m);
  g_input_stream_read_all_async(in, (void *)g_bytes_get_data(buf, NULL), size, G_PRIORITY_DEFAULT,
                                m->creds_cancel, credentials_read_cb, buf);
}

static void fetch_credentials(ArCallManager *m);

/* One reconnection attempt: a new provider for the same link (a new Janus
 * session: new publisher and subscriber handles, new peer connections), after
 * fresh TURN credentials when the cached ones are due. */
static void
begin_attempt(ArCallManager *m)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link =
      ar_link_parse(m->link, ar_link_config_get_policy(m->config->links), &error);
  if (link && !ar_provider_registry_lookup(m->providers, link->engine, link->provider))
    g_clear_pointer(&link, ar_link_free);
  if (!link) {
    if (!error)
      error = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED, "no provider");
    give_up(m, error);
    return;
  }
  if (m->config->turn_credentials_url &&
      (!m->creds || g_get_monotonic_time() >= m->creds_refresh_us)) {
    m->pending_link = g_steal_pointer(&link);
    fetch_credentials(m);
    return;
  }
  if (!start_provider(m, link, &error)) {
    give_up(m, error);
    return;
  }
  m->provider->klass->join(m->provider);
}

static void
fetch_credentials(ArCallManager *m)
{
  if (!m->soup)
    m->soup = soup_session_new_with_options("timeout", 10, "idle-timeout", 10, "user-agent",
                                            "anyroomd", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_GET, m->config->turn_credentials_url);
  if (!msg) {
    g_autoptr(GError) e = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                                      "TURN credentials: the credentials URL is not valid");
    credentials_ready(m, NULL, e);
    return;
  }
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Accept", "application/json");
  g_clear_object(&m->creds_cancel);
  m->creds_cancel = g_cancellable_new();
  g_message("network: fetching TURN credentials");
  soup_session_send_async(m->soup, msg, G_PRIORITY_DEFAULT, m->creds_cancel, credentials_sent_cb,
                          m);
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
  if (!config->turn_credentials_url) {
    g_auto(ArIceConfig) ice = {0};
    if (!ar_config_ice(config, NULL, NULL, NULL, &ice, error)) {
      ar_call_manager_free(m);
      return NULL;
    }
    if (!ar_media_engine_set_ice(m->engine, &ice, error)) {
      ar_call_manager_free(m);
      return NULL;
    }
  }
  g_message("network: %u STUN, %u TURN server(s)%s%s",
            config->stun ? g_strv_length(config->stun) : 0,
            config->turn ? g_strv_length(config->turn) : 0,
            config->turn_credentials_url ? ", TURN credentials from a URL" : "",
            config->relay_only ? ", relay only" : "");
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
  g_message("media: %s%s", ar_media_engine_describe(m->engine),
            m->state == AR_CALL_IDLE ? "" : " (from the next call)");
  return TRUE;
}

gboolean
ar_call_manager_reload_network(ArCallManager *m, GError **error)
{
  /* Cached credentials were fetched for the old settings. */
  g_clear_pointer(&m->creds, ar_turn_credentials_free);
  m->creds_refresh_us = 0;
  if (m->config->turn_credentials_url)
    return TRUE; /* fetched at the next join */
  g_auto(ArIceConfig) ice = {0};
  if (!ar_config_ice(m->config, NULL, NULL, NULL, &ice, error) ||
      !ar_media_engine_set_ice(m->engine, &ice, error))
    return FALSE;
  g_message("network: now %u STUN, %u TURN server(s)%s",
            m->config->stun ? g_strv_length(m->config->stun) : 0,
            m->config->turn ? g_strv_length(m->config->turn) : 0,
            m->config->relay_only ? ", relay only" : "");
  return TRUE;
}

void
ar_call_manager_free(ArCallManager *m)
{
  if (!m)
    return;
  g_clear_handle_id(&m->join_timeout_id, g_source_remove);
  g_clear_handle_id(&m->reap_id, g_source_remove);
  g_clear_handle_id(&m->reconnect_id, g_source_remove);
  g_clear_handle_id(&m->deadline_id, g_source_remove);
  g_clear_handle_id(&m->attempt_id, g_source_remove);
  g_clear_handle_id(&m->renew_id, g_source_remove);
  if (m->provider)
    m->provider->klass->free(m->provider);
  if (m->dying)
    m->dying->klass->free(m->dying);
  if (m->creds_cancel)
    g_cancellable_cancel(m->creds_cancel);
  g_clear_object(&m->creds_cancel);
  g_clear_object(&m->soup);
  ar_turn_credentials_free(m->creds);
  ar_link_free(m->pending_link);
  ar_provider_registry_free(m->providers);
  g_clear_pointer(&m->capture, ar_capture_unref); /* capture (issue 11) */
  ar_media_engine_free(m->engine);
  g_free(m->link);
  g_free(m->provider_id);
  g_free(m->room);
  g_free(m->error);
  g_free(m->lost_reason);
  g_free(m->attempt_error);
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
  if (m->state == AR_CALL_JOINING || m->state == AR_CALL_CONNECTED || m->state == AR_CALL_LEAVING ||
      m->state == AR_CALL_RECONNECTING) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY,
                "the room is %s a meeting; leave it first",
                m->state == AR_CALL_LEAVING ? "still leaving" : "already in");
    return FALSE;
  }
  g_autoptr(ArLink) link = ar_link_parse(text, ar_link_config_get_policy(m->config->links), error);
  if (!link)
    return FALSE;
  if (!ar_provider_registry_lookup(m->providers, link->engine, link->provider)) {
    g_set_error(error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED,
                "%s meetings are recognized but this room cannot join them yet", link->provider);
    return FALSE;
  }
  if (m->config->turn_credentials_url &&
      (!m->creds || g_get_monotonic_time() >= m->creds_refresh_us)) {
    /* Fetch TURN credentials first; the join goes on when they arrive. */
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
    m->pending_link = g_steal_pointer(&link);
    m->reconnects = 0;
    m->last_recovery_us = 0;
    set_state(m, AR_CALL_JOINING);
    fetch_credentials(m);
    return TRUE;
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
  m->join_timeout_id = g_timeout_add_seconds(m->config->join_timeout_s, join_timeout_cb, m);
  m->reconnects = 0;
  m->last_recovery_us = 0;
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
  if (m->state == AR_CALL_JOINING) {
    g_autoptr(GError) e =
        g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_CANCELLED, "the join was cancelled by a leave");
    finish_join(m, e);
  }
  stop_reconnecting(m);
  g_clear_handle_id(&m->renew_id, g_source_remove);
  if (!m->provider) {
    /* Still fetching TURN credentials, or waiting to reconnect: nothing to
     * leave yet. */
    if (m->creds_cancel)
      g_cancellable_cancel(m->creds_cancel);
    g_clear_object(&m->creds_cancel);
    g_clear_pointer(&m->pending_link, ar_link_free);
    set_state(m, AR_CALL_IDLE);
    if (done)
      done(NULL, user_data);
    return TRUE;
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

JsonNode *
ar_call_manager_controls(ArCallManager *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  gboolean in_call = m->state == AR_CALL_JOINING || m->state == AR_CALL_CONNECTED ||
                     m->state == AR_CALL_RECONNECTING;
  gboolean muted = ar_media_engine_get_microphone_muted(m->engine);
  gboolean camera = ar_media_engine_get_camera_enabled(m->engine);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "microphone_muted");
  json_builder_add_boolean_value(b, muted);
  json_builder_set_member_name(b, "camera_enabled");
  json_builder_add_boolean_value(b, camera);
  json_builder_set_member_name(b, "speaker_volume");
  json_builder_add_int_value(b, ar_media_engine_get_speaker_volume(m->engine));
  json_builder_set_member_name(b, "self_view");
  json_builder_add_boolean_value(b, m->self_view);
  /* Live: being sent to a meeting right now (what the room screen shows). */
  json_builder_set_member_name(b, "microphone_live");
  json_builder_add_boolean_value(b, in_call && !muted);
  json_builder_set_member_name(b, "camera_live");
  json_builder_add_boolean_value(b, in_call && camera);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void
emit_controls(ArCallManager *m)
{
  g_autoptr(JsonNode) controls = ar_call_manager_controls(m);
  JsonObject *o = json_node_get_object(controls);
  json_object_set_string_member(o, "event", "controls");
  if (m->event_func)
    m->event_func(controls, m->event_data);
}

void
ar_call_manager_set_microphone_muted(ArCallManager *m, gboolean muted)
{
  if (ar_media_engine_get_microphone_muted(m->engine) == !!muted)
    return;
  ar_media_engine_set_microphone_muted(m->engine, muted);
  g_message("controls: microphone %s", muted ? "muted" : "unmuted");
  emit_controls(m);
}

void
ar_call_manager_set_camera_enabled(ArCallManager *m, gboolean enabled)
{
  if (ar_media_engine_get_camera_enabled(m->engine) == !!enabled)
    return;
  ar_media_engine_set_camera_enabled(m->engine, enabled);
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
add_track(JsonBuilder *b, const ArTrackInfo *t)
{
  const ArTrackStats *s = &t->stats;
  json_builder_begin_object(b);
  add_string_or_null(b, "peer", t->source);
  add_string_or_null(b, "ice_path", t->path);
  add_string_or_null(b, "kind", s->kind);
  add_string_or_null(b, "direction", s->direction);
  add_string_or_null(b, "codec", s->codec);
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
  DBL("audio_level", s->audio_level);
  DBL("luma", s->luma);
  INT("freezes", s->freezes);
  DBL("freeze_ms", s->freeze_ms);
#undef INT
#undef DBL
  json_builder_end_object(b);
}

JsonNode *
ar_call_manager_status(ArCallManager *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  gboolean active = m->provider != NULL;
  gboolean in_call = active || m->state == AR_CALL_RECONNECTING;
  json_builder_begin_object(b);
  add_string_or_null(b, "state", ar_call_state_to_string(m->state));
  add_string_or_null(b, "room_name", m->config->room_name);
  add_string_or_null(b, "provider", in_call ? m->provider_id : NULL);
  add_string_or_null(b, "link", in_call ? m->link : NULL);
  add_string_or_null(b, "room", in_call ? m->room : NULL);
  add_string_or_null(b, "error", m->error);
  const ArEncoderInfo *enc = ar_media_engine_get_encoder(m->engine);
  add_string_or_null(b, "encoder", enc ? enc->factory : NULL);
  add_string_or_null(b, "media", ar_media_engine_describe(m->engine));
  json_builder_set_member_name(b, "controls");
  json_builder_add_value(b, ar_call_manager_controls(m));
  ar_devices_add_status(b, m->config, m->board);

  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  if (active) {
    g_autoptr(GPtrArray) parts =
        g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
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

  json_builder_set_member_name(b, "recovery");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "reconnects");
  json_builder_add_int_value(b, m->reconnects);
  add_string_or_null(b, "reason", m->state == AR_CALL_RECONNECTING ? m->lost_reason : NULL);
  json_builder_set_member_name(b, "attempt");
  json_builder_add_int_value(b, m->state == AR_CALL_RECONNECTING ? m->reconnect_attempts : 0);
  json_builder_set_member_name(b, "last_recovery_ms");
  if (m->last_recovery_us)
    json_builder_add_double_value(b, m->last_recovery_us / 1000.0);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "tracks");
  json_builder_begin_array(b);
  if (active) {
    g_autoptr(GPtrArray) tracks =
        g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
    m->provider->klass->collect_tracks(m->provider, tracks);
    for (guint i = 0; i < tracks->len; i++)
      add_track(b, tracks->pdata[i]);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
