/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-log-remote.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-log-journal.h"
#include "ar-log.h"

G_DEFINE_QUARK(ar - log - remote - error - quark, ar_log_remote_error)

#define BATCH_BYTES (64 * 1024)
#define WARN_EVERY_US (5 * 60 * G_USEC_PER_SEC)

/* ---- formatting ---- */

static const struct {
  const char *prefix;
  ArLogRemoteKind kind;
  guint16 port;
} schemes[] = {
    {"syslog-tls://", AR_LOG_REMOTE_SYSLOG_TLS, AR_LOG_REMOTE_DEFAULT_PORT},
    {"journal-https://", AR_LOG_REMOTE_JOURNAL_HTTPS, AR_LOG_JOURNAL_DEFAULT_PORT},
};

gboolean
ar_log_remote_parse_url(const char *url, ArLogRemoteKind *kind, char **host, guint16 *port,
                        GError **error)
{
  g_autoptr(GUri) uri = NULL;
  gsize s = 0;
  while (url && s < G_N_ELEMENTS(schemes) && !g_str_has_prefix(url, schemes[s].prefix))
    s++;
  if (url == NULL || strlen(url) > 512 || s == G_N_ELEMENTS(schemes) ||
      (uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL)) == NULL || g_uri_get_host(uri) == NULL ||
      *g_uri_get_host(uri) == '\0' || g_uri_get_userinfo(uri) != NULL ||
      *g_uri_get_path(uri) != '\0' || g_uri_get_query(uri) != NULL ||
      g_uri_get_fragment(uri) != NULL || g_uri_get_port(uri) == 0) {
    g_set_error_literal(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID,
                        "not a syslog-tls://HOST:PORT or journal-https://HOST:PORT address");
    return FALSE;
  }
  int p = g_uri_get_port(uri);
  if (kind)
    *kind = schemes[s].kind;
  *host = g_strdup(g_uri_get_host(uri));
  *port = p > 0 ? (guint16)p : schemes[s].port;
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
  g_queue_clear_full(&q->lines, (GDestroyNotify)g_bytes_unref);
  g_free(q);
}

GBytes *
ar_log_queue_pop(ArLogQueue *q)
{
  GBytes *m = g_queue_pop_head(&q->lines);
  if (m)
    q->bytes -= g_bytes_get_size(m);
  return m;
}

void
ar_log_queue_push(ArLogQueue *q, GBytes *msg)
{
  gsize n = g_bytes_get_size(msg);
  if (n > q->max_bytes) {
    g_bytes_unref(msg);
    q->dropped++;
    return;
  }
  while (q->lines.length >= q->max_lines || q->bytes + n > q->max_bytes) {
    g_bytes_unref(ar_log_queue_pop(q));
    q->dropped++;
  }
  g_queue_push_tail(&q->lines, msg);
  q->bytes += n;
}

void
ar_log_queue_push_front(ArLogQueue *q, GBytes *msg)
{
  gsize n = g_bytes_get_size(msg);
  if (q->lines.length >= q->max_lines || q->bytes + n > q->max_bytes) {
    g_bytes_unref(msg);
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

/* ---- the transports ---- */

typedef struct _Forwarder Forwarder;

typedef struct {
  /* One message as the receiver takes it. */
  GBytes *(*format)(const Forwarder *f, GLogLevelFlags level, const char *domain,
                    const char *message);
  /* Sends a batch on a connection; *keep FALSE: close it after (no error). */
  gboolean (*send)(Forwarder *f, GIOStream *conn, GPtrArray *batch, gboolean *keep, GError **error);
  /* Sends a connection must make before it is known to work: 1 where the receiver
   * answers each request, 2 for a stream (a write only fills the socket). */
  guint proven_after;
  /* HTTP: a server closes an idle kept-alive connection; a new one is made, nothing said. */
  gboolean idle_close_normal;
} Transport;

struct _Forwarder {
  const Transport *transport;
  char *host;
  guint16 port;
  GTlsDatabase *ca;        /* NULL = the system store */
  GTlsCertificate *client; /* NULL = no client certificate */
  GLogLevelFlags level;
  char *hostname; /* under fw_lock */
  char *boot_id;
  guint pid;
  GCond cond;
  ArLogQueue *queue; /* under fw_lock */
  gboolean stopping; /* under fw_lock */
  gboolean draining; /* under fw_lock: send what is queued, then end */
  gboolean done;     /* under fw_lock: the thread ended */
  GCancellable *cancel;
  GThread *thread;
};

static GBytes *
syslog_format(const Forwarder *f, GLogLevelFlags level, const char *domain, const char *message)
{
  char *m = ar_log_remote_format(level, g_get_real_time(), f->hostname, f->pid, domain, message);
  return g_bytes_new_take(m, strlen(m));
}

static gboolean
syslog_send(Forwarder *f, GIOStream *conn, GPtrArray *batch, gboolean *keep, GError **error)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < batch->len; i++) {
    gsize n;
    g_autofree char *msg =
        g_strndup(g_bytes_get_data(batch->pdata[i], NULL), g_bytes_get_size(batch->pdata[i]));
    g_autofree char *fr = ar_log_remote_frame(msg, &n);
    g_string_append_len(out, fr, (gssize)n);
  }
  gboolean ok = g_output_stream_write_all(g_io_stream_get_output_stream(conn), out->str, out->len,
                                          NULL, f->cancel, error);
  g_string_free(out, TRUE);
  *keep = TRUE;
  return ok;
}

static GBytes *
journal_format(const Forwarder *f, GLogLevelFlags level, const char *domain, const char *message)
{
  return ar_log_journal_format(level, g_get_real_time(), g_get_monotonic_time(), f->boot_id,
                               f->hostname, f->pid, domain, message);
}

static gboolean
journal_send(Forwarder *f, GIOStream *conn, GPtrArray *batch, gboolean *keep, GError **error)
{
  return ar_log_journal_send(conn, f->host, f->port, batch, f->cancel, keep, error);
}

static const Transport transports[] = {
    [AR_LOG_REMOTE_SYSLOG_TLS] = {syslog_format, syslog_send, 2, FALSE},
    [AR_LOG_REMOTE_JOURNAL_HTTPS] = {journal_format, journal_send, 1, TRUE},
};

/* ---- the forwarder ---- */

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
    ar_log_queue_push(fw->queue, fw->transport->format(fw, level, domain, clean));
    g_cond_signal(&fw->cond);
  }
  g_mutex_unlock(&fw_lock);
}

static GIOStream *
connect_tls(Forwarder *f, GError **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, AR_LOG_REMOTE_TIMEOUT_S); /* connect, handshake, I/O */
  g_autoptr(GSocketConnectable) addr = g_network_address_new(f->host, f->port);
  g_autoptr(GSocketConnection) tcp = g_socket_client_connect(client, addr, f->cancel, error);
  if (!tcp)
    return NULL;
  g_autoptr(GIOStream) tls = g_tls_client_connection_new(G_IO_STREAM(tcp), addr, error);
  if (!tls)
    return NULL;
  if (f->ca)
    g_tls_connection_set_database(G_TLS_CONNECTION(tls), f->ca);
  if (f->client)
    g_tls_connection_set_certificate(G_TLS_CONNECTION(tls), f->client);
  /* The server's certificate against the CAs, and its name (the connectable). */
  if (!g_tls_connection_handshake(G_TLS_CONNECTION(tls), f->cancel, error))
    return NULL;
  return g_steal_pointer(&tls);
}

/* Neither receiver sends between our requests: readable means it closed (or a
 * TLS 1.3 ticket, or an alert: a client certificate refused after the handshake). */
static gboolean
peer_closed(GIOStream *conn)
{
  g_autoptr(GIOStream) base = NULL;
  g_object_get(conn, "base-io-stream", &base, NULL);
  GSocket *sock = g_socket_connection_get_socket(G_SOCKET_CONNECTION(base));
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

/* Waits until @until, a stop or a drain: FALSE on a stop. A drain ends the wait (what is
 * queued gets one more try within the drain's time). */
static gboolean
wait_backoff(Forwarder *f, gint64 until)
{
  g_mutex_lock(&fw_lock);
  while (!f->stopping && !f->draining && g_cond_wait_until(&f->cond, &fw_lock, until))
    ;
  gboolean stop = f->stopping;
  g_mutex_unlock(&fw_lock);
  return !stop;
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
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  guint backoff = AR_LOG_REMOTE_BACKOFF_MIN_MS, failures = 0, sent = 0;
  gint64 last_warn = 0;
  gboolean ever = FALSE, lost = FALSE, quiet = FALSE;
  guint64 refused = 0;
  gint64 last_refused = 0;

  for (;;) {
    if (!conn) {
      g_autoptr(GError) e = NULL;
      conn = connect_tls(f, &e);
      if (!conn) {
        g_mutex_lock(&fw_lock);
        gboolean draining = f->draining;
        g_mutex_unlock(&fw_lock);
        if (draining || g_cancellable_is_cancelled(f->cancel)) {
          g_mutex_lock(&fw_lock);
          guint left = batch->len + ar_log_queue_length(f->queue);
          g_mutex_unlock(&fw_lock);
          if (left > 0 && !g_cancellable_is_cancelled(f->cancel))
            local_log(G_LOG_LEVEL_WARNING, "logs: cannot forward to %s:%u: %s (%u lines not sent)",
                      f->host, f->port, e->message, left);
          break;
        }
        quiet = FALSE; /* a failure is said, so is the next success */
        gint64 now = g_get_monotonic_time();
        if (failures++ == 0 || now - last_warn > WARN_EVERY_US) {
          last_warn = now;
          local_log(G_LOG_LEVEL_WARNING, "logs: cannot forward to %s:%u: %s (retrying)", f->host,
                    f->port, e->message);
        }
        if (!wait_backoff(f, backoff_deadline(&backoff)))
          break;
        continue;
      }
      if (!lost && !quiet)
        local_log(G_LOG_LEVEL_MESSAGE, "logs: forwarding to %s:%u%s", f->host, f->port,
                  ever ? " again" : "");
      quiet = FALSE;
      ever = TRUE;
      failures = 0;
      sent = 0;
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
      g_ptr_array_add(batch, f->transport->format(f, G_LOG_LEVEL_WARNING, NULL, m));
    }
    gsize bytes = 0;
    for (guint i = 0; i < batch->len; i++)
      bytes += g_bytes_get_size(batch->pdata[i]);
    GBytes *m;
    while (bytes < BATCH_BYTES && (m = ar_log_queue_pop(f->queue))) {
      bytes += g_bytes_get_size(m);
      g_ptr_array_add(batch, m);
    }
    g_mutex_unlock(&fw_lock);

    g_autoptr(GError) e = NULL;
    gboolean keep = TRUE;
    if (peer_closed(conn)) {
      if (f->transport->idle_close_normal && sent >= f->transport->proven_after) {
        g_io_stream_close(conn, NULL, NULL);
        g_clear_object(&conn);
        quiet = TRUE;
        continue;
      }
      g_set_error_literal(&e, G_IO_ERROR, G_IO_ERROR_CLOSED, "the server closed the connection");
    } else if (f->transport->send(f, conn, batch, &keep, &e)) {
      g_ptr_array_set_size(batch, 0);
      if (++sent >= f->transport->proven_after) {
        if (lost)
          local_log(G_LOG_LEVEL_MESSAGE, "logs: forwarding to %s:%u again", f->host, f->port);
        lost = FALSE;
        backoff = AR_LOG_REMOTE_BACKOFF_MIN_MS;
      }
      if (!keep) {
        g_io_stream_close(conn, NULL, NULL);
        g_clear_object(&conn);
      }
      continue;
    }
    if (g_cancellable_is_cancelled(f->cancel))
      break;
    if (g_error_matches(e, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_REFUSED)) {
      /* The receiver answered that it will not take these lines (a 4xx other than
       * 401/403/408/429): sent again they would block every later line. */
      refused += batch->len;
      gint64 now = g_get_monotonic_time();
      if (last_refused == 0 || now - last_refused > WARN_EVERY_US) {
        local_log(G_LOG_LEVEL_WARNING,
                  "logs: %s:%u refused %" G_GUINT64_FORMAT " lines: %s (dropped)", f->host, f->port,
                  refused, e->message);
        last_refused = now;
        refused = 0;
      }
      g_ptr_array_set_size(batch, 0);
      sent++;
      g_io_stream_close(conn, NULL, NULL);
      g_clear_object(&conn);
      quiet = TRUE;
      continue;
    }
    /* Kept: the batch goes again on the next connection (at least once). */
    if (!lost || g_get_monotonic_time() - last_warn > WARN_EVERY_US) {
      local_log(G_LOG_LEVEL_WARNING, "logs: lost the connection to %s:%u: %s (reconnecting)",
                f->host, f->port, e->message);
      last_warn = g_get_monotonic_time();
    }
    g_io_stream_close(conn, NULL, NULL);
    g_clear_object(&conn);
    failures = 1;
    /* A connection not known to work (a receiver that refuses our certificate after the
     * TLS 1.3 handshake, or answers with an error) is tried again after the backoff. */
    if (sent < f->transport->proven_after) {
      lost = TRUE;
      if (!wait_backoff(f, backoff_deadline(&backoff)))
        break;
    }
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

/* The CA and the client certificate; the key file must be its owner's only. */
static gboolean
load_tls(const ArLogRemoteOptions *opt, GTlsDatabase **ca, GTlsCertificate **client, GError **error)
{
  g_autoptr(GTlsDatabase) db = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  gboolean has_cert = opt->cert_file && *opt->cert_file, has_key = opt->key_file && *opt->key_file;
  if (opt->ca_file && *opt->ca_file && !(db = g_tls_file_database_new(opt->ca_file, error))) {
    g_prefix_error(error, "remote-ca: ");
    return FALSE;
  }
  if (has_cert != has_key) {
    g_set_error_literal(
        error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID,
        "remote-cert and remote-key go together (a client certificate and its key)");
    return FALSE;
  }
  if (has_key) {
    GStatBuf st;
    if (g_stat(opt->key_file, &st) != 0 || !S_ISREG(st.st_mode)) {
      g_set_error(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID,
                  "remote-key: %s is not a readable file", opt->key_file);
      return FALSE;
    }
    if (st.st_mode & 0077) {
      g_set_error(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_INVALID,
                  "remote-key: %s may be read by others (mode %03o): chmod 600 it", opt->key_file,
                  (guint)(st.st_mode & 0777));
      return FALSE;
    }
    if (!(cert = g_tls_certificate_new_from_files(opt->cert_file, opt->key_file, error))) {
      g_prefix_error(error, "remote-cert/remote-key: ");
      return FALSE;
    }
  }
  if (ca)
    *ca = g_steal_pointer(&db);
  if (client)
    *client = g_steal_pointer(&cert);
  return TRUE;
}

gboolean
ar_log_remote_check(const ArLogRemoteOptions *opt, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  return ar_log_remote_parse_url(opt->url, NULL, &host, &port, error) &&
         load_tls(opt, NULL, NULL, error);
}

gboolean
ar_log_remote_start(const ArLogRemoteOptions *opt, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  ArLogRemoteKind kind = AR_LOG_REMOTE_SYSLOG_TLS;
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GTlsCertificate) client = NULL;
  if (!ar_log_remote_parse_url(opt->url, &kind, &host, &port, error) ||
      !load_tls(opt, &ca, &client, error))
    return FALSE;
  Forwarder *f = g_new0(Forwarder, 1);
  f->transport = &transports[kind];
  f->host = g_steal_pointer(&host);
  f->port = port;
  f->ca = g_steal_pointer(&ca);
  f->client = g_steal_pointer(&client);
  f->level = opt->level ? opt->level : G_LOG_LEVEL_INFO;
  f->hostname = ar_log_remote_hostname(opt->hostname);
  f->boot_id = ar_log_journal_boot_id();
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
  g_clear_object(&f->ca);
  g_clear_object(&f->client);
  g_free(f->hostname);
  g_free(f->boot_id);
  g_free(f);
}
