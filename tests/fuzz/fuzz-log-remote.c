/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the log forwarder's inputs. [logs] remote addresses
 * (syslog-tls://, journal-https://) from the config file and the config API,
 * and what a journal receiver answers (the HTTP head read back from the
 * network); the export-format encoder with any bytes as a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-log-journal.h"
#include "ar-log-remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  /* Property: an address that parses has a host and a port. */
  char *host = NULL;
  guint16 port = 0;
  ArLogRemoteKind kind;
  if (ar_log_remote_parse_url(text, &kind, &host, &port, NULL) &&
      (host == NULL || *host == '\0' || port == 0))
    abort();
  g_free(host);
  /* Property: a parsed answer has a status 100-599, a printable reason of at most 64 bytes,
   * and a connection kept only with a known length within the bound. */
  guint status = 0;
  gint64 length = 0;
  gboolean keep = FALSE;
  g_autofree char *reason = NULL;
  if (ar_log_journal_parse_response(text, strlen(text), &status, &length, &keep, &reason, NULL)) {
    if (status < 100 || status > 599 || !reason || strlen(reason) > 64)
      abort();
    for (const char *p = reason; *p; p++)
      if (*p < 32 || *p > 126)
        abort();
    if (keep && (length < 0 || length > AR_LOG_JOURNAL_BODY_MAX))
      abort();
  }
  /* Property: the encoded field is the text form or the binary form with the exact length. */
  g_autoptr(GString) out = g_string_new(NULL);
  ar_log_journal_append_field(out, "MESSAGE", (const char *)data, (gssize)size);
  if (out->str[7] == '\n') {
    guint64 le;
    memcpy(&le, out->str + 8, sizeof le);
    if (GUINT64_FROM_LE(le) != size || out->len != 8 + 8 + size + 1)
      abort();
  } else if (out->str[7] != '=' || out->len != 8 + size + 1 || memchr(data, '\n', size)) {
    abort();
  }
  return 0;
}
