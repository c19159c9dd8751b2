/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-log-remote.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "ar-log.h"

G_DEFINE_QUARK(ar - log - remote - error - quark, ar_log_remote_error)

#define BATCH_BYTES (64 * 1024)
#define WARN_EVERY_US (5 * 60 * G_USEC_PER_SEC)

/* ---- formatting ---- */

gboolean
ar_log_remote_parse_url(const char *url, char **host, guint16 *port, GError **error)
{
  g_autoptr(GUri) uri = NULL;
  if (url == NULL || strlen(url) > 512 || !g_str_has_prefix(url, "syslog-tls://") ||
      (uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL)) == NULL || g_uri_get_host(uri) == NULL ||
      *g_uri_get_host(uri) == '\0' || g_uri_get_userinfo(uri) != NULL ||
      *g_uri_get_path(uri) != '\0' || g_uri_get_query(uri) != NULL ||
      g_uri_get_fragment(uri) != NULL || g_uri_get_port(uri) == 0) {
    g_set_error_literal(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID,
                        "not a syslog-tls://HOST:PORT address");
    return FALSE;
  }
  int p = g_uri_get_port(uri);
  *host = g_strdup(g_uri_get_host(uri));
  *port = p > 0 ? (guint16)p : AR_LOG_REMOTE_DEFAULT_PORT;
  return TRUE;
}

static const struct {
  const char *name;
  GLogLevelFlags level;
} levels[] = {
    {"critical", G_LOG_LEVEL_CRITICAL}, {"warning", G_LOG_LEVEL_WARNING},
    {"message", G_LOG_LEVEL_MESSAGE},   {"info", G_LOG_LEVEL_INFO},
    {"debug", G_LOG_LEVEL_DEBUG},
};

gboolean
ar_log_remote_parse_level(const char *name, GLogLevelFlags *level)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS(levels); i++)
    if (g_str_equal(name, levels[i].name)) {
      *level = levels[i].level;
      return TRUE;
    }
  return FALSE;
}

static char *
printusascii(const char *s, gsize max)
{
  GString *out = g_string_new(NULL);
  for (const char *p = s; p && *p && out->len < max; p++)
    g_string_append_c(out, (*p >= 33 && *p <= 126) ? *p : '-');
  return g_string_free(out, FALSE);
}

char *
ar_log_remote_hostname(const char *name)
{
  g_autofree char *h = printusascii(name, 255);
  if (*h && strspn(h, "-") != strlen(h))
    return g_steal_pointer(&h);
  g_autofree char *m = printusascii(g_get_host_name(), 255);
  return g_strdup(*m ? m : "-");
}

guint
ar_log_remote_pri(GLogLevelFlags level)
{
  guint severity = 7;
  if (level & G_LOG_LEVEL_ERROR)
    severity = 3;
  else if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    severity = 4;
  else if (level & G_LOG_LEVEL_MESSAGE)
    severity = 5;
  else if (level & G_LOG_LEVEL_INFO)
    severity = 6;
  return 3 * 8 + severity; /* facility daemon */
}

char *
ar_log_remote_format(GLogLevelFlags level, gint64 unix_us, const char *hostname, guint pid,
                     const char *msgid, const char *message)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_us / G_USEC_PER_SEC);
  g_autofree char *when = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%S") : NULL;
  g_autofree char *id = printusascii(msgid, 32);
  return g_strdup_printf("<%u>1 %s.%06uZ %s anyroomd %u %s - %s", ar_log_remote_pri(level),
                         when ? when : "1970-01-01T00:00:00", (guint)(unix_us % G_USEC_PER_SEC),
                         hostname ? hostname : "-", pid, *id ? id : "-", message ? message : "");
}

char *
ar_log_remote_frame(const char *msg, gsize *len)
{
  char *f = g_strdup_printf("%zu %s", strlen(msg), msg);
  *len = strlen(f);
  return f;
}

/* ---- the queue ---- */

struct _ArLogQueue {
  GQueue lines;
  gsize bytes, max_bytes;
  guint max_lines;
  guint64 dropped;
};

ArLogQueue *
ar_log_queue_new(guint max_lines, gsize max_bytes)
{
  ArLogQueue *q = g_new0(ArLogQueue, 1);
  g_queue_init(&q->lines);
  q->max_lines = MAX(max_lines, 1);
  q->max_bytes = max_bytes;
  return q;
}

void
ar_log_queue_free(ArLogQueue *q)
{
  if (!q)
    return;
  g_queue_clear_full(&q->lines, g_free);
  g_free(q);
}

char *
ar_log_queue_pop(ArLogQueue *q)
{
  char *m = g_queue_pop_head(&q->lines);
  if (m)
    q->bytes -= strlen(m);
  return m;
}

void
ar_log_queue_push(ArLogQueue *q, char *msg)
{
  gsize n = strlen(msg);
  if (n > q->max_bytes) {
    g_free(msg);
    q->dropped++;
    return;
  }
  while (q->lines.length >= q->max_lines || q->bytes + n > q->max_bytes) {
    g_free(ar_log_queue_pop(q));
    q->dropped++;
  }
  g_queue_push_tail(&q->lines, msg);
  q->bytes += n;
}

void
ar_log_queue_push_front(ArLogQueue *q, char *msg)
{
  gsize n = strlen(msg);
  if (q->lines.length >= q->max_lines || q->bytes + n > q->max_bytes) {
    g_free(msg);
    q->dropped++;
    return;
  }
  g_queue_push_head(&q->lines, msg);
  q->bytes += n;
}

guint
ar_log_queue_length(const ArLogQueue *q)
{
  return q->lines.length;
}

gsize
ar_log_queue_bytes(const ArLogQueue *q)
{
  return q->bytes;
}

guint64
ar_log_queue_take_dropped(ArLogQueue *q)
{
  guint64 d = q->dropped;
  q->dropped = 0;
  return d;
}

/* ---- the forwarder ---- */

typedef struct {
  char *host;
  guint16 port;
  char *ca_file;
  GLogLevelFlags level;
  char *hostname;
  guint pid;
  GCond cond;
  ArLogQueue *queue; /* under fw_lock */
  gboolean stopping; /* under fw_lock */
  gboolean draining; /* under fw_lock: send what is queued, then end */
  gboolean done;     /* under fw_lock: the thread ended */
  GCancellable *cancel;
  GThread *thread;
} Forwarder;

static GMutex fw_lock;
static Forwarder *fw;  /* under fw_lock */
static gint fw_active; /* atomic: a cheap check for the writer */
static GPrivate in_forwarder;

/* The forwarder's own lines: on the device's journal and the admin ring, never forwarded. */
static void G_GNUC_PRINTF(2, 3) local_log(GLogLevelFlags level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *m = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_log_structured(G_LOG_DOMAIN, level, AR_LOG_LOCAL_FIELD, "1", "MESSAGE", "%s", m);
}

void
ar_log_remote_submit(GLogLevelFlags level, const char *domain, const char *message)
{
  if (!g_atomic_int_get(&fw_active) || g_private_get(&in_forwarder))
    return;
  GLogLevelFlags wanted = (GLogLevelFlags)(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  g_mutex_lock(&fw_lock);
  if (fw)
    wanted = fw->level;
  g_mutex_unlock(&fw_lock);
  /* Lower bits are more severe. */
  if (!((guint)level & G_LOG_LEVEL_MASK & (((guint)wanted << 1) - 1)))
    return;
  g_autofree char *clean = ar_log_clean(message ? message : "");
  g_mutex_lock(&fw_lock);
  if (fw && !fw->stopping) {
    ar_log_queue_push(fw->queue, ar_log_remote_format(level, g_get_real_time(), fw->hostname,
                                                      fw->pid, domain, clean));
    g_cond_signal(&fw->cond);
  }
  g_mutex_unlock(&fw_lock);
}

static GIOStream *
connect_tls(Forwarder *f, GError **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, AR_LOG_REMOTE_TIMEOUT_S); /* connect, handshake, writes */
  g_autoptr(GSocketConnectable) addr = g_network_address_new(f->host, f->port);
  g_autoptr(GSocketConnection) tcp = g_socket_client_connect(client, addr, f->cancel, error);
  if (!tcp)
    return NULL;
  g_autoptr(GIOStream) tls = g_tls_client_connection_new(G_IO_STREAM(tcp), addr, error);
  if (!tls)
    return NULL;
  if (f->ca_file) {
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(f->ca_file, error);
    if (!db)
      return NULL;
    g_tls_connection_set_database(G_TLS_CONNECTION(tls), db);
  }
  /* The server's certificate against the CAs, and its name (the connectable). */
  if (!g_tls_connection_handshake(G_TLS_CONNECTION(tls), f->cancel, error))
    return NULL;
  return g_steal_pointer(&tls);
}

/* A syslog server never sends: readable means it closed (or a TLS 1.3 ticket). */
static gboolean
peer_closed(GIOStream *conn, GSocket *sock)
{
  if (!(g_socket_condition_check(sock, G_IO_IN | G_IO_HUP | G_IO_ERR)))
    return FALSE;
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(conn));
  char buf[512];
  for (int i = 0; i < 64; i++) {
    g_autoptr(GError) e = NULL;
    gssize n = g_pollable_input_stream_read_nonblocking(in, buf, sizeof buf, NULL, &e);
    if (n < 0)
      return !g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    if (n == 0)
      return TRUE;
  }
  return FALSE;
}

static gint64
backoff_deadline(guint *backoff_ms)
{
  guint ms = *backoff_ms;
  *backoff_ms = MIN(ms * 2, AR_LOG_REMOTE_BACKOFF_MAX_MS);
  /* Jitter: 50 % to 100 % of the step, so rooms do not reconnect in step. */
  guint wait = ms / 2 + g_random_int_range(0, (gint32)(ms / 2 + 1));
  return g_get_monotonic_time() + (gint64)wait * 1000;
}

static gpointer
run(gpointer data)
{
  Forwarder *f = data;
  g_private_set(&in_forwarder, GINT_TO_POINTER(1));
  /* A context of the thread's own: GIO's blocking calls iterate the caller's thread-default
   * context (glib-networking's sync handshake does); without it they would take the main
   * context and run the main loop's sources on this thread. */
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  g_autoptr(GIOStream) conn = NULL;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func(g_free);
  guint backoff = AR_LOG_REMOTE_BACKOFF_MIN_MS, failures = 0;
  gint64 last_warn = 0;
  gboolean ever = FALSE;

  for (;;) {
    if (!conn) {
      g_autoptr(GError) e = NULL;
      conn = connect_tls(f, &e);
      if (!conn) {
        g_mutex_lock(&fw_lock);
        gboolean draining = f->draining;
        g_mutex_unlock(&fw_lock);
        if (draining || g_cancellable_is_cancelled(f->cancel))
          break;
        gint64 now = g_get_monotonic_time();
        if (failures++ == 0 || now - last_warn > WARN_EVERY_US) {
          last_warn = now;
          local_log(G_LOG_LEVEL_WARNING, "logs: cannot forward to %s:%u: %s (retrying)", f->host,
                    f->port, e->message);
        }
        gint64 until = backoff_deadline(&backoff);
        g_mutex_lock(&fw_lock);
        while (!f->stopping && !f->draining && g_cond_wait_until(&f->cond, &fw_lock, until))
          ;
        gboolean stop = f->stopping || f->draining;
        g_mutex_unlock(&fw_lock);
        if (stop)
          break;
        continue;
      }
      local_log(G_LOG_LEVEL_MESSAGE, "logs: forwarding to %s:%u%s", f->host, f->port,
                ever ? " again" : "");
      ever = TRUE;
      failures = 0;
      backoff = AR_LOG_REMOTE_BACKOFF_MIN_MS;
    }
    g_mutex_lock(&fw_lock);
    while (!f->stopping && !f->draining && batch->len == 0 && ar_log_queue_length(f->queue) == 0)
      g_cond_wait(&f->cond, &fw_lock);
    if (f->stopping || (f->draining && batch->len == 0 && ar_log_queue_length(f->queue) == 0)) {
      g_mutex_unlock(&fw_lock);
      break;
    }
    /* Lost lines are said once, in the stream, where they were lost. */
    guint64 dropped = ar_log_queue_take_dropped(f->queue);
    if (dropped) {
      g_autofree char *m = g_strdup_printf(
          "logs: %" G_GUINT64_FORMAT " lines were not forwarded before this one (the queue of "
          "%u lines was full)",
          dropped, AR_LOG_REMOTE_QUEUE_LINES);
      g_ptr_array_add(batch, ar_log_remote_format(G_LOG_LEVEL_WARNING, g_get_real_time(),
                                                  f->hostname, f->pid, NULL, m));
    }
    gsize bytes = 0;
    for (guint i = 0; i < batch->len; i++)
      bytes += strlen(batch->pdata[i]);
    char *m;
    while (bytes < BATCH_BYTES && (m = ar_log_queue_pop(f->queue))) {
      bytes += strlen(m);
      g_ptr_array_add(batch, m);
    }
    g_mutex_unlock(&fw_lock);

    g_autoptr(GIOStream) base = NULL;
    g_object_get(conn, "base-io-stream", &base, NULL);
    GSocket *sock = g_socket_connection_get_socket(G_SOCKET_CONNECTION(base));
    g_autoptr(GError) e = NULL;
    if (peer_closed(conn, sock)) {
      g_set_error_literal(&e, G_IO_ERROR, G_IO_ERROR_CLOSED, "the server closed the connection");
    } else {
      GString *out = g_string_sized_new(bytes + 16 * batch->len);
      for (guint i = 0; i < batch->len; i++) {
        gsize n;
        g_autofree char *fr = ar_log_remote_frame(batch->pdata[i], &n);
        g_string_append_len(out, fr, (gssize)n);
      }
      gboolean ok = g_output_stream_write_all(g_io_stream_get_output_stream(conn), out->str,
                                              out->len, NULL, f->cancel, &e);
      g_string_free(out, TRUE);
      if (ok) {
        g_ptr_array_set_size(batch, 0);
        continue;
      }
    }
    if (g_cancellable_is_cancelled(f->cancel))
      break;
    /* Kept: the batch goes again on the next connection (at least once). */
    local_log(G_LOG_LEVEL_WARNING, "logs: lost the connection to %s:%u: %s (reconnecting)", f->host,
              f->port, e->message);
    g_io_stream_close(conn, NULL, NULL);
    g_clear_object(&conn);
    last_warn = g_get_monotonic_time();
    failures = 1;
  }
  if (conn)
    g_io_stream_close(conn, f->cancel, NULL);
  g_clear_object(&conn);
  g_ptr_array_set_size(batch, 0);
  g_main_context_pop_thread_default(ctx);
  g_mutex_lock(&fw_lock);
  f->done = TRUE;
  g_cond_broadcast(&f->cond);
  g_mutex_unlock(&fw_lock);
  return NULL;
}

gboolean
ar_log_remote_start(const ArLogRemoteOptions *opt, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  if (!ar_log_remote_parse_url(opt->url, &host, &port, error))
    return FALSE;
  Forwarder *f = g_new0(Forwarder, 1);
  f->host = g_steal_pointer(&host);
  f->port = port;
  f->ca_file = g_strdup(opt->ca_file);
  f->level = opt->level ? opt->level : G_LOG_LEVEL_INFO;
  f->hostname = ar_log_remote_hostname(opt->hostname);
  f->pid = (guint)getpid();
  g_cond_init(&f->cond);
  f->queue = ar_log_queue_new(AR_LOG_REMOTE_QUEUE_LINES, AR_LOG_REMOTE_QUEUE_BYTES);
  f->cancel = g_cancellable_new();
  g_mutex_lock(&fw_lock);
  g_assert(fw == NULL);
  fw = f;
  g_mutex_unlock(&fw_lock);
  g_atomic_int_set(&fw_active, 1);
  f->thread = g_thread_new("ar-log-remote", run, f);
  return TRUE;
}

void
ar_log_remote_set_hostname(const char *name)
{
  if (!g_atomic_int_get(&fw_active))
    return;
  char *h = ar_log_remote_hostname(name);
  g_mutex_lock(&fw_lock);
  if (fw) {
    g_free(fw->hostname);
    fw->hostname = g_steal_pointer(&h);
  }
  g_mutex_unlock(&fw_lock);
  g_free(h);
}

void
ar_log_remote_stop(void)
{
  /* What is queued gets AR_LOG_REMOTE_DRAIN_MS to go out (the last lines of a stop are
   * often the interesting ones); then the thread is cancelled. */
  gint64 until = g_get_monotonic_time() + AR_LOG_REMOTE_DRAIN_MS * 1000;
  g_mutex_lock(&fw_lock);
  Forwarder *f = fw;
  if (f) {
    f->draining = TRUE;
    g_cond_broadcast(&f->cond);
    while (!f->done && g_cond_wait_until(&f->cond, &fw_lock, until))
      ;
    f->stopping = TRUE;
    g_cond_broadcast(&f->cond);
  }
  g_mutex_unlock(&fw_lock);
  if (!f)
    return;
  g_atomic_int_set(&fw_active, 0);
  g_cancellable_cancel(f->cancel);
  g_thread_join(f->thread);
  g_mutex_lock(&fw_lock);
  fw = NULL;
  g_mutex_unlock(&fw_lock);
  ar_log_queue_free(f->queue);
  g_object_unref(f->cancel);
  g_cond_clear(&f->cond);
  g_free(f->host);
  g_free(f->ca_file);
  g_free(f->hostname);
  g_free(f);
}
