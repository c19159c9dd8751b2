/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The meeting browser tests' harness (browser-harness.h). */
#include "browser-harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- fixture HTTPS servers ---- */

static GTlsCertificate *server_cert;
Server servers[4];
char *workdir;
char *profile_parent;

static const char page_html[] =
    "<!doctype html><html><head><meta charset=utf-8><title>Fixture %s</title></head>"
    "<body><p>fixture page %s</p><a id=dl href=\"/download\" download>file</a></body></html>";

static void
respond(GIOStream *io, const char *status, const char *type, const char *extra, const char *body)
{
  g_autofree char *head =
      g_strdup_printf("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Access-Control-Allow-Origin: *\r\nConnection: close\r\n%s\r\n",
                      status, type, strlen(body), extra ? extra : "");
  GOutputStream *out = g_io_stream_get_output_stream(io);
  (void)g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
  (void)g_output_stream_write_all(out, body, strlen(body), NULL, NULL, NULL);
}

static char *
header_value(const char *head, const char *name)
{
  g_auto(GStrv) lines = g_strsplit(head, "\r\n", -1);
  for (guint i = 1; lines[i]; i++) {
    const char *colon = strchr(lines[i], ':');
    if (colon && (gsize)(colon - lines[i]) == strlen(name) &&
        g_ascii_strncasecmp(lines[i], name, strlen(name)) == 0)
      return g_strstrip(g_strdup(colon + 1));
  }
  return NULL;
}

static gpointer
serve_connection(gpointer data)
{
  void **args = data;
  Server *s = args[0];
  GSocketConnection *conn = args[1];
  g_free(args);
  g_autoptr(GIOStream) tls = g_tls_server_connection_new(G_IO_STREAM(conn), server_cert, NULL);
  if (tls == NULL || !g_tls_connection_handshake(G_TLS_CONNECTION(tls), NULL, NULL)) {
    g_object_unref(conn);
    return NULL;
  }
  GInputStream *in = g_io_stream_get_input_stream(tls);
  GString *head = g_string_new(NULL);
  char c;
  while (head->len < 16384 && g_input_stream_read(in, &c, 1, NULL, NULL) == 1) {
    g_string_append_c(head, c);
    if (g_str_has_suffix(head->str, "\r\n\r\n"))
      break;
  }
  g_auto(GStrv) first = g_strsplit(head->str, " ", 3);
  if (first[0] && first[1]) {
    g_mutex_lock(&s->lock);
    g_ptr_array_add(s->log, g_strdup_printf("%s %s", first[0], first[1]));
    g_free(s->accept_language);
    s->accept_language = header_value(head->str, "Accept-Language");
    g_mutex_unlock(&s->lock);
    const char *path = first[1];
    if (strcmp(path, "/ws") == 0) {
      g_autofree char *key = header_value(head->str, "Sec-WebSocket-Key");
      g_autofree char *cat =
          g_strconcat(key ? key : "", "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", NULL);
      guint8 digest[20];
      gsize dlen = sizeof digest;
      g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA1);
      g_checksum_update(sum, (const guchar *)cat, strlen(cat));
      g_checksum_get_digest(sum, digest, &dlen);
      g_autofree char *accept = g_base64_encode(digest, dlen);
      g_autofree char *reply =
          g_strdup_printf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                          accept);
      GOutputStream *out = g_io_stream_get_output_stream(tls);
      (void)g_output_stream_write_all(out, reply, strlen(reply), NULL, NULL, NULL);
      char buf[256];
      while (g_input_stream_read(in, buf, sizeof buf, NULL, NULL) > 0)
        ;
    } else if (strcmp(path, "/download") == 0) {
      respond(tls, "200 OK", "application/octet-stream",
              "Content-Disposition: attachment; filename=\"fixture-download.bin\"\r\n",
              "DOWNLOADED-BY-THE-PAGE");
    } else if (g_str_has_prefix(path, "/worker.js")) {
      /* a worker that opens the WebSocket its page asks for */
      respond(tls, "200 OK", "text/javascript", NULL,
              "onmessage = e => { try { const w = new WebSocket(e.data);"
              " w.onopen = () => { w.close(); postMessage('open'); };"
              " w.onerror = () => postMessage('error'); } catch (x) { postMessage('threw'); } };");
    } else if (g_str_has_prefix(path, "/reach?b=")) {
      /* a page (framed in the test) that reaches for the origin named in
       * its query by fetch and WebSocket */
      g_autofree char *html = g_strdup_printf(
          "<!doctype html><title>reach</title><script>"
          "const b = 'https://127.0.0.1:%s';"
          "fetch(b + '/from-frame').catch(() => null);"
          "try { new WebSocket(b.replace('https', 'wss') + '/ws-from-frame'); } catch (x) {}"
          "</script>",
          path + strlen("/reach?b="));
      respond(tls, "200 OK", "text/html", NULL, html);
    } else if (g_str_has_prefix(path, "/sw.js?")) {
      /* a service worker that, once installed, reaches for the origin its
       * page names (query: b=PORT) by fetch and WebSocket */
      g_autofree char *js = g_strdup_printf(
          "const b = 'https://127.0.0.1:' + new URL(location).searchParams.get('b');"
          "self.addEventListener('install', e => { self.skipWaiting();"
          " e.waitUntil(fetch(b + '/from-sw').catch(() => null)); });"
          "self.addEventListener('activate', e => { try { new WebSocket(b.replace('https', 'wss')"
          " + '/ws-from-sw'); } catch (x) {} });");
      respond(tls, "200 OK", "text/javascript", NULL, js);
    } else if (strcmp(path, "/lossy") == 0) {
      /* a page of eight scripts, each 2 s in coming: Chromium asks six at
       * a time of one host, and a network change meanwhile fails the two
       * waiting for a connection (net::ERR_NETWORK_CHANGED) */
      GString *html = g_string_new("<!doctype html><title>lossy</title>");
      for (guint i = 0; i < 8; i++)
        g_string_append_printf(html, "<script src=\"/slow.js?%u\"></script>", i);
      respond(tls, "200 OK", "text/html", NULL, html->str);
      g_string_free(html, TRUE);
    } else if (g_str_has_prefix(path, "/slow.js?")) {
      g_usleep(2 * G_USEC_PER_SEC);
      respond(tls, "200 OK", "text/javascript", NULL,
              "window.scripts = (window.scripts || 0) + 1;");
    } else if (strcmp(path, "/data") == 0) {
      respond(tls, "200 OK", "application/json", NULL, "{\"fixture\":\"data\"}");
    } else if (strcmp(path, "/favicon.ico") == 0) {
      respond(tls, "404 Not Found", "text/plain", NULL, "");
    } else {
      g_autofree char *body = g_strdup_printf(page_html, s->name, s->name);
      respond(tls, "200 OK", "text/html; charset=utf-8", NULL, body);
    }
  }
  g_string_free(head, TRUE);
  (void)g_io_stream_close(tls, NULL, NULL);
  g_object_unref(conn);
  return NULL;
}

static gpointer
serve(gpointer data)
{
  Server *s = data;
  for (;;) {
    GSocketConnection *conn = g_socket_listener_accept(s->listener, NULL, s->cancel, NULL);
    if (conn == NULL)
      return NULL;
    void **args = g_new(void *, 2);
    args[0] = s;
    args[1] = conn;
    g_thread_unref(g_thread_new("fixture-conn", serve_connection, args));
  }
}

void
server_start(Server *s, const char *name)
{
  s->name = name;
  s->listener = g_socket_listener_new();
  s->cancel = g_cancellable_new();
  s->log = g_ptr_array_new_with_free_func(g_free);
  g_mutex_init(&s->lock);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_socket_listener_add_address(s->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                     NULL, &bound, &error))
    g_error("fixture server: %s", error->message);
  s->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  s->origin = g_strdup_printf("https://127.0.0.1:%u", s->port);
  s->thread = g_thread_new("fixture", serve, s);
}

guint
server_count(Server *s, const char *prefix)
{
  guint seen = 0;
  g_mutex_lock(&s->lock);
  for (guint i = 0; i < s->log->len; i++)
    if (g_str_has_prefix(g_ptr_array_index(s->log, i), prefix))
      seen++;
  g_mutex_unlock(&s->lock);
  return seen;
}

gboolean
server_saw(Server *s, const char *prefix)
{
  return server_count(s, prefix) > 0;
}

guint
server_requests(Server *s)
{
  g_mutex_lock(&s->lock);
  guint n = s->log->len;
  g_mutex_unlock(&s->lock);
  return n;
}

void
make_certificate(void)
{
  g_autofree char *cert = g_build_filename(workdir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename(workdir, "key.pem", NULL);
  const char *argv[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-days",
                        "2",
                        "-subj",
                        "/CN=127.0.0.1",
                        "-addext",
                        "subjectAltName=IP:127.0.0.1",
                        "-keyout",
                        key,
                        "-out",
                        cert,
                        NULL};
  g_autoptr(GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync(NULL, (char **)argv, NULL,
                    G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, &error) ||
      !g_spawn_check_wait_status(status, &error))
    g_error("openssl: %s", error->message);
  server_cert = g_tls_certificate_new_from_files(cert, key, &error);
  if (server_cert == NULL)
    g_error("certificate: %s", error->message);
}

/* ---- driving the main loop ---- */

static gboolean
timed_out_cb(gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *flag or @ms pass; TRUE if *flag. */
gboolean
wait_for(const gboolean *flag, guint ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add(ms, timed_out_cb, &timed_out);
  while (!*flag && !timed_out)
    g_main_context_iteration(NULL, TRUE);
  if (!timed_out)
    g_source_remove(id);
  return *flag;
}

void
pause_ms(guint ms)
{
  gboolean never = FALSE;
  (void)wait_for(&never, ms);
}

static void
run_reset(Run *r)
{
  r->done = FALSE;
  g_clear_error(&r->error);
  g_clear_pointer(&r->result, json_node_unref);
  g_clear_pointer(&r->bytes, g_bytes_unref);
}

void
run_clear(Run *r)
{
  run_reset(r);
  g_clear_error(&r->ready_error);
  g_clear_error(&r->closed_error);
}

void
on_ready(ArBrowser *b, const GError *error, gpointer data)
{
  Run *r = data;
  r->ready = TRUE;
  r->ready_error = error ? g_error_copy(error) : NULL;
}

void
on_closed(ArBrowser *b, const GError *error, gpointer data)
{
  Run *r = data;
  g_assert_false(r->closed); /* once */
  r->closed = TRUE;
  r->closed_at = g_get_monotonic_time();
  r->closed_error = error ? g_error_copy(error) : NULL;
}

void
on_done(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  Run *r = data;
  r->done = TRUE;
  r->result = result ? json_node_copy(result) : NULL;
  r->error = error ? g_error_copy(error) : NULL;
}

void
on_bytes(ArBrowser *b, GBytes *bytes, const GError *error, gpointer data)
{
  Run *r = data;
  r->done = TRUE;
  r->bytes = bytes ? g_bytes_ref(bytes) : NULL;
  r->error = error ? g_error_copy(error) : NULL;
}

ArBrowser *
start_browser(Run *r, guint answer_timeout_ms)
{
  const char *allowed[] = {SA->origin, SC->origin, SD->origin, NULL};
  const char *blocked[] = {SC->origin, "localhost", NULL};
  const char *media[] = {SA->origin, NULL};
  /* AR_TEST_CHROMIUM_FLAGS: more flags, space-separated (debugging: with
   * AR_TEST_CHROMIUM_LOG=1, "--enable-logging=stderr --v=1") */
  g_autoptr(GStrvBuilder) fb = g_strv_builder_new();
  const char *fixed[] = {"--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                         "--use-fake-device-for-media-stream", NULL};
  g_strv_builder_addv(fb, fixed);
  /* D in a process of its own: its frames are out-of-process (own targets) */
  g_autofree char *isolate = g_strdup_printf("--isolate-origins=%s", SD->origin);
  g_strv_builder_add(fb, isolate);
  g_auto(GStrv) more = g_strsplit(g_getenv("AR_TEST_CHROMIUM_FLAGS") ?: "", " ", -1);
  for (guint i = 0; more[i]; i++)
    if (*more[i])
      g_strv_builder_add(fb, more[i]);
  g_auto(GStrv) flags = g_strv_builder_end(fb);
  ArBrowserOptions o = {
      .chromium = CHROMIUM,
      .headless = TRUE,
      .width = 1280,
      .height = 720,
      .allowed = allowed,
      .blocked = blocked,
      .media = media,
      .extra_flags = (const char *const *)flags,
      .profile_parent = profile_parent,
      .answer_timeout_ms = answer_timeout_ms,
      .heartbeat_ms = 500,
      .chromium_log = g_getenv("AR_TEST_CHROMIUM_LOG") != NULL,
  };
  g_autoptr(GError) error = NULL;
  ArBrowser *b = ar_browser_start(&o, on_ready, on_closed, r, &error);
  g_assert_no_error(error);
  if (!wait_for(&r->ready, 40000))
    g_error("the browser was not ready in 40 s");
  g_assert_no_error(r->ready_error);
  return b;
}

/* Evaluates @expr and returns its result as JSON text (NULL for null). */
char *
eval(ArBrowser *b, const char *expr, GError **error)
{
  Run r = {0};
  ar_browser_evaluate(b, expr, 10000, on_done, &r);
  if (!wait_for(&r.done, 15000))
    g_error("evaluate did not finish: %s", expr);
  char *text = r.result ? json_to_string(r.result, FALSE) : NULL;
  if (r.error)
    g_propagate_error(error, g_steal_pointer(&r.error));
  run_clear(&r);
  return text;
}

char *
eval_ok(ArBrowser *b, const char *expr)
{
  g_autoptr(GError) error = NULL;
  char *text = eval(b, expr, &error);
  g_assert_no_error(error);
  return text;
}

void
navigate(ArBrowser *b, const char *url, GError **error)
{
  Run r = {0};
  ar_browser_navigate(b, url, 20000, on_done, &r);
  if (!wait_for(&r.done, 25000))
    g_error("navigate did not finish: %s", url);
  if (r.error)
    g_propagate_error(error, g_steal_pointer(&r.error));
  run_clear(&r);
}

/* ---- process and socket checks ---- */

GArray *
group_pids(GPid pgid)
{
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
  g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir)) != NULL) {
    if (!g_ascii_isdigit(name[0]))
      continue;
    g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
      continue;
    const char *rp = strrchr(text, ')');
    char state;
    long ppid, pgrp;
    if (rp && sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
        state != 'Z') {
      int pid = atoi(name);
      g_array_append_val(pids, pid);
    }
  }
  return pids;
}

/* Inodes of listening TCP sockets and bound UDP sockets. */
void
listening_inodes(const char *file, gboolean tcp, GHashTable *out)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(file, &text, NULL, NULL))
    return;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 1; lines[i]; i++) {
    g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " ", -1);
    /* fields, empty ones skipped: sl local rem st ... inode is the 10th */
    GPtrArray *v = g_ptr_array_new();
    for (guint k = 0; f[k]; k++)
      if (*f[k])
        g_ptr_array_add(v, f[k]);
    if (v->len > 9) {
      const char *st = g_ptr_array_index(v, 3);
      if (!tcp || strcmp(st, "0A") == 0)
        g_hash_table_add(out, g_strdup(g_ptr_array_index(v, 9)));
    }
    g_ptr_array_free(v, TRUE);
  }
}
