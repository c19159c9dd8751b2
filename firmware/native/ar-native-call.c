/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-native-call.h"

#include <libsoup/soup.h>

/* ---- the engine: ICE servers and TURN REST credentials ---- */

struct _ArNativeEngine {
  gint refs;
  const ArConfig *config;
  ArMediaEngine *media; /* borrowed; NULL in tests that only register */
  gboolean registered;
  /* [network] turn-credentials-url: fetched at join, kept until ttl/2. */
  SoupSession *soup;
  ArTurnCredentials *creds;
  gint64 creds_refresh_us; /* monotonic: fetch again from then on */
};

static gboolean
set_static_ice(ArNativeEngine *native, GError **error)
{
  if (native->config->turn_credentials_url || !native->media)
    return TRUE; /* fetched at each join */
  g_auto(ArIceConfig) ice = {0};
  return ar_config_ice(native->config, NULL, NULL, NULL, &ice, error) &&
         ar_media_engine_set_ice(native->media, &ice, error);
}

ArNativeEngine *
ar_native_engine_new(const ArConfig *config, ArMediaEngine *media, GError **error)
{
  ArNativeEngine *native = g_new0(ArNativeEngine, 1);
  native->refs = 1;
  native->config = config;
  native->media = media;
  if (!set_static_ice(native, error)) {
    ar_native_engine_unref(native);
    return NULL;
  }
  g_message("network: %u STUN, %u TURN server(s)%s%s",
            config->stun ? g_strv_length(config->stun) : 0,
            config->turn ? g_strv_length(config->turn) : 0,
            config->turn_credentials_url ? ", TURN credentials from a URL" : "",
            config->relay_only ? ", relay only" : "");
  return native;
}

ArNativeEngine *
ar_native_engine_ref(ArNativeEngine *native)
{
  g_atomic_int_inc(&native->refs);
  return native;
}

void
ar_native_engine_unref(ArNativeEngine *native)
{
  if (!native || !g_atomic_int_dec_and_test(&native->refs))
    return;
  g_clear_object(&native->soup);
  ar_turn_credentials_free(native->creds);
  g_free(native);
}

const ArConfig *
ar_native_engine_get_config(ArNativeEngine *native)
{
  return native->config;
}

ArMediaEngine *
ar_native_engine_get_media(ArNativeEngine *native)
{
  return native->media;
}

static gboolean
engine_reload_network(gpointer data, GError **error)
{
  ArNativeEngine *native = data;
  /* Cached credentials were fetched for the old settings. */
  g_clear_pointer(&native->creds, ar_turn_credentials_free);
  native->creds_refresh_us = 0;
  if (native->config->turn_credentials_url)
    return TRUE; /* fetched at the next join */
  if (!set_static_ice(native, error))
    return FALSE;
  g_message("network: now %u STUN, %u TURN server(s)%s",
            native->config->stun ? g_strv_length(native->config->stun) : 0,
            native->config->turn ? g_strv_length(native->config->turn) : 0,
            native->config->relay_only ? ", relay only" : "");
  return TRUE;
}

static const ArEngineClass engine_class = {
    .reload_network = engine_reload_network,
};

void
ar_native_engine_register(ArNativeEngine *native, ArProviderRegistry *registry)
{
  if (native->registered)
    return;
  native->registered = TRUE;
  ar_provider_registry_add_engine(registry, AR_ENGINE_NATIVE, &engine_class,
                                  ar_native_engine_ref(native),
                                  (GDestroyNotify)ar_native_engine_unref);
}

static gboolean
creds_due(ArNativeEngine *native)
{
  return native->config->turn_credentials_url &&
         (!native->creds || g_get_monotonic_time() >= native->creds_refresh_us);
}

/* ---- a call: one wrapped provider at a time ---- */

typedef struct {
  const ArProviderClass *klass;
  gpointer class_data;
  ArNativeEngine *native;
  /* What the call manager sees: native_call_class with the wrapped class's
   * min_join_timeout_s (a call to a room rings before it connects). */
  ArProviderClass wrapper;
} NativeClass;

static void
native_class_free(NativeClass *nc)
{
  ar_native_engine_unref(nc->native);
  g_free(nc);
}

typedef struct {
  ArProvider parent;
  const NativeClass *nc;
  ArLink *link;
  char *display;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArProvider *inner;
  ArProvider *dying; /* freed from an idle callback, never inside its own callback */
  guint reap_id;
  gboolean connected_once;
  gboolean leaving;
  guint left_id;
  GCancellable *creds_cancel; /* a fetch is running */
  /* Re-establishing a broken call. */
  gboolean reconnecting;
  guint reconnect_id;  /* the backoff wait before the next attempt */
  guint deadline_id;   /* the episode's deadline */
  guint attempt_id;    /* an attempt whose server answered: its media deadline */
  guint attempts;      /* in this episode */
  gint64 deadline_us;  /* monotonic: give up then */
  gint64 lost_us;      /* when the loss was noticed */
  char *lost_reason;   /* why */
  char *attempt_error; /* why the last attempt failed */
  guint renew_id;      /* URL credentials: rebuild a relayed call before they expire */
} NativeCall;

static const ArProviderClass native_call_class;
static const ArProviderCallbacks inner_callbacks;

static gboolean
reap_cb(gpointer data)
{
  NativeCall *c = data;
  c->reap_id = 0;
  if (c->dying) {
    c->dying->klass->free(c->dying);
    c->dying = NULL;
  }
  return G_SOURCE_REMOVE;
}

/* Drops the current inner provider. Its memory goes from an idle callback
 * because we may be inside one of its callbacks right now. */
static void
drop_inner(NativeCall *c)
{
  if (!c->inner)
    return;
  if (c->dying)
    c->dying->klass->free(c->dying);
  c->dying = g_steal_pointer(&c->inner);
  if (!c->reap_id)
    c->reap_id = g_idle_add(reap_cb, c);
}

static void
stop_reconnecting(NativeCall *c)
{
  g_clear_handle_id(&c->reconnect_id, g_source_remove);
  g_clear_handle_id(&c->deadline_id, g_source_remove);
  g_clear_handle_id(&c->attempt_id, g_source_remove);
  c->attempts = 0;
  c->reconnecting = FALSE;
  g_clear_pointer(&c->attempt_error, g_free);
}

static void
cancel_creds(NativeCall *c)
{
  if (c->creds_cancel)
    g_cancellable_cancel(c->creds_cancel);
  g_clear_object(&c->creds_cancel);
}

/* Terminal: the call manager is told once; nothing of ours runs after. */
static void
fail(NativeCall *c, const GError *error)
{
  stop_reconnecting(c);
  g_clear_handle_id(&c->renew_id, g_source_remove);
  cancel_creds(c);
  drop_inner(c);
  c->cb.failed(&c->parent, error, c->user_data);
}

static void begin_attempt(NativeCall *c);
static void on_inner_lost(ArProvider *p, const GError *error, gpointer data);

/* The episode is over: the call fails, naming the loss and the last attempt. */
static void
give_up(NativeCall *c, const GError *last)
{
  g_autoptr(GError) e =
      g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                  "the connection to the meeting was lost (%s) and could not be re-established "
                  "(%u attempt(s) in %.1f s; last: %s)",
                  c->lost_reason, c->attempts, (g_get_monotonic_time() - c->lost_us) / 1e6,
                  last               ? last->message
                  : c->attempt_error ? c->attempt_error
                                     : "none finished in time");
  fail(c, e);
}

static gboolean
deadline_cb(gpointer data)
{
  NativeCall *c = data;
  c->deadline_id = 0;
  give_up(c, NULL);
  return G_SOURCE_REMOVE;
}

static void
arm_deadline(NativeCall *c)
{
  g_clear_handle_id(&c->deadline_id, g_source_remove);
  gint64 left = MAX(c->deadline_us - g_get_monotonic_time(), 0);
  c->deadline_id = g_timeout_add((guint)(left / 1000), deadline_cb, c);
}

static gboolean
attempt_cb(gpointer data)
{
  NativeCall *c = data;
  c->reconnect_id = 0;
  c->attempts++;
  g_message("call: reconnecting, attempt %u (%.1f s left)", c->attempts,
            (c->deadline_us - g_get_monotonic_time()) / 1e6);
  if (c->cb.reconnecting)
    c->cb.reconnecting(&c->parent, c->lost_reason, c->attempts, c->user_data);
  /* The attempt runs until the call is back, it fails, or the deadline. */
  begin_attempt(c);
  return G_SOURCE_REMOVE;
}

/* Waits (exponential backoff with jitter) before the next attempt, or gives up
 * when the next one would start after the deadline. */
static void
schedule_attempt(NativeCall *c)
{
  g_clear_handle_id(&c->reconnect_id, g_source_remove);
  g_clear_handle_id(&c->attempt_id, g_source_remove);
  guint n = MIN(c->attempts, 5);
  gint64 delay_ms = MIN((gint64)AR_NATIVE_RECONNECT_FIRST_MS << n, AR_NATIVE_RECONNECT_MAX_MS);
  delay_ms = delay_ms * g_random_int_range(75, 126) / 100;
  if (g_get_monotonic_time() + delay_ms * 1000 >= c->deadline_us) {
    give_up(c, NULL);
    return;
  }
  c->reconnect_id = g_timeout_add((guint)delay_ms, attempt_cb, c);
}

/* ---- TURN credentials from a URL ---- */

/* TURN REST credentials are due (half their ttl): a call whose media goes
 * through a relay is rebuilt with fresh ones now, while the old ones are still
 * valid. coturn refuses an expired user name on the allocation's next refresh,
 * and the relay then dies with the allocation (docs/network.md "TURN
 * credentials in long calls"). A call on a direct path keeps going. */
static gboolean
renew_cb(gpointer data)
{
  NativeCall *c = data;
  ArNativeEngine *native = c->nc->native;
  c->renew_id = 0;
  if (c->reconnecting || !c->inner || !native->creds)
    return G_SOURCE_REMOVE;
  g_autoptr(GPtrArray) tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  c->inner->klass->collect_tracks(c->inner, tracks);
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
      g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                  "the TURN credentials expire in %u s: rebuilding the call with fresh ones",
                  native->creds->ttl_s / 2);
  on_inner_lost(c->inner, e, c);
  return G_SOURCE_REMOVE;
}

static void
arm_renewal(NativeCall *c)
{
  ArNativeEngine *native = c->nc->native;
  g_clear_handle_id(&c->renew_id, g_source_remove);
  if (!native->config->turn_credentials_url || !native->creds)
    return;
  gint64 ms = MAX((native->creds_refresh_us - g_get_monotonic_time()) / 1000, 1000);
  c->renew_id = g_timeout_add((guint)MIN(ms, (gint64)G_MAXUINT32), renew_cb, c);
}

/* Creates and joins a new inner provider for the call's link. */
static void
start_inner(NativeCall *c)
{
  g_autoptr(GError) error = NULL;
  c->inner =
      c->nc->klass->create(c->link, c->nc->class_data, c->display, &inner_callbacks, c, &error);
  if (!c->inner) {
    g_prefix_error(&error, "cannot join: ");
    if (c->reconnecting)
      on_inner_lost(NULL, error, c);
    else
      fail(c, error);
    return;
  }
  c->inner->klass->join(c->inner);
}

static void
credentials_ready(NativeCall *c, ArTurnCredentials *creds, const GError *fetch_error)
{
  ArNativeEngine *native = c->nc->native;
  g_autoptr(GError) error = NULL;
  if (fetch_error) {
    error = g_error_copy(fetch_error);
  } else {
    g_auto(ArIceConfig) ice = {0};
    if (ar_config_ice(native->config, creds->username, creds->password,
                      (const char *const *)creds->uris, &ice, &error)) {
      if (!native->media || ar_media_engine_set_ice(native->media, &ice, &error)) {
        ar_turn_credentials_free(native->creds);
        native->creds = g_steal_pointer(&creds);
        native->creds_refresh_us =
            g_get_monotonic_time() + (gint64)native->creds->ttl_s / 2 * G_USEC_PER_SEC;
        g_message("network: TURN credentials valid for %u s (%u server(s)); refreshed after %u s",
                  native->creds->ttl_s, g_strv_length(ice.turn), native->creds->ttl_s / 2);
      }
    } else {
      g_prefix_error(&error, "TURN credentials: ");
    }
  }
  ar_turn_credentials_free(creds);
  if (error) {
    if (c->reconnecting)
      on_inner_lost(NULL, error, c);
    else
      fail(c, error);
    return;
  }
  start_inner(c);
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
  NativeCall *c = g_object_get_data(G_OBJECT(in), "ar-native-call");
  g_clear_object(&c->creds_cancel);
  g_input_stream_close(in, NULL, NULL);
  if (!ok) {
    g_prefix_error(&error, "TURN credentials: ");
    credentials_ready(c, NULL, error);
    return;
  }
  gsize size = 0;
  const char *bytes = g_bytes_get_data(buf, &size);
  if (n >= size) {
    g_set_error(&error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                "TURN credentials: answer larger than %d bytes", AR_TURN_CREDENTIALS_MAX_SIZE);
    credentials_ready(c, NULL, error);
    return;
  }
  ArTurnCredentials *creds = ar_turn_credentials_parse(bytes, n, &error);
  credentials_ready(c, creds, error);
}

static void
credentials_sent_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  NativeCall *c = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!in) {
    g_clear_object(&c->creds_cancel);
    g_prefix_error(&error, "TURN credentials: cannot fetch them: ");
    credentials_ready(c, NULL, error);
    return;
  }
  SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
  guint status = msg ? soup_message_get_status(msg) : 0;
  if (status != SOUP_STATUS_OK) {
    g_clear_object(&c->creds_cancel);
    g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "TURN credentials: the credentials URL answered HTTP %u", status);
    credentials_ready(c, NULL, error);
    return;
  }
  /* One byte more than allowed tells "too large" from "just fits". */
  gsize size = AR_TURN_CREDENTIALS_MAX_SIZE + 1;
  GBytes *buf = g_bytes_new_take(g_malloc0(size), size);
  g_object_set_data(G_OBJECT(in), "ar-native-call", c);
  g_input_stream_read_all_async(in, (void *)g_bytes_get_data(buf, NULL), size, G_PRIORITY_DEFAULT,
                                c->creds_cancel, credentials_read_cb, buf);
}

static void
fetch_credentials(NativeCall *c)
{
  ArNativeEngine *native = c->nc->native;
  if (!native->soup)
    native->soup = soup_session_new_with_options("timeout", 10, "idle-timeout", 10, "user-agent",
                                                 "anyroomd", NULL);
  g_autoptr(SoupMessage) msg =
      soup_message_new(SOUP_METHOD_GET, native->config->turn_credentials_url);
  if (!msg) {
    g_autoptr(GError) e = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                      "TURN credentials: the credentials URL is not valid");
    credentials_ready(c, NULL, e);
    return;
  }
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Accept", "application/json");
  cancel_creds(c);
  c->creds_cancel = g_cancellable_new();
  g_message("network: fetching TURN credentials");
  soup_session_send_async(native->soup, msg, G_PRIORITY_DEFAULT, c->creds_cancel,
                          credentials_sent_cb, c);
}

/* One attempt (the first join or a reconnection): a new inner provider for the
 * same link (for Janus: a new session, new handles, new peer connections),
 * after fresh TURN credentials when the cached ones are due. */
static void
begin_attempt(NativeCall *c)
{
  if (creds_due(c->nc->native)) {
    fetch_credentials(c);
    return;
  }
  start_inner(c);
}

/* ---- the inner provider's callbacks ---- */

static void
on_inner_connected(ArProvider *p, gpointer data)
{
  NativeCall *c = data;
  arm_renewal(c);
  if (c->reconnecting) {
    g_message("call: re-established %.0f ms after the loss (attempt %u; %s)",
              (g_get_monotonic_time() - c->lost_us) / 1000.0, c->attempts, c->lost_reason);
    stop_reconnecting(c);
  }
  c->connected_once = TRUE;
  c->cb.connected(&c->parent, c->user_data);
}

/* A connected call broke, or a reconnection attempt failed for a passing reason. */
static void
on_inner_lost(ArProvider *p, const GError *error, gpointer data)
{
  NativeCall *c = data;
  if (c->leaving)
    return;
  if (c->reconnecting) {
    if (!error) {
      /* attempt_timeout_cb: the server answered but the media did not connect. */
      g_autoptr(GError) e =
          g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the media did not connect within %d ms",
                      AR_NATIVE_RECONNECT_ATTEMPT_MS);
      on_inner_lost(p, e, data);
      return;
    }
    g_message("call: reconnection attempt %u failed: %s", c->attempts, error->message);
    g_free(c->attempt_error);
    c->attempt_error = g_strdup(error->message);
    drop_inner(c);
    schedule_attempt(c);
    return;
  }
  if (!c->connected_once) {
    /* A join the user is waiting for fails at once. */
    fail(c, error);
    return;
  }
  g_warning("call: connection lost: %s; reconnecting", error->message);
  g_clear_handle_id(&c->renew_id, g_source_remove);
  stop_reconnecting(c);
  c->reconnecting = TRUE;
  c->lost_us = g_get_monotonic_time();
  g_free(c->lost_reason);
  c->lost_reason = g_strdup(error->message);
  /* The budget counts from when the path went silent: a dead peer was silent
   * for the dead-peer timeout already. */
  gint64 budget_ms = AR_NATIVE_RECONNECT_BUDGET_MS;
  if (g_error_matches(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_DEAD_PEER))
    budget_ms -= AR_PEER_DEAD_TIMEOUT_S * 1000;
  c->deadline_us = c->lost_us + budget_ms * 1000;
  drop_inner(c);
  if (c->cb.reconnecting)
    c->cb.reconnecting(&c->parent, c->lost_reason, 0, c->user_data);
  arm_deadline(c);
  schedule_attempt(c);
}

static gboolean
attempt_timeout_cb(gpointer data)
{
  NativeCall *c = data;
  c->attempt_id = 0;
  on_inner_lost(c->inner, NULL, c);
  return G_SOURCE_REMOVE;
}

/* The server accepted an attempt's join: the meeting is there, so the media
 * path is what is broken. Allow the longer budget, and give this attempt a
 * bounded time before a fresh one. */
static void
on_inner_signalling_up(ArProvider *p, gpointer data)
{
  NativeCall *c = data;
  if (!c->reconnecting)
    return;
  gint64 media_deadline = c->lost_us + (gint64)AR_NATIVE_RECONNECT_MEDIA_BUDGET_MS * 1000;
  if (media_deadline > c->deadline_us) {
    c->deadline_us = media_deadline;
    arm_deadline(c);
  }
  g_clear_handle_id(&c->attempt_id, g_source_remove);
  c->attempt_id = g_timeout_add(AR_NATIVE_RECONNECT_ATTEMPT_MS, attempt_timeout_cb, c);
}

static void
on_inner_failed(ArProvider *p, const GError *error, gpointer data)
{
  NativeCall *c = data;
  if (c->leaving)
    return;
  if (c->reconnecting) {
    /* A definite answer (no such room any more, a certificate that does not
     * match): no point in trying again. */
    give_up(c, error);
    return;
  }
  fail(c, error);
}

static void
on_inner_left(ArProvider *p, gpointer data)
{
  NativeCall *c = data;
  drop_inner(c);
  c->cb.left(&c->parent, c->user_data);
}

static void
on_inner_participants_changed(ArProvider *p, gpointer data)
{
  NativeCall *c = data;
  c->cb.participants_changed(&c->parent, c->user_data);
}

static void
on_inner_media_event(ArProvider *p, const ArTrackEvent *event, gpointer data)
{
  NativeCall *c = data;
  if (c->cb.media_event)
    c->cb.media_event(&c->parent, event, c->user_data);
}

static const ArProviderCallbacks inner_callbacks = {
    .connected = on_inner_connected,
    .failed = on_inner_failed,
    .left = on_inner_left,
    .participants_changed = on_inner_participants_changed,
    .media_event = on_inner_media_event,
    .lost = on_inner_lost,
    .signalling_up = on_inner_signalling_up,
};

/* ---- the provider the call manager sees ---- */

static ArProvider *
native_call_create(const ArLink *link, gpointer class_data, const char *display_name,
                   const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  NativeCall *c = g_new0(NativeCall, 1);
  c->nc = class_data;
  c->parent.klass = &c->nc->wrapper;
  c->link = ar_link_copy(link);
  c->display = g_strdup(display_name);
  c->cb = *cb;
  c->user_data = user_data;
  return &c->parent;
}

static void
native_call_join(ArProvider *p)
{
  begin_attempt((NativeCall *)p);
}

static gboolean
left_cb(gpointer data)
{
  NativeCall *c = data;
  c->left_id = 0;
  c->cb.left(&c->parent, c->user_data);
  return G_SOURCE_REMOVE;
}

static void
native_call_leave(ArProvider *p)
{
  NativeCall *c = (NativeCall *)p;
  c->leaving = TRUE;
  stop_reconnecting(c);
  g_clear_handle_id(&c->renew_id, g_source_remove);
  cancel_creds(c);
  if (c->inner) {
    c->inner->klass->leave(c->inner);
    return;
  }
  /* Fetching TURN credentials, or waiting to reconnect: nothing to leave. */
  if (!c->left_id)
    c->left_id = g_idle_add(left_cb, c);
}

static void
native_call_collect_tracks(ArProvider *p, GPtrArray *out)
{
  NativeCall *c = (NativeCall *)p;
  if (c->inner)
    c->inner->klass->collect_tracks(c->inner, out);
}

static void
native_call_collect_participants(ArProvider *p, GPtrArray *out)
{
  NativeCall *c = (NativeCall *)p;
  if (c->inner)
    c->inner->klass->collect_participants(c->inner, out);
}

static void
native_call_free(ArProvider *p)
{
  NativeCall *c = (NativeCall *)p;
  if (!c)
    return;
  stop_reconnecting(c);
  g_clear_handle_id(&c->renew_id, g_source_remove);
  g_clear_handle_id(&c->reap_id, g_source_remove);
  g_clear_handle_id(&c->left_id, g_source_remove);
  cancel_creds(c);
  if (c->inner)
    c->inner->klass->free(c->inner);
  if (c->dying)
    c->dying->klass->free(c->dying);
  ar_link_free(c->link);
  g_free(c->display);
  g_free(c->lost_reason);
  g_free(c);
}

static const ArProviderClass native_call_class = {
    .create = native_call_create,
    .join = native_call_join,
    .leave = native_call_leave,
    .collect_tracks = native_call_collect_tracks,
    .collect_participants = native_call_collect_participants,
    .free = native_call_free,
};

void
ar_native_register(ArProviderRegistry *registry, ArNativeEngine *native, const char *id,
                   const ArProviderClass *klass, gpointer class_data)
{
  NativeClass *nc = g_new0(NativeClass, 1);
  nc->klass = klass;
  nc->class_data = class_data;
  nc->native = ar_native_engine_ref(native);
  nc->wrapper = native_call_class;
  nc->wrapper.min_join_timeout_s = klass->min_join_timeout_s;
  ar_native_engine_register(native, registry);
  ar_provider_registry_add(registry, AR_ENGINE_NATIVE, id, &nc->wrapper, nc,
                           (GDestroyNotify)native_class_free);
}
