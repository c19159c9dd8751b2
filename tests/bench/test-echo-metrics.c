/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-echo-metrics.c: echo-metrics (AR_ECHO_METRICS) on synthetic inputs. The talkers are
 * bursts of white noise on make-speech.sh's timeline; the microphone is the far end 0.3x,
 * 60 ms late, plus the near end, 7 ms late; the processed signal is one of: the microphone
 * itself (no cancellation), the near end only (perfect cancellation), silence.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define RATE 48000
#define N (RATE * 30)

static const char timeline[] =
    "{\"rate\": 48000, \"segments\": [{\"kind\": \"far\", \"start\": 0, \"end\": 10},"
    "{\"kind\": \"near\", \"start\": 10, \"end\": 15}, {\"kind\": \"double\", \"start\": 15, "
    "\"end\": 23}, {\"kind\": \"far\", \"start\": 23, \"end\": 28}, {\"kind\": \"silence\", "
    "\"start\": 28, \"end\": 30}]}";

static void
write_wav(const char *dir, const char *name, const double *x, gsize n)
{
  g_autofree guint8 *b = g_malloc0(44 + 2 * n);
  guint32 data = 2 * n, riff = 36 + data, sixteen = 16, rate = RATE, brate = RATE * 2;
  guint16 one = 1, align = 2, bits = 16;
  memcpy(b, "RIFF", 4);
  memcpy(b + 4, &riff, 4);
  memcpy(b + 8, "WAVEfmt ", 8);
  memcpy(b + 16, &sixteen, 4);
  memcpy(b + 20, &one, 2);
  memcpy(b + 22, &one, 2);
  memcpy(b + 24, &rate, 4);
  memcpy(b + 28, &brate, 4);
  memcpy(b + 32, &align, 2);
  memcpy(b + 34, &bits, 2);
  memcpy(b + 36, "data", 4);
  memcpy(b + 40, &data, 4);
  for (gsize i = 0; i < n; i++) {
    gint16 v = (gint16)CLAMP(lround(x[i]), -32768, 32767);
    memcpy(b + 44 + 2 * i, &v, 2);
  }
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(p, (char *)b, 44 + 2 * n, NULL));
}

/* Noise bursts (200-600 ms on, 100-300 ms off) in [from, to) seconds. */
static void
talker(double *x, GRand *r, double from, double to)
{
  gsize t = (gsize)(from * RATE);
  while (t < (gsize)(to * RATE)) {
    gsize on = g_rand_int_range(r, RATE / 5, RATE * 3 / 5);
    for (gsize i = t; i < t + on && i < (gsize)(to * RATE); i++)
      x[i] = 3000 * (g_rand_double(r) * 2 - 1);
    t += on + g_rand_int_range(r, RATE / 10, RATE * 3 / 10);
  }
}

typedef enum { OUT_MIC, OUT_NEAR, OUT_SILENCE } OutKind;

static JsonObject *
run(OutKind kind, char **dir_out)
{
  g_autofree double *far = g_new0(double, N), *near = g_new0(double, N);
  g_autofree double *mic = g_new0(double, N), *out = g_new0(double, N);
  g_autoptr(GRand) r = g_rand_new_with_seed(14);
  talker(far, r, 0, 10);
  talker(far, r, 15, 28);
  talker(near, r, 10, 23);
  gsize d_far = RATE * 60 / 1000, d_near = RATE * 7 / 1000;
  for (gsize t = 0; t < N; t++) {
    double e = t >= d_far ? 0.3 * far[t - d_far] : 0, v = t >= d_near ? near[t - d_near] : 0;
    mic[t] = e + v;
    out[t] = kind == OUT_MIC ? mic[t] : kind == OUT_NEAR ? v : 0;
  }
  char *dir = g_dir_make_tmp("echo-metrics-XXXXXX", NULL);
  g_assert_nonnull(dir);
  write_wav(dir, "far.wav", far, N);
  write_wav(dir, "near.wav", near, N);
  write_wav(dir, "mic.wav", mic, N);
  write_wav(dir, "out.wav", out, N);
  g_autofree char *tl = g_build_filename(dir, "timeline.json", NULL);
  g_assert_true(g_file_set_contents(tl, timeline, -1, NULL));
  const char *argv[] = {g_getenv("AR_ECHO_METRICS"), dir, NULL};
  g_autofree char *stdout_text = NULL;
  int status = 0;
  g_assert_true(
      g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &stdout_text, NULL, &status, NULL));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, stdout_text, -1, NULL));
  *dir_out = dir;
  return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static void
cleanup(char *dir)
{
  const char *names[] = {"far.wav", "near.wav", "mic.wav", "out.wav", "timeline.json"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *p = g_build_filename(dir, names[i], NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
  g_free(dir);
}

static double
num(JsonObject *o, const char *name)
{
  return json_object_get_double_member(o, name);
}

static void
test_no_cancellation(void)
{
  char *dir;
  g_autoptr(JsonObject) o = run(OUT_MIC, &dir);
  g_assert_cmpfloat(fabs(num(o, "far_lag_ms") - 60), <, 0.05);
  g_assert_cmpfloat(fabs(num(o, "near_lag_ms") - 7), <, 0.05);
  g_assert_cmpfloat(fabs(num(o, "erle_db")), <, 0.1);
  g_assert_cmpfloat(fabs(num(o, "erle_first_db")), <, 0.1);
  g_assert_cmpfloat(fabs(num(o, "near_kept_db")), <, 0.1);
  /* echo at 0.3x: -10.5 dB under the near end */
  g_assert_cmpfloat(fabs(num(o, "echo_in_mic_db") + 10.5), <, 1.5);
  g_assert_cmpfloat(num(o, "double_talk_corr"), >, 0.9);
  g_assert_cmpfloat(num(o, "double_talk_corr"), <, 0.98);
  g_assert_cmpfloat(num(o, "double_talk_energy_db"), >, 0.2);
  g_assert_cmpfloat(fabs(num(o, "double_talk_near_kept_db")), <, 0.2);
  cleanup(dir);
}

static void
test_perfect_cancellation(void)
{
  char *dir;
  g_autoptr(JsonObject) o = run(OUT_NEAR, &dir);
  g_assert_cmpfloat(num(o, "erle_db"), >, 60);
  g_assert_cmpfloat(num(o, "residual_dbfs"), <, -90);
  g_assert_cmpfloat(fabs(num(o, "near_kept_db")), <, 0.1);
  g_assert_cmpfloat(num(o, "double_talk_corr"), >, 0.999);
  g_assert_cmpfloat(fabs(num(o, "double_talk_energy_db")), <, 0.1);
  cleanup(dir);
}

static void
test_silence(void)
{
  char *dir;
  g_autoptr(JsonObject) o = run(OUT_SILENCE, &dir);
  g_assert_cmpfloat(num(o, "erle_db"), >, 60);
  g_assert_cmpfloat(num(o, "near_kept_db"), <, -60);
  g_assert_cmpfloat(fabs(num(o, "double_talk_corr")), <, 0.01);
  cleanup(dir);
}

/* Broken files: a clear error and status 1, never a crash. */
static void
test_bad_wav(void)
{
  char *dir;
  g_autoptr(JsonObject) o = run(OUT_MIC, &dir);
  g_autofree char *mic = g_build_filename(dir, "mic.wav", NULL);
  const char *bad[] = {"", "RIFF", "RIFF\xff\xff\xff\xffWAVEfmt \x10\0\0\0", "RIFF\0\0\0\0WAVEdata",
                       "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\1\0\2\0\x80\xbb\0\0\0\0\0\0\4\0\x10\0"};
  gsize lens[] = {0, 4, 20, 16, 36};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_true(g_file_set_contents(mic, bad[i], lens[i], NULL));
    const char *argv[] = {g_getenv("AR_ECHO_METRICS"), dir, NULL};
    g_autofree char *err = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, NULL));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, "mic.wav"));
  }
  cleanup(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  if (g_getenv("AR_ECHO_METRICS") == NULL)
    g_error("AR_ECHO_METRICS: the echo-metrics program");
  g_test_add_func("/echo-metrics/no-cancellation", test_no_cancellation);
  g_test_add_func("/echo-metrics/perfect-cancellation", test_perfect_cancellation);
  g_test_add_func("/echo-metrics/silence", test_silence);
  g_test_add_func("/echo-metrics/bad-wav", test_bad_wav);
  return g_test_run();
}
