/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the bandwidth controller (media/ar-rate.c) against a simulated
 * bottleneck: what the controller sends above the link's capacity is lost, and
 * the far end reports it once a second as an RTCP receiver report would. The
 * real network test is tests/integration/test-bandwidth.mjs. The cases fed
 * with transport-wide feedback are in test-rate-twcc.c.
 */
#include <math.h>
#include <string.h>

#include "ar-peer-priv.h"
#include "ar-rate.h"
#include "rate-tests.h"

#define TICK_US (500 * G_TIME_SPAN_MILLISECOND)

typedef struct {
  ArRate *rate;
  gint64 now;
  double cap_kbps;               /* the link, 0: none */
  double sent_total, lost_total; /* packets (1 packet = 1 kbit here) */
  double sent_mark, lost_mark;   /* at the last receiver report */
  double rtt_ms;
  double last_sent_kbps;
  guint ticks;
} Sim;

static void
sim_init(Sim *s)
{
  memset(s, 0, sizeof(*s));
  s->rate = ar_rate_new(100, MAX_KBPS);
  s->now = 1000 * G_TIME_SPAN_SECOND;
  s->rtt_ms = 10;
}

/* One tick: the encoder sends the target; the link passes at most its cap. */
static void
sim_tick(Sim *s)
{
  double sent = ar_rate_get_target_kbps(s->rate) * 0.5;
  double passed = s->cap_kbps > 0 ? MIN(sent, s->cap_kbps * 0.5) : sent;

  s->sent_total += sent;
  s->lost_total += sent - passed;
  s->last_sent_kbps = sent * 2;
  s->ticks++;
  s->now += TICK_US;
  double loss = -1;
  if (s->ticks % 2 == 0) { /* a receiver report every second */
    double sent_i = s->sent_total - s->sent_mark;
    loss = sent_i > 0 ? (s->lost_total - s->lost_mark) / sent_i : 0;
    s->sent_mark = s->sent_total;
    s->lost_mark = s->lost_total;
  }
  ar_rate_on_report(s->rate, s->now, loss, s->rtt_ms, s->last_sent_kbps);
}

/* Runs @seconds; returns the mean rate sent over them (kbit/s). */
static double
sim_run(Sim *s, double seconds)
{
  double before = s->sent_total;
  guint n = (guint)(seconds * 2);

  for (guint i = 0; i < n; i++)
    sim_tick(s);
  return (s->sent_total - before) / seconds;
}

static void
test_clean(void)
{
  Sim s;

  sim_init(&s);
  sim_run(&s, 30);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  g_assert_cmpint(ar_rate_get_level(s.rate), ==, AR_RATE_LEVEL_FULL);
  g_assert_cmpstr(ar_rate_limit_to_string(ar_rate_get_limit(s.rate)), ==, "none");
  ar_rate_free(s.rate);
}

static void
test_cap_and_lift(void)
{
  Sim s;
  double mean;

  sim_init(&s);
  sim_run(&s, 5);
  /* 1 Mbit/s: the controller settles under it, not far from it. */
  s.cap_kbps = 1000;
  sim_run(&s, 10);
  mean = sim_run(&s, 10);
  g_test_message("cap 1000: mean sent %.0f kbit/s, target %u", mean,
                 ar_rate_get_target_kbps(s.rate));
  g_assert_cmpfloat(mean, <=, 1000 * 1.15);
  g_assert_cmpfloat(mean, >=, 1000 * 0.6);
  g_assert_cmpint(ar_rate_get_level(s.rate), ==, AR_RATE_LEVEL_FULL);
  /* 300 kbit/s: a smaller picture. */
  s.cap_kbps = 300;
  sim_run(&s, 10);
  mean = sim_run(&s, 10);
  g_test_message("cap 300: mean sent %.0f kbit/s, target %u, level %d", mean,
                 ar_rate_get_target_kbps(s.rate), ar_rate_get_level(s.rate));
  g_assert_cmpfloat(mean, <=, 300 * 1.15);
  g_assert_cmpfloat(mean, >=, 300 * 0.6);
  g_assert_cmpint(ar_rate_get_level(s.rate), !=, AR_RATE_LEVEL_FULL);
  /* Lifted: the full rate and picture again within 10 s. */
  s.cap_kbps = 0;
  guint ticks = 0;
  while ((ar_rate_get_target_kbps(s.rate) < MAX_KBPS ||
          ar_rate_get_level(s.rate) != AR_RATE_LEVEL_FULL) &&
         ticks < 60) {
    sim_tick(&s);
    ticks++;
  }
  g_test_message("full again %.1f s after the cap lifted", ticks * 0.5);
  /* 8.0 s before the level went up at twice its threshold; 7.0 s with x1.1
   * steps above a ceiling that moved up (6.5 s with x1.15). */
  g_assert_cmpuint(ticks, <=, 13);
  ar_rate_free(s.rate);
}

static void
test_remb(void)
{
  Sim s;

  sim_init(&s);
  ar_rate_on_remb(s.rate, s.now, 500000);
  sim_tick(&s);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, 500);
  g_assert_cmpstr(ar_rate_limit_to_string(ar_rate_get_limit(s.rate)), ==, "remb");
  /* Without a fresh REMB it no longer holds after 5 s. */
  sim_run(&s, 15);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  /* A REMB above the configured bitrate changes nothing. */
  ar_rate_on_remb(s.rate, s.now, 2000000);
  sim_tick(&s);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  ar_rate_free(s.rate);
}

static void
test_delay(void)
{
  Sim s;

  sim_init(&s);
  sim_run(&s, 5);
  /* A queue builds up: the round-trip time grows by 150 ms, no loss yet.
   * One measurement alone changes nothing (a busy host looks like that). */
  s.rtt_ms = 160;
  sim_tick(&s);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  s.rtt_ms = 170;
  sim_tick(&s);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), <, MAX_KBPS);
  g_assert_cmpstr(ar_rate_limit_to_string(ar_rate_get_limit(s.rate)), ==, "delay");
  /* Once per hold time, not once per report. */
  guint after_one = ar_rate_get_target_kbps(s.rate);
  sim_tick(&s);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, after_one);
  /* The queue drains: it grows back. */
  s.rtt_ms = 10;
  sim_run(&s, 20);
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  /* A path that got longer for good (a relay, another route): after 30 s it
   * is the new normal, not a queue; the rate comes back. */
  for (int i = 0; i < 120; i++) {
    s.rtt_ms = 200 + (i % 2); /* a new measurement each tick */
    sim_tick(&s);
  }
  g_assert_cmpuint(ar_rate_get_target_kbps(s.rate), ==, MAX_KBPS);
  ar_rate_free(s.rate);
}

/* Seen in CI on a loaded host: at the start of a call the encoder had sent
 * 91 kbit/s and one receiver report came back with a round trip of 250 ms.
 * That is no reason to drop to the minimum and halve the picture. */
static void
test_busy_host(void)
{
  ArRate *r = ar_rate_new(100, MAX_KBPS);
  gint64 now = 1000 * G_TIME_SPAN_SECOND;

  ar_rate_on_report(r, now, 0, 1, 91);
  now += TICK_US;
  ar_rate_on_report(r, now, 0, 250, 91);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), ==, MAX_KBPS);
  g_assert_cmpint(ar_rate_get_level(r), ==, AR_RATE_LEVEL_FULL);
  /* A queue that stays, with an encoder that has little to send: a decrease
   * from half the target, not from the little it sent. */
  now += TICK_US;
  ar_rate_on_report(r, now, 0, 260, 91);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), ==, (guint)(MAX_KBPS * 0.5 * 0.85));
  g_assert_cmpstr(ar_rate_limit_to_string(ar_rate_get_limit(r)), ==, "delay");
  ar_rate_free(r);
}

static void
test_hostile_reports(void)
{
  g_autoptr(ArRate) r = ar_rate_new(100, MAX_KBPS);
  gint64 t = G_TIME_SPAN_SECOND;

  /* Everything lost, nothing sent, times going nowhere: the floor holds, no
   * division by zero, the smallest picture. */
  for (int i = 0; i < 40; i++)
    ar_rate_on_report(r, t + (gint64)i * 4 * TICK_US, 1.0, -1, 0);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), >=, 100);
  g_assert_cmpint(ar_rate_get_level(r), ==, AR_RATE_LEVEL_HALF_SIZE_FPS);
  /* Nonsense values are clamped or ignored. */
  ar_rate_on_report(r, t, 7.5, 1e12, -5);
  ar_rate_on_report(r, t, NAN, NAN, NAN);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), >=, 100);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), <=, MAX_KBPS);
}

static void
test_remb_parse(void)
{
  /* 1 SSRC, exponent 3, mantissa 0x1d4c0 (120000): 960000 bit/s. */
  const guint8 ok[] = {'R', 'E', 'M', 'B', 1, (3 << 2) | 0x01, 0xd4, 0xc0, 1, 2, 3, 4};
  guint8 buf[sizeof(ok)];
  guint64 bps = 0;

  g_assert_true(ar_rate_parse_remb(ok, sizeof(ok), &bps));
  g_assert_cmpuint(bps, ==, 960000);
  /* Short of its SSRC list, too short, another tag, nothing. */
  g_assert_false(ar_rate_parse_remb(ok, sizeof(ok) - 1, &bps));
  g_assert_false(ar_rate_parse_remb(ok, 7, &bps));
  memcpy(buf, ok, sizeof(ok));
  buf[0] = 'X';
  g_assert_false(ar_rate_parse_remb(buf, sizeof(buf), &bps));
  g_assert_false(ar_rate_parse_remb(NULL, 0, &bps));
  /* The largest exponent saturates instead of wrapping. */
  memcpy(buf, ok, sizeof(ok));
  buf[5] = 0xff;
  g_assert_true(ar_rate_parse_remb(buf, sizeof(buf), &bps));
  g_assert_cmpuint(bps, ==, G_MAXUINT64);
}

/* Our sent packets are kept 1 s, or three round trips when that is longer,
 * at most 3 s; a report without a round trip, or a hostile one, keeps 1 s. */
static void
test_rtx_history(void)
{
  g_assert_cmpuint(ar_peer_rtx_history_ms(0), ==, 1000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(40), ==, 1000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(333), ==, 1000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(400), ==, 1200);
  g_assert_cmpuint(ar_peer_rtx_history_ms(900), ==, 2700);
  g_assert_cmpuint(ar_peer_rtx_history_ms(5000), ==, 3000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(-1), ==, 1000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(NAN), ==, 1000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(INFINITY), ==, 3000);
  g_assert_cmpuint(ar_peer_rtx_history_ms(1e300), ==, 3000);
}

/* While a key frame request waits, delta frames do not go; the key frame
 * does, and ends the wait, unless key frames wait too; so does its time
 * running out, for an encoder that never answers. Nothing is held back
 * without a request. */
static void
test_key_wait(void)
{
  ArKeyWait wait = {0};
  gint64 t = 1000 * G_TIME_SPAN_SECOND;

  g_assert_true(ar_key_wait_pass(&wait, t, TRUE));
  g_assert_true(ar_key_wait_pass(&wait, t, FALSE));
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 0);

  ar_key_wait_arm(&wait);
  for (int i = 0; i < 10; i++)
    g_assert_false(ar_key_wait_pass(&wait, t + i * 33 * G_TIME_SPAN_MILLISECOND, TRUE));
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 10);
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 0);
  g_assert_true(ar_key_wait_pass(&wait, t + G_TIME_SPAN_SECOND, FALSE));
  g_assert_true(ar_key_wait_pass(&wait, t + G_TIME_SPAN_SECOND + 33000, TRUE));

  /* A second request, much later: its own time, counted from its first
   * frame, not the first wait's. */
  t += 60 * G_TIME_SPAN_SECOND;
  ar_key_wait_arm(&wait);
  ar_key_wait_arm(&wait);
  g_assert_false(ar_key_wait_pass(&wait, t, TRUE));
  g_assert_false(ar_key_wait_pass(&wait, t + AR_KEY_WAIT_MAX_US - 1, TRUE));
  /* No key frame came: the deltas go again, and keep going. */
  g_assert_true(ar_key_wait_pass(&wait, t + AR_KEY_WAIT_MAX_US, TRUE));
  g_assert_true(ar_key_wait_pass(&wait, t + AR_KEY_WAIT_MAX_US + 33000, TRUE));
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 2);

  /* Key frames wait too: a key frame asked for before the wait (or the
   * encoder's periodic one) is not sent, and the frames after it neither;
   * once key frames may go, the next key frame ends the wait. */
  t += 60 * G_TIME_SPAN_SECOND;
  g_assert_false(ar_key_wait_holding(&wait));
  ar_key_wait_hold(&wait, TRUE);
  g_assert_true(ar_key_wait_holding(&wait));
  ar_key_wait_arm(&wait);
  g_assert_false(ar_key_wait_pass(&wait, t, TRUE));
  g_assert_false(ar_key_wait_pass(&wait, t + 33000, FALSE));
  g_assert_false(ar_key_wait_pass(&wait, t + 66000, TRUE));
  ar_key_wait_hold(&wait, FALSE);
  g_assert_false(ar_key_wait_holding(&wait));
  g_assert_false(ar_key_wait_pass(&wait, t + 99000, TRUE));
  g_assert_true(ar_key_wait_pass(&wait, t + 132000, FALSE));
  g_assert_true(ar_key_wait_pass(&wait, t + 165000, TRUE));
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 4);
  /* Held with no request waiting: the frames go (nothing to wait for). */
  ar_key_wait_hold(&wait, TRUE);
  g_assert_true(ar_key_wait_pass(&wait, t + 198000, FALSE));
  g_assert_true(ar_key_wait_pass(&wait, t + 231000, TRUE));
  /* ...and an encoder that makes only key frames does not stop the video
   * for longer than the wait's time. */
  ar_key_wait_arm(&wait);
  g_assert_false(ar_key_wait_pass(&wait, t + G_TIME_SPAN_SECOND, FALSE));
  g_assert_true(ar_key_wait_pass(&wait, t + G_TIME_SPAN_SECOND + AR_KEY_WAIT_MAX_US, FALSE));
  ar_key_wait_hold(&wait, FALSE);
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 1);

  /* The call ends mid-wait: nothing waits into the next. */
  ar_key_wait_hold(&wait, TRUE);
  ar_key_wait_arm(&wait);
  g_assert_false(ar_key_wait_pass(&wait, t + 10 * G_TIME_SPAN_SECOND, TRUE));
  ar_key_wait_reset(&wait);
  g_assert_false(ar_key_wait_holding(&wait));
  g_assert_cmpuint(ar_key_wait_take_dropped(&wait), ==, 0);
  g_assert_true(ar_key_wait_pass(&wait, t + 11 * G_TIME_SPAN_SECOND, TRUE));
  ar_key_wait_arm(&wait);
  g_assert_true(ar_key_wait_pass(&wait, t + 12 * G_TIME_SPAN_SECOND, FALSE)); /* not held */
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/rate/rtx-history", test_rtx_history);
  g_test_add_func("/media/rate/clean", test_clean);
  g_test_add_func("/media/rate/cap-and-lift", test_cap_and_lift);
  g_test_add_func("/media/rate/remb", test_remb);
  g_test_add_func("/media/rate/delay", test_delay);
  g_test_add_func("/media/rate/busy-host", test_busy_host);
  g_test_add_func("/media/rate/hostile-reports", test_hostile_reports);
  g_test_add_func("/media/rate/remb-parse", test_remb_parse);
  g_test_add_func("/media/rate/key-wait", test_key_wait);
  rate_twcc_tests_add();
  rate_probe_tests_add();
  rate_keys_tests_add();
  return g_test_run();
}
