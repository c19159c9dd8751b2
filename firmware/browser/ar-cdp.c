/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-cdp.c: the CDP client over --remote-debugging-pipe (ar-cdp.h). */
#include "ar-cdp-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

G_DEFINE_QUARK(ar - cdp - error - quark, ar_cdp_error)

#define READ_CHUNK (64 * 1024)
/* What we queue for the browser: our own commands, small; a browser that
 * stops reading is caught by the answer timeouts long before this fills. */
#define MAX_QUEUED_OUT (4u * 1024 * 1024)

typedef enum { STATE_RUNNING, STATE_CLOSING, STATE_CLOSED } State;

/* A command not answered within its bound is not yet a hung browser: for
 * BUSY_PROBE_MS more (at most a quarter of the bound) anyroomd watches the
 * browser's main process, and if it used at least BUSY_MIN_PERMILLE of a core
 * meanwhile it is working (a loaded board's browser is slow, not hung): the
 * command is waited for again, up to BUSY_FACTOR bounds in all. A stopped or
 * deadlocked browser uses no CPU and is ended at the bound plus the probe; one
 * spinning without answering at BUSY_FACTOR bounds. */
#define BUSY_FACTOR 4
#define BUSY_PROBE_MS 1000
#define BUSY_MIN_PERMILLE 20

typedef struct {
  ArCdp *cdp;
  guint id;
  char *session;
  char *method;
  guint timeout_ms;
  guint timeout_source;
  guint waits;   /* bounds waited so far */
  gint64 cpu_ms; /* the browser's CPU time when the probe began (-1: probing not possible) */
  ArCdpReplyFunc callback;
  gpointer user_data;
} Pending;

typedef struct {
  ArCdpEventFunc func;
  gpointer user_data;
} Handler;

struct _ArCdp {
  gint ref;
  State state;
  GSubprocess *proc;
  GPid pid;
  GInputStream *in;
  GOutputStream *out;
  GCancellable *cancel;      /* reads and writes */
  GCancellable *wait_cancel; /* the reaper: only when freed */
  guint8 *readbuf;
  GByteArray *rx; /* the message being received */
  GQueue outq;    /* GBytes waiting to be written */
  gsize out_queued;
  gboolean writing;
  GHashTable *pending; /* id -> Pending */
  guint next_id;
  GHashTable *handlers; /* method -> GPtrArray of Handler */
  ArCdpClosedFunc closed;
  gpointer closed_data;
  GError *reason; /* why it ended; NULL after ar_cdp_close() */
  gboolean disowned;
  char *marker;     /* processes whose command line holds it go with the group */
  char *exe_dir;    /* the folder of the browser's program */
  GPid group;       /* the reaped leader's group, until it is empty */
  guint group_poll; /* polls for the group to be empty */
  gint64 group_deadline;
  gint64 launched_us, first_answer_us;
};

static void finish(ArCdp *cdp);
static void note_exe_dir(ArCdp *cdp);

static void
pending_free(Pending *p)
{
  if (p->timeout_source)
    g_source_remove(p->timeout_source);
  g_free(p->method);
  g_free(p->session);
  g_free(p);
}

static void
kill_group(ArCdp *cdp)
{
  if (cdp->pid > 0)
    (void)kill(-cdp->pid, SIGKILL);
}

/* The first fatal error wins; the process group is killed, and the closed
 * callback comes once it is reaped (at once without a process). */
static void
fail(ArCdp *cdp, GError *error)
{
  if (cdp->state != STATE_RUNNING) {
    g_error_free(error);
    return;
  }
  g_debug("cdp: %s", error->message);
  cdp->reason = error;
  cdp->state = STATE_CLOSING;
  kill_group(cdp);
  g_cancellable_cancel(cdp->cancel);
  if (cdp->proc == NULL)
    finish(cdp);
}

static void
protocol_error(ArCdp *cdp, const char *what)
{
  fail(cdp, g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_PROTOCOL,
                        "The meeting browser sent a message that is not CDP: %s", what));
}

/* ---- commands ---- */

typedef struct {
  ArCdp *cdp;
  ArCdpReplyFunc callback;
  gpointer user_data;
  GError *error;
} Refusal;

static gboolean
refusal_run(gpointer data)
{
  Refusal *r = data;
  if (!r->cdp->disowned)
    r->callback(r->cdp, NULL, r->error, r->user_data);
  g_error_free(r->error);
  ar_cdp_unref(r->cdp);
  g_free(r);
  return G_SOURCE_REMOVE;
}

static void
refuse(ArCdp *cdp, ArCdpReplyFunc callback, gpointer user_data, GError *error)
{
  if (callback == NULL) {
    g_error_free(error);
    return;
  }
  Refusal *r = g_new0(Refusal, 1);
  r->cdp = ar_cdp_ref(cdp);
  r->callback = callback;
  r->user_data = user_data;
  r->error = error;
  g_idle_add(refusal_run, r);
}

/* User and system CPU time of process @pid in ms, or -1. */
static gint64
process_cpu_ms(GPid pid)
{
  if (pid <= 0)
    return -1;
  char path[64], buf[1024];
  g_snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15. */
  const char *p = strrchr(buf, ')');
  if (p == NULL)
    return -1;
  p++;
  unsigned long long utime = 0, stime = 0;
  if (sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return -1;
  long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? (gint64)((utime + stime) * 1000 / (unsigned long long)hz) : -1;
}

static gboolean pending_timed_out(gpointer data);

static gboolean
pending_probed(gpointer data)
{
  Pending *p = data;
  p->timeout_source = 0;
  guint probe_ms = MIN(BUSY_PROBE_MS, MAX(p->timeout_ms / 4, 1));
  gint64 cpu = process_cpu_ms(p->cdp->pid);
  /* At least one clock tick, and BUSY_MIN_PERMILLE of a core over the probe. */
  gint64 need = MAX(1, (gint64)probe_ms * BUSY_MIN_PERMILLE / 1000);
  if (cpu >= 0 && p->cpu_ms >= 0 && cpu - p->cpu_ms >= need) {
    g_debug("cdp: no answer to %s within %u ms, but the browser is working (%" G_GINT64_FORMAT
            " ms of CPU in %u ms): waiting again",
            p->method, p->timeout_ms * p->waits, cpu - p->cpu_ms, probe_ms);
    p->timeout_source = g_timeout_add(p->timeout_ms - probe_ms, pending_timed_out, p);
    return G_SOURCE_REMOVE;
  }
  fail(p->cdp, g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_HUNG,
                           "The meeting browser stopped answering (no answer to %s within %u ms)",
                           p->method, p->timeout_ms * p->waits + probe_ms));
  return G_SOURCE_REMOVE;
}

static gboolean
pending_timed_out(gpointer data)
{
  Pending *p = data;
  p->timeout_source = 0;
  p->waits++;
  p->cpu_ms = p->waits < BUSY_FACTOR ? process_cpu_ms(p->cdp->pid) : -1;
  if (p->cpu_ms < 0) {
    fail(p->cdp, g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_HUNG,
                             "The meeting browser stopped answering (no answer to %s within %u ms)",
                             p->method, p->timeout_ms * p->waits));
    return G_SOURCE_REMOVE;
  }
  p->timeout_source =
      g_timeout_add(MIN(BUSY_PROBE_MS, MAX(p->timeout_ms / 4, 1)), pending_probed, p);
  return G_SOURCE_REMOVE;
}

static void write_next(ArCdp *cdp);

static void
write_done(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return; /* closing or freed: @data may be gone */
    ArCdp *cdp = data;
    cdp->writing = FALSE;
    /* The browser closed its end: its exit (reaped next) says why. */
    g_debug("cdp: write: %s", error->message);
    return;
  }
  ArCdp *cdp = data;
  GBytes *b = g_queue_pop_head(&cdp->outq);
  cdp->out_queued -= g_bytes_get_size(b);
  g_bytes_unref(b);
  cdp->writing = FALSE;
  write_next(cdp);
}

static void
write_next(ArCdp *cdp)
{
  if (cdp->writing || cdp->out == NULL || cdp->state != STATE_RUNNING)
    return;
  GBytes *b = g_queue_peek_head(&cdp->outq);
  if (b == NULL)
    return;
  cdp->writing = TRUE;
  gsize len;
  const void *data = g_bytes_get_data(b, &len);
  g_output_stream_write_all_async(cdp->out, data, len, G_PRIORITY_DEFAULT, cdp->cancel, write_done,
                                  cdp);
}

guint
ar_cdp_call(ArCdp *cdp, const char *session_id, const char *method, JsonNode *params,
            guint timeout_ms, ArCdpReplyFunc callback, gpointer user_data)
{
  g_autoptr(JsonNode) owned = params;
  g_return_val_if_fail(cdp != NULL && method != NULL, 0);
  if (owned != NULL && !JSON_NODE_HOLDS_OBJECT(owned)) {
    refuse(cdp, callback, user_data,
           g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_COMMAND, "%s: params must be an object", method));
    return 0;
  }
  if (cdp->state != STATE_RUNNING) {
    refuse(cdp, callback, user_data,
           g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_CLOSED,
                       "The meeting browser is closed (%s not sent)", method));
    return 0;
  }
  if (g_hash_table_size(cdp->pending) >= AR_CDP_MAX_PENDING) {
    refuse(cdp, callback, user_data,
           g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_BUSY,
                       "%u commands are already waiting for the meeting browser (%s not sent)",
                       AR_CDP_MAX_PENDING, method));
    return 0;
  }
  if (cdp->next_id == G_MAXINT32) {
    fail(cdp, g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_PROTOCOL, "command ids exhausted"));
    refuse(cdp, callback, user_data,
           g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_CLOSED, "The meeting browser is closed"));
    return 0;
  }

  guint id = cdp->next_id++;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, id);
  json_builder_set_member_name(b, "method");
  json_builder_add_string_value(b, method);
  if (session_id != NULL) {
    json_builder_set_member_name(b, "sessionId");
    json_builder_add_string_value(b, session_id);
  }
  json_builder_set_member_name(b, "params");
  if (owned == NULL) {
    g_autoptr(JsonObject) empty = json_object_new();
    owned = json_node_init_object(json_node_alloc(), empty);
  }
  json_builder_add_value(b, g_steal_pointer(&owned));
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  char *text = json_generator_to_data(gen, &len);
  /* The message ends with a NUL byte: send len + 1 bytes. */
  if (cdp->out_queued + len + 1 > MAX_QUEUED_OUT) {
    g_free(text);
    fail(cdp, g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_HUNG,
                          "The meeting browser stopped answering (it reads no commands)"));
    refuse(cdp, callback, user_data,
           g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_CLOSED, "The meeting browser is closed"));
    return 0;
  }
  GBytes *bytes = g_bytes_new_take(text, len + 1);
  g_queue_push_tail(&cdp->outq, bytes);
  cdp->out_queued += len + 1;

  Pending *p = g_new0(Pending, 1);
  p->cdp = cdp;
  p->id = id;
  p->method = g_strdup(method);
  p->session = g_strdup(session_id);
  p->timeout_ms = timeout_ms;
  p->callback = callback;
  p->user_data = user_data;
  if (timeout_ms > 0)
    p->timeout_source = g_timeout_add(timeout_ms, pending_timed_out, p);
  g_hash_table_insert(cdp->pending, GUINT_TO_POINTER(id), p);
  write_next(cdp);
  return id;
}

void
ar_cdp_cancel(ArCdp *cdp, guint id)
{
  g_return_if_fail(cdp != NULL);
  g_hash_table_remove(cdp->pending, GUINT_TO_POINTER(id));
}

void
ar_cdp_on(ArCdp *cdp, const char *method, ArCdpEventFunc func, gpointer user_data)
{
  g_return_if_fail(cdp != NULL && method != NULL && func != NULL);
  GPtrArray *list = g_hash_table_lookup(cdp->handlers, method);
  if (list == NULL) {
    list = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(cdp->handlers, g_strdup(method), list);
  }
  Handler *h = g_new0(Handler, 1);
  h->func = func;
  h->user_data = user_data;
  g_ptr_array_add(list, h);
}

/* ---- the incoming stream ---- */

gboolean
ar_cdp_depth_ok(const char *data, gsize len, guint max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = data[i];
    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (c == '\\')
        escaped = TRUE;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    if (c == '"')
      in_string = TRUE;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return FALSE;
    } else if ((c == ']' || c == '}') && depth > 0)
      depth--;
  }
  return TRUE;
}

static const char *
get_string(JsonObject *o, const char *name, gboolean *bad)
{
  JsonNode *n = json_object_get_member(o, name);
  if (n == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    *bad = TRUE;
    return NULL;
  }
  return json_node_get_string(n);
}

static void
handle_reply(ArCdp *cdp, JsonObject *msg, JsonNode *id_node)
{
  if (json_node_get_value_type(id_node) != G_TYPE_INT64) {
    protocol_error(cdp, "an id that is not an integer");
    return;
  }
  gint64 id = json_node_get_int(id_node);
  if (id <= 0 || id >= cdp->next_id) {
    protocol_error(cdp, "an answer to a command never sent");
    return;
  }
  JsonNode *result = json_object_get_member(msg, "result");
  JsonNode *err = json_object_get_member(msg, "error");
  if ((result == NULL) == (err == NULL) || (result && !JSON_NODE_HOLDS_OBJECT(result)) ||
      (err && !JSON_NODE_HOLDS_OBJECT(err))) {
    protocol_error(cdp, "an answer without one result or error object");
    return;
  }
  g_autoptr(GError) error = NULL;
  if (err != NULL) {
    gboolean bad = FALSE;
    const char *text = get_string(json_node_get_object(err), "message", &bad);
    if (text == NULL || bad) {
      protocol_error(cdp, "an error answer without a message");
      return;
    }
    error = g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_COMMAND, "%s", text);
  }
  if (cdp->first_answer_us < 0) {
    cdp->first_answer_us = g_get_monotonic_time() - cdp->launched_us;
    note_exe_dir(cdp);
  }
  Pending *p = g_hash_table_lookup(cdp->pending, GUINT_TO_POINTER((guint)id));
  if (p == NULL)
    return; /* cancelled: a late answer is dropped */
  g_hash_table_steal(cdp->pending, GUINT_TO_POINTER((guint)id));
  if (error != NULL)
    g_prefix_error(&error, "%s: ", p->method);
  if (p->callback != NULL)
    p->callback(cdp, result ? json_node_get_object(result) : NULL, error, p->user_data);
  pending_free(p);
}

/* A session that went away (its target closed) answers nothing more: its
 * waiting commands end now, with an error, instead of looking hung. */
static void
session_gone(ArCdp *cdp, const char *session)
{
  GList *gone = NULL;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, cdp->pending);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Pending *p = value;
    if (g_strcmp0(p->session, session) == 0) {
      gone = g_list_prepend(gone, p);
      g_hash_table_iter_steal(&it);
    }
  }
  for (GList *l = gone; l != NULL; l = l->next) {
    Pending *p = l->data;
    if (p->callback != NULL && cdp->state == STATE_RUNNING) {
      g_autoptr(GError) e =
          g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_COMMAND, "%s: the session was closed", p->method);
      p->callback(cdp, NULL, e, p->user_data);
    }
    pending_free(p);
  }
  g_list_free(gone);
}

static void
handle_event(ArCdp *cdp, JsonObject *msg, const char *method, const char *session_id)
{
  JsonNode *params = json_object_get_member(msg, "params");
  if (params != NULL && !JSON_NODE_HOLDS_OBJECT(params)) {
    protocol_error(cdp, "event params that are not an object");
    return;
  }
  g_autoptr(JsonObject) empty = NULL;
  JsonObject *po = params ? json_node_get_object(params) : (empty = json_object_new());
  if (strcmp(method, "Target.detachedFromTarget") == 0) {
    JsonNode *s = json_object_get_member(po, "sessionId");
    if (s != NULL && JSON_NODE_HOLDS_VALUE(s) && json_node_get_value_type(s) == G_TYPE_STRING)
      session_gone(cdp, json_node_get_string(s));
  }
  GPtrArray *list = g_hash_table_lookup(cdp->handlers, method);
  if (list == NULL)
    return;
  /* A handler may disown the connection (its owner going away), which
   * drops the handler lists: hold this one. */
  g_ptr_array_ref(list);
  for (guint i = 0; i < list->len && cdp->state == STATE_RUNNING && !cdp->disowned; i++) {
    Handler *h = g_ptr_array_index(list, i);
    h->func(cdp, session_id, po, h->user_data);
  }
  g_ptr_array_unref(list);
}

static void
handle_message(ArCdp *cdp, const char *data, gsize len)
{
  if (len == 0 || data == NULL) {
    protocol_error(cdp, "an empty message");
    return;
  }
  if (!ar_cdp_depth_ok(data, len, AR_CDP_MAX_DEPTH)) {
    protocol_error(cdp, "JSON nested too deep");
    return;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &error)) {
    g_autofree char *what = g_strdup_printf("not JSON (%s)", error->message);
    protocol_error(cdp, what);
    return;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    protocol_error(cdp, "not a JSON object");
    return;
  }
  JsonObject *msg = json_node_get_object(root);
  gboolean bad = FALSE;
  const char *session_id = get_string(msg, "sessionId", &bad);
  const char *method = get_string(msg, "method", &bad);
  if (bad) {
    protocol_error(cdp, "a sessionId or method that is not a string");
    return;
  }
  JsonNode *id = json_object_get_member(msg, "id");
  if (id != NULL) {
    if (!JSON_NODE_HOLDS_VALUE(id)) {
      protocol_error(cdp, "an id that is not an integer");
      return;
    }
    handle_reply(cdp, msg, id);
  } else if (method != NULL) {
    handle_event(cdp, msg, method, session_id);
  } else {
    protocol_error(cdp, "a message with neither an id nor a method");
  }
}

gboolean
ar_cdp_feed(ArCdp *cdp, const guint8 *data, gsize len)
{
  g_return_val_if_fail(cdp != NULL, FALSE);
  ar_cdp_ref(cdp);
  gsize pos = 0;
  while (pos < len && cdp->state == STATE_RUNNING) {
    const guint8 *nul = memchr(data + pos, 0, len - pos);
    gsize chunk = nul ? (gsize)(nul - (data + pos)) : len - pos;
    if (cdp->rx->len + chunk > AR_CDP_MAX_MESSAGE) {
      g_autofree char *what = g_strdup_printf("a message longer than %u bytes", AR_CDP_MAX_MESSAGE);
      protocol_error(cdp, what);
      break;
    }
    g_byte_array_append(cdp->rx, data + pos, chunk);
    pos += chunk;
    if (nul == NULL)
      break;
    pos++; /* the NUL */
    handle_message(cdp, (const char *)cdp->rx->data, cdp->rx->len);
    g_byte_array_set_size(cdp->rx, 0);
  }
  gboolean running = cdp->state == STATE_RUNNING;
  ar_cdp_unref(cdp);
  return running;
}

static void read_next(ArCdp *cdp);

static void
read_done(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
  if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* closing or freed: @data may be gone */
  ArCdp *cdp = data;
  if (n <= 0) {
    /* The browser closed its end (it died, or is dying): its exit status,
     * reaped next, says why. */
    g_debug("cdp: the pipe from the browser closed%s%s", error ? ": " : "",
            error ? error->message : "");
    return;
  }
  if (ar_cdp_feed(cdp, cdp->readbuf, (gsize)n))
    read_next(cdp);
}

static void
read_next(ArCdp *cdp)
{
  g_input_stream_read_async(cdp->in, cdp->readbuf, READ_CHUNK, G_PRIORITY_DEFAULT, cdp->cancel,
                            read_done, cdp);
}

/* ---- the process ---- */

static void
finish(ArCdp *cdp)
{
  if (cdp->state == STATE_CLOSED)
    return;
  ar_cdp_ref(cdp);
  cdp->state = STATE_CLOSED;
  g_cancellable_cancel(cdp->cancel);
  /* Every waiting command learns why. */
  GList *waiting = g_hash_table_get_values(cdp->pending);
  g_hash_table_steal_all(cdp->pending);
  for (GList *l = waiting; l != NULL; l = l->next) {
    Pending *p = l->data;
    if (p->callback != NULL) {
      g_autoptr(GError) e =
          cdp->reason ? g_error_copy(cdp->reason)
                      : g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_CLOSED,
                                    "The meeting browser was closed (no answer to %s)", p->method);
      p->callback(cdp, NULL, e, p->user_data);
    }
    pending_free(p);
  }
  g_list_free(waiting);
  if (cdp->closed != NULL) {
    ArCdpClosedFunc closed = cdp->closed;
    cdp->closed = NULL;
    closed(cdp, cdp->reason, cdp->closed_data);
  }
  ar_cdp_unref(cdp);
}

/* TRUE while a process (not a zombie) of group @pgid is left. */
gboolean
ar_cdp_group_alive(GPid pgid)
{
  g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
  if (dir == NULL || pgid <= 0)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name(dir)) != NULL) {
    if (!g_ascii_isdigit(name[0]))
      continue;
    g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
      continue;
    /* "pid (comm) state ppid pgrp ...": comm may hold anything, so from
     * its last ')'. */
    const char *rp = strrchr(text, ')');
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (rp == NULL || sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
      continue;
    if (pgrp == pgid && state != 'Z' && state != 'X')
      return TRUE;
  }
  return FALSE;
}

guint
ar_cdp_kill_marked(const char *marker, const char *exe_dir, gboolean do_kill)
{
  guint n = 0;
  g_autoptr(GDir) dir = marker && *marker ? g_dir_open("/proc", 0, NULL) : NULL;
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    if (!g_ascii_isdigit(name[0]))
      continue;
    g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", name);
    g_autofree char *text = NULL;
    gsize len = 0;
    GStatBuf st;
    if (g_stat(path, &st) != 0 || st.st_uid != getuid() ||
        !g_file_get_contents(path, &text, &len, NULL) || len == 0)
      continue; /* gone, someone else's, or a zombie (an empty command line) */
    /* the arguments are NUL-separated: the marker in one of its flags */
    gboolean hit = FALSE;
    for (gsize at = 0; at < len && !hit; at += strlen(text + at) + 1)
      hit = g_str_has_prefix(text + at, "--") && strstr(text + at, marker) != NULL;
    if (!hit)
      continue;
    if (exe_dir != NULL) {
      /* and one of the browser's own programs (its crash handler) */
      g_autofree char *exe_link = g_strdup_printf("/proc/%s/exe", name);
      g_autofree char *exe = g_file_read_link(exe_link, NULL);
      g_autofree char *dirname = exe ? g_path_get_dirname(exe) : NULL;
      if (g_strcmp0(dirname, exe_dir) != 0)
        continue;
    }
    n++;
    if (do_kill && exe_dir != NULL)
      (void)kill((pid_t)g_ascii_strtoll(name, NULL, 10), SIGKILL);
  }
  return n;
}

/* The folder of the browser's program, read while it runs (the wrapper
 * script has exec'd it by the first answer). */
static void
note_exe_dir(ArCdp *cdp)
{
  if (cdp->exe_dir != NULL || cdp->pid <= 0)
    return;
  g_autofree char *link = g_strdup_printf("/proc/%d/exe", (int)cdp->pid);
  g_autofree char *exe = g_file_read_link(link, NULL);
  if (exe != NULL)
    cdp->exe_dir = g_path_get_dirname(exe);
}

static gboolean
leftovers_alive(ArCdp *cdp)
{
  return ar_cdp_group_alive(cdp->group) || ar_cdp_kill_marked(cdp->marker, cdp->exe_dir, FALSE) > 0;
}

static gboolean
group_poll(gpointer data)
{
  ArCdp *cdp = data;
  kill_group(cdp);
  (void)ar_cdp_kill_marked(cdp->marker, cdp->exe_dir, TRUE);
  if (leftovers_alive(cdp) && g_get_monotonic_time() < cdp->group_deadline)
    return G_SOURCE_CONTINUE;
  if (leftovers_alive(cdp))
    g_warning("cdp: processes of group %d are left after SIGKILL", (int)cdp->group);
  cdp->group_poll = 0;
  cdp->pid = 0;
  finish(cdp);
  return G_SOURCE_REMOVE;
}

static void
wait_done(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &error) &&
      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* freed */
  ArCdp *cdp = data;
  GSubprocess *proc = G_SUBPROCESS(source);
  /* Whatever is left of the group (renderers, zygote) goes with it. */
  kill_group(cdp);
  if (cdp->state == STATE_RUNNING) {
    if (g_subprocess_get_if_signaled(proc))
      cdp->reason =
          g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_CRASHED, "The meeting browser crashed (signal %d)",
                      g_subprocess_get_term_sig(proc));
    else
      cdp->reason =
          g_error_new(AR_CDP_ERROR, AR_CDP_ERROR_EXITED, "The meeting browser exited (status %d)",
                      g_subprocess_get_exit_status(proc));
    g_debug("cdp: %s", cdp->reason->message);
    cdp->state = STATE_CLOSING;
  }
  g_cancellable_cancel(cdp->cancel);
  /* The closed callback comes when nothing of the group is left. */
  cdp->group = cdp->pid;
  cdp->group_deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  (void)ar_cdp_kill_marked(cdp->marker, cdp->exe_dir, TRUE);
  if (leftovers_alive(cdp)) {
    cdp->group_poll = g_timeout_add(10, group_poll, cdp);
    return;
  }
  cdp->pid = 0;
  finish(cdp);
}

static void
child_setup(gpointer data)
{
  /* Async-signal-safe only: a process group of its own (killed as one), and
   * SIGKILL if anyroomd dies first. */
  (void)setpgid(0, 0);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static ArCdp *
cdp_new(ArCdpClosedFunc closed, gpointer user_data)
{
  ArCdp *cdp = g_new0(ArCdp, 1);
  cdp->ref = 1;
  cdp->state = STATE_RUNNING;
  cdp->cancel = g_cancellable_new();
  cdp->rx = g_byte_array_new();
  g_queue_init(&cdp->outq);
  cdp->pending =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)pending_free);
  cdp->handlers =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  cdp->next_id = 1;
  cdp->closed = closed;
  cdp->closed_data = user_data;
  cdp->launched_us = g_get_monotonic_time();
  cdp->first_answer_us = -1;
  return cdp;
}

ArCdp *
ar_cdp_new_detached(ArCdpClosedFunc closed, gpointer user_data)
{
  return cdp_new(closed, user_data);
}

ArCdp *
ar_cdp_launch(const char *const *argv, const char *const *envp, gboolean keep_stderr,
              ArCdpClosedFunc closed, gpointer user_data, GError **error)
{
  g_return_val_if_fail(argv != NULL && argv[0] != NULL, NULL);
  int to_browser[2], from_browser[2];
  if (!g_unix_open_pipe(to_browser, FD_CLOEXEC, error)) {
    g_prefix_error(error, "The meeting browser could not be started: ");
    return NULL;
  }
  if (!g_unix_open_pipe(from_browser, FD_CLOEXEC, error)) {
    close(to_browser[0]);
    close(to_browser[1]);
    g_prefix_error(error, "The meeting browser could not be started: ");
    return NULL;
  }
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
      (keep_stderr ? G_SUBPROCESS_FLAGS_NONE : G_SUBPROCESS_FLAGS_STDERR_SILENCE));
  g_subprocess_launcher_set_environ(launcher, (char **)envp);
  g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
  /* Chromium reads commands on fd 3 and writes to fd 4. */
  g_subprocess_launcher_take_fd(launcher, to_browser[0], 3);
  g_subprocess_launcher_take_fd(launcher, from_browser[1], 4);
  GSubprocess *proc = g_subprocess_launcher_spawnv(launcher, argv, error);
  /* The launcher closes the child's ends when it is freed; close them now so
   * that the browser's death is an end of file here. */
  g_clear_object(&launcher);
  if (proc == NULL) {
    close(to_browser[1]);
    close(from_browser[0]);
    g_prefix_error(error, "The meeting browser could not be started: ");
    if (error && *error) {
      (*error)->domain = AR_CDP_ERROR;
      (*error)->code = AR_CDP_ERROR_START;
    }
    return NULL;
  }
  ArCdp *cdp = cdp_new(closed, user_data);
  cdp->proc = proc;
  cdp->pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10);
  cdp->out = g_unix_output_stream_new(to_browser[1], TRUE);
  cdp->in = g_unix_input_stream_new(from_browser[0], TRUE);
  cdp->readbuf = g_malloc(READ_CHUNK);
  cdp->wait_cancel = g_cancellable_new();
  g_subprocess_wait_async(proc, cdp->wait_cancel, wait_done, cdp);
  read_next(cdp);
  return cdp;
}

ArCdp *
ar_cdp_ref(ArCdp *cdp)
{
  g_return_val_if_fail(cdp != NULL, NULL);
  cdp->ref++;
  return cdp;
}

void
ar_cdp_unref(ArCdp *cdp)
{
  if (cdp == NULL || --cdp->ref > 0)
    return;
  kill_group(cdp);
  if (cdp->pid > 0)
    (void)ar_cdp_kill_marked(cdp->marker, cdp->exe_dir, TRUE);
  g_free(cdp->marker);
  g_free(cdp->exe_dir);
  if (cdp->group_poll)
    g_source_remove(cdp->group_poll);
  g_cancellable_cancel(cdp->cancel);
  if (cdp->wait_cancel != NULL)
    g_cancellable_cancel(cdp->wait_cancel);
  g_hash_table_destroy(cdp->pending);
  g_hash_table_destroy(cdp->handlers);
  GBytes *b;
  while ((b = g_queue_pop_head(&cdp->outq)) != NULL)
    g_bytes_unref(b);
  g_clear_object(&cdp->in);
  g_clear_object(&cdp->out);
  /* GSubprocess reaps its child by itself once it exits (SIGKILL above). */
  g_clear_object(&cdp->proc);
  g_clear_object(&cdp->cancel);
  g_clear_object(&cdp->wait_cancel);
  g_byte_array_unref(cdp->rx);
  g_free(cdp->readbuf);
  g_clear_error(&cdp->reason);
  g_free(cdp);
}

void
ar_cdp_set_marker(ArCdp *cdp, const char *marker)
{
  g_return_if_fail(cdp != NULL);
  g_free(cdp->marker);
  cdp->marker = g_strdup(marker);
}

void
ar_cdp_disown(ArCdp *cdp)
{
  g_return_if_fail(cdp != NULL);
  cdp->disowned = TRUE;
  cdp->closed = NULL;
  g_hash_table_remove_all(cdp->pending);
  g_hash_table_remove_all(cdp->handlers);
  if (cdp->state == STATE_RUNNING) {
    cdp->state = STATE_CLOSING;
    kill_group(cdp);
    g_cancellable_cancel(cdp->cancel);
  }
}

void
ar_cdp_close(ArCdp *cdp)
{
  g_return_if_fail(cdp != NULL);
  if (cdp->state != STATE_RUNNING)
    return;
  cdp->state = STATE_CLOSING;
  kill_group(cdp);
  g_cancellable_cancel(cdp->cancel);
  if (cdp->proc == NULL)
    finish(cdp);
}

gboolean
ar_cdp_is_running(ArCdp *cdp)
{
  return cdp != NULL && cdp->state == STATE_RUNNING;
}

GPid
ar_cdp_get_pid(ArCdp *cdp)
{
  return cdp ? cdp->pid : 0;
}

gint64
ar_cdp_get_first_answer_us(ArCdp *cdp)
{
  return cdp ? cdp->first_answer_us : -1;
}
