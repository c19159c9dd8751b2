/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-update-resume.c: the two untrusted texts a resumed bundle download reads
 * (docs/fleet.md "Following a channel"): a server's Content-Range header, and
 * the record kept beside a partial download in STATE_DIR/update (what the
 * partial file is for: URL, SHA-256 and size). Pure: no I/O.
 */
#include <string.h>

#include "ar-channel.h"
#include "ar-update-priv.h"

#define PARTIAL_GROUP "download"

/* A decimal number of at most 20 digits at *@p, moved past it. */
static gboolean
take_number(const char **p, guint64 *out)
{
  const char *s = *p;
  guint64 v = 0;
  int n = 0;
  while (g_ascii_isdigit(*s)) {
    guint d = (guint)(*s - '0');
    if (n >= 20 || v > (G_MAXUINT64 - d) / 10)
      return FALSE;
    v = v * 10 + d;
    s++;
    n++;
  }
  if (n == 0)
    return FALSE;
  *p = s;
  *out = v;
  return TRUE;
}

gboolean
ar_update_parse_content_range(const char *value, guint64 *first, guint64 *last, guint64 *total,
                              GError **error)
{
  /* RFC 9110 14.4: "bytes" SP first "-" last "/" complete-length; "*" for an
   * unknown length is not enough for us (we must know the file is the one we
   * started). */
  if (!value || strlen(value) > 128) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                "no usable Content-Range in the server's 206 answer");
    return FALSE;
  }
  const char *p = value;
  while (*p == ' ' || *p == '\t')
    p++;
  guint64 f = 0, l = 0, t = 0;
  gboolean ok = g_ascii_strncasecmp(p, "bytes ", 6) == 0;
  if (ok) {
    p += 6;
    while (*p == ' ')
      p++;
    ok = take_number(&p, &f) && *p++ == '-' && take_number(&p, &l) && *p++ == '/' &&
         take_number(&p, &t);
  }
  while (ok && (*p == ' ' || *p == '\t'))
    p++;
  if (!ok || *p || f > l || l >= t) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_DOWNLOAD,
                "the server's Content-Range is not \"bytes FIRST-LAST/LENGTH\"");
    return FALSE;
  }
  *first = f;
  *last = l;
  *total = t;
  return TRUE;
}

void
ar_update_partial_clear(ArUpdatePartial *p)
{
  g_clear_pointer(&p->url, g_free);
  memset(p->sha256, 0, sizeof p->sha256);
  p->size = 0;
}

gboolean
ar_update_partial_parse(const char *data, gsize len, ArUpdatePartial *out, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (len > AR_UPDATE_PARTIAL_MAX || memchr(data, '\0', len) ||
      !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "the partial download's record is not a small key file");
    return FALSE;
  }
  g_autofree char *url = g_key_file_get_string(kf, PARTIAL_GROUP, "url", NULL);
  g_autofree char *sha = g_key_file_get_string(kf, PARTIAL_GROUP, "sha256", NULL);
  g_autofree char *size = g_key_file_get_string(kf, PARTIAL_GROUP, "size", NULL);
  guint64 n = 0;
  if (!url || !ar_update_check_url(url, NULL) || !sha || strlen(sha) != 64 || !size ||
      !g_ascii_string_to_unsigned(size, 10, 1, AR_CHANNEL_MAX_BUNDLE_SIZE, &n, NULL)) {
    g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                "the partial download's record lacks a good url, sha256 or size");
    return FALSE;
  }
  for (const char *c = sha; *c; c++)
    if (!g_ascii_isxdigit(*c) || g_ascii_isupper(*c)) {
      g_set_error(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_INVALID,
                  "the partial download's record has a bad sha256");
      return FALSE;
    }
  ar_update_partial_clear(out);
  out->url = g_steal_pointer(&url);
  memcpy(out->sha256, sha, 65);
  out->size = n;
  return TRUE;
}

char *
ar_update_partial_format(const ArUpdatePartial *p)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_string(kf, PARTIAL_GROUP, "url", p->url);
  g_key_file_set_string(kf, PARTIAL_GROUP, "sha256", p->sha256);
  g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, p->size);
  g_key_file_set_string(kf, PARTIAL_GROUP, "size", size);
  return g_key_file_to_data(kf, NULL, NULL);
}
