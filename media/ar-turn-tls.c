/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-turn-tls.c: real TURN over TLS for webrtcbin.
 *
 * libnice 0.1.21 has no TLS client: for a "turns:" server it speaks plain
 * TURN over TCP to the TLS port (docs/network.md). So for each turns: server
 * the engine runs a loopback listener (127.0.0.1, ephemeral port) and hands
 * libnice "turn://user:pass@127.0.0.1:PORT?transport=tcp". Each connection
 * libnice opens there is carried over a GTlsClientConnection to the real
 * server, whose certificate is verified (GIO: system trust store, or the
 * configured CA file) against the server's name or address. A server that
 * fails verification gets no byte of TURN: the connection is closed and libnice
 * sees its TURN server as unreachable.
 *
 * Runs in the GMainContext that was thread-default when it was created.
 */
#include "ar-media-priv.h"

#include <gio/gio.h>
#include <string.h>

#define AR_TURN_TLS_MAX_CONNECTIONS 32

struct _ArTurnTls {
  GSocketService *service;
  GCancellable *cancel;
  GTlsDatabase *database; /* NULL: the system's */
  char *host;
  guint16 port;
  guint16 local_port;
  guint n_connections;
  ArTurnTlsResultFunc result_func;
  gpointer result_data;
};

typedef struct {
  ArTurnTls *tls; /* valid until cancel fires: every job checks it first */
  GCancellable *cancel;
  GSocketConnection *local;
  GIOStream *remote;
} ArTurnTlsJob;

static void
ar_turn_tls_job_free(ArTurnTlsJob *job)
{
  if (!g_cancellable_is_cancelled(job->cancel))
    job->tls->n_connections--;
  g_clear_object(&job->local);
  g_clear_object(&job->remote);
  g_object_unref(job->cancel);
  g_free(job);
}

static void
ar_turn_tls_spliced(GObject *source, GAsyncResult *res, gpointer data)
{
  ArTurnTlsJob *job = data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_splice_finish(res, &error) && !g_cancellable_is_cancelled(job->cancel))
    GST_DEBUG("TURN over TLS to %s:%u ended: %s", job->tls->host, job->tls->port, error->message);
  ar_turn_tls_job_free(job);
}

static void
ar_turn_tls_handshaken(GObject *source, GAsyncResult *res, gpointer data)
{
  ArTurnTlsJob *job = data;
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
    if (!g_cancellable_is_cancelled(job->cancel)) {
      g_autofree char *message = g_strdup_printf("TURN over TLS: %s:%u: %s", job->tls->host,
                                                 job->tls->port, error->message);
      g_warning("%s", message);
      if (job->tls->result_func != NULL)
        job->tls->result_func(job->tls, message, job->tls->result_data);
    }
    g_io_stream_close(G_IO_STREAM(job->local), NULL, NULL);
    ar_turn_tls_job_free(job);
    return;
  }
  GST_DEBUG("TURN over TLS to %s:%u: certificate verified", job->tls->host, job->tls->port);
  if (job->tls->result_func != NULL)
    job->tls->result_func(job->tls, NULL, job->tls->result_data);
  g_io_stream_splice_async(G_IO_STREAM(job->local), job->remote,
                           G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2 |
                               G_IO_STREAM_SPLICE_WAIT_FOR_BOTH,
                           G_PRIORITY_DEFAULT, job->cancel, ar_turn_tls_spliced, job);
}

static void
ar_turn_tls_connected(GObject *source, GAsyncResult *res, gpointer data)
{
  ArTurnTlsJob *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) tcp =
      g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);
  g_autoptr(GSocketConnectable) identity = NULL;
  GIOStream *tls;

  if (tcp == NULL) {
    if (!g_cancellable_is_cancelled(job->cancel)) {
      g_autofree char *message = g_strdup_printf("TURN over TLS: cannot reach %s:%u: %s",
                                                 job->tls->host, job->tls->port, error->message);
      g_warning("%s", message);
      if (job->tls->result_func != NULL)
        job->tls->result_func(job->tls, message, job->tls->result_data);
    }
    g_io_stream_close(G_IO_STREAM(job->local), NULL, NULL);
    ar_turn_tls_job_free(job);
    return;
  }
  identity = g_network_address_new(job->tls->host, job->tls->port);
  tls = g_tls_client_connection_new(G_IO_STREAM(tcp), identity, &error);
  if (tls == NULL) {
    g_warning("TURN over TLS: %s", error->message);
    g_io_stream_close(G_IO_STREAM(job->local), NULL, NULL);
    ar_turn_tls_job_free(job);
    return;
  }
  if (job->tls->database != NULL)
    g_tls_connection_set_database(G_TLS_CONNECTION(tls), job->tls->database);
  job->remote = tls;
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, job->cancel,
                                   ar_turn_tls_handshaken, job);
}

static gboolean
ar_turn_tls_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
                     gpointer data)
{
  ArTurnTls *tls = data;
  g_autoptr(GSocketClient) client = NULL;
  ArTurnTlsJob *job;

  if (tls->n_connections >= AR_TURN_TLS_MAX_CONNECTIONS) {
    g_warning("TURN over TLS: more than %d connections to %s:%u; refusing one",
              AR_TURN_TLS_MAX_CONNECTIONS, tls->host, tls->port);
    return FALSE;
  }
  tls->n_connections++;
  job = g_new0(ArTurnTlsJob, 1);
  job->tls = tls;
  job->cancel = g_object_ref(tls->cancel);
  job->local = g_object_ref(connection);
  client = g_socket_client_new();
  g_socket_client_set_timeout(client, 10);
  g_socket_client_connect_to_host_async(client, tls->host, tls->port, job->cancel,
                                        ar_turn_tls_connected, job);
  return TRUE;
}

ArTurnTls *
ar_turn_tls_new(const char *host, guint16 port, const char *ca_file, GError **error)
{
  g_autoptr(GSocketAddress) any = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  ArTurnTls *tls;

  if (ca_file != NULL) {
    database = g_tls_file_database_new(ca_file, error);
    if (database == NULL) {
      g_prefix_error(error, "TURN over TLS: CA file %s: ", ca_file);
      return NULL;
    }
  }
  tls = g_new0(ArTurnTls, 1);
  tls->host = g_strdup(host);
  tls->port = port;
  tls->database = g_steal_pointer(&database);
  tls->cancel = g_cancellable_new();
  tls->service = g_socket_service_new();
  /* Loopback only: the shim must not be a relay for anybody else. */
  any = g_inet_socket_address_new_from_string("127.0.0.1", 0);
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(tls->service), any, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, &effective, error)) {
    g_prefix_error(error, "TURN over TLS: cannot listen on 127.0.0.1: ");
    ar_turn_tls_free(tls);
    return NULL;
  }
  tls->local_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
  g_signal_connect(tls->service, "incoming", G_CALLBACK(ar_turn_tls_incoming), tls);
  g_socket_service_start(tls->service);
  GST_DEBUG("TURN over TLS to %s:%u through 127.0.0.1:%u", host, port, tls->local_port);
  return tls;
}

guint16
ar_turn_tls_get_local_port(ArTurnTls *tls)
{
  return tls->local_port;
}

void
ar_turn_tls_set_result_func(ArTurnTls *tls, ArTurnTlsResultFunc func, gpointer data)
{
  tls->result_func = func;
  tls->result_data = data;
}

void
ar_turn_tls_free(ArTurnTls *tls)
{
  if (tls == NULL)
    return;
  /* Jobs still running see the cancellation and never touch @tls again. */
  g_cancellable_cancel(tls->cancel);
  if (tls->service != NULL) {
    g_socket_service_stop(tls->service);
    g_socket_listener_close(G_SOCKET_LISTENER(tls->service));
    g_signal_handlers_disconnect_by_data(tls->service, tls);
  }
  g_clear_object(&tls->service);
  g_clear_object(&tls->cancel);
  g_clear_object(&tls->database);
  g_free(tls->host);
  g_free(tls);
}
