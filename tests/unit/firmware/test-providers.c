/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-providers.c: the provider registry (firmware/core/ar-provider.c) and
 * how the call manager finds a provider from what the link says (engine,
 * provider id): the builtin set, a fake provider registered for a web
 * service, and the refusal of a link no provider serves. Then what the call
 * manager makes of a provider's tracks and track events: the status's
 * "tracks" and the "media" event of docs/cli.md, for any engine.
 */
#include <gio/gio.h>
#include <string.h>

#include "ar-api-call.h"
#include "ar-call.h"
#include "ar-provider.h"
#include "ar-providers.h"
#include "ar-room-call.h"
#include "ar-web-engine.h"

#define TEAMS_LINK                                                                                 \
  "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZDk4YTc2NjUtMmQ2Zi00OGFkLWFlYjYtMDk2"    \
  "NjY1ZmEzMmU1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22"   \
  "%2c%22Oid%22%3a%223c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d"

/* ---- a fake provider: records what the call manager asks of it ---- */

typedef struct {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  char *provider_id;
  ArEngine engine;
  gpointer class_data;
  gboolean joined;
} FakeProvider;

static FakeProvider *last_fake;
static gboolean fake_hold; /* join does not connect: the test drives the provider */

static const ArProviderClass fake_class;

static ArProvider *
fake_create(const ArLink *link, gpointer class_data, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  FakeProvider *p = g_new0(FakeProvider, 1);
  p->class_data = class_data;
  p->parent.klass = &fake_class;
  p->cb = *cb;
  p->user_data = user_data;
  p->provider_id = g_strdup(link->provider);
  p->engine = link->engine;
  last_fake = p;
  return &p->parent;
}

static void
fake_join(ArProvider *base)
{
  FakeProvider *p = (FakeProvider *)base;
  p->joined = TRUE;
  if (!fake_hold)
    p->cb.connected(base, p->user_data);
}

static void
fake_leave(ArProvider *base)
{
  FakeProvider *p = (FakeProvider *)base;
  p->cb.left(base, p->user_data);
}

static ArTrackInfo *
fake_track(const char *source, const char *path, const char *kind, const char *direction)
{
  ArTrackInfo *t = g_new0(ArTrackInfo, 1);
  t->source = g_strdup(source);
  t->path = g_strdup(path);
  g_strlcpy(t->stats.kind, kind, sizeof t->stats.kind);
  g_strlcpy(t->stats.direction, direction, sizeof t->stats.direction);
  g_strlcpy(t->stats.codec, g_str_equal(kind, "video") ? "VP8" : "OPUS", sizeof t->stats.codec);
  if (g_str_equal(kind, "video")) {
    t->stats.width = 1280;
    t->stats.height = 720;
    t->stats.frames = 300;
    t->stats.framerate = 30;
  }
  t->stats.packets = 1000;
  t->stats.bytes = 500000;
  t->stats.packets_lost = 3;
  t->stats.bitrate_bps = 1.5e6;
  t->stats.rtt_ms = 12.5;
  t->stats.audio_level = -30;
  t->stats.luma = -1;
  return t;
}

static void
fake_collect_tracks(ArProvider *base, GPtrArray *out)
{
  g_ptr_array_add(out, fake_track("publisher", "relay/udp -> host", "video", "send"));
  g_ptr_array_add(out, fake_track("publisher", "relay/udp -> host", "audio", "send"));
  g_ptr_array_add(out, fake_track("feed-7", NULL, "video", "recv"));
}

static void
fake_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArParticipant *part = g_new0(ArParticipant, 1);
  part->id = g_strdup("p1");
  part->display = g_strdup("Alice");
  g_ptr_array_add(out, part);
}

static void
fake_free(ArProvider *base)
{
  FakeProvider *p = (FakeProvider *)base;
  if (!p)
    return;
  if (last_fake == p)
    last_fake = NULL;
  g_free(p->provider_id);
  g_free(p);
}

static const ArProviderClass fake_class = {
    .create = fake_create,
    .join = fake_join,
    .leave = fake_leave,
    .collect_tracks = fake_collect_tracks,
    .collect_participants = fake_collect_participants,
    .free = fake_free,
};

/* ---- the registry alone ---- */

static void
test_registry_lookup(void)
{
  g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_NATIVE, "janus"));
  ar_provider_registry_add(r, AR_ENGINE_WEB, "teams", &fake_class, NULL, NULL);
  ar_provider_registry_add(r, AR_ENGINE_WEB, "zoom", &fake_class, NULL, NULL);
  g_assert_true(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "teams") == &fake_class);
  g_assert_true(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "zoom") == &fake_class);
  /* The engine is part of the key. */
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_NATIVE, "teams"));
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "webex"));
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_WEB, NULL));
  g_assert_null(ar_provider_registry_lookup(NULL, AR_ENGINE_WEB, "teams"));
  g_auto(GStrv) list = ar_provider_registry_list(r);
  g_assert_cmpuint(g_strv_length(list), ==, 2);
  /* No provider: create() says so. */
  ArLink link = {.provider = (char *)"teams", .engine = AR_ENGINE_NATIVE};
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_provider_registry_create(r, &link, "Room", NULL, NULL, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr(list[0], ==, "web/teams");
  g_assert_cmpstr(list[1], ==, "web/zoom");
}

static void
test_registry_duplicate(void)
{
  if (g_test_subprocess()) {
    g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
    ar_provider_registry_add(r, AR_ENGINE_NATIVE, "janus", &fake_class, NULL, NULL);
    ar_provider_registry_add(r, AR_ENGINE_NATIVE, "janus", &fake_class, NULL, NULL);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*native/janus is registered already*");
}

static void
test_builtin(void)
{
  g_autoptr(ArConfig) config = ar_config_load_data("", 0, "test", NULL);
  g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_providers_register_builtin(r, config, NULL, NULL, &error));
  g_assert_no_error(error);
  g_auto(GStrv) list = ar_provider_registry_list(r);
  g_assert_cmpstrv(list, ((const char *const[]){"native/anyroom", "native/janus", "native/whep",
                                                "native/whip", NULL}));
  /* With a desk: calls to the room too ("anyroom-in", made by the desk, never by a link). */
  g_autoptr(ArProviderRegistry) r2 = ar_provider_registry_new();
  g_autoptr(ArRoomCallDesk) desk = ar_room_call_desk_new(NULL);
  ArProvidersOptions o = {.room_calls = desk};
  g_assert_true(ar_providers_register_builtin(r2, config, NULL, &o, &error));
  g_auto(GStrv) list2 = ar_provider_registry_list(r2);
  g_assert_cmpstrv(list2,
                   ((const char *const[]){"native/anyroom", "native/anyroom-in", "native/janus",
                                          "native/whep", "native/whip", NULL}));
  /* The anyroom provider's joins may ring: the call manager waits that long. */
  const ArProviderClass *k = ar_provider_registry_lookup(r2, AR_ENGINE_NATIVE, "anyroom");
  g_assert_nonnull(k);
  g_assert_cmpuint(k->min_join_timeout_s, >=, AR_ROOM_CALL_RING_S);
}

/* ---- through the call manager ---- */

/* The status as the API gives it (firmware/api/ar-api-call.h). */
static JsonNode *
status_json(ArCallManager *m)
{
  g_autoptr(ArCallStatus) status = ar_call_manager_get_status(m);
  return ar_api_call_status_to_json(status);
}

static ArCallManager *
new_manager_with(const char *extra, ArConfig **config_out, ArBoard **board_out)
{
  g_autofree char *conf = g_strdup_printf("[device]\ncamera=test\nmicrophone=test\nspeaker=none\n"
                                          "display=none\n%s",
                                          extra);
  g_autoptr(GError) error = NULL;
  *config_out = ar_config_load_data(conf, strlen(conf), "test", &error);
  g_assert_no_error(error);
  *board_out = ar_board_load("host", &error);
  g_assert_no_error(error);
  ArCallManager *m = ar_call_manager_new(*config_out, *board_out, &error);
  g_assert_no_error(error);
  return m;
}

static ArCallManager *
new_manager(ArConfig **config_out, ArBoard **board_out)
{
  return new_manager_with("", config_out, board_out);
}

static void
join_done(const GError *error, gpointer data)
{
  *(gboolean *)data = error == NULL;
}

static void
test_call_unsupported(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  /* The web engine turned off: web links are refused as before it existed. */
  g_autoptr(ArCallManager) m = new_manager_with("[web]\nenabled=false\n", &config, &board);
  g_autoptr(GError) reg_error = NULL;
  g_assert_true(ar_providers_register_builtin(ar_call_manager_get_providers(m), config,
                                              ar_call_manager_get_engine(m), NULL, &reg_error));
  static const char *const links[] = {TEAMS_LINK, "https://zoom.us/j/123456789?pwd=abc"};
  for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_false(ar_call_manager_join(m, links[i], join_done, NULL, &error));
    g_assert_error(error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "recognized but this room cannot join them yet"));
    g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_IDLE);
  }
  /* A malformed link is the link module's error, as before. */
  g_autoptr(GError) error = NULL;
  g_assert_false(ar_call_manager_join(m, "notalink", join_done, NULL, &error));
  g_assert_true(error->domain == AR_LINK_ERROR);
}

static void
test_call_found_by_engine_and_id(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  static int context;
  ar_provider_registry_add(ar_call_manager_get_providers(m), AR_ENGINE_WEB, "teams", &fake_class,
                           &context, NULL);
  g_autoptr(GError) error = NULL;
  gboolean connected = FALSE;
  g_assert_true(ar_call_manager_join(m, TEAMS_LINK, join_done, &connected, &error));
  g_assert_no_error(error);
  g_assert_nonnull(last_fake);
  g_assert_true(last_fake->joined);
  g_assert_cmpstr(last_fake->provider_id, ==, "teams");
  g_assert_cmpint(last_fake->engine, ==, AR_ENGINE_WEB);
  /* What the provider registered with its class reaches create(). */
  g_assert_true(last_fake->class_data == &context);
  g_assert_true(connected);
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_CONNECTED);
  g_autoptr(JsonNode) status = status_json(m);
  JsonObject *o = json_node_get_object(status);
  g_assert_cmpstr(json_object_get_string_member(o, "provider"), ==, "teams");
  g_assert_cmpstr(json_object_get_string_member(o, "engine"), ==, "web");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "participants")), ==, 1);
  /* A Janus link has no provider in this manager: refused. */
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_IDLE);
  g_assert_false(
      ar_call_manager_join(m, "janus+ws://127.0.0.1:8188/?room=1234", NULL, NULL, &error));
  g_assert_error(error, AR_CALL_ERROR, AR_CALL_ERROR_UNSUPPORTED);
  /* The provider is freed from an idle callback. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* ---- typed events ---- */

typedef struct {
  ArCallEventKind kind;
  ArCallState state;
  char *engine;
  char *provider;
} SeenEvent;

static void
seen_event_free(SeenEvent *e)
{
  g_free(e->engine);
  g_free(e->provider);
  g_free(e);
}

static void
record_typed(const ArCallEvent *event, gpointer data)
{
  SeenEvent *e = g_new0(SeenEvent, 1);
  e->kind = event->kind;
  e->state = event->state;
  e->engine = g_strdup(event->engine);
  e->provider = g_strdup(event->provider);
  g_ptr_array_add(data, e);
}

/* The manager's events are typed and say whose call they belong to, so the
 * history needs no status (it used to rebuild and re-read the status JSON on
 * every event). */
static void
test_call_typed_events(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)seen_event_free);
  ar_call_manager_set_event_func(m, record_typed, events);
  ar_provider_registry_add(ar_call_manager_get_providers(m), AR_ENGINE_WEB, "teams", &fake_class,
                           NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_call_manager_join(m, TEAMS_LINK, NULL, NULL, &error));
  g_assert_no_error(error);
  ar_call_manager_set_microphone_muted(m, TRUE);
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));
  ar_call_manager_set_event_func(m, NULL, NULL);
  /* joining, controls (live), connected, controls (muted), leaving, idle,
   * controls (not live): every one names the call's engine and provider. */
  guint states = 0, controls = 0;
  for (guint i = 0; i < events->len; i++) {
    SeenEvent *e = events->pdata[i];
    g_assert_cmpstr(e->engine, ==, "web");
    g_assert_cmpstr(e->provider, ==, "teams");
    states += e->kind == AR_CALL_EVENT_STATE;
    controls += e->kind == AR_CALL_EVENT_CONTROLS;
  }
  g_assert_cmpuint(states, >=, 3);
  g_assert_cmpuint(controls, >=, 2);
  SeenEvent *first = events->pdata[0];
  g_assert_cmpint(first->kind, ==, AR_CALL_EVENT_STATE);
  g_assert_cmpint(first->state, ==, AR_CALL_JOINING);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* With the web engine, anyroomd registers a web provider for every service a
 * shipped recipe serves (registration only: nothing is joined here). */
static void
test_builtin_web(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_providers_register_builtin(ar_call_manager_get_providers(m), config,
                                              ar_call_manager_get_engine(m), NULL, &error));
  g_assert_no_error(error);
  g_auto(GStrv) list = ar_provider_registry_list(ar_call_manager_get_providers(m));
  static const char *const want[] = {"native/janus", "native/whip",     "web/teams", "web/zoom",
                                     "web/webex",    "web/google-meet", "web/jitsi", "web/whereby"};
  for (gsize i = 0; i < G_N_ELEMENTS(want); i++)
    g_assert_true(g_strv_contains((const char *const *)list, want[i]));
  /* A web call's join may take AR_WEB_MIN_JOIN_TIMEOUT_S on a PC, and as many
   * times more as the board is declared slower (browser-answer-timeout). */
  g_assert_cmpuint(ar_web_min_join_timeout_s(0), ==, AR_WEB_MIN_JOIN_TIMEOUT_S);
  g_assert_cmpuint(ar_web_min_join_timeout_s(5000), ==, AR_WEB_MIN_JOIN_TIMEOUT_S);
  g_assert_cmpuint(ar_web_min_join_timeout_s(60000), ==, 12 * AR_WEB_MIN_JOIN_TIMEOUT_S);
  g_autoptr(ArLink) link =
      ar_link_parse("https://teams.microsoft.com/meet/1234567890123?p=abcdefghij", NULL, &error);
  g_assert_no_error(error);
  const ArProviderCallbacks cb = {0};
  ArProvider *p = ar_provider_registry_create(ar_call_manager_get_providers(m), link, "Room", &cb,
                                              NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(p->klass->min_join_timeout_s, ==, AR_WEB_MIN_JOIN_TIMEOUT_S);
  p->klass->free(p);

  g_autoptr(ArConfig) slow_config = NULL;
  g_autoptr(ArBoard) slow_board = NULL;
  g_autoptr(ArCallManager) slow =
      new_manager_with("[web]\nbrowser-answer-timeout=60\n", &slow_config, &slow_board);
  g_assert_true(ar_providers_register_builtin(ar_call_manager_get_providers(slow), slow_config,
                                              ar_call_manager_get_engine(slow), NULL, &error));
  p = ar_provider_registry_create(ar_call_manager_get_providers(slow), link, "Room", &cb, NULL,
                                  &error);
  g_assert_no_error(error);
  g_assert_cmpuint(p->klass->min_join_timeout_s, ==, 12 * AR_WEB_MIN_JOIN_TIMEOUT_S);
  p->klass->free(p);
}

/* ---- links an engine claims ---- */

static ArLink *
claim_app_link(gpointer data, const char *text, const GError *why)
{
  if (!g_str_has_prefix(text, "https://meet.example.org/"))
    return NULL;
  ArLink *link = g_new0(ArLink, 1);
  link->engine = AR_ENGINE_WEB;
  link->provider = g_strdup("example-app");
  link->join_url = g_strdup(text);
  return link;
}

static const ArEngineClass claiming_engine = {.parse_link = claim_app_link};

/* A link the link module does not know can still be an engine's (an
 * administrator's own web meeting app); others keep the link module's error. */
static void
test_call_engine_claims_link(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  ArProviderRegistry *r = ar_call_manager_get_providers(m);
  g_autoptr(GError) error = NULL;
  g_assert_false(ar_call_manager_join(m, "https://meet.example.org/standup", NULL, NULL, &error));
  g_assert_error(error, AR_LINK_ERROR, error->code);
  g_clear_error(&error);
  ar_provider_registry_add_engine(r, AR_ENGINE_WEB, &claiming_engine, NULL, NULL);
  ar_provider_registry_add(r, AR_ENGINE_WEB, "example-app", &fake_class, NULL, NULL);
  g_assert_true(ar_call_manager_join(m, "https://meet.example.org/standup", NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(last_fake->provider_id, ==, "example-app");
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));
  g_assert_false(ar_call_manager_join(m, "https://meet.example.net/standup", NULL, NULL, &error));
  g_assert_error(error, AR_LINK_ERROR, error->code);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* ---- lobby and needs-attention ---- */

static void record_event(const ArCallEvent *event, gpointer data);

static const char *
status_string(ArCallManager *m, const char *member)
{
  static char value[256];
  g_autoptr(JsonNode) status = status_json(m);
  JsonNode *n = json_object_get_member(json_node_get_object(status), member);
  g_strlcpy(value, n && !json_node_is_null(n) ? json_node_get_string(n) : "(null)", sizeof value);
  return value;
}

/* A provider that waits (a web meeting's lobby, a captcha a person must
 * solve) moves the call through "lobby" and "needs-attention" with its
 * message in the event and the status; connected clears it; a leave while
 * waiting cancels the join. */
static void
test_call_waiting_states(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
  ar_call_manager_set_event_func(m, record_event, events);
  ar_provider_registry_add(ar_call_manager_get_providers(m), AR_ENGINE_WEB, "teams", &fake_class,
                           NULL, NULL);
  fake_hold = TRUE;
  g_autoptr(GError) error = NULL;
  gboolean connected = FALSE;
  g_assert_true(ar_call_manager_join(m, TEAMS_LINK, join_done, &connected, &error));
  FakeProvider *p = last_fake;
  g_ptr_array_set_size(events, 0);
  p->cb.waiting(&p->parent, AR_PROVIDER_WAIT_HOST, "Waiting for the host to let the room in",
                p->user_data);
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_LOBBY);
  g_assert_cmpstr(status_string(m, "state"), ==, "lobby");
  g_assert_cmpstr(status_string(m, "message"), ==, "Waiting for the host to let the room in");
  g_assert_cmpuint(events->len, ==, 1);
  g_assert_cmpstr(events->pdata[0], ==,
                  "{\"event\":\"state\",\"state\":\"lobby\",\"error\":null,"
                  "\"message\":\"Waiting for the host to let the room in\"}");
  /* The same state with a new message is an event; the same message is not. */
  p->cb.waiting(&p->parent, AR_PROVIDER_WAIT_HOST, "Waiting for the host to let the room in",
                p->user_data);
  g_assert_cmpuint(events->len, ==, 1);
  p->cb.waiting(&p->parent, AR_PROVIDER_WAIT_ATTENTION,
                "Finish joining on the room screen: the meeting asks for a captcha", p->user_data);
  g_assert_cmpstr(status_string(m, "state"), ==, "needs-attention");
  g_assert_cmpstr(status_string(m, "message"), ==,
                  "Finish joining on the room screen: the meeting asks for a captcha");
  /* The devices are the call's meanwhile. */
  ArCallControls c;
  ar_call_manager_get_controls(m, &c);
  g_assert_true(c.camera_live);
  g_assert_true(ar_call_state_is_active(AR_CALL_NEEDS_ATTENTION));
  /* Busy: a second join is refused. */
  g_assert_false(ar_call_manager_join(m, TEAMS_LINK, NULL, NULL, &error));
  g_assert_error(error, AR_CALL_ERROR, AR_CALL_ERROR_BUSY);
  g_clear_error(&error);
  g_assert_false(connected);
  p->cb.connected(&p->parent, p->user_data);
  g_assert_true(connected);
  g_assert_cmpstr(status_string(m, "state"), ==, "connected");
  g_assert_cmpstr(status_string(m, "message"), ==, "(null)");
  /* After connecting, waiting means nothing. */
  p->cb.waiting(&p->parent, AR_PROVIDER_WAIT_HOST, "late", p->user_data);
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_CONNECTED);
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));

  /* A leave in the lobby cancels the join. */
  connected = TRUE;
  g_assert_true(ar_call_manager_join(m, TEAMS_LINK, join_done, &connected, &error));
  p = last_fake;
  p->cb.waiting(&p->parent, AR_PROVIDER_WAIT_HOST, NULL, p->user_data);
  g_assert_cmpstr(status_string(m, "message"), ==, "(null)");
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));
  g_assert_false(connected);
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_IDLE);
  fake_hold = FALSE;
  ar_call_manager_set_event_func(m, NULL, NULL);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

/* ---- tracks and track events ---- */

static void
record_event(const ArCallEvent *event, gpointer data)
{
  g_autoptr(JsonNode) json = ar_api_call_event_to_json(event);
  g_ptr_array_add(data, json_to_string(json, FALSE));
}

static void
test_call_tracks_and_events(void)
{
  g_autoptr(ArConfig) config = NULL;
  g_autoptr(ArBoard) board = NULL;
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
  ar_call_manager_set_event_func(m, record_event, events);
  ar_provider_registry_add(ar_call_manager_get_providers(m), AR_ENGINE_NATIVE, "janus", &fake_class,
                           NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(
      ar_call_manager_join(m, "janus+ws://127.0.0.1:8188/?room=1234", NULL, NULL, &error));
  g_assert_no_error(error);
  FakeProvider *p = last_fake;
  g_assert_nonnull(p);

  /* Status: one object per track, with the provider's source as "peer". */
  g_autoptr(JsonNode) status = status_json(m);
  JsonArray *tracks = json_object_get_array_member(json_node_get_object(status), "tracks");
  g_assert_cmpuint(json_array_get_length(tracks), ==, 3);
  JsonObject *t0 = json_array_get_object_element(tracks, 0);
  g_assert_cmpstr(json_object_get_string_member(t0, "peer"), ==, "publisher");
  g_assert_cmpstr(json_object_get_string_member(t0, "ice_path"), ==, "relay/udp -> host");
  g_assert_cmpstr(json_object_get_string_member(t0, "kind"), ==, "video");
  g_assert_cmpstr(json_object_get_string_member(t0, "direction"), ==, "send");
  g_assert_cmpstr(json_object_get_string_member(t0, "codec"), ==, "VP8");
  g_assert_cmpint(json_object_get_int_member(t0, "width"), ==, 1280);
  g_assert_cmpint(json_object_get_int_member(t0, "height"), ==, 720);
  g_assert_cmpint(json_object_get_int_member(t0, "frames"), ==, 300);
  g_assert_cmpint(json_object_get_int_member(t0, "packets"), ==, 1000);
  g_assert_cmpint(json_object_get_int_member(t0, "bytes"), ==, 500000);
  g_assert_cmpint(json_object_get_int_member(t0, "packets_lost"), ==, 3);
  g_assert_cmpfloat(json_object_get_double_member(t0, "bitrate_bps"), ==, 1.5e6);
  g_assert_cmpfloat(json_object_get_double_member(t0, "rtt_ms"), ==, 12.5);
  static const char *const fields[] = {"peer",        "ice_path",  "kind",         "direction",
                                       "codec",       "width",     "height",       "frames",
                                       "packets",     "bytes",     "packets_lost", "nack_count",
                                       "bitrate_bps", "framerate", "rtt_ms",       "jitter_ms",
                                       "audio_level", "luma",      "freezes",      "freeze_ms"};
  g_assert_cmpuint(json_object_get_size(t0), ==, G_N_ELEMENTS(fields));
  for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
    g_assert_true(json_object_has_member(t0, fields[i]));

  /* Join outcomes (GET /metrics): the join connected once; a second one is
   * refused as busy and counted so; nothing dropped. */
  guint64 joins[AR_JOIN_N_OUTCOMES], dropped = 99;
  ar_call_manager_get_join_counts(m, joins, &dropped);
  g_assert_cmpuint(joins[AR_JOIN_CONNECTED], ==, 1);
  g_assert_cmpuint(joins[AR_JOIN_BUSY], ==, 0);
  g_assert_cmpuint(dropped, ==, 0);
  g_autoptr(GError) busy = NULL;
  g_assert_false(
      ar_call_manager_join(m, "janus+ws://127.0.0.1:8188/?room=1234", NULL, NULL, &busy));
  g_assert_error(busy, AR_CALL_ERROR, AR_CALL_ERROR_BUSY);
  ar_call_manager_get_join_counts(m, joins, &dropped);
  g_assert_cmpuint(joins[AR_JOIN_CONNECTED], ==, 1);
  g_assert_cmpuint(joins[AR_JOIN_BUSY], ==, 1);
  JsonObject *t2 = json_array_get_object_element(tracks, 2);
  g_assert_cmpstr(json_object_get_string_member(t2, "peer"), ==, "feed-7");
  g_assert_true(json_object_get_null_member(t2, "ice_path"));
  g_assert_cmpstr(json_object_get_string_member(t2, "direction"), ==, "recv");

  /* Media events: {"event":"media","peer":...,"what":...}; the first remote
   * video frame sets the timing, a sent one does not. */
  g_ptr_array_set_size(events, 0);
  ArTrackEvent sent = {
      .source = "publisher", .direction = AR_TRACK_SEND, .what = AR_TRACK_EVENT_FIRST_VIDEO_FRAME};
  p->cb.media_event(&p->parent, &sent, p->user_data);
  g_autoptr(JsonNode) s1 = status_json(m);
  JsonObject *timing = json_object_get_object_member(json_node_get_object(s1), "timing");
  g_assert_true(json_object_get_null_member(timing, "join_to_first_remote_video_ms"));
  ArTrackEvent audio = {
      .source = "feed-7", .direction = AR_TRACK_RECV, .what = AR_TRACK_EVENT_FIRST_AUDIO};
  p->cb.media_event(&p->parent, &audio, p->user_data);
  ArTrackEvent video = {
      .source = "feed-7", .direction = AR_TRACK_RECV, .what = AR_TRACK_EVENT_FIRST_VIDEO_FRAME};
  p->cb.media_event(&p->parent, &video, p->user_data);
  g_autoptr(JsonNode) s2 = status_json(m);
  timing = json_object_get_object_member(json_node_get_object(s2), "timing");
  g_assert_false(json_object_get_null_member(timing, "join_to_first_remote_video_ms"));
  g_assert_cmpuint(events->len, ==, 3);
  g_assert_cmpstr(events->pdata[0], ==,
                  "{\"event\":\"media\",\"peer\":\"publisher\",\"what\":\"first-video-frame\"}");
  g_assert_cmpstr(events->pdata[1], ==,
                  "{\"event\":\"media\",\"peer\":\"feed-7\",\"what\":\"first-audio\"}");
  g_assert_cmpstr(events->pdata[2], ==,
                  "{\"event\":\"media\",\"peer\":\"feed-7\",\"what\":\"first-video-frame\"}");

  ar_call_manager_set_event_func(m, NULL, NULL);
  g_assert_true(ar_call_manager_leave(m, NULL, NULL, &error));
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/providers/registry/lookup", test_registry_lookup);
  g_test_add_func("/providers/registry/duplicate", test_registry_duplicate);
  g_test_add_func("/providers/builtin", test_builtin);
  g_test_add_func("/providers/call/unsupported", test_call_unsupported);
  g_test_add_func("/providers/call/found-by-engine-and-id", test_call_found_by_engine_and_id);
  g_test_add_func("/providers/call/tracks-and-events", test_call_tracks_and_events);
  g_test_add_func("/providers/call/typed-events", test_call_typed_events);
  g_test_add_func("/providers/call/waiting-states", test_call_waiting_states);
  g_test_add_func("/providers/call/engine-claims-link", test_call_engine_claims_link);
  g_test_add_func("/providers/builtin-web", test_builtin_web);
  return g_test_run();
}
