/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TLS policy (ar-web-tls.c): the priority string is checked against the
 * running GnuTLS, a weaker G_TLS_GNUTLS_PRIORITY from the environment is
 * replaced, and a GIO handshake under the policy is TLS 1.3 with an AEAD
 * suite. (Old clients refused by the real server: tests/integration/
 * test-attack-input.mjs, with openssl s_client.) */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ar-web-tls.h"

static char *env_before; /* what main() found ignored */

static void
test_priority_strings(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_web_tls_check_priority(AR_WEB_TLS_PRIORITY, &error));
  g_assert_no_error(error);
  /* GnuTLS's default allows CBC suites (and TLS 1.0/1.1 on some builds). */
  const char *weak[] = {
      "NORMAL",
      "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
      "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:-CIPHER-ALL:+AES-128-GCM",
      "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-CBC",
      "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-GCM",
      "NONE",
      "no such keyword",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(weak); i++) {
    g_autoptr(GError) e = NULL;
    g_test_message("%s", weak[i]);
    g_assert_false(ar_web_tls_check_priority(weak[i], &e));
    g_assert_error(e, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  }
}

static void
test_environment(void)
{
  g_assert_cmpstr(g_getenv("G_TLS_GNUTLS_PRIORITY"), ==, AR_WEB_TLS_PRIORITY);
  g_assert_cmpstr(env_before, ==, "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1");
  /* Twice is harmless, and then nothing was ignored. */
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_web_tls_init_policy(&again, &error));
  g_assert_no_error(error);
  g_assert_null(again);
}

typedef struct {
  int pending;
  GError *server_error, *client_error;
} Handshakes;

static void
handshake_done(GObject *source, GAsyncResult *res, gpointer data)
{
  Handshakes *h = data;
  GError **slot = G_IS_TLS_SERVER_CONNECTION(source) ? &h->server_error : &h->client_error;
  (void)g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, slot);
  h->pending--;
}

static gboolean
accept_any(GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer data)
{
  return TRUE;
}

static GIOStream *
stream_from_fd(int fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = g_socket_new_from_fd(fd, &error);
  g_assert_no_error(error);
  return G_IO_STREAM(g_socket_connection_factory_create_connection(sock));
}

static void
test_handshake(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("ar-test-web-tls-XXXXXX", &error);
  g_assert_no_error(error);
  g_autoptr(GTlsCertificate) cert = ar_web_tls_load_or_create(dir, NULL, &error);
  g_assert_no_error(error);
  int fds[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  g_autoptr(GIOStream) a = stream_from_fd(fds[0]);
  g_autoptr(GIOStream) b = stream_from_fd(fds[1]);
  g_autoptr(GIOStream) server = g_tls_server_connection_new(a, cert, &error);
  g_assert_no_error(error);
  g_autoptr(GIOStream) client = g_tls_client_connection_new(b, NULL, &error);
  g_assert_no_error(error);
  g_signal_connect(client, "accept-certificate", G_CALLBACK(accept_any), NULL);
  Handshakes h = {.pending = 2};
  g_tls_connection_handshake_async(G_TLS_CONNECTION(server), G_PRIORITY_DEFAULT, NULL,
                                   handshake_done, &h);
  g_tls_connection_handshake_async(G_TLS_CONNECTION(client), G_PRIORITY_DEFAULT, NULL,
                                   handshake_done, &h);
  while (h.pending > 0)
    g_main_context_iteration(NULL, TRUE);
  g_assert_no_error(h.server_error);
  g_assert_no_error(h.client_error);
  GTlsProtocolVersion v = g_tls_connection_get_protocol_version(G_TLS_CONNECTION(server));
  g_autofree char *suite = g_tls_connection_get_ciphersuite_name(G_TLS_CONNECTION(server));
  g_test_message("negotiated: protocol %d, %s", (int)v, suite);
  g_assert_cmpint(v, ==, G_TLS_PROTOCOL_VERSION_TLS_1_3);
  g_assert_true(strstr(suite, "GCM") || strstr(suite, "CHACHA20"));
  g_autofree char *cert_path = g_build_filename(dir, "admin-cert.pem", NULL);
  g_autofree char *key_path = g_build_filename(dir, "admin-key.pem", NULL);
  g_unlink(cert_path);
  g_unlink(key_path);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* As a unit file or a shell could leave it, before the first TLS object. */
  g_setenv("G_TLS_GNUTLS_PRIORITY", "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1", TRUE);
  g_autoptr(GError) error = NULL;
  if (!ar_web_tls_init_policy(&env_before, &error))
    g_error("the TLS policy: %s", error->message);
  g_test_add_func("/web/tls/policy/priority-strings", test_priority_strings);
  g_test_add_func("/web/tls/policy/environment", test_environment);
  g_test_add_func("/web/tls/policy/handshake", test_handshake);
  int rc = g_test_run();
  g_free(env_before);
  return rc;
}
