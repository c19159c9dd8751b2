/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-update.c: signed updates over the HTTPS scripting API (docs/api.md,
 * docs/update.md): the update commands of the hub, the update status, and a
 * bundle upload streamed to disk.
 *
 * The upload is the one request whose body may be large: the core hands it
 * here when its headers are in (ar_web_update_upload_headers), before any
 * byte of the body is read. The caller must already be authenticated (session
 * with CSRF token, or API token), no install may be running, and the
 * Content-Length must fit [update] max-bundle-size; then the body goes chunk
 * by chunk into STATE_DIR/update/upload-XXXXXX.raucb (0600), never into
 * memory, and the handler installs that file (deleted afterwards).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "ar-web-priv.h"

#define UPLOAD_PATH "/api/v1/update/upload"

/* One upload at a time: two at once would need twice max-bundle-size of disk. */
static guint uploads_in_flight;

typedef struct {
  char *path; /* NULL once the handler took it */
  int fd;
  guint64 expected, got;
  char *error;      /* the first write error */
  gboolean counted; /* in uploads_in_flight */
} Upload;

/* The body is in (or the request ended): the next upload may start; an install
 * of this one is then refused to others by the updater's own busy check. */
static void
upload_done_counting(Upload *up)
{
  if (up->counted) {
    up->counted = FALSE;
    uploads_in_flight--;
  }
}

static void
upload_free(Upload *up)
{
  upload_done_counting(up);
  if (up->fd >= 0)
    close(up->fd);
  if (up->path)
    g_unlink(up->path); /* the request ended before the handler took it */
  g_free(up->path);
  g_free(up->error);
  g_free(up);
}

static void
upload_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  Upload *up = data;
  gsize len;
  const guint8 *p = g_bytes_get_data(chunk, &len);
  if (up->error || up->fd < 0)
    return;
  if (up->got + len > up->expected) {
    up->error = g_strdup("the body is longer than its Content-Length");
    return;
  }
  while (len > 0) {
    ssize_t n = write(up->fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      up->error = g_strdup_printf("cannot write the upload: %s", g_strerror(errno));
      return;
    }
    p += n;
    len -= (gsize)n;
    up->got += (guint64)n;
  }
}

gboolean
ar_web_update_is_upload(SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri(msg);
  return uri && g_str_equal(g_uri_get_path(uri), UPLOAD_PATH);
}

gboolean
ar_web_update_upload_headers(ArWebServer *s, SoupServerMessage *msg)
{
  if (!g_str_equal(soup_server_message_get_method(msg), "POST")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return FALSE;
  }
  ArWebCaller caller;
  if (!ar_web_authorize(s, msg, AR_WEB_AUTH_SESSION_OR_TOKEN, AR_WEB_SCOPE_UPDATE, &caller))
    return FALSE;
  ArUpdater *updater = ar_api_hub_get_updater(s->hub);
  if (!updater) {
    ar_web_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "updates are not available");
    return FALSE;
  }
  if (ar_updater_is_busy(updater)) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "an update is already running");
    return FALSE;
  }
  if (uploads_in_flight > 0) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "another bundle is being uploaded");
    return FALSE;
  }
  SoupMessageHeaders *rh = soup_server_message_get_request_headers(msg);
  goffset clen = soup_message_headers_get_content_length(rh);
  if (soup_message_headers_get_encoding(rh) != SOUP_ENCODING_CONTENT_LENGTH || clen <= 0) {
    ar_web_error(msg, SOUP_STATUS_LENGTH_REQUIRED, "send the bundle with a Content-Length");
    return FALSE;
  }
  guint64 max = ar_updater_max_bundle_size(updater);
  if ((guint64)clen > max) {
    g_autofree char *m =
        g_strdup_printf("the bundle is larger than max-bundle-size (%" G_GUINT64_FORMAT " MiB)",
                        max / (1024 * 1024));
    ar_web_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, m);
    return FALSE;
  }
  const char *ct = soup_message_headers_get_content_type(rh, NULL);
  if (!ct || g_ascii_strcasecmp(ct, "application/octet-stream") != 0) {
    ar_web_error(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                 "send the bundle as application/octet-stream");
    return FALSE;
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = ar_updater_upload_dir(updater, &error);
  if (!dir) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return FALSE;
  }
  Upload *up = g_new0(Upload, 1);
  uploads_in_flight++;
  up->counted = TRUE;
  up->path = g_build_filename(dir, "upload-XXXXXX.raucb", NULL);
  up->fd = g_mkstemp_full(up->path, O_WRONLY | O_CLOEXEC, 0600);
  if (up->fd < 0) {
    g_autofree char *m = g_strdup_printf("cannot store the upload: %s", g_strerror(errno));
    g_clear_pointer(&up->path, g_free);
    upload_free(up);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, m);
    return FALSE;
  }
  up->expected = (guint64)clen;
  /* Chunks go to the file, not into memory. */
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(upload_chunk), up);
  g_object_set_data_full(G_OBJECT(msg), "ar-web-upload", up, (GDestroyNotify)upload_free);
  return TRUE;
}

static void
handle_upload(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  Upload *up = g_object_get_data(G_OBJECT(msg), "ar-web-upload");
  if (up)
    upload_done_counting(up);
  if (!up || !up->path) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "no upload");
    return;
  }
  if (up->error || up->got != up->expected) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 up->error ? up->error : "the upload ended before its Content-Length");
    return;
  }
  close(up->fd);
  up->fd = -1;
  GUri *uri = soup_server_message_get_uri(msg);
  const char *query = g_uri_get_query(uri);
  gboolean force = query && (g_str_equal(query, "force_downgrade=1") ||
                             g_str_equal(query, "force_downgrade=true"));
  g_autofree char *detail = g_strdup_printf("upload of %" G_GUINT64_FORMAT " bytes%s", up->got,
                                            force ? ", downgrade forced" : "");
  ar_web_audit(s, msg, caller, "update-install", detail);
  g_autofree char *file = g_steal_pointer(&up->path); /* the install deletes it */
  ar_api_hub_update_install_file(s->hub, msg, file, force);
}

static void
handle_command(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *name = ar_api_hub_command_name(path);
  if (g_str_equal(name, "update-install")) {
    /* The source is logged: a path or an https URL (no secrets: user info in
     * URLs is refused). */
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
    if (!body) {
      ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    ar_web_audit(s, msg, caller, "update-install", ar_web_string_member(body, "source"));
  }
  ar_api_hub_update_command(s->hub, msg, name, AR_WEB_MAX_BODY);
}

static void
handle_status(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_api_hub_update_command(s->hub, msg, "update-status", AR_WEB_MAX_BODY);
}

void
ar_web_update_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/commands/update-install", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_command,
       AR_WEB_SCOPE_UPDATE},
      {"/api/v1/commands/update-status", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_command,
       AR_WEB_SCOPE_STATUS},
      {"/api/v1/update/status", "GET", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_status,
       AR_WEB_SCOPE_STATUS},
      {UPLOAD_PATH, "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_upload, AR_WEB_SCOPE_UPDATE},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
