/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ar-config.h"

static ArConfig *
load(const char *text, GError **error)
{
  return ar_config_load_data(text, strlen(text), "test.conf", error);
}

static void
test_defaults(void)
{
  g_autoptr(ArConfig) c = ar_config_new_default();
  g_assert_cmpstr(c->room_name, ==, "Anyroom");
  g_assert_cmpuint(c->join_timeout_s, ==, 20);
  g_assert_null(c->board);
}

static void
test_full(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[room]\nname=Board Room 4\n"
                               "[device]\nboard=host\ncamera=test\n"
                               "[media]\nvideo-codec=vp8\nwidth=640\nheight=360\nframerate=15\n"
                               "encoders=vp8enc;x264enc\njitter-latency-ms=40\n"
                               "[call]\njoin-timeout=9\n"
                               "[links]\njitsi-domains=meet.example.org;jitsi.example.com\n"
                               "allow-idn=false\n",
                               &error);
  g_assert_no_error(error);
  g_assert_cmpstr(c->room_name, ==, "Board Room 4");
  g_assert_cmpstr(c->camera, ==, "test");
  g_assert_cmpint(c->video_codec, ==, AR_VIDEO_CODEC_VP8);
  g_assert_cmpuint(c->width, ==, 640);
  g_assert_cmpuint(c->framerate, ==, 15);
  g_assert_cmpuint(c->jitter_latency_ms, ==, 40);
  g_assert_cmpuint(c->join_timeout_s, ==, 9);
  g_assert_cmpuint(g_strv_length(c->encoders), ==, 2);
  const ArLinkPolicy *policy = ar_link_config_get_policy(c->links);
  g_assert_cmpstr(policy->jitsi_domains[1], ==, "jitsi.example.com");
  g_assert_false(policy->allow_idn);
}

static void
test_unknown_key(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[room]\nnmae=typo\n", &error);
  g_assert_null(c);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_nonnull(strstr(error->message, "room.nmae: unknown key"));
}

static void
test_unknown_group(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArConfig) c = load("[rooom]\nname=x\n", &error);
  g_assert_null(c);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_UNKNOWN_KEY);
  g_assert_nonnull(strstr(error->message, "[rooom]"));
}

static void
test_bad_values(void)
{
  const char *bad[] = {
    "[media]\nwidth=abc\n",        "[media]\nwidth=99999\n",  "[media]\nframerate=0\n",
    "[media]\nvideo-codec=h265\n", "[links]\nallow-idn=maybe\n", "[room]\nname=\n",
    "[links]\njitsi-domains=not a domain\n", "[links]\nunknown=1\n",
    "[call]\njoin-timeout=-1\n",   "not a key file",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArConfig) c = load(bad[i], &error);
    g_assert_null(c);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "test.conf"));
  }
}

static void
test_hostile(void)
{
  /* NUL bytes, control characters, invalid UTF-8, huge input: refused, no crash. */
  const char nul[] = "[room]\nname=a\0b\n";
  g_autoptr(GError) e1 = NULL;
  g_assert_null(ar_config_load_data(nul, sizeof nul - 1, "nul", &e1));
  g_assert_nonnull(e1);
  g_autoptr(GError) e2 = NULL;
  g_assert_null(load("[room]\nname=\x01\x02\n", &e2));
  g_assert_nonnull(e2);
  g_autoptr(GError) e3 = NULL;
  g_assert_null(load("[room]\nname=\xff\xfe\n", &e3));
  g_assert_nonnull(e3);
  gsize big = AR_CONFIG_MAX_SIZE + 1;
  g_autofree char *huge = g_malloc(big);
  memset(huge, '#', big);
  g_autoptr(GError) e4 = NULL;
  g_assert_null(ar_config_load_data(huge, big, "huge", &e4));
  g_assert_nonnull(e4);
}

static void
test_board_host(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("host", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(b->name, ==, "host");
  g_assert_cmpstr(b->camera, ==, "auto");
  g_assert_cmpuint(b->width, ==, 1280);
  g_assert_cmpuint(b->framerate, ==, 30);
  /* hardware encoders come before software ones */
  g_assert_cmpstr(b->encoders[0], ==, "v4l2h264enc");
  guint n = g_strv_length(b->encoders);
  g_assert_cmpstr(b->encoders[n - 1], ==, "vp8enc");
}

static void
test_board_bad_name(void)
{
  const char *names[] = {"../etc", "Host", "", "a/b", "host;rm"};
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArBoard) b = ar_board_load(names[i], &error);
    g_assert_null(b);
    g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_INVALID_VALUE);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("no-such-board", &error);
  g_assert_error(error, AR_CONFIG_ERROR, AR_CONFIG_ERROR_NOT_FOUND);
}

static void
test_merge(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBoard) b = ar_board_load("host", &error);
  g_assert_no_error(error);
  g_autoptr(ArConfig) c = load("[device]\ncamera=/dev/video7\n[media]\nwidth=640\n", &error);
  g_assert_no_error(error);
  ArMediaConfig m;
  ar_config_to_media(c, b, &m);
  g_assert_cmpstr(m.video_source, ==, "/dev/video7"); /* config wins */
  g_assert_cmpstr(m.audio_source, ==, "auto");        /* board default */
  g_assert_cmpuint(m.width, ==, 640);
  g_assert_cmpuint(m.height, ==, 720);
  g_assert_cmpstr(m.encoders[0], ==, "v4l2h264enc");
  g_assert_cmpuint(m.jitter_latency_ms, <, 200); /* interactive, not webrtcbin's 200 ms */
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/defaults", test_defaults);
  g_test_add_func("/config/full", test_full);
  g_test_add_func("/config/unknown-key", test_unknown_key);
  g_test_add_func("/config/unknown-group", test_unknown_group);
  g_test_add_func("/config/bad-values", test_bad_values);
  g_test_add_func("/config/hostile", test_hostile);
  g_test_add_func("/config/board/host", test_board_host);
  g_test_add_func("/config/board/bad-name", test_board_bad_name);
  g_test_add_func("/config/board/merge", test_merge);
  return g_test_run();
}
