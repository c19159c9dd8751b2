/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what a resumed channel download reads (firmware/update/
 * ar-update-resume.c, ar-update-window.c): the first byte picks the input:
 * 'r' a server's Content-Range header, 'p' the record kept beside a partial
 * download in STATE_DIR/update, 'w' the [update] window value. Laws: a parsed
 * range has FIRST <= LAST < LENGTH; a parsed record is an https URL, 64
 * lower-case hex digits and a size 1..64 GiB, and reads back the same after
 * formatting; a parsed window's minutes are within the day.
 */
#include <stdint.h>
#include <string.h>

#include "ar-channel.h"
#include "ar-update-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 8192)
    return 0;
  g_autofree char *text = g_strndup((const char *)data + 1, size - 1);
  gsize len = size - 1;
  switch (data[0]) {
  case 'r': {
    guint64 f = 0, l = 0, t = 0;
    if (ar_update_parse_content_range(text, &f, &l, &t, NULL) && !(f <= l && l < t))
      __builtin_trap();
    break;
  }
  case 'p': {
    ArUpdatePartial p = {0};
    g_autoptr(GError) error = NULL;
    if (!ar_update_partial_parse((const char *)data + 1, len, &p, &error)) {
      if (p.url || strchr(error->message, '\n'))
        __builtin_trap();
      break;
    }
    if (g_ascii_strncasecmp(p.url, "https://", 8) != 0 || strlen(p.sha256) != 64 || p.size == 0 ||
        p.size > AR_CHANNEL_MAX_BUNDLE_SIZE)
      __builtin_trap();
    g_autofree char *again = ar_update_partial_format(&p);
    ArUpdatePartial q = {0};
    if (!ar_update_partial_parse(again, strlen(again), &q, NULL) || strcmp(p.url, q.url) != 0 ||
        strcmp(p.sha256, q.sha256) != 0 || p.size != q.size)
      __builtin_trap();
    ar_update_partial_clear(&p);
    ar_update_partial_clear(&q);
    break;
  }
  case 'w': {
    ArUpdateWindow w;
    if (ar_update_window_parse(text, &w, NULL)) {
      if (w.start_min >= 1440 || w.end_min >= 1440)
        __builtin_trap();
      g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
      gint64 d = ar_update_window_wait(&w, utc, 1774746000);
      if (d < 0 || d > 25 * 3600 || !ar_update_window_contains(&w, utc, 1774746000 + d))
        __builtin_trap();
    }
    break;
  }
  default:
    break;
  }
  return 0;
}
