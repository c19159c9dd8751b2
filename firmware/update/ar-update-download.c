/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-download.c: a bundle from an https URL into a local file, on the
 * main loop (libsoup 3, async reads and writes), bounded by max-bundle-size
 * (and, for a channel's bundle, by the manifest's size); a partial file is
 * continued with an HTTP Range request (ar_download_resume).
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <unistd.h>

#include "ar-update-priv.h"

#define CHUNK (256 * 1024)

struct _ArDownload {
  SoupSession *session;
  SoupMessage *msg;
  GCancellable *cancel;
  GInputStream *in;
  GOutputStream *out;
  char *dest;
  guint64 max, got, total;
  guint64 offset;        /* bytes already in @dest when asked (a Range request) */
  guint64 size;          /* the whole body's expected length; 0 = unknown */
  guint status;          /* the answer's HTTP status */
  gboolean keep_partial; /* a resumable download keeps its bytes after a cut... */
  gboolean cut;          /* ...(the connection failed, not the server's answer) */
  char *redirect_error;
  ArDownloadProgressFunc progress;
  ArDownloadDoneFunc done;
  gpointer data;
  gboolean freed; /* the owner let go; pending callbacks just drop their reference */
};

/* Every pending async operation holds a reference (g_rc_box), so a callback
 * that runs after ar_download_free() finds the box alive and returns. */
static void
dl_clear(ArDownload *dl)
{
  g_clear_object(&dl->in);
  g_clear_object(&dl->out);
  g_clear_object(&dl->msg);
  g_clear_object(&dl->session);
  g_clear_object(&dl->cancel);
  g_free(dl->dest);
  g_free(dl->redirect_error);
}

static void
dl_unref(ArDownload *dl)
{
  g_rc_box_release_full(dl, (GDestroyNotify)dl_clear);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArDownload, dl_unref)

static void
finish(ArDownload *dl, GError *error)
{
  /* Called once; the owner frees @dl from @done (or later). */
  if (dl->out)
    g_output_stream_close(dl->out, NULL, NULL);
  if (error && !(dl->keep_partial && dl->cut))
    g_unlink(dl->dest);
  ArDownloadDoneFunc done = dl->done;
  dl->done = NULL;
  if (done)
    done(error, dl->data);
  g_clear_error(&error);
}

static void read_next(ArDownload *dl);

static void
written(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(ArDownload) dl = data; /* the operation's reference */
  GError *error = NULL;
  gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &error);
  if (dl->freed) {
    g_clear_error(&error);
    return;
  }
  if (!ok) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free(error);
      return;
    }
    g_prefix_error(&error, "writing %s: ", dl->dest);
    error->domain = AR_UPDATE_ERROR;
    error->code = AR_UPDATE_ERROR_DOWNLOAD;
    finish(dl, error);
    return;
  }
  if (dl->progress)
    dl->progress(dl->got, dl->total, dl->data);
  read_next(dl);
}

static void
got_chunk(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(ArDownload) dl = data; /* the operation's reference */
  GError *error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(src), res, &error);
  if (dl->freed) {
    g_clear_error(&error);
    return;
  }
  if (!bytes) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free(error);
      return;
    }
    GError *e = g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD, "download failed: %s",
                            error->message);
    g_error_free(error);
    dl->cut = TRUE;
    finish(dl, e);
    return;
  }
  gsize n = g_bytes_get_size(bytes);
  if (n == 0) {
    if (dl->total && dl->got != dl->total) {
      dl->cut = TRUE;
      finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                             "download ended after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                             " bytes",
                             dl->got, dl->total));
      return;
    }
    finish(dl, NULL);
    return;
  }
  if (dl->size && dl->got + n > dl->size) {
    finish(dl,
           g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE,
                       "the bundle is larger than the channel's size (%" G_GUINT64_FORMAT " bytes)",
                       dl->size));
    return;
  }
  if (dl->got + n > dl->max) {
    finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE,
                           "the bundle is larger than max-bundle-size (%" G_GUINT64_FORMAT " MiB)",
                           dl->max / (1024 * 1024)));
    return;
  }
  dl->got += n;
  gsize len;
  const void *p = g_bytes_get_data(bytes, &len);
  /* The bytes stay alive until the write finished: keep a ref on the stream's
   * qdata (replaced each chunk). */
  g_object_set_data_full(G_OBJECT(dl->out), "ar-chunk", g_bytes_ref(bytes),
                         (GDestroyNotify)g_bytes_unref);
  g_output_stream_write_all_async(dl->out, p, len, G_PRIORITY_DEFAULT, dl->cancel, written,
                                  g_rc_box_acquire(dl));
}

static void
read_next(ArDownload *dl)
{
  g_input_stream_read_bytes_async(dl->in, CHUNK, G_PRIORITY_DEFAULT, dl->cancel, got_chunk,
                                  g_rc_box_acquire(dl));
}

static void
sent(GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr(ArDownload) dl = data; /* the operation's reference */
  GError *error = NULL;
  GInputStream *in = soup_session_send_finish(SOUP_SESSION(src), res, &error);
  if (dl->freed) {
    g_clear_error(&error);
    g_clear_object(&in);
    return;
  }
  if (!in) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !dl->redirect_error) {
      g_error_free(error);
      return;
    }
    GError *e = g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD, "download failed: %s",
                            dl->redirect_error ? dl->redirect_error : error->message);
    g_error_free(error);
    dl->cut = !dl->redirect_error;
    finish(dl, e);
    return;
  }
  dl->in = in;
  guint status = soup_message_get_status(dl->msg);
  dl->status = status;
  SoupMessageHeaders *headers = soup_message_get_response_headers(dl->msg);
  if (status == SOUP_STATUS_PARTIAL_CONTENT && dl->offset > 0) {
    GError *e = NULL;
    guint64 first = 0, last = 0, total = 0;
    if (!ar_update_parse_content_range(soup_message_headers_get_one(headers, "Content-Range"),
                                       &first, &last, &total, &e)) {
      g_prefix_error(&e, "download failed: ");
      finish(dl, e);
      return;
    }
    if (first != dl->offset || last + 1 != total || (dl->size && total != dl->size)) {
      finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                             "download failed: the server's Content-Range (bytes %" G_GUINT64_FORMAT
                             "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                             ") does not continue the %" G_GUINT64_FORMAT " bytes we have",
                             first, last, total, dl->offset));
      return;
    }
    if (total > dl->max) {
      finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE,
                             "the bundle (%" G_GUINT64_FORMAT " bytes) is larger than "
                             "max-bundle-size (%" G_GUINT64_FORMAT " MiB)",
                             total, dl->max / (1024 * 1024)));
      return;
    }
    dl->got = dl->offset;
    dl->total = total;
    g_debug("update: download resumed at byte %" G_GUINT64_FORMAT, dl->offset);
    read_next(dl);
    return;
  }
  if (status != SOUP_STATUS_OK) {
    finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                           "download failed: the server answered HTTP %u %s", status,
                           soup_message_get_reason_phrase(dl->msg)));
    return;
  }
  if (dl->offset > 0) {
    /* The server sends the whole file (no ranges, or the file changed): from byte 0. */
    int fd = g_unix_output_stream_get_fd(G_UNIX_OUTPUT_STREAM(dl->out));
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
      int err = errno;
      finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD, "truncating %s: %s",
                             dl->dest, g_strerror(err)));
      return;
    }
    g_message("update: the server sent the whole bundle again (HTTP 200, not 206): starting "
              "from byte 0");
    dl->offset = 0;
  }
  goffset len = soup_message_headers_get_content_length(headers);
  if (len > 0 && dl->size && (guint64)len != dl->size) {
    finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                           "download failed: the server's length (%" G_GINT64_FORMAT
                           " bytes) is not the channel's size (%" G_GUINT64_FORMAT " bytes)",
                           (gint64)len, dl->size));
    return;
  }
  if (len > 0 && (guint64)len > dl->max) {
    finish(dl, g_error_new(AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE,
                           "the bundle (%" G_GINT64_FORMAT " bytes) is larger than "
                           "max-bundle-size (%" G_GUINT64_FORMAT " MiB)",
                           (gint64)len, dl->max / (1024 * 1024)));
    return;
  }
  dl->total = len > 0 ? (guint64)len : 0;
  read_next(dl);
}

void
ar_update_refuse_plain_redirect(SoupMessage *msg, char **reason, GCancellable *cancel)
{
  GUri *uri = soup_message_get_uri(msg);

  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0 && !*reason) {
    *reason = g_strdup("redirected to a URL that is not https://");
    g_cancellable_cancel(cancel);
  }
}

static void
restarted(SoupMessage *msg, gpointer data)
{
  ArDownload *dl = data;

  ar_update_refuse_plain_redirect(msg, &dl->redirect_error, dl->cancel);
}

ArDownload *
ar_download_start(const char *url, const char *dest, guint64 max, const char *ca_file,
                  ArDownloadProgressFunc progress, ArDownloadDoneFunc done, gpointer data,
                  GError **error)
{
  return ar_download_resume(url, dest, 0, 0, max, ca_file, progress, done, data, error);
}

ArDownload *
ar_download_resume(const char *url, const char *dest, guint64 offset, guint64 size, guint64 max,
                   const char *ca_file, ArDownloadProgressFunc progress, ArDownloadDoneFunc done,
                   gpointer data, GError **error)
{
  if (!ar_update_check_url(url, error))
    return NULL;
  g_autoptr(GTlsDatabase) db = NULL;
  if (ca_file) {
    db = g_tls_file_database_new(ca_file, error);
    if (!db) {
      g_prefix_error(error, "update.download-ca: ");
      return NULL;
    }
  }
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
  if (!msg) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID, "not a URL libsoup accepts");
    return NULL;
  }
  int fd = offset ? g_open(dest, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600)
                  : g_open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD, "cannot %s %s: %s",
                offset ? "open" : "create", dest, g_strerror(err));
    return NULL;
  }
  if (offset && lseek(fd, 0, SEEK_END) != (off_t)offset) {
    close(fd);
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                "%s does not hold the %" G_GUINT64_FORMAT " bytes to resume from", dest, offset);
    return NULL;
  }
  if (offset) {
    g_autofree char *range = g_strdup_printf("bytes=%" G_GUINT64_FORMAT "-", offset);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Range", range);
  }
  ArDownload *dl = g_rc_box_new0(ArDownload);
  dl->out = g_unix_output_stream_new(fd, TRUE);
  dl->dest = g_strdup(dest);
  dl->max = max;
  dl->offset = offset;
  dl->got = offset;
  dl->size = size;
  dl->keep_partial = size != 0;
  dl->progress = progress;
  dl->done = done;
  dl->data = data;
  dl->cancel = g_cancellable_new();
  /* "timeout" is per I/O operation: a stalled server fails after 60 s. */
  dl->session = soup_session_new_with_options("timeout", 60, "user-agent", "anyroomd-update", NULL);
  if (db)
    soup_session_set_tls_database(dl->session, db);
  dl->msg = g_steal_pointer(&msg);
  g_signal_connect(dl->msg, "restarted", G_CALLBACK(restarted), dl);
  soup_session_send_async(dl->session, dl->msg, G_PRIORITY_DEFAULT, dl->cancel, sent,
                          g_rc_box_acquire(dl));
  return dl;
}

void
ar_download_get_progress(ArDownload *dl, guint64 *got, guint64 *total, guint *status)
{
  *got = dl->got;
  *total = dl->total ? dl->total : dl->size;
  *status = dl->status;
}

void
ar_download_free(ArDownload *dl)
{
  if (!dl)
    return;
  dl->done = NULL;
  dl->freed = TRUE;
  g_cancellable_cancel(dl->cancel);
  if (dl->msg)
    g_signal_handlers_disconnect_by_data(dl->msg, dl);
  dl_unref(dl);
}
