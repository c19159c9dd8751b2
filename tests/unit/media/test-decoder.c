/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-decoder.c: the board's decoder preference. The sort on real element
 * factories (gst-plugins-base), then real decodebins that must plug the preferred one of
 * two decoders this machine has for the same caps (both ways round, so the
 * test fails when the preference is ignored).
 */
#include <string.h>

#include "ar-media-priv.h"

static GstElementFactory *
factory(const char *name)
{
  GstElementFactory *f = gst_element_factory_find(name);

  /* gstreamer1.0-plugins-base, which decodebin itself comes from. */
  if (f == NULL)
    g_error("GStreamer element %s is missing (gst-plugins-base)", name);
  return f;
}

/* "a;b;c" for the factory names of @list. */
static char *
names(const GList *list)
{
  g_autoptr(GString) s = g_string_new(NULL);

  for (const GList *l = list; l != NULL; l = l->next)
    g_string_append_printf(s, "%s%s", s->len ? ";" : "",
                           gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(l->data)));
  return g_string_free(g_steal_pointer(&s), FALSE);
}

static GList *
list_of(const char *const *order)
{
  GList *list = NULL;

  for (gsize i = 0; order[i] != NULL; i++)
    list = g_list_append(list, factory(order[i]));
  return list;
}

static void
list_free(GList *list)
{
  g_list_free_full(list, gst_object_unref);
}

/* A parser, three decoders, a generic element: real factories, in the shape
 * of a decodebin proposal. */
static const char *const proposal[] = {"rawvideoparse", "opusdec",  "vorbisdec",
                                       "theoradec",     "identity", NULL};
#define PROPOSAL "rawvideoparse;opusdec;vorbisdec;theoradec;identity"

static void
check_sort_of(const char *const *order, const char *const *preference, const char *expected)
{
  GList *in = list_of(order);
  g_autofree char *before = names(in);
  GList *out = ar_decoder_sort(in, preference);
  g_autofree char *got = names(out);
  g_autofree char *after = names(in);

  g_assert_cmpstr(got, ==, expected);
  g_assert_cmpuint(g_list_length(out), ==, g_list_length(in));
  /* A new list; the input is as it was. */
  g_assert_true(out != in);
  g_assert_cmpstr(after, ==, before);
  g_list_free(out);
  list_free(in);
}

static void
check_sort(const char *const *preference, const char *expected)
{
  check_sort_of(proposal, preference, expected);
}

static void
test_sort_order(void)
{
  static const char *const one[] = {"theoradec", NULL};
  static const char *const two[] = {"theoradec", "opusdec", NULL};
  static const char *const all[] = {"vorbisdec", "theoradec", "opusdec", NULL};

  /* Ahead of the other decoders, behind the parser. */
  check_sort(one, "rawvideoparse;theoradec;opusdec;vorbisdec;identity");
  /* The preference's order, not the proposal's. */
  check_sort(two, "rawvideoparse;theoradec;opusdec;vorbisdec;identity");
  check_sort(all, "rawvideoparse;vorbisdec;theoradec;opusdec;identity");
}

static void
test_sort_no_parser(void)
{
  static const char *const order[] = {"opusdec", "vorbisdec", "theoradec", NULL};
  static const char *const only_parser[] = {"rawvideoparse", "identity", NULL};
  static const char *const pref[] = {"theoradec", "identity", NULL};

  /* A decoder first in the proposal: the preferred ones go before it. */
  check_sort_of(order, pref, "theoradec;opusdec;vorbisdec");
  /* No other decoder to go ahead of: after what is there. */
  check_sort_of(only_parser, pref, "rawvideoparse;identity");
}

static void
test_sort_unknown_names(void)
{
  static const char *const unknown[] = {"vah264dec", "nosuchdec", NULL};
  static const char *const mixed[] = {"nosuchdec", "vorbisdec", "", "v4l2h264dec", NULL};

  check_sort(unknown, PROPOSAL);
  check_sort(mixed, "rawvideoparse;vorbisdec;opusdec;theoradec;identity");
}

static void
test_sort_null_empty(void)
{
  static const char *const empty[] = {NULL};

  check_sort(NULL, PROPOSAL);
  check_sort(empty, PROPOSAL);
  g_assert_null(ar_decoder_sort(NULL, empty));
}

static void
test_sort_duplicates(void)
{
  static const char *const twice[] = {"theoradec", "vorbisdec", "theoradec", NULL};
  static const char *const repeated[] = {"vorbisdec", "theoradec", "vorbisdec", "theoradec", NULL};
  static const char *const first[] = {"theoradec", NULL};

  /* A name repeated in the preference counts at its first place only. */
  check_sort(twice, "rawvideoparse;theoradec;vorbisdec;opusdec;identity");
  /* A factory proposed twice stays twice: the result is a reordering. */
  check_sort_of(repeated, first, "theoradec;theoradec;vorbisdec;vorbisdec");
}

/* ---- a real decodebin ---- */

static gboolean
have(const char *name)
{
  g_autoptr(GstElementFactory) f = gst_element_factory_find(name);

  return f != NULL;
}

/* "videotestsrc ! @encoder ! decodebin ! fakesink" with @preference applied
 * to the decodebin; returns the factory name of the decoder it plugged. */
static char *
decode_with(const char *encoder, const char *const *preference)
{
  g_autofree char *desc = g_strdup_printf(
      "videotestsrc num-buffers=5 ! video/x-raw,width=160,height=120 ! %s ! decodebin name=dec ! "
      "fakesink sync=false",
      encoder);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(desc, &error);
  g_autoptr(GstElement) decodebin = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;
  char *decoder;

  g_assert_no_error(error);
  decodebin = gst_bin_get_by_name(GST_BIN(pipeline), "dec");
  g_assert_nonnull(decodebin);
  ar_decoder_attach(decodebin, preference);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus(pipeline);
  /* Generous: five small frames take milliseconds. */
  msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) gerr = NULL;
    gst_message_parse_error(msg, &gerr, NULL);
    g_error("pipeline %s: %s", desc, gerr->message);
  }
  decoder = ar_decoder_find_in(GST_BIN(decodebin));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  g_test_message("%s, preference %s: decoded by %s", encoder,
                 preference != NULL ? preference[0] : "(none)", decoder ? decoder : "nothing");
  return decoder;
}

/* Both ways round: whichever of @a and @b GStreamer ranks first, the other
 * one must win when preferred. */
static void
check_both_ways(const char *encoder, const char *a, const char *b)
{
  const char *pref_a[] = {a, b, NULL};
  const char *pref_b[] = {"nosuchdec", b, a, NULL};

  g_auto(GStrv) enc = g_strsplit(encoder, " ", 2);
  if (!have(enc[0]) || !have(a) || !have(b)) {
    g_autofree char *why =
        g_strdup_printf("needs %s, %s and %s (gst-plugins-good/ugly/bad, gst-libav)", enc[0], a, b);
    g_test_skip(why);
    return;
  }
  g_autofree char *got_a = decode_with(encoder, pref_a);
  g_autofree char *got_b = decode_with(encoder, pref_b);
  g_autofree char *got_ranks = decode_with(encoder, NULL);
  g_assert_cmpstr(got_a, ==, a);
  g_assert_cmpstr(got_b, ==, b);
  /* Without a preference: one of the two, by rank. */
  g_assert_true(g_strcmp0(got_ranks, a) == 0 || g_strcmp0(got_ranks, b) == 0);
}

static void
test_decodebin_vp8(void)
{
  check_both_ways("vp8enc deadline=1", "avdec_vp8", "vp8dec");
}

static void
test_decodebin_h264(void)
{
  /* Constrained baseline, as we send and browsers do: openh264dec takes no other. */
  check_both_ways("x264enc speed-preset=ultrafast tune=zerolatency ! "
                  "video/x-h264,profile=constrained-baseline",
                  "openh264dec", "avdec_h264");
}

/* A preference that names no decoder of these caps (an H.264 decoder for a
 * VP8 stream, a decoder not installed): decodebin decodes by rank as before. */
static void
test_decodebin_preference_for_other_caps(void)
{
  static const char *const pref[] = {"avdec_h264", "nosuchdec", NULL};

  if (!have("vp8enc") || !have("vp8dec")) {
    g_test_skip("needs vp8enc and vp8dec (gst-plugins-good)");
    return;
  }
  g_autofree char *got = decode_with("vp8enc deadline=1", pref);
  g_assert_nonnull(got);
  g_assert_cmpstr(got, !=, "avdec_h264");
}

/* ---- the engine carries the preference ---- */

/* Without a decodebin (received Opus): the preference's first decoder that takes the type, else
 * the fallback; names that are unknown, not decoders or for other types are passed over. */
static void
test_make(void)
{
  const char *const none[] = {"no-such-decoder", "rtpopusdepay", "avdec_h264", NULL};
  const char *const ff[] = {"avdec_h264", "avdec_opus", NULL};
  GstElement *dec = ar_decoder_make(none, "audio/x-opus", "opusdec");

  g_assert_nonnull(dec);
  g_assert_cmpstr(GST_OBJECT_NAME(gst_element_get_factory(dec)), ==, "opusdec");
  gst_object_unref(gst_object_ref_sink(dec));
  dec = ar_decoder_make(NULL, "audio/x-opus", "opusdec");
  g_assert_cmpstr(GST_OBJECT_NAME(gst_element_get_factory(dec)), ==, "opusdec");
  gst_object_unref(gst_object_ref_sink(dec));
  g_assert_null(ar_decoder_make(none, "audio/x-opus", "no-such-fallback"));
  if (gst_element_factory_find("avdec_opus") == NULL) {
    g_test_message("no avdec_opus: the preferred-decoder case is not checked");
    return;
  }
  dec = ar_decoder_make(ff, "audio/x-opus", "opusdec");
  g_assert_cmpstr(GST_OBJECT_NAME(gst_element_get_factory(dec)), ==, "avdec_opus");
  gst_object_unref(gst_object_ref_sink(dec));
}

static void
test_engine_copies(void)
{
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = NULL;
  char first[] = "avdec_vp8";
  const char *pref[] = {first, "vp8dec", NULL};

  ar_media_config_init_defaults(&cfg);
  g_assert_null(cfg.decoders);
  cfg.video_source = "test";
  cfg.audio_source = "test";
  cfg.audio_sink = "none";
  cfg.video_sink = "none";
  cfg.decoders = pref;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  first[0] = 'X';
  pref[1] = "changed";
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "decoders: avdec_vp8;vp8dec;"));
  ar_media_engine_free(g_steal_pointer(&engine));

  cfg.decoders = NULL;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "decoders: GStreamer's ranks"));
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init(&argc, &argv, NULL);
  if (!ar_media_init(&error))
    g_error("GStreamer: %s", error->message);
  g_test_add_func("/media/decoder/sort/order", test_sort_order);
  g_test_add_func("/media/decoder/sort/no-parser", test_sort_no_parser);
  g_test_add_func("/media/decoder/sort/unknown-names", test_sort_unknown_names);
  g_test_add_func("/media/decoder/sort/null-empty", test_sort_null_empty);
  g_test_add_func("/media/decoder/sort/duplicates", test_sort_duplicates);
  g_test_add_func("/media/decoder/decodebin/vp8", test_decodebin_vp8);
  g_test_add_func("/media/decoder/decodebin/h264", test_decodebin_h264);
  g_test_add_func("/media/decoder/decodebin/preference-for-other-caps",
                  test_decodebin_preference_for_other_caps);
  g_test_add_func("/media/decoder/make", test_make);
  g_test_add_func("/media/decoder/engine-copies", test_engine_copies);
  return g_test_run();
}
