/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the echo delay estimator (media/ar-echo-delay.c) on synthetic
 * rooms: a far end of noise bursts shaped like speech (on 0.6 s, off 0.3 s)
 * played by the speaker, and a microphone that hears it after a known delay,
 * attenuated, with a reflection and the room's own noise. The real room is
 * the echo lab (tests/lab/echo, docs/audio.md).
 */
#include <math.h>
#include <string.h>

#include "ar-echo-delay.h"

#define RATE 48000
#define CHUNK 480 /* 10 ms */
#define MAX_DELAY (RATE / 2)

typedef struct {
  ArEchoDelay *d;
  GRand *rand;
  gint64 t_ns;                   /* the next chunk's time */
  gint16 far[MAX_DELAY + CHUNK]; /* the far end's last samples, newest at the end */
  guint64 n;                     /* samples played so far */
  double delay_ms, gain, reflection_ms, reflection_gain, near_level;
  gboolean far_on, jitter;
} Room;

static void
room_init(Room *r, double delay_ms)
{
  memset(r, 0, sizeof(*r));
  r->d = ar_echo_delay_new();
  r->rand = g_rand_new_with_seed(14);
  r->t_ns = 1000 * G_TIME_SPAN_SECOND * 1000; /* 1000 s: any clock */
  r->delay_ms = delay_ms;
  r->gain = 0.3;
  r->reflection_ms = 17;
  r->reflection_gain = 0.1;
  r->near_level = 300; /* about -40 dBFS */
  r->far_on = TRUE;
}

static void
room_clear(Room *r)
{
  ar_echo_delay_free(r->d);
  g_rand_free(r->rand);
}

/* The far end's sample @back samples ago (0: the newest). */
static double
far_at(const Room *r, int back)
{
  return back < (int)G_N_ELEMENTS(r->far) ? r->far[G_N_ELEMENTS(r->far) - 1 - back] : 0;
}

/* 10 ms: the speaker plays a chunk at t, the microphone takes one at t. */
static void
room_step(Room *r)
{
  gint16 spk[CHUNK], mic[CHUNK];
  int delay = (int)(r->delay_ms * RATE / 1000),
      refl = (int)((r->delay_ms + r->reflection_ms) * RATE / 1000);

  memmove(r->far, r->far + CHUNK, sizeof(r->far) - CHUNK * sizeof(gint16));
  for (int i = 0; i < CHUNK; i++) {
    /* Bursts of noise, low-passed once: roughly speech's rhythm and colour. */
    gboolean on = r->far_on && (r->n + i) % (RATE * 9 / 10) < RATE * 6 / 10;
    double x = on ? g_rand_double_range(r->rand, -8000, 8000) : 0;
    double prev = r->far[G_N_ELEMENTS(r->far) - CHUNK - 1 + i];
    r->far[G_N_ELEMENTS(r->far) - CHUNK + i] = (gint16)(0.5 * x + 0.5 * prev);
    spk[i] = r->far[G_N_ELEMENTS(r->far) - CHUNK + i];
  }
  for (int i = 0; i < CHUNK; i++) {
    int back = CHUNK - 1 - i;
    double v = r->gain * far_at(r, back + delay) + r->reflection_gain * far_at(r, back + refl) +
               g_rand_double_range(r->rand, -r->near_level, r->near_level);
    mic[i] = (gint16)CLAMP(v, -32768, 32767);
  }
  ar_echo_delay_push_speaker(r->d, r->t_ns, spk, CHUNK);
  gint64 jitter = r->jitter ? g_rand_int_range(r->rand, -500, 500) * 1000 : 0;
  ar_echo_delay_push_microphone(r->d, r->t_ns + jitter, mic, CHUNK);
  r->t_ns += 10 * G_TIME_SPAN_MILLISECOND * 1000;
  r->n += CHUNK;
}

static void
room_run(Room *r, double seconds)
{
  for (int i = 0; i < (int)(seconds * 100); i++)
    room_step(r);
}

static void
test_finds_delay(void)
{
  const double delays[] = {73, 10, 150, 240};

  for (gsize k = 0; k < G_N_ELEMENTS(delays); k++) {
    Room r;
    guint confident = 0;
    room_init(&r, delays[k]);
    g_assert_cmpint(ar_echo_delay_get_ms(r.d), ==, -1);
    g_assert_cmpint(ar_echo_delay_get_shift_ns(r.d), ==, 0);
    room_run(&r, 8);
    guint estimates = ar_echo_delay_get_estimates(r.d, &confident);
    g_test_message("%.0f ms: measured %d ms (%u estimates, %u confident)", delays[k],
                   ar_echo_delay_get_ms(r.d), estimates, confident);
    g_assert_cmpint(abs(ar_echo_delay_get_ms(r.d) - (int)delays[k]), <=, 1);
    if (delays[k] > AR_ECHO_DELAY_TARGET_MS)
      g_assert_cmpint(ar_echo_delay_get_shift_ns(r.d), ==,
                      (gint64)(ar_echo_delay_get_ms(r.d) - AR_ECHO_DELAY_TARGET_MS) * 1000000);
    else
      g_assert_cmpint(ar_echo_delay_get_shift_ns(r.d), ==, 0); /* never later */
    room_clear(&r);
  }
}

/* The echo moves (a sound server changed its buffering): the new delay is
 * taken within a few seconds; a small wobble is not. */
static void
test_follows_change(void)
{
  Room r;

  room_init(&r, 73);
  room_run(&r, 6);
  g_assert_cmpint(abs(ar_echo_delay_get_ms(r.d) - 73), <=, 1);
  r.delay_ms = 75; /* within the hysteresis */
  room_run(&r, 6);
  g_assert_cmpint(abs(ar_echo_delay_get_ms(r.d) - 73), <=, 1);
  r.delay_ms = 120;
  room_run(&r, 6);
  g_assert_cmpint(abs(ar_echo_delay_get_ms(r.d) - 120), <=, 1);
  room_clear(&r);
}

/* No echo to find: the microphone hears only the room (the near end talking
 * while the far end does), or the far end is silent. */
static void
test_no_echo(void)
{
  Room r;
  guint confident = 99;

  room_init(&r, 73);
  r.gain = r.reflection_gain = 0;
  r.near_level = 8000;
  room_run(&r, 10);
  g_assert_cmpuint(ar_echo_delay_get_estimates(r.d, &confident), >=, 8);
  g_assert_cmpuint(confident, ==, 0);
  g_assert_cmpint(ar_echo_delay_get_ms(r.d), ==, -1);
  room_clear(&r);

  /* An echo at 0 ms (or before its reference's time: outside the range) is
   * no located peak: no measurement, no shift. */
  room_init(&r, 0);
  room_run(&r, 10);
  g_assert_cmpint(ar_echo_delay_get_ms(r.d), ==, -1);
  g_assert_cmpint(ar_echo_delay_get_shift_ns(r.d), ==, 0);
  room_clear(&r);

  room_init(&r, 73);
  r.far_on = FALSE;
  room_run(&r, 10);
  ar_echo_delay_get_estimates(r.d, &confident);
  g_assert_cmpuint(confident, ==, 0);
  g_assert_cmpint(ar_echo_delay_get_ms(r.d), ==, -1);
  room_clear(&r);
}

/* An inverted echo (a speaker wired the other way round), and microphone
 * timestamps that wobble by half a millisecond. */
static void
test_polarity_and_jitter(void)
{
  Room r;

  room_init(&r, 90);
  r.gain = -0.3;
  r.reflection_gain = -0.1;
  r.jitter = TRUE;
  room_run(&r, 8);
  g_assert_cmpint(abs(ar_echo_delay_get_ms(r.d) - 90), <=, 2);
  room_clear(&r);
}

/* Whatever it is fed: no crash, a delay in range or none. */
static void
test_hostile_input(void)
{
  g_autoptr(ArEchoDelay) d = ar_echo_delay_new();
  g_autofree gint16 *big = g_new0(gint16, RATE * 11);
  gint16 loud[CHUNK];
  const gint64 times[] = {-1, 0, 1, G_MAXINT64, G_MAXINT64 - 1, G_MININT64, 999999999999, 5};

  for (int i = 0; i < CHUNK; i++)
    loud[i] = i % 2 ? G_MAXINT16 : G_MININT16;
  ar_echo_delay_push_speaker(d, 0, NULL, 480);
  ar_echo_delay_push_microphone(d, 0, NULL, 480);
  ar_echo_delay_push_microphone(d, 0, loud, 0);
  ar_echo_delay_push_speaker(d, 0, big, RATE * 11); /* over 10 s at once: ignored */
  ar_echo_delay_push_microphone(d, 0, big, RATE * 11);
  for (int round = 0; round < 400; round++) {
    gint64 t = times[round % G_N_ELEMENTS(times)] + round;
    if (round % 3 == 0)
      t = (gint64)round * 10000000; /* runs of real time, then back */
    ar_echo_delay_push_speaker(d, t, loud, CHUNK);
    ar_echo_delay_push_microphone(d, t, loud, CHUNK);
  }
  g_assert_cmpint(ar_echo_delay_get_ms(d), >=, -1);
  g_assert_cmpint(ar_echo_delay_get_ms(d), <=, AR_ECHO_DELAY_MAX_MS);
  g_assert_cmpint(ar_echo_delay_get_shift_ns(d), >=, 0);
  ar_echo_delay_free(NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/echo-delay/finds-delay", test_finds_delay);
  g_test_add_func("/media/echo-delay/follows-change", test_follows_change);
  g_test_add_func("/media/echo-delay/no-echo", test_no_echo);
  g_test_add_func("/media/echo-delay/polarity-and-jitter", test_polarity_and_jitter);
  g_test_add_func("/media/echo-delay/hostile-input", test_hostile_input);
  return g_test_run();
}
