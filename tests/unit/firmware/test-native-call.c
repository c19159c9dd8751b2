/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-native-call.c: the native engine's reconnection policy
 * (firmware/native/ar-native-call.c) around a signalling provider, seen
 * through the call manager: a loss after the call connected is rebuilt with a
 * new provider for the same link, and the manager only reports it
 * (reconnecting, then connected, with the recovery counters); a loss during
 * the join, a definite failure while rebuilding and a leave while waiting end
 * the call as a person expects. The signalling provider here is a fake that
 * does what each test scripts (no media, no server): the real one is tested
 * against a real Janus in tests/integration/test-net-failures.mjs.
 */
#include <gio/gio.h>
#include <string.h>

#include "ar-call.h"
#include "ar-native-call.h"

#define LINK "janus+ws://127.0.0.1:8188/?room=1234"

typedef enum {
  ON_JOIN_CONNECT, /* connected at once */
  ON_JOIN_LOSE,    /* a passing loss (lost) */
  ON_JOIN_FAIL,    /* a definite failure (failed) */
  ON_JOIN_NOTHING, /* stays joining */
} OnJoin;

typedef struct {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
} Inner;

static OnJoin next_on_join[8];
static guint creates;
static Inner *live_inner;

static const ArProviderClass inner_class;

static ArProvider *
inner_create(const ArLink *link, gpointer class_data, const char *display_name,
             const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  Inner *p = g_new0(Inner, 1);
  p->parent.klass = &inner_class;
  p->cb = *cb;
  p->user_data = user_data;
  creates++;
  live_inner = p;
  return &p->parent;
}

static void
inner_join(ArProvider *base)
{
  Inner *p = (Inner *)base;
  OnJoin what = next_on_join[MIN(creates - 1, G_N_ELEMENTS(next_on_join) - 1)];
  g_autoptr(GError) e = NULL;
  switch (what) {
  case ON_JOIN_CONNECT:
    p->cb.connected(base, p->user_data);
    break;
  case ON_JOIN_LOSE:
    e = g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "server refused (scripted)");
    p->cb.lost(base, e, p->user_data);
    break;
  case ON_JOIN_FAIL:
    e = g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such room (scripted)");
    p->cb.failed(base, e, p->user_data);
    break;
  case ON_JOIN_NOTHING:
    break;
  }
}

static void
inner_leave(ArProvider *base)
{
  Inner *p = (Inner *)base;
  p->cb.left(base, p->user_data);
}

static void
inner_collect_tracks(ArProvider *base, GPtrArray *out)
{
}

static void
inner_collect_participants(ArProvider *base, GPtrArray *out)
{
}

static void
inner_free(ArProvider *base)
{
  if (live_inner == (Inner *)base)
    live_inner = NULL;
  g_free(base);
}

static const ArProviderClass inner_class = {
    .create = inner_create,
    .join = inner_join,
    .leave = inner_leave,
    .collect_tracks = inner_collect_tracks,
    .collect_participants = inner_collect_participants,
    .free = inner_free,
};

/* Makes the current inner provider report a passing loss. */
static void
lose_connection(void)
{
  g_assert_nonnull(live_inner);
  g_autoptr(GError) e = g_error_new(G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "connection reset");
  live_inner->cb.lost(&live_inner->parent, e, live_inner->user_data);
}

typedef struct {
  ArConfig *config;
  ArBoard *board;
  ArCallManager *m;
  GPtrArray *states; /* of ArCallState, as GINT_TO_POINTER */
} Fixture;

static void
on_event(const ArCallEvent *e, gpointer data)
{
  Fixture *f = data;
  if (e->kind == AR_CALL_EVENT_STATE)
    g_ptr_array_add(f->states, GINT_TO_POINTER(e->state));
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  static const char conf[] = "[device]\ncamera=test\nmicrophone=test\nspeaker=none\n"
                             "display=none\n";
  g_autoptr(GError) error = NULL;
  f->config = ar_config_load_data(conf, sizeof conf - 1, "test", &error);
  g_assert_no_error(error);
  f->board = ar_board_load("host", &error);
  g_assert_no_error(error);
  f->m = ar_call_manager_new(f->config, f->board, &error);
  g_assert_no_error(error);
  g_autoptr(ArNativeEngine) native = ar_native_engine_new(f->config, NULL, &error);
  g_assert_no_error(error);
  ar_native_register(ar_call_manager_get_providers(f->m), native, "janus", &inner_class, NULL);
  f->states = g_ptr_array_new();
  ar_call_manager_set_event_func(f->m, on_event, f);
  creates = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(next_on_join); i++)
    next_on_join[i] = ON_JOIN_CONNECT;
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  ar_call_manager_set_event_func(f->m, NULL, NULL);
  ar_call_manager_free(f->m);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_null(live_inner);
  ar_board_free(f->board);
  ar_config_free(f->config);
  g_ptr_array_unref(f->states);
}

static gboolean
timeout_cb(gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the manager is in @state (or 15 s). */
static void
wait_state(Fixture *f, ArCallState state)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds(15, timeout_cb, &timed_out);
  while (ar_call_manager_get_state(f->m) != state && !timed_out)
    g_main_context_iteration(NULL, TRUE);
  if (!timed_out)
    g_source_remove(id);
  g_assert_cmpstr(ar_call_state_to_string(ar_call_manager_get_state(f->m)), ==,
                  ar_call_state_to_string(state));
}

static gboolean
saw_state(Fixture *f, ArCallState state)
{
  for (guint i = 0; i < f->states->len; i++)
    if (GPOINTER_TO_INT(f->states->pdata[i]) == (int)state)
      return TRUE;
  return FALSE;
}

static void
join(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_call_manager_join(f->m, LINK, NULL, NULL, &error));
  g_assert_no_error(error);
}

/* Lost after connecting: rebuilt with a new provider; the manager says
 * reconnecting (with the reason), then connected, and counts the recovery. */
static void
test_reconnects(Fixture *f, gconstpointer data)
{
  next_on_join[1] = ON_JOIN_LOSE; /* the first attempt is refused */
  join(f);
  wait_state(f, AR_CALL_CONNECTED);
  g_assert_cmpuint(creates, ==, 1);
  lose_connection();
  g_assert_cmpint(ar_call_manager_get_state(f->m), ==, AR_CALL_RECONNECTING);
  {
    g_autoptr(ArCallStatus) s = ar_call_manager_get_status(f->m);
    g_assert_cmpstr(s->recovery_reason, ==, "connection reset");
    g_assert_cmpstr(s->provider, ==, "janus");
    g_assert_cmpstr(s->engine, ==, "native");
  }
  wait_state(f, AR_CALL_CONNECTED);
  g_assert_cmpuint(creates, ==, 3);
  g_autoptr(ArCallStatus) s = ar_call_manager_get_status(f->m);
  g_assert_cmpuint(s->reconnects, ==, 1);
  g_assert_cmpint(s->last_recovery_us, >, 0);
  g_assert_null(s->recovery_reason);
  g_assert_cmpuint(s->attempt, ==, 0);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_call_manager_leave(f->m, NULL, NULL, &error));
  wait_state(f, AR_CALL_IDLE);
}

/* A loss while the person is still waiting for the join: fails at once. */
static void
test_lost_while_joining(Fixture *f, gconstpointer data)
{
  next_on_join[0] = ON_JOIN_LOSE;
  join(f);
  wait_state(f, AR_CALL_FAILED);
  g_assert_cmpuint(creates, ==, 1);
  g_assert_false(saw_state(f, AR_CALL_RECONNECTING));
  g_autoptr(ArCallStatus) s = ar_call_manager_get_status(f->m);
  g_assert_cmpstr(s->error, ==, "server refused (scripted)");
}

/* A definite answer while rebuilding (no such room any more): no more
 * attempts; the error names the loss and the last answer. */
static void
test_definite_failure_gives_up(Fixture *f, gconstpointer data)
{
  next_on_join[1] = ON_JOIN_FAIL;
  join(f);
  wait_state(f, AR_CALL_CONNECTED);
  lose_connection();
  wait_state(f, AR_CALL_FAILED);
  g_assert_cmpuint(creates, ==, 2);
  g_autoptr(ArCallStatus) s = ar_call_manager_get_status(f->m);
  g_assert_nonnull(strstr(s->error, "lost (connection reset)"));
  g_assert_nonnull(strstr(s->error, "no such room (scripted)"));
}

/* Leave while waiting for the next attempt: idle, and no attempt after. */
static void
test_leave_while_reconnecting(Fixture *f, gconstpointer data)
{
  join(f);
  wait_state(f, AR_CALL_CONNECTED);
  lose_connection();
  g_assert_cmpint(ar_call_manager_get_state(f->m), ==, AR_CALL_RECONNECTING);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_call_manager_leave(f->m, NULL, NULL, &error));
  wait_state(f, AR_CALL_IDLE);
  /* Longer than the first backoff (250 ms +25 %). */
  gboolean done = FALSE;
  g_timeout_add(600, timeout_cb, &done);
  while (!done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(creates, ==, 1);
  g_assert_cmpint(ar_call_manager_get_state(f->m), ==, AR_CALL_IDLE);
}

/* The [network] settings changed: the call manager tells the engines. */
static void
test_reload_network(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_call_manager_reload_network(f->m, &error));
  g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD("/native-call/reconnects", test_reconnects);
  ADD("/native-call/lost-while-joining", test_lost_while_joining);
  ADD("/native-call/definite-failure-gives-up", test_definite_failure_gives_up);
  ADD("/native-call/leave-while-reconnecting", test_leave_while_reconnecting);
  ADD("/native-call/reload-network", test_reload_network);
#undef ADD
  return g_test_run();
}
