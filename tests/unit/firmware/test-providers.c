/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-providers.c: the provider registry (firmware/core/ar-provider.c) and
 * how the call manager finds a provider from what the link says (engine,
 * provider id): the builtin set, a fake provider registered for a web
 * service, and the refusal of a link no provider serves.
 */
#include "ar-call.h"
#include "ar-provider.h"
#include "ar-providers.h"

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
  gboolean joined;
} FakeProvider;

static FakeProvider *last_fake;

static const ArProviderClass fake_class;

static ArProvider *
fake_create(const ArLink *link, ArMediaEngine *engine, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  FakeProvider *p = g_new0(FakeProvider, 1);
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
  p->cb.connected(base, p->user_data);
}

static void
fake_leave(ArProvider *base)
{
  FakeProvider *p = (FakeProvider *)base;
  p->cb.left(base, p->user_data);
}

static void
fake_collect_peers(ArProvider *base, GPtrArray *out)
{
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
    .collect_peers = fake_collect_peers,
    .collect_participants = fake_collect_participants,
    .free = fake_free,
};

/* ---- the registry alone ---- */

static void
test_registry_lookup(void)
{
  g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_NATIVE, "janus"));
  ar_provider_registry_add(r, AR_ENGINE_WEB, "teams", &fake_class);
  ar_provider_registry_add(r, AR_ENGINE_WEB, "zoom", &fake_class);
  g_assert_true(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "teams") == &fake_class);
  g_assert_true(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "zoom") == &fake_class);
  /* The engine is part of the key. */
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_NATIVE, "teams"));
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_WEB, "webex"));
  g_assert_null(ar_provider_registry_lookup(r, AR_ENGINE_WEB, NULL));
  g_assert_null(ar_provider_registry_lookup(NULL, AR_ENGINE_WEB, "teams"));
  g_auto(GStrv) list = ar_provider_registry_list(r);
  g_assert_cmpuint(g_strv_length(list), ==, 2);
  g_assert_cmpstr(list[0], ==, "web/teams");
  g_assert_cmpstr(list[1], ==, "web/zoom");
}

static void
test_registry_duplicate(void)
{
  if (g_test_subprocess()) {
    g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
    ar_provider_registry_add(r, AR_ENGINE_NATIVE, "janus", &fake_class);
    ar_provider_registry_add(r, AR_ENGINE_NATIVE, "janus", &fake_class);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*native/janus is registered already*");
}

static void
test_builtin(void)
{
  g_autoptr(ArProviderRegistry) r = ar_provider_registry_new();
  ar_providers_register_builtin(r);
  g_auto(GStrv) list = ar_provider_registry_list(r);
  g_assert_cmpstrv(list, ((const char *const[]){"native/janus", NULL}));
}

/* ---- through the call manager ---- */

static ArCallManager *
new_manager(ArConfig **config_out, ArBoard **board_out)
{
  static const char conf[] = "[device]\ncamera=test\nmicrophone=test\nspeaker=none\n"
                             "display=none\n";
  g_autoptr(GError) error = NULL;
  *config_out = ar_config_load_data(conf, sizeof conf - 1, "test", &error);
  g_assert_no_error(error);
  *board_out = ar_board_load("host", &error);
  g_assert_no_error(error);
  ArCallManager *m = ar_call_manager_new(*config_out, *board_out, &error);
  g_assert_no_error(error);
  return m;
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
  g_autoptr(ArCallManager) m = new_manager(&config, &board);
  ar_providers_register_builtin(ar_call_manager_get_providers(m));
  static const char *const links[] = {TEAMS_LINK, "whip+https://whip.example.org/whip/endpoint/abc",
                                      "https://zoom.us/j/123456789?pwd=abc"};
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
  ar_provider_registry_add(ar_call_manager_get_providers(m), AR_ENGINE_WEB, "teams", &fake_class);
  g_autoptr(GError) error = NULL;
  gboolean connected = FALSE;
  g_assert_true(ar_call_manager_join(m, TEAMS_LINK, join_done, &connected, &error));
  g_assert_no_error(error);
  g_assert_nonnull(last_fake);
  g_assert_true(last_fake->joined);
  g_assert_cmpstr(last_fake->provider_id, ==, "teams");
  g_assert_cmpint(last_fake->engine, ==, AR_ENGINE_WEB);
  g_assert_true(connected);
  g_assert_cmpint(ar_call_manager_get_state(m), ==, AR_CALL_CONNECTED);
  g_autoptr(JsonNode) status = ar_call_manager_status(m);
  JsonObject *o = json_node_get_object(status);
  g_assert_cmpstr(json_object_get_string_member(o, "provider"), ==, "teams");
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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/providers/registry/lookup", test_registry_lookup);
  g_test_add_func("/providers/registry/duplicate", test_registry_duplicate);
  g_test_add_func("/providers/builtin", test_builtin);
  g_test_add_func("/providers/call/unsupported", test_call_unsupported);
  g_test_add_func("/providers/call/found-by-engine-and-id", test_call_found_by_engine_and_id);
  return g_test_run();
}
