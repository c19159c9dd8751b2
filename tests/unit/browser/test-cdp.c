/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the CDP message reader fed without a process (ar-cdp-priv.h). */
#include <string.h>

#include "ar-cdp-priv.h"

typedef struct {
  guint replies, errors, events, closed;
  GError *closed_error;
  char *last_session;
} Seen;

static void
on_reply(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Seen *s = data;
  if (error)
    s->errors++;
  else
    s->replies++;
}

static void
on_event(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  Seen *s = data;
  s->events++;
  g_free(s->last_session);
  s->last_session = g_strdup(session);
}

static void
on_closed(ArCdp *cdp, const GError *error, gpointer data)
{
  Seen *s = data;
  s->closed++;
  g_clear_error(&s->closed_error);
  s->closed_error = error ? g_error_copy(error) : NULL;
}

static void
seen_clear(Seen *s)
{
  g_clear_error(&s->closed_error);
  g_free(s->last_session);
}

static gboolean
feed(ArCdp *cdp, const char *text)
{
  /* with the NUL that ends a message */
  return ar_cdp_feed(cdp, (const guint8 *)text, strlen(text) + 1);
}

static void
test_replies_and_events(void)
{
  Seen s = {0};
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, &s);
  ar_cdp_on(cdp, "Page.loadEventFired", on_event, &s);
  guint a = ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 0, on_reply, &s);
  guint b = ar_cdp_call(cdp, "S1", "Runtime.evaluate", NULL, 0, on_reply, &s);
  g_assert_cmpuint(a, ==, 1);
  g_assert_cmpuint(b, ==, 2);
  g_assert_true(feed(cdp, "{\"id\":1,\"result\":{\"product\":\"x\"}}"));
  g_assert_true(feed(cdp, "{\"id\":2,\"sessionId\":\"S1\",\"error\":{\"code\":-32000,"
                          "\"message\":\"nope\"}}"));
  g_assert_true(feed(cdp, "{\"method\":\"Page.loadEventFired\",\"sessionId\":\"S1\","
                          "\"params\":{\"timestamp\":1}}"));
  g_assert_true(feed(cdp, "{\"method\":\"Other.event\"}"));
  /* a late answer to a cancelled command is dropped */
  guint c = ar_cdp_call(cdp, NULL, "Page.navigate", NULL, 0, on_reply, &s);
  ar_cdp_cancel(cdp, c);
  g_assert_true(feed(cdp, "{\"id\":3,\"result\":{}}"));
  g_assert_cmpuint(s.replies, ==, 1);
  g_assert_cmpuint(s.errors, ==, 1);
  g_assert_cmpuint(s.events, ==, 1);
  g_assert_cmpstr(s.last_session, ==, "S1");
  g_assert_cmpuint(s.closed, ==, 0);
  /* a message split across reads */
  ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 0, on_reply, &s);
  g_assert_true(ar_cdp_feed(cdp, (const guint8 *)"{\"id\":4,\"res", 12));
  g_assert_true(ar_cdp_feed(cdp, (const guint8 *)"ult\":{}}\0", 9));
  g_assert_cmpuint(s.replies, ==, 2);
  seen_clear(&s);
}

static void
expect_protocol_error(const char *text, gsize len)
{
  Seen s = {0};
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, &s);
  ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 0, on_reply, &s);
  g_assert_false(ar_cdp_feed(cdp, (const guint8 *)text, len));
  g_assert_cmpuint(s.closed, ==, 1);
  g_assert_error(s.closed_error, AR_CDP_ERROR, AR_CDP_ERROR_PROTOCOL);
  g_assert_true(g_str_has_prefix(s.closed_error->message,
                                 "The meeting browser sent a message that is not CDP"));
  /* the waiting command learnt why */
  g_assert_cmpuint(s.errors, ==, 1);
  g_assert_false(ar_cdp_is_running(cdp));
  /* closed once, whatever follows */
  g_assert_false(feed(cdp, "{\"id\":1,\"result\":{}}"));
  g_assert_cmpuint(s.closed, ==, 1);
  seen_clear(&s);
}

#define P(lit) lit, sizeof(lit)

static void
test_protocol_errors(void)
{
  expect_protocol_error(P("not json"));
  expect_protocol_error(P("[1,2]"));
  expect_protocol_error(P("{}"));
  expect_protocol_error(P("{\"id\":\"1\",\"result\":{}}"));
  expect_protocol_error(P("{\"id\":1.5,\"result\":{}}"));
  expect_protocol_error(P("{\"id\":99,\"result\":{}}"));
  expect_protocol_error(P("{\"id\":1}"));
  expect_protocol_error(P("{\"id\":1,\"result\":{},\"error\":{\"message\":\"x\"}}"));
  expect_protocol_error(P("{\"id\":1,\"error\":{\"code\":1}}"));
  expect_protocol_error(P("{\"method\":7}"));
  expect_protocol_error(P("{\"method\":\"A.b\",\"params\":[]}"));
  expect_protocol_error(P("{\"method\":\"A.b\",\"sessionId\":{}}"));
  expect_protocol_error(P("{\"id\":1,\"result\":{}}\xff\xfe"));
  /* nested too deep, refused before json-glib recurses */
  GString *deep = g_string_new("{\"method\":\"A.b\",\"params\":{\"x\":");
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, '[');
  expect_protocol_error(deep->str, deep->len + 1);
  g_string_free(deep, TRUE);
}

static void
test_size_bound(void)
{
  Seen s = {0};
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, &s);
  g_autofree guint8 *chunk = g_malloc(1024 * 1024);
  memset(chunk, ' ', 1024 * 1024);
  gboolean running = TRUE;
  for (guint i = 0; i < 17 && running; i++)
    running = ar_cdp_feed(cdp, chunk, 1024 * 1024);
  g_assert_false(running);
  g_assert_error(s.closed_error, AR_CDP_ERROR, AR_CDP_ERROR_PROTOCOL);
  g_assert_nonnull(strstr(s.closed_error->message, "longer than"));
  seen_clear(&s);
}

static void
test_session_gone(void)
{
  Seen s = {0};
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, &s);
  ar_cdp_call(cdp, "S1", "Runtime.runIfWaitingForDebugger", NULL, 0, on_reply, &s);
  ar_cdp_call(cdp, "S2", "Runtime.runIfWaitingForDebugger", NULL, 0, on_reply, &s);
  g_assert_true(feed(cdp, "{\"method\":\"Target.detachedFromTarget\","
                          "\"params\":{\"sessionId\":\"S1\"}}"));
  /* S1's command ended with an error; S2's still waits */
  g_assert_cmpuint(s.errors, ==, 1);
  g_assert_true(feed(cdp, "{\"id\":2,\"result\":{}}"));
  g_assert_cmpuint(s.replies, ==, 1);
  /* an empty message is not CDP */
  g_assert_false(ar_cdp_feed(cdp, (const guint8 *)"\0", 1));
  g_assert_error(s.closed_error, AR_CDP_ERROR, AR_CDP_ERROR_PROTOCOL);
  seen_clear(&s);
}

static void
test_closed_and_busy(void)
{
  Seen s = {0};
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, &s);
  for (guint i = 0; i < AR_CDP_MAX_PENDING; i++)
    g_assert_cmpuint(ar_cdp_call(cdp, NULL, "X.y", NULL, 0, NULL, NULL), >, 0);
  g_assert_cmpuint(ar_cdp_call(cdp, NULL, "X.y", NULL, 0, on_reply, &s), ==, 0);
  /* the refusal comes from the main loop, not inside the call */
  g_assert_cmpuint(s.errors, ==, 0);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(s.errors, ==, 1);
  ar_cdp_close(cdp);
  g_assert_cmpuint(s.closed, ==, 1);
  g_assert_null(s.closed_error);
  g_assert_cmpuint(ar_cdp_call(cdp, NULL, "X.y", NULL, 0, on_reply, &s), ==, 0);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(s.errors, ==, 2);
  seen_clear(&s);
}

/* ---- a slow browser is not a hung one (a TEST FIXTURE program stands for the browser: it
 * answers a first command on fd 4 at once, so that its own start-up, which on a loaded machine
 * can wait for the disk without using CPU, is over; it answers the second after @delay_s,
 * burning CPU or asleep) ---- */

static const char slow_browser[] =
    "import os, sys, time, json\n"
    "mode, delay = sys.argv[1], float(sys.argv[2])\n"
    "buf = b''\n"
    "def command():\n"
    "    global buf\n"
    "    while b'\\0' not in buf:\n"
    "        chunk = os.read(3, 4096)\n"
    "        if not chunk: sys.exit(0)\n"
    "        buf += chunk\n"
    "    text, buf = buf.split(b'\\0', 1)\n"
    "    return json.loads(text)\n"
    "def answer(cmd):\n"
    "    os.write(4, json.dumps({'id': cmd['id'], 'result': {}}).encode() + b'\\0')\n"
    "answer(command())\n"
    "cmd = command()\n"
    "end = time.monotonic() + delay\n"
    "while time.monotonic() < end:\n"
    "    if mode == 'sleep': time.sleep(0.05)\n"
    "answer(cmd)\n"
    "time.sleep(30)\n";

typedef struct {
  gboolean answered, failed, closed;
  char *message;
} Slow;

static void
slow_reply(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Slow *s = data;
  if (error) {
    s->failed = TRUE;
    s->message = g_strdup(error->message);
  } else {
    s->answered = TRUE;
  }
}

static void
slow_closed(ArCdp *cdp, const GError *error, gpointer data)
{
  Slow *s = data;
  s->closed = TRUE;
  if (error && !s->message)
    s->message = g_strdup(error->message);
}

/* Sends one command with a 1 s bound to the fixture in @mode answering after @delay_s;
 * returns whether it was answered (else the browser was ended as hung). */
static gboolean
slow_run(const char *mode, const char *delay_s)
{
  const char *argv[] = {"python3", "-c", slow_browser, mode, delay_s, NULL};
  g_autofree char *path = g_strdup_printf("PATH=%s", g_getenv("PATH"));
  const char *envp[] = {path, NULL};
  Slow s = {0};
  g_autoptr(GError) error = NULL;
  g_autofree char *python = g_find_program_in_path("python3");
  g_assert_nonnull(python);
  argv[0] = python;
  ArCdp *cdp = ar_cdp_launch(argv, envp, TRUE, slow_closed, &s, &error);
  g_assert_no_error(error);
  /* the fixture is up once it answered a first command (no bound of the CDP's; 20 s here) */
  gint64 t0 = g_get_monotonic_time();
  ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 0, slow_reply, &s);
  while (!s.answered && !s.failed && g_get_monotonic_time() - t0 < 20 * G_USEC_PER_SEC) {
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(10 * 1000);
  }
  g_assert_true(s.answered);
  s.answered = FALSE;
  t0 = g_get_monotonic_time();
  ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 1000, slow_reply, &s);
  while (!s.answered && !s.failed && g_get_monotonic_time() - t0 < 20 * G_USEC_PER_SEC)
    g_main_context_iteration(NULL, TRUE);
  g_test_message("%s %s s: %s after %.0f ms%s%s", mode, delay_s,
                 s.answered ? "answered"
                 : s.failed ? "ended as hung"
                            : "nothing",
                 (g_get_monotonic_time() - t0) / 1000.0, s.message ? ": " : "",
                 s.message ? s.message : "");
  g_assert_true(s.answered || s.failed);
  gboolean answered = s.answered;
  ar_cdp_close(cdp);
  while (!s.closed)
    g_main_context_iteration(NULL, TRUE);
  ar_cdp_unref(cdp);
  g_free(s.message);
  return answered;
}

static void
test_busy_not_hung(void)
{
  /* Working (burning CPU) and answering after 1.5 bounds: waited for. */
  g_assert_true(slow_run("spin", "1.5"));
  /* Asleep for longer (a stopped or deadlocked browser uses no CPU): ended at the bound (or
   * the next: the fixture's own start-up uses some CPU). */
  g_assert_false(slow_run("sleep", "2.5"));
  /* Working but never answering: ended at 4 bounds, not waited for forever. */
  g_assert_false(slow_run("spin", "8.0"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cdp/replies-and-events", test_replies_and_events);
  g_test_add_func("/cdp/protocol-errors", test_protocol_errors);
  g_test_add_func("/cdp/size-bound", test_size_bound);
  g_test_add_func("/cdp/session-gone", test_session_gone);
  g_test_add_func("/cdp/closed-and-busy", test_closed_and_busy);
  g_test_add_func("/cdp/busy-not-hung", test_busy_not_hung);
  return g_test_run();
}
