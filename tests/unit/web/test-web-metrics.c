/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /metrics's writer (firmware/web/ar-web-metrics.h): the exposition
 * format 0.0.4 (HELP and TYPE for every family, samples grouped, counters
 * named _total, numbers and escaping), bounded label values (no link, room
 * id, name or server), bounded size, and what a status object gives. */
#include <string.h>

#include "ar-call.h"
#include "ar-web-metrics.h"

static const char *const providers[] = {"janus", "teams", "whip", NULL};

static JsonNode *
parse(const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_copy(json_parser_get_root(p));
}

/* A connected Janus call: two participants, a sent and two received video
 * tracks, audio both ways; a missing camera, a microphone anyroomd cannot
 * check; a failed update; a calendar source that failed. Names, links and
 * addresses that must never reach a label are in it. */
static const char *status_json =
    "{\"state\":\"connected\",\"engine\":\"native\",\"provider\":\"janus\","
    "\"link\":\"janus+ws://10.0.0.5:8188/?room=1234&pin=secret\",\"room\":\"1234\","
    "\"room_name\":\"Board \\\"Room\\\" 4\","
    "\"controls\":{\"camera_live\":true,\"microphone_live\":false},"
    "\"devices\":{\"board\":\"host\",\"camera\":{\"device\":\"/dev/video7\",\"present\":false},"
    "\"microphone\":{\"device\":\"test\",\"present\":null},"
    "\"speaker\":{\"device\":\"hw:CARD=Bar\",\"present\":true},"
    "\"display\":{\"device\":\"kiosk\",\"present\":null}},"
    "\"participants\":[{\"id\":\"6452\",\"display\":\"alice\"},{\"id\":\"77\",\"display\":\"bob\"}]"
    ","
    "\"timing\":{\"join_to_connected_ms\":612.5,\"join_to_first_remote_video_ms\":null},"
    "\"recovery\":{\"reconnects\":1,\"reason\":null,\"attempt\":0,\"last_recovery_ms\":null},"
    "\"tracks\":["
    "{\"peer\":\"publisher\",\"kind\":\"video\",\"direction\":\"send\",\"codec\":\"H264\","
    "\"packets\":2345,\"bytes\":345678,\"packets_lost\":3,\"bitrate_bps\":1480000.0,\"framerate\":"
    "30.0,"
    "\"rtt_ms\":1.5,\"jitter_ms\":2.0,\"freezes\":0,\"freeze_ms\":0.0},"
    "{\"peer\":\"publisher\",\"kind\":\"audio\",\"direction\":\"send\",\"codec\":\"OPUS\","
    "\"packets\":900,\"packets_lost\":0,\"bitrate_bps\":32000.0,\"framerate\":0,"
    "\"rtt_ms\":-1.0,\"jitter_ms\":-1.0,\"freezes\":0,\"freeze_ms\":0.0},"
    "{\"peer\":\"feed-6452\",\"kind\":\"video\",\"direction\":\"recv\",\"codec\":\"VP8\","
    "\"packets\":1000,\"packets_lost\":10,\"bitrate_bps\":800000.0,\"framerate\":24.5,"
    "\"rtt_ms\":-1.0,\"jitter_ms\":4.25,\"freezes\":2,\"freeze_ms\":2500.0},"
    "{\"peer\":\"feed-77\",\"kind\":\"video\",\"direction\":\"recv\",\"codec\":\"VP8\","
    "\"packets\":10,\"packets_lost\":0,\"bitrate_bps\":0.0,\"framerate\":0.0,"
    "\"rtt_ms\":-1.0,\"jitter_ms\":-1.0,\"freezes\":0,\"freeze_ms\":0.0}],"
    "\"update\":{\"rauc\":false,\"running_version\":\"2026.11.1\",\"phase\":\"idle\","
    "\"marked_good\":true,\"last_error\":\"the bundle's signature is not trusted\"},"
    "\"calendar\":{\"sources\":[{\"kind\":\"caldav\",\"server\":\"https://dav.example.org\","
    "\"ok\":false,\"error\":\"refused\",\"updated\":\"2026-03-30T08:40:02+02:00\","
    "\"meetings\":12}]}}";

/* Checks the text is well-formed exposition 0.0.4 as this writer makes it:
 * every sample's family was declared just before (HELP, then TYPE), no
 * family twice, counters end in _total, values parse as numbers. */
static void
assert_exposition(const char *text)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *current = NULL;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  g_assert_cmpuint(n, >, 1);
  g_assert_cmpstr(lines[n - 1], ==, ""); /* ends with a line feed */
  for (guint i = 0; i + 1 < n; i++) {
    const char *l = lines[i];
    if (g_str_has_prefix(l, "# HELP ")) {
      g_auto(GStrv) f = g_strsplit(l + 7, " ", 2);
      g_assert_true(g_str_has_prefix(f[0], "anyroom_"));
      g_assert_false(g_hash_table_contains(seen, f[0]));
      g_hash_table_add(seen, g_strdup(f[0]));
      g_free(current);
      current = g_strdup(f[0]);
      g_assert_nonnull(f[1]);
      g_assert_true(g_str_has_prefix(lines[i + 1], "# TYPE "));
      g_autofree char *type_prefix = g_strdup_printf("# TYPE %s ", current);
      g_assert_true(g_str_has_prefix(lines[i + 1], type_prefix));
      const char *type = lines[i + 1] + strlen(type_prefix);
      g_assert_true(g_str_equal(type, "gauge") || g_str_equal(type, "counter"));
      g_assert_cmpint(g_str_equal(type, "counter"), ==, g_str_has_suffix(current, "_total"));
      i++;
      continue;
    }
    g_assert_nonnull(current);
    gsize name_len = strcspn(l, "{ ");
    g_assert_cmpint(name_len, ==, strlen(current));
    g_assert_true(strncmp(l, current, name_len) == 0);
    const char *value = strrchr(l, ' ');
    g_assert_nonnull(value);
    char *end = NULL;
    g_ascii_strtod(value + 1, &end);
    g_assert_true(end && *end == '\0' && end != value + 1);
  }
}

static char *
render(JsonNode *status, gsize *len)
{
  static const guint64 joins[AR_JOIN_N_OUTCOMES] = {5, 1, 2};
  const char *names[AR_JOIN_N_OUTCOMES];
  for (guint i = 0; i < AR_JOIN_N_OUTCOMES; i++)
    names[i] = ar_join_outcome_to_string(i);
  ArWebMetricsInput in = {.status = status,
                          .joins = joins,
                          .join_names = names,
                          .n_joins = AR_JOIN_N_OUTCOMES,
                          .calls_dropped = 1,
                          .uptime_s = 42.5,
                          .rss_bytes = 33554432,
                          .bridge_stuck_paths = 2,
                          .providers = providers};
  return ar_web_metrics_render(&in, len);
}

static void
assert_line(const char *text, const char *line)
{
  g_autofree char *needle = g_strconcat("\n", line, "\n", NULL);
  g_autofree char *hay = g_strconcat("\n", text, NULL);
  if (!strstr(hay, needle))
    g_error("missing line: %s\nin:\n%s", line, text);
}

static void
test_connected_call(void)
{
  g_autoptr(JsonNode) st = parse(status_json);
  gsize len = 0;
  g_autofree char *text = render(st, &len);
  g_assert_cmpuint(len, ==, strlen(text));
  assert_exposition(text);
  assert_line(text, "anyroom_build_info{version=\"2026.11.1\"} 1");
  assert_line(text, "anyroom_uptime_seconds 42.5");
  assert_line(text, "anyroom_resident_memory_bytes 33554432");
  assert_line(text, "anyroom_web_bridge_stuck_paths 2");
  assert_line(text, "anyroom_call_state{state=\"connected\"} 1");
  assert_line(text, "anyroom_call_state{state=\"idle\"} 0");
  assert_line(text, "anyroom_call_state{state=\"needs-attention\"} 0");
  assert_line(text, "anyroom_call_info{engine=\"native\",provider=\"janus\"} 1");
  assert_line(text, "anyroom_call_participants 2");
  assert_line(text, "anyroom_call_join_duration_seconds 0.6125");
  assert_line(text, "anyroom_call_reconnects 1");
  assert_line(text, "anyroom_camera_live 1");
  assert_line(text, "anyroom_microphone_live 0");
  assert_line(text, "anyroom_joins_total{outcome=\"connected\"} 5");
  assert_line(text, "anyroom_joins_total{outcome=\"timeout\"} 2");
  assert_line(text, "anyroom_joins_total{outcome=\"provider\"} 0");
  assert_line(text, "anyroom_calls_dropped_total 1");
  assert_line(text, "anyroom_call_tracks{kind=\"video\",direction=\"recv\"} 2");
  assert_line(text, "anyroom_call_tracks{kind=\"audio\",direction=\"recv\"} 0");
  assert_line(
      text, "anyroom_track_bytes_per_second{kind=\"video\",direction=\"send\",track=\"0\"} 185000");
  assert_line(text,
              "anyroom_track_bytes_per_second{kind=\"video\",direction=\"recv\",track=\"1\"} 0");
  assert_line(text,
              "anyroom_track_bytes_total{kind=\"video\",direction=\"send\",track=\"0\"} 345678");
  assert_line(text,
              "anyroom_track_packets_lost_total{kind=\"video\",direction=\"recv\",track=\"0\"} 10");
  assert_line(
      text, "anyroom_track_jitter_seconds{kind=\"video\",direction=\"recv\",track=\"0\"} 0.00425");
  assert_line(text,
              "anyroom_track_round_trip_seconds{kind=\"video\",direction=\"send\",track=\"0\"} "
              "0.0015");
  assert_line(
      text, "anyroom_track_frames_per_second{kind=\"video\",direction=\"recv\",track=\"0\"} 24.5");
  assert_line(text, "anyroom_track_freezes_total{kind=\"video\",direction=\"recv\",track=\"0\"} 2");
  assert_line(
      text,
      "anyroom_track_freeze_seconds_total{kind=\"video\",direction=\"recv\",track=\"0\"} 2.5");
  /* Unknown RTT and jitter (-1) are left out, not reported as -0.001. */
  g_assert_null(strstr(text, "round_trip_seconds{kind=\"audio\""));
  g_assert_null(strstr(text, "jitter_seconds{kind=\"audio\""));
  g_assert_null(strstr(text, "frames_per_second{kind=\"audio\""));
  assert_line(text, "anyroom_device_present{kind=\"camera\"} 0");
  assert_line(text, "anyroom_device_present{kind=\"speaker\"} 1");
  g_assert_null(strstr(text, "kind=\"microphone\""));
  g_assert_null(strstr(text, "kind=\"display\""));
  assert_line(text, "anyroom_update_phase{phase=\"idle\"} 1");
  assert_line(text, "anyroom_update_phase{phase=\"installing\"} 0");
  assert_line(text, "anyroom_update_last_install_failed 1");
  assert_line(text, "anyroom_update_marked_good 1");
  assert_line(text, "anyroom_update_rauc_available 0");
  assert_line(text, "anyroom_calendar_source_up{source=\"0\",kind=\"caldav\"} 0");
  assert_line(text, "anyroom_calendar_source_meetings{source=\"0\",kind=\"caldav\"} 12");
  assert_line(text, "anyroom_calendar_source_last_success_timestamp_seconds{source=\"0\","
                    "kind=\"caldav\"} 1774852802");
  /* Nothing that names a meeting, a person, a device path or a server. */
  const char *never[] = {"1234",    "secret",    "10.0.0.5",    "alice",   "bob",
                         "6452",    "Board",     "/dev/video7", "hw:CARD", "dav.example.org",
                         "refused", "signature", "publisher",   "feed-",   "H264",
                         "VP8"};
  for (gsize i = 0; i < G_N_ELEMENTS(never); i++)
    if (strstr(text, never[i]))
      g_error("'%s' reached the metrics:\n%s", never[i], text);
}

static void
test_idle_and_empty(void)
{
  g_autoptr(JsonNode) st =
      parse("{\"state\":\"idle\",\"engine\":null,\"provider\":null,\"participants\":[],"
            "\"tracks\":[],\"devices\":{}}");
  gsize len = 0;
  g_autofree char *text = render(st, &len);
  assert_exposition(text);
  assert_line(text, "anyroom_call_state{state=\"idle\"} 1");
  assert_line(text, "anyroom_build_info{version=\"unknown\"} 1");
  g_assert_null(strstr(text, "anyroom_call_info"));
  g_assert_null(strstr(text, "# TYPE anyroom_track_"));
  g_assert_null(strstr(text, "anyroom_device_present"));
  g_assert_null(strstr(text, "anyroom_update_"));
  g_assert_null(strstr(text, "anyroom_calendar_"));
  /* No status at all: the process and the join counters still. */
  g_autofree char *bare = render(NULL, &len);
  assert_exposition(bare);
  assert_line(bare, "anyroom_uptime_seconds 42.5");
  assert_line(bare, "anyroom_joins_total{outcome=\"cancelled\"} 1");
  g_assert_null(strstr(bare, "anyroom_call_state"));
}

/* Values outside the fixed sets become "other"; a version that is not one is "other". */
static void
test_bounded_labels(void)
{
  g_autoptr(JsonNode) st =
      parse("{\"state\":\"dancing\",\"engine\":\"sip\",\"provider\":\"my-own-app\","
            "\"tracks\":[{\"kind\":\"data\",\"direction\":\"recv\",\"bitrate_bps\":1},"
            "{\"kind\":\"video\",\"direction\":\"sideways\",\"bitrate_bps\":1}],"
            "\"update\":{\"running_version\":\"1.0\\n# TYPE evil gauge\",\"phase\":\"rebooting\"},"
            "\"calendar\":{\"sources\":[{\"kind\":\"exchange\",\"ok\":true,\"meetings\":1}]}}");
  gsize len = 0;
  g_autofree char *text = render(st, &len);
  assert_exposition(text);
  for (const char *const *s = (const char *const[]){"idle", "connected", "failed", NULL}; *s; s++) {
    g_autofree char *l = g_strdup_printf("anyroom_call_state{state=\"%s\"} 0", *s);
    assert_line(text, l);
  }
  assert_line(text, "anyroom_call_info{engine=\"other\",provider=\"other\"} 1");
  assert_line(text, "anyroom_build_info{version=\"other\"} 1");
  assert_line(text, "anyroom_update_phase{phase=\"idle\"} 0");
  assert_line(text, "anyroom_calendar_source_up{source=\"0\",kind=\"other\"} 1");
  g_assert_null(strstr(text, "anyroom_track_bytes"));
  g_assert_null(strstr(text, "evil"));
  g_assert_cmpstr(ar_web_metrics_bounded(NULL, providers), ==, "none");
  g_assert_cmpstr(ar_web_metrics_bounded("teams", providers), ==, "teams");
  g_assert_cmpstr(ar_web_metrics_bounded("Teams", providers), ==, "other");
  g_assert_cmpstr(ar_web_metrics_version("2026.11.1+rc2~x_y:z-1"), ==, "2026.11.1+rc2~x_y:z-1");
  g_assert_cmpstr(ar_web_metrics_version(""), ==, "other");
  g_assert_cmpstr(ar_web_metrics_version("a b"), ==, "other");
  g_assert_cmpstr(ar_web_metrics_version("v\"1"), ==, "other");
  g_autofree char *long_version = g_strnfill(65, '1');
  g_assert_cmpstr(ar_web_metrics_version(long_version), ==, "other");
}

/* The update channel and the install of its release (docs/fleet.md). */
static void
test_update_channel(void)
{
  g_autoptr(JsonNode) st = parse(
      "{\"state\":\"idle\",\"update\":{\"phase\":\"downloading\",\"channel\":{"
      "\"url_host\":\"updates.example.org\",\"name\":\"stable\",\"serial\":42,\"failures\":3,"
      "\"error\":\"download failed: secret\",\"state\":\"offered\",\"offered\":{\"version\":"
      "\"1.4.0\"},\"install\":{\"auto\":true,\"window\":\"02:00-05:00\",\"window_open\":false,"
      "\"state\":\"downloading\",\"version\":\"1.4.0\",\"downloaded_bytes\":1000,\"size\":5000,"
      "\"failures\":2,\"error\":null}}}}");
  gsize len = 0;
  g_autofree char *text = render(st, &len);
  assert_exposition(text);
  assert_line(text, "anyroom_update_phase{phase=\"downloading\"} 1");
  assert_line(text, "anyroom_update_channel_state{state=\"offered\"} 1");
  assert_line(text, "anyroom_update_channel_state{state=\"up-to-date\"} 0");
  assert_line(text, "anyroom_update_channel_serial 42");
  assert_line(text, "anyroom_update_channel_failures 3");
  assert_line(text, "anyroom_update_channel_install_state{state=\"downloading\"} 1");
  assert_line(text, "anyroom_update_channel_install_state{state=\"installing\"} 0");
  assert_line(text, "anyroom_update_channel_download_bytes 1000");
  assert_line(text, "anyroom_update_channel_download_size_bytes 5000");
  assert_line(text, "anyroom_update_channel_install_failures 2");
  assert_line(text, "anyroom_update_window_open 0");
  g_assert_null(strstr(text, "example.org"));
  g_assert_null(strstr(text, "secret"));
  g_assert_null(strstr(text, "1.4.0"));
  /* Unknown states are no new label values; no channel: no channel series. */
  g_autoptr(JsonNode) odd =
      parse("{\"update\":{\"phase\":\"idle\",\"channel\":{\"state\":\"evil\",\"serial\":null,"
            "\"install\":{\"state\":\"evil\\n\"}}}}");
  g_autofree char *t2 = render(odd, &len);
  assert_exposition(t2);
  assert_line(t2, "anyroom_update_channel_state{state=\"offered\"} 0");
  assert_line(t2, "anyroom_update_channel_install_state{state=\"idle\"} 0");
  g_assert_null(strstr(t2, "evil"));
  g_assert_null(strstr(t2, "anyroom_update_channel_serial"));
  g_autoptr(JsonNode) none = parse("{\"update\":{\"phase\":\"idle\",\"channel\":null}}");
  g_autofree char *t3 = render(none, &len);
  g_assert_null(strstr(t3, "anyroom_update_channel"));
}

static void
test_escape(void)
{
  struct {
    const char *in, *out;
  } cases[] = {
      {"plain", "plain"},
      {"a\\b", "a\\\\b"},
      {"say \"hi\"", "say \\\"hi\\\""},
      {"two\nlines", "two\\nlines"},
      {"", ""},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
      {"bad \xff byte", "bad \xef\xbf\xbd byte"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GString) s = g_string_new(NULL);
    ar_web_metrics_escape(s, cases[i].in);
    g_assert_cmpstr(s->str, ==, cases[i].out);
  }
  g_autoptr(GString) s = g_string_new(NULL);
  ar_web_metrics_escape(s, NULL);
  g_assert_cmpstr(s->str, ==, "");
}

/* A call with 1,000 tracks and 100 calendar sources: 8 tracks of each kind
 * and direction and 8 sources are reported, the counts are whole, and the
 * text stays far under the cap. */
static void
test_bounded_size(void)
{
  g_autoptr(GString) j = g_string_new("{\"state\":\"connected\",\"tracks\":[");
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf(j,
                           "%s{\"kind\":\"%s\",\"direction\":\"%s\",\"bitrate_bps\":%u,"
                           "\"packets\":%u,\"packets_lost\":0,\"rtt_ms\":1,\"jitter_ms\":1,"
                           "\"framerate\":30,\"freezes\":0,\"freeze_ms\":0}",
                           i ? "," : "", i % 2 ? "audio" : "video", i % 4 < 2 ? "send" : "recv", i,
                           i);
  g_string_append(j, "],\"calendar\":{\"sources\":[");
  for (guint i = 0; i < 100; i++)
    g_string_append_printf(j, "%s{\"kind\":\"feed\",\"ok\":true,\"meetings\":%u}", i ? "," : "", i);
  g_string_append(j, "]}}");
  g_autoptr(JsonNode) st = parse(j->str);
  gsize len = 0;
  g_autofree char *text = render(st, &len);
  assert_exposition(text);
  g_assert_cmpuint(len, <, AR_WEB_METRICS_MAX_BYTES);
  assert_line(text, "anyroom_call_tracks{kind=\"video\",direction=\"recv\"} 250");
  assert_line(text,
              "anyroom_track_bytes_per_second{kind=\"video\",direction=\"recv\",track=\"7\"} 3.75");
  g_assert_null(strstr(text, "track=\"8\""));
  g_assert_null(strstr(text, "source=\"8\""));
  assert_line(text, "anyroom_calendar_source_up{source=\"7\",kind=\"feed\"} 1");
  g_test_message("1,000 tracks and 100 sources: %" G_GSIZE_FORMAT " bytes", len);
}

/* Join outcomes from errors: a fixed set whatever the message. */
static void
test_join_outcomes(void)
{
  g_assert_cmpint(ar_join_outcome_of(NULL), ==, AR_JOIN_CONNECTED);
  g_autoptr(GError) busy = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_BUSY, "x");
  g_assert_cmpint(ar_join_outcome_of(busy), ==, AR_JOIN_BUSY);
  g_autoptr(GError) t = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_TIMEOUT, "x");
  g_assert_cmpint(ar_join_outcome_of(t), ==, AR_JOIN_TIMEOUT);
  g_autoptr(GError) c = g_error_new(AR_CALL_ERROR, AR_CALL_ERROR_CANCELLED, "x");
  g_assert_cmpint(ar_join_outcome_of(c), ==, AR_JOIN_CANCELLED);
  g_autoptr(GError) link = g_error_new(AR_LINK_ERROR, 0, "x");
  g_assert_cmpint(ar_join_outcome_of(link), ==, AR_JOIN_INVALID_LINK);
  g_autoptr(GError) ice = g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_ICE, "x");
  g_assert_cmpint(ar_join_outcome_of(ice), ==, AR_JOIN_NETWORK);
  g_autoptr(GError) fp = g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT, "x");
  g_assert_cmpint(ar_join_outcome_of(fp), ==, AR_JOIN_FINGERPRINT);
  g_autoptr(GError) pipe = g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "x");
  g_assert_cmpint(ar_join_outcome_of(pipe), ==, AR_JOIN_MEDIA);
  g_autoptr(GError) other = g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_assert_cmpint(ar_join_outcome_of(other), ==, AR_JOIN_PROVIDER);
  for (guint i = 0; i < AR_JOIN_N_OUTCOMES; i++) {
    const char *n = ar_join_outcome_to_string(i);
    g_assert_true(g_regex_match_simple("^[a-z_]+$", n, 0, 0));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web/metrics/connected-call", test_connected_call);
  g_test_add_func("/web/metrics/idle-and-empty", test_idle_and_empty);
  g_test_add_func("/web/metrics/bounded-labels", test_bounded_labels);
  g_test_add_func("/web/metrics/escape", test_escape);
  g_test_add_func("/web/metrics/update-channel", test_update_channel);
  g_test_add_func("/web/metrics/bounded-size", test_bounded_size);
  g_test_add_func("/web/metrics/join-outcomes", test_join_outcomes);
  return g_test_run();
}
