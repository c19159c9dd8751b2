/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-api-listener.c: accept, caps and deadlines for both API servers
 * (ar-api-listener.h). */
#include "ar-api-listener.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixsocketaddress.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKEUP 64
#define PAUSE_AFTER_EMFILE_MS 200
#define LOG_EVERY_US (10 * G_USEC_PER_SEC)
/* After a shutdown at a deadline, libsoup normally lets go of the
 * connection at once; if it still holds it this much later, the descriptor is
 * closed under it. */
#define FORCE_CLOSE_AFTER_US (5 * G_USEC_PER_SEC)
#define KEEPALIVE_IDLE_S 30
#define USER_TIMEOUT_MS 60000
#define RESERVED_FDS 128

typedef enum {
  PHASE_HANDSHAKE,
  PHASE_HEADERS,
  PHASE_BODY,
  PHASE_HANDLER,
  PHASE_UPGRADED, /* a WebSocket: no deadline */
} Phase;

static const char *const phase_names[] = {"TLS handshake", "request headers", "request body",
                                          "response", "WebSocket"};

typedef struct {
  ArApiListener *l;
  guint id;
  GSocket *socket;       /* ours: shutdown/close at a deadline */
  GIOStream *stream;     /* handed to libsoup; weak-referenced */
  GTlsConnection *tls;   /* during the handshake */
  GCancellable *cancel;  /* the handshake's */
  GSocketAddress *local; /* handed to libsoup too: finds the connection of a message */
  GSocketAddress *remote;
  char *key; /* the remote address as text; "" for local connections */
  gboolean is_local;
  Phase phase;
  gint64 deadline_us;
  gint64 shut_us; /* when it was shut down at a deadline; 0: not */
} Conn;

struct _ArApiListener {
  SoupServer *soup;
  GSocket *socket;
  GTlsCertificate *cert;
  ArApiListenerLimits limits;
  char *name;
  GSource *accept_source;
  guint resume_timer;
  guint tick_timer;
  gulong request_started_id;
  int spare_fd;
  guint next_id;
  GHashTable *conns;       /* id -> Conn* */
  GHashTable *per_address; /* key -> count */
  ArApiListenerStats stats;
  gint64 exhausted_since_us; /* 0: accepting normally */
  guint64 exhausted_refused;
  gint64 last_exhausted_log_us;
  gint64 last_cap_log_us;
  guint64 cap_refused_since_log;
  gint64 last_deadline_log_us;
  guint64 deadline_since_log;
};

static GQuark
conn_quark(void)
{
  return g_quark_from_static_string("ar-api-listener-conn");
}

/* ---- limits ---- */

void
ar_api_listener_limits_for_nofile(ArApiListenerLimits *limits, guint64 nofile)
{
  guint64 budget = nofile > RESERVED_FDS ? (nofile - RESERVED_FDS) / 2 : 8;
  if (budget < 8)
    budget = 8;
  guint local = (guint)MIN(64, MAX(4, budget / 4));
  guint remote = (guint)MIN(256, budget > local ? budget - local : 4);
  limits->max_local = local;
  limits->max_remote = remote;
  limits->max_per_address = MIN(16, remote);
  limits->handshake_timeout_s = 10;
  limits->header_timeout_s = 10;
  limits->body_timeout_s = 30;
  limits->request_timeout_s = 600;
}

guint64
ar_api_raise_nofile(guint64 cap)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  rlim_t want = rl.rlim_max == RLIM_INFINITY ? cap : MIN((rlim_t)cap, rl.rlim_max);
  if (rl.rlim_cur != RLIM_INFINITY && want > rl.rlim_cur) {
    struct rlimit nr = {.rlim_cur = want, .rlim_max = rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
      rl.rlim_cur = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? G_MAXUINT32 : (guint64)rl.rlim_cur;
}

/* ---- connections ---- */

static void conn_stream_gone(gpointer data, GObject *where_the_object_was);

static void
conn_free(Conn *c)
{
  if (c->stream)
    g_object_weak_unref(G_OBJECT(c->stream), conn_stream_gone, c);
  if (c->cancel)
    g_cancellable_cancel(c->cancel);
  g_clear_object(&c->cancel);
  g_clear_object(&c->tls);
  if (c->socket && !g_socket_is_closed(c->socket))
    g_socket_close(c->socket, NULL);
  g_clear_object(&c->socket);
  g_clear_object(&c->local);
  g_clear_object(&c->remote);
  g_free(c->key);
  g_free(c);
}

/* Forgets @c: its counts go, its descriptor is closed if still open. */
static void
conn_remove(Conn *c)
{
  ArApiListener *l = c->l;
  if (c->is_local) {
    l->stats.open_local--;
  } else {
    l->stats.open_remote--;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->per_address, c->key));
    if (n <= 1)
      g_hash_table_remove(l->per_address, c->key);
    else
      g_hash_table_insert(l->per_address, g_strdup(c->key), GUINT_TO_POINTER(n - 1));
  }
  g_hash_table_remove(l->conns, GUINT_TO_POINTER(c->id)); /* frees it */
}

/* libsoup (or the WebSocket) let go of the stream: the connection is over. */
static void
conn_stream_gone(gpointer data, GObject *where_the_object_was)
{
  Conn *c = data;
  c->stream = NULL;
  conn_remove(c);
}

static Conn *
conn_of_message(ArApiListener *l, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address(msg);
  if (!remote)
    return NULL;
  guint id = GPOINTER_TO_UINT(g_object_get_qdata(G_OBJECT(remote), conn_quark()));
  return id ? g_hash_table_lookup(l->conns, GUINT_TO_POINTER(id)) : NULL;
}

static void
set_phase(Conn *c, Phase phase, guint timeout_s)
{
  c->phase = phase;
  c->deadline_us = timeout_s ? g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC : 0;
}

/* ---- message progress: the deadlines move with it ---- */

static void
on_got_headers(SoupServerMessage *msg, gpointer data)
{
  Conn *c = conn_of_message(data, msg);
  if (c && c->phase == PHASE_HEADERS)
    set_phase(c, PHASE_BODY, c->l->limits.body_timeout_s);
}

static void
on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  Conn *c = conn_of_message(data, msg);
  if (c && c->phase == PHASE_BODY)
    set_phase(c, PHASE_BODY, c->l->limits.body_timeout_s);
}

static void
on_got_body(SoupServerMessage *msg, gpointer data)
{
  Conn *c = conn_of_message(data, msg);
  if (c && (c->phase == PHASE_BODY || c->phase == PHASE_HEADERS))
    set_phase(c, PHASE_HANDLER, c->l->limits.request_timeout_s);
}

static void
on_wrote_informational(SoupServerMessage *msg, gpointer data)
{
  Conn *c = conn_of_message(data, msg);
  if (c && soup_server_message_get_status(msg) == SOUP_STATUS_SWITCHING_PROTOCOLS)
    set_phase(c, PHASE_UPGRADED, 0);
}

/* Every request (the first of a connection, and any later one on a kept-alive
 * connection, whose wait is then the idle deadline). */
static void
on_request_started(SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
  ArApiListener *l = data;
  Conn *c = conn_of_message(l, msg);
  if (!c)
    return;
  set_phase(c, PHASE_HEADERS, l->limits.header_timeout_s);
  /* The handlers carry the listener, which is freed only after its server
   * let go of every connection (ar_api_listener_free). */
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), l);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), l);
  g_signal_connect(msg, "got-body", G_CALLBACK(on_got_body), l);
  g_signal_connect(msg, "wrote-informational", G_CALLBACK(on_wrote_informational), l);
}

/* ---- deadlines ---- */

static void
log_deadline(ArApiListener *l, Conn *c)
{
  l->stats.deadline_closed++;
  l->deadline_since_log++;
  g_debug("%s: closed a connection from %s: no %s within its deadline", l->name,
          c->is_local ? "this device" : c->key, phase_names[c->phase]);
  gint64 now = g_get_monotonic_time();
  if (now - l->last_deadline_log_us >= LOG_EVERY_US) {
    g_message("%s: closed %" G_GUINT64_FORMAT " connection%s at their deadlines (last: %s from %s)",
              l->name, l->deadline_since_log, l->deadline_since_log == 1 ? "" : "s",
              phase_names[c->phase], c->is_local ? "this device" : c->key);
    l->last_deadline_log_us = now;
    l->deadline_since_log = 0;
  }
}

static gboolean
tick(gpointer data)
{
  ArApiListener *l = data;
  gint64 now = g_get_monotonic_time();
  g_autoptr(GPtrArray) gone = g_ptr_array_new();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, l->conns);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    Conn *c = v;
    if (c->shut_us) {
      if (now - c->shut_us > FORCE_CLOSE_AFTER_US)
        g_ptr_array_add(gone, c);
      continue;
    }
    if (!c->deadline_us || now < c->deadline_us)
      continue;
    log_deadline(l, c);
    if (c->phase == PHASE_HANDSHAKE) {
      g_cancellable_cancel(c->cancel); /* the handshake's callback removes it */
      c->shut_us = now;
      continue;
    }
    /* libsoup sees the end of the stream and lets go of the connection. */
    g_socket_shutdown(c->socket, TRUE, TRUE, NULL);
    c->shut_us = now;
  }
  for (guint i = 0; i < gone->len; i++) {
    Conn *c = gone->pdata[i];
    g_debug("%s: a connection from %s was still held after its shutdown: closed", l->name,
            c->is_local ? "this device" : c->key);
    conn_remove(c);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- accepting ---- */

static void hand_to_soup(Conn *c, GIOStream *stream);

static void
handshake_done(GObject *source, GAsyncResult *res, gpointer data)
{
  ArApiListener *l = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error);
  guint id = GPOINTER_TO_UINT(g_object_get_data(source, "ar-conn-id"));
  if (!id)
    return; /* the listener is gone: @l with it */
  Conn *c = g_hash_table_lookup(l->conns, GUINT_TO_POINTER(id));
  if (!c)
    return;
  if (!ok) {
    g_debug("%s: TLS handshake with %s failed: %s", l->name, c->is_local ? "this device" : c->key,
            error->message);
    conn_remove(c);
    return;
  }
  g_clear_object(&c->cancel);
  GTlsConnection *tls = g_steal_pointer(&c->tls);
  hand_to_soup(c, G_IO_STREAM(tls));
  g_object_unref(tls);
}

static void
hand_to_soup(Conn *c, GIOStream *stream)
{
  ArApiListener *l = c->l;
  c->stream = stream;
  g_object_weak_ref(G_OBJECT(stream), conn_stream_gone, c);
  set_phase(c, PHASE_HEADERS, l->limits.header_timeout_s);
  g_autoptr(GError) error = NULL;
  /* request-started runs inside this call: the phase is set before. */
  if (!soup_server_accept_iostream(l->soup, stream, c->local, c->remote, &error))
    g_debug("%s: libsoup refused a connection: %s", l->name, error->message);
}

static gboolean
peer_is_owner(GSocket *s)
{
  g_autoptr(GCredentials) creds = g_socket_get_credentials(s, NULL);
  return creds && g_credentials_get_unix_user(creds, NULL) == getuid();
}

static void
set_tcp_options(GSocket *s)
{
  int fd = g_socket_get_fd(s);
  int one = 1, idle = KEEPALIVE_IDLE_S, intvl = 10, cnt = 3;
  unsigned int user_timeout = USER_TIMEOUT_MS;
  /* A peer that vanished (or stopped reading) is found by the kernel. */
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
log_cap(ArApiListener *l, const char *why, const char *who)
{
  l->stats.refused_cap++;
  l->cap_refused_since_log++;
  gint64 now = g_get_monotonic_time();
  if (now - l->last_cap_log_us >= LOG_EVERY_US) {
    g_message("%s: refused %" G_GUINT64_FORMAT " connection%s: %s (last from %s; %u remote and "
              "%u local open)",
              l->name, l->cap_refused_since_log, l->cap_refused_since_log == 1 ? "" : "s", why, who,
              l->stats.open_remote, l->stats.open_local);
    l->last_cap_log_us = now;
    l->cap_refused_since_log = 0;
  }
}

/* Takes @s (accepted); keeps it or closes it. */
static void
accepted(ArApiListener *l, GSocket *s)
{
  g_autoptr(GSocket) sock = s;
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(sock, NULL);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address(sock, NULL);
  if (!remote || !local)
    return; /* the peer is already gone */
  gboolean is_local = TRUE;
  g_autofree char *key = NULL;
  if (G_IS_INET_SOCKET_ADDRESS(remote)) {
    GInetAddress *ia = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote));
    is_local = g_inet_address_get_is_loopback(ia);
    key = g_inet_address_to_string(ia);
    set_tcp_options(sock);
  } else {
    key = g_strdup("");
    if (l->limits.owner_only && !peer_is_owner(sock)) {
      l->stats.refused_owner++;
      g_message("%s: refused a connection from another user", l->name);
      return;
    }
  }
  if (is_local) {
    if (l->stats.open_local >= l->limits.max_local) {
      log_cap(l, "too many local connections", "this device");
      return;
    }
  } else {
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l->per_address, key));
    if (l->stats.open_remote >= l->limits.max_remote) {
      log_cap(l, "too many connections", key);
      return;
    }
    if (l->limits.max_per_address && n >= l->limits.max_per_address) {
      log_cap(l, "too many connections from one address", key);
      return;
    }
    g_hash_table_insert(l->per_address, g_strdup(key), GUINT_TO_POINTER(n + 1));
  }
  Conn *c = g_new0(Conn, 1);
  c->l = l;
  if (++l->next_id == 0)
    ++l->next_id;
  c->id = l->next_id;
  c->socket = g_steal_pointer(&sock);
  c->local = g_steal_pointer(&local);
  c->remote = g_steal_pointer(&remote);
  c->key = g_steal_pointer(&key);
  c->is_local = is_local;
  g_object_set_qdata(G_OBJECT(c->remote), conn_quark(), GUINT_TO_POINTER(c->id));
  if (is_local)
    l->stats.open_local++;
  else
    l->stats.open_remote++;
  l->stats.accepted++;
  g_hash_table_insert(l->conns, GUINT_TO_POINTER(c->id), c);

  g_autoptr(GSocketConnection) conn = g_socket_connection_factory_create_connection(c->socket);
  if (!l->cert) {
    hand_to_soup(c, G_IO_STREAM(conn));
    return;
  }
  g_autoptr(GError) error = NULL;
  /* "database" NULL: no trust store for a server that asks for no client
   * certificate. Left unset, glib-networking loads the system's CA list
   * into every connection (measured: 4 MB each, 1 GB for 256 idle ones). */
  const char *const alpn[] = {"http/1.1", NULL};
  GIOStream *tls =
      g_initable_new(g_tls_backend_get_server_connection_type(g_tls_backend_get_default()), NULL,
                     &error, "base-io-stream", conn, "certificate", l->cert, "database", NULL,
                     "require-close-notify", FALSE, "advertised-protocols", alpn, NULL);
  if (!tls) {
    g_warning("%s: no TLS connection: %s", l->name, error->message);
    conn_remove(c);
    return;
  }
  g_object_set_data(G_OBJECT(tls), "ar-conn-id", GUINT_TO_POINTER(c->id));
  c->tls = G_TLS_CONNECTION(tls);
  c->cancel = g_cancellable_new();
  set_phase(c, PHASE_HANDSHAKE, l->limits.handshake_timeout_s);
  g_tls_connection_handshake_async(c->tls, G_PRIORITY_DEFAULT, c->cancel, handshake_done, l);
}

static gboolean on_acceptable(GSocket *socket, GIOCondition cond, gpointer data);

static void
watch(ArApiListener *l)
{
  l->accept_source = g_socket_create_source(l->socket, G_IO_IN, NULL);
  g_source_set_callback(l->accept_source, G_SOURCE_FUNC(on_acceptable), l, NULL);
  g_source_attach(l->accept_source, g_main_context_get_thread_default());
}

static gboolean
resume(gpointer data)
{
  ArApiListener *l = data;
  l->resume_timer = 0;
  watch(l);
  return G_SOURCE_REMOVE;
}

/* Out of descriptors: the spare one takes the waiting connection and closes
 * it (so the queue does not stay full and the client is not left hanging),
 * and accepting pauses for a moment. */
static void
exhausted(ArApiListener *l, const GError *error)
{
  gint64 now = g_get_monotonic_time();
  l->stats.fd_exhausted++;
  l->exhausted_refused++;
  if (!l->exhausted_since_us)
    l->exhausted_since_us = now;
  if (now - l->last_exhausted_log_us >= LOG_EVERY_US) {
    g_warning("%s: out of file descriptors (%s): refusing connections until some close", l->name,
              error->message);
    l->last_exhausted_log_us = now;
  }
  if (l->spare_fd >= 0) {
    close(l->spare_fd);
    int fd = accept4(g_socket_get_fd(l->socket), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0)
      close(fd);
    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  g_source_destroy(l->accept_source);
  g_clear_pointer(&l->accept_source, g_source_unref);
  l->resume_timer = g_timeout_add(PAUSE_AFTER_EMFILE_MS, resume, l);
}

static gboolean
on_acceptable(GSocket *socket, GIOCondition cond, gpointer data)
{
  ArApiListener *l = data;
  for (guint i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
    g_autoptr(GError) error = NULL;
    GSocket *s = g_socket_accept(l->socket, NULL, &error);
    if (!s) {
      if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
          g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
        exhausted(l, error);
        return G_SOURCE_REMOVE;
      }
      /* ECONNABORTED and the like: that client is gone, the next may not be. */
      g_debug("%s: accept: %s", l->name, error->message);
      continue;
    }
    if (l->exhausted_since_us) {
      g_message("%s: accepting connections again after %.1f s without file descriptors "
                "(%" G_GUINT64_FORMAT " connection attempts failed meanwhile)",
                l->name, (g_get_monotonic_time() - l->exhausted_since_us) / 1e6,
                l->exhausted_refused);
      l->exhausted_since_us = 0;
      l->exhausted_refused = 0;
    }
    accepted(l, s);
  }
  return G_SOURCE_CONTINUE;
}

ArApiListener *
ar_api_listener_new(SoupServer *soup, GSocket *socket, GTlsCertificate *cert,
                    const ArApiListenerLimits *limits, GError **error)
{
  g_return_val_if_fail(SOUP_IS_SERVER(soup) && G_IS_SOCKET(socket) && limits, NULL);
  int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (spare < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot open /dev/null: %s",
                g_strerror(errno));
    return NULL;
  }
  ArApiListener *l = g_new0(ArApiListener, 1);
  l->soup = soup;
  l->socket = g_object_ref(socket);
  l->cert = cert ? g_object_ref(cert) : NULL;
  l->limits = *limits;
  l->name = g_strdup(limits->name ? limits->name : "api");
  l->limits.name = l->name;
  l->spare_fd = spare;
  l->conns = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)conn_free);
  l->per_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_socket_set_blocking(socket, FALSE);
  l->request_started_id =
      g_signal_connect(soup, "request-started", G_CALLBACK(on_request_started), l);
  g_object_add_weak_pointer(G_OBJECT(soup), (gpointer *)&l->soup);
  l->tick_timer = g_timeout_add_seconds(1, tick, l);
  watch(l);
  return l;
}

void
ar_api_listener_free(ArApiListener *l)
{
  if (!l)
    return;
  if (l->accept_source) {
    g_source_destroy(l->accept_source);
    g_source_unref(l->accept_source);
  }
  if (l->resume_timer)
    g_source_remove(l->resume_timer);
  if (l->tick_timer)
    g_source_remove(l->tick_timer);
  if (l->soup) {
    g_signal_handler_disconnect(l->soup, l->request_started_id);
    g_object_remove_weak_pointer(G_OBJECT(l->soup), (gpointer *)&l->soup);
  }
  /* Handshakes still running see no listener (their id is cleared). */
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, l->conns);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    Conn *c = v;
    if (c->tls)
      g_object_set_data(G_OBJECT(c->tls), "ar-conn-id", NULL);
  }
  g_hash_table_unref(l->conns);
  g_hash_table_unref(l->per_address);
  if (l->spare_fd >= 0)
    close(l->spare_fd);
  g_clear_object(&l->cert);
  g_object_unref(l->socket);
  g_free(l->name);
  g_free(l);
}

void
ar_api_listener_get_stats(ArApiListener *l, ArApiListenerStats *stats)
{
  *stats = l->stats;
}
