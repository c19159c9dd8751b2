/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-log-journal.h"

#include <libsoup/soup.h>
#include <string.h>

#include "ar-log-remote.h"

static gboolean
text_safe(const char *value, gsize len)
{
  if (!g_utf8_validate_len(value, len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (((guchar)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
      return FALSE;
  return TRUE;
}

void
ar_log_journal_append_field(GString *out, const char *name, const char *value, gssize len)
{
  gsize n = len < 0 ? strlen(value) : (gsize)len;
  g_string_append(out, name);
  if (text_safe(value, n)) {
    g_string_append_c(out, '=');
    g_string_append_len(out, value, (gssize)n);
  } else {
    g_string_append_c(out, '\n');
    guint64 le = GUINT64_TO_LE((guint64)n);
    g_string_append_len(out, (const char *)&le, sizeof le);
    g_string_append_len(out, value, (gssize)n);
  }
  g_string_append_c(out, '\n');
}

static void append_printf(GString *out, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
append_printf(GString *out, const char *name, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *v = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  ar_log_journal_append_field(out, name, v, -1);
}

GBytes *
ar_log_journal_format(GLogLevelFlags level, gint64 unix_us, gint64 mono_us, const char *boot_id,
                      const char *hostname, guint pid, const char *domain, const char *message)
{
  GString *out = g_string_sized_new(256 + (message ? strlen(message) : 0));
  /* The receiver refuses an entry without valid timestamps (journal_file_append_entry). */
  append_printf(out, "__REALTIME_TIMESTAMP", "%" G_GINT64_FORMAT, MAX(unix_us, 1));
  append_printf(out, "__MONOTONIC_TIMESTAMP", "%" G_GINT64_FORMAT, MAX(mono_us, 0));
  if (boot_id && strlen(boot_id) == 32 && strspn(boot_id, "0123456789abcdef") == 32)
    ar_log_journal_append_field(out, "_BOOT_ID", boot_id, -1);
  ar_log_journal_append_field(out, "_HOSTNAME", hostname && *hostname ? hostname : "-", -1);
  append_printf(out, "PRIORITY", "%u", ar_log_remote_pri(level) & 7);
  ar_log_journal_append_field(out, "SYSLOG_FACILITY", "3", -1);
  ar_log_journal_append_field(out, "SYSLOG_IDENTIFIER", "anyroomd", -1);
  append_printf(out, "SYSLOG_PID", "%u", pid);
  if (domain && *domain)
    ar_log_journal_append_field(out, "GLIB_DOMAIN", domain, -1);
  ar_log_journal_append_field(out, "MESSAGE", message ? message : "", -1);
  g_string_append_c(out, '\n');
  return g_string_free_to_bytes(out);
}

char *
ar_log_journal_boot_id(void)
{
  g_autofree char *data = NULL;
  if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &data, NULL, NULL))
    return NULL;
  GString *id = g_string_new(NULL);
  for (const char *p = data; *p && id->len < 32; p++)
    if (g_ascii_isxdigit(*p))
      g_string_append_c(id, g_ascii_tolower(*p));
  if (id->len != 32) {
    g_string_free(id, TRUE);
    return NULL;
  }
  return g_string_free(id, FALSE);
}

/* ---- the answer ---- */

gboolean
ar_log_journal_parse_response(const char *head, gsize len, guint *status, gint64 *content_length,
                              gboolean *keep_alive, char **reason, GError **error)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
  SoupHTTPVersion ver = SOUP_HTTP_1_0;
  guint code = 0;
  g_autofree char *phrase = NULL;
  if (len == 0 || len > AR_LOG_JOURNAL_HEAD_MAX ||
      !soup_headers_parse_response(head, (int)len, headers, &ver, &code, &phrase) || code < 100 ||
      code > 599) {
    g_set_error_literal(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_RECEIVER,
                        "the receiver's answer is not HTTP");
    return FALSE;
  }
  gint64 length = -1;
  if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH)
    length = soup_message_headers_get_content_length(headers);
  /* A body we cannot find the end of (chunked, up to the close) ends the connection. */
  gboolean keep = ver == SOUP_HTTP_1_1 && length >= 0 && length <= AR_LOG_JOURNAL_BODY_MAX &&
                  !soup_message_headers_header_contains(headers, "Connection", "close");
  GString *r = g_string_new(NULL);
  for (const char *p = phrase; p && *p && r->len < 64; p++)
    g_string_append_c(r, (*p >= 32 && *p <= 126) ? *p : '?');
  *status = code;
  *content_length = length;
  *keep_alive = keep;
  *reason = g_string_free(r, FALSE);
  return TRUE;
}

/* One read, unless the answer's deadline passed (a receiver trickling bytes). */
static gssize
read_before(GInputStream *in, void *buf, gsize size, gint64 deadline, GCancellable *cancel,
            GError **error)
{
  if (g_get_monotonic_time() > deadline) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no whole answer within %d s",
                AR_LOG_REMOTE_TIMEOUT_S);
    return -1;
  }
  return g_input_stream_read(in, buf, size, cancel, error);
}

/* The head, up to and with the empty line; what was read after it goes to @rest. */
static char *
read_head(GInputStream *in, gsize *head_len, GByteArray *rest, gint64 deadline,
          GCancellable *cancel, GError **error)
{
  GByteArray *buf = g_byte_array_new();
  guint8 chunk[1024];
  for (;;) {
    gssize n = read_before(in, chunk, sizeof chunk, deadline, cancel, error);
    if (n < 0) {
      g_byte_array_free(buf, TRUE);
      return NULL;
    }
    if (n == 0) {
      g_byte_array_free(buf, TRUE);
      g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                          "the receiver closed the connection without an answer");
      return NULL;
    }
    gsize from = buf->len > 3 ? buf->len - 3 : 0;
    g_byte_array_append(buf, chunk, (guint)n);
    for (gsize i = from; i + 4 <= buf->len; i++)
      if (memcmp(buf->data + i, "\r\n\r\n", 4) == 0) {
        *head_len = i + 4;
        g_byte_array_append(rest, buf->data + i + 4, (guint)(buf->len - i - 4));
        g_byte_array_set_size(buf, (guint)(i + 4));
        g_byte_array_append(buf, (const guint8 *)"", 1); /* a NUL after the head */
        return (char *)g_byte_array_free(buf, FALSE);
      }
    if (buf->len > AR_LOG_JOURNAL_HEAD_MAX) {
      g_byte_array_free(buf, TRUE);
      g_set_error(error, AR_LOG_REMOTE_ERROR, AR_LOG_REMOTE_ERROR_RECEIVER,
                  "the receiver's answer head is over %d bytes", AR_LOG_JOURNAL_HEAD_MAX);
      return NULL;
    }
  }
}

gboolean
ar_log_journal_send(GIOStream *conn, const char *host, guint16 port, GPtrArray *batch,
                    GCancellable *cancel, gboolean *keep_alive, GError **error)
{
  gsize body = 0;
  for (guint i = 0; i < batch->len; i++)
    body += g_bytes_get_size(batch->pdata[i]);
  /* An IPv6 address in brackets (RFC 9110 Host). */
  gboolean v6 = strchr(host, ':') != NULL;
  GString *out = g_string_sized_new(body + 256);
  g_string_append_printf(out,
                         "POST /upload HTTP/1.1\r\nHost: %s%s%s:%u\r\n"
                         "Content-Type: " AR_LOG_JOURNAL_CONTENT_TYPE "\r\n"
                         "Content-Length: %zu\r\nUser-Agent: anyroomd\r\n\r\n",
                         v6 ? "[" : "", host, v6 ? "]" : "", port, body);
  for (guint i = 0; i < batch->len; i++) {
    gsize n;
    const char *d = g_bytes_get_data(batch->pdata[i], &n);
    g_string_append_len(out, d, (gssize)n);
  }
  gboolean ok = g_output_stream_write_all(g_io_stream_get_output_stream(conn), out->str, out->len,
                                          NULL, cancel, error);
  g_string_free(out, TRUE);
  if (!ok)
    return FALSE;
  GInputStream *in = g_io_stream_get_input_stream(conn);
  g_autoptr(GByteArray) rest = g_byte_array_new();
  gsize head_len = 0;
  /* The whole answer within the deadline, whatever the pace of its bytes. */
  gint64 deadline = g_get_monotonic_time() + AR_LOG_REMOTE_TIMEOUT_S * G_USEC_PER_SEC;
  g_autofree char *head = read_head(in, &head_len, rest, deadline, cancel, error);
  if (!head)
    return FALSE;
  guint status = 0;
  gint64 length = -1;
  gboolean keep = FALSE;
  g_autofree char *reason = NULL;
  if (!ar_log_journal_parse_response(head, head_len, &status, &length, &keep, &reason, error))
    return FALSE;
  /* The body (journal-remote's "OK."): read and dropped, so the next request starts clean. */
  if (keep && (gint64)rest->len < length) {
    gsize want = (gsize)length - rest->len;
    guint8 drop[4096];
    while (want > 0) {
      gssize n = read_before(in, drop, MIN(want, sizeof drop), deadline, cancel, error);
      if (n < 0)
        return FALSE;
      if (n == 0) {
        keep = FALSE;
        break;
      }
      want -= (gsize)n;
    }
  } else if ((gint64)rest->len > length) {
    keep = FALSE;
  }
  if (status < 200 || status > 299) {
    /* A client error other than who we are, or "later", is about the lines themselves. */
    gboolean refused = status >= 400 && status <= 499 && status != 401 && status != 403 &&
                       status != 408 && status != 429;
    g_set_error(error, AR_LOG_REMOTE_ERROR,
                refused ? AR_LOG_REMOTE_ERROR_REFUSED : AR_LOG_REMOTE_ERROR_RECEIVER,
                "the receiver answered %u %s", status, reason);
    return FALSE;
  }
  *keep_alive = keep;
  return TRUE;
}
