/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * anyroom-channel-check: a publisher's check of an update channel file, with the
 * device's own code (ar-channel.c; docs/fleet.md "Update channels").
 *
 *   anyroom-channel-check [OPTIONS] FILE
 *     FILE                 the manifest's JSON, or the signed file (sign-manifest.sh)
 *     --keyring PEM        the keyring the rooms trust (needed for a signed file)
 *     --channel NAME       the channel the rooms follow (signed file: checked as a room does)
 *     --compatible C       a board's RAUC compatible (signed file: checked as a room does)
 *     --now RFC3339        the time to check at (default: now)
 *     --machine-id ID --running VERSION   also print that room's choice (needs --compatible)
 *
 * Prints the manifest's releases and each rollout's share at that time; exit 0 when a
 * room would accept it, 1 with "refused: REASON" when not, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar-channel.h"

static char *
stamp(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

static int
refused(const GError *error)
{
  printf("refused: %s\n", error->message);
  return 1;
}

static void
print_manifest(const ArChannelManifest *m, gint64 now)
{
  g_autofree char *issued = stamp(m->issued), *expires = stamp(m->expires);
  printf("channel %s, serial %" G_GINT64_FORMAT ", issued %s, expires %s (in %.1f days)\n",
         m->channel, m->serial, issued, expires, (double)(m->expires - now) / 86400);
  for (guint i = 0; i < m->releases->len; i++) {
    const ArChannelRelease *r = g_ptr_array_index(m->releases, i);
    g_autofree char *start = stamp(r->rollout_start);
    printf("  %s: %u board%s, rollout %.1f %% now (start %s, %g %% + %g %%/day%s)\n", r->version,
           r->bundles->len, r->bundles->len == 1 ? "" : "s", ar_channel_rollout_share(r, now),
           start, r->percent_start, r->percent_per_day, r->paused ? ", PAUSED" : "");
    for (guint j = 0; j < r->bundles->len; j++) {
      const ArChannelBundle *b = g_ptr_array_index(r->bundles, j);
      printf("    %s: %s (%" G_GUINT64_FORMAT " bytes, sha256 %s)\n", b->compatible, b->url,
             b->size, b->sha256);
    }
  }
}

int
main(int argc, char **argv)
{
  g_autofree char *keyring_path = NULL, *channel = NULL, *compatible = NULL, *now_text = NULL;
  g_autofree char *machine_id = NULL, *running = NULL;
  GOptionEntry entries[] = {
      {"keyring", 0, 0, G_OPTION_ARG_FILENAME, &keyring_path, "keyring the rooms trust", "PEM"},
      {"channel", 0, 0, G_OPTION_ARG_STRING, &channel, "channel the rooms follow", "NAME"},
      {"compatible", 0, 0, G_OPTION_ARG_STRING, &compatible, "a board's compatible", "C"},
      {"now", 0, 0, G_OPTION_ARG_STRING, &now_text, "time to check at", "RFC3339"},
      {"machine-id", 0, 0, G_OPTION_ARG_STRING, &machine_id, "a room's machine ID", "ID"},
      {"running", 0, 0, G_OPTION_ARG_STRING, &running, "that room's version", "VERSION"},
      G_OPTION_ENTRY_NULL};
  g_autoptr(GOptionContext) ctx = g_option_context_new("FILE");
  g_option_context_set_summary(ctx, "Checks an update channel file as a room would.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
    fprintf(stderr, "anyroom-channel-check: %s\n",
            error ? error->message : "one FILE is needed (--help)");
    return 2;
  }
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  if (now_text) {
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(now_text, NULL);
    if (!dt) {
      fprintf(stderr, "anyroom-channel-check: --now: not an RFC 3339 time: %s\n", now_text);
      return 2;
    }
    now = g_date_time_to_unix(dt);
  }
  if ((machine_id || running) && (!machine_id || !running || !compatible)) {
    fprintf(stderr, "anyroom-channel-check: --machine-id needs --running and --compatible\n");
    return 2;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(argv[1], &data, &len, &error)) {
    fprintf(stderr, "anyroom-channel-check: %s\n", error->message);
    return 2;
  }
  gsize i = 0;
  while (i < len && g_ascii_isspace(data[i]))
    i++;
  gboolean is_json = i < len && data[i] == '{';

  g_autoptr(ArChannelManifest) m = NULL;
  if (is_json) {
    m = ar_channel_parse(data, len, &error);
    if (!m)
      return refused(error);
    printf("ok (JSON, not signed): ");
  } else {
    if (!keyring_path) {
      fprintf(stderr, "anyroom-channel-check: a signed file needs --keyring\n");
      return 2;
    }
    g_autofree char *pem = NULL;
    gsize pem_len = 0;
    if (!g_file_get_contents(keyring_path, &pem, &pem_len, &error)) {
      fprintf(stderr, "anyroom-channel-check: %s\n", error->message);
      return 2;
    }
    g_autoptr(ArChannelKeyring) keyring = ar_channel_keyring_new(pem, pem_len, &error);
    if (!keyring)
      return refused(error);
    if (channel && compatible) {
      ArChannelCheck check = {.channel = channel, .compatible = compatible, .now = now};
      m = ar_channel_load((const guint8 *)data, len, keyring, &check, &error);
      if (!m)
        return refused(error);
      printf("ok (signature, format and a room's checks): ");
    } else {
      g_autoptr(GBytes) content =
          ar_channel_verify((const guint8 *)data, len, keyring, now, &error);
      if (!content)
        return refused(error);
      m = ar_channel_parse(g_bytes_get_data(content, NULL), g_bytes_get_size(content), &error);
      if (!m)
        return refused(error);
      printf("ok (signature and format; --channel and --compatible check the rest): ");
    }
  }
  print_manifest(m, now);
  if (machine_id) {
    ArChannelChoice c;
    if (!ar_channel_choose(m, compatible, machine_id, now, running, &c, &error))
      return refused(error);
    if (c.verdict == AR_CHANNEL_UP_TO_DATE)
      printf("choice for %s at %s: up to date\n", compatible, running);
    else
      printf("choice for %s at %s: %s %s (place %.2f, share %.2f %%)\n", compatible, running,
             c.verdict == AR_CHANNEL_INSTALL ? "install" : "waiting for", c.release->version,
             c.place, c.share);
  }
  return 0;
}
