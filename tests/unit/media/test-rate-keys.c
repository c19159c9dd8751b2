/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the bandwidth controller's key frame waits (media/ar-rate.c,
 * ar_rate_key_frame_ok): key frames held while a queue drains, released by
 * the windows that show it drained or by the room the stopped frames left,
 * asked for again when one went into a queue that lost packets. Windows from
 * lab runs and the simulated path of rate-sim.c. test-rate.c holds main and
 * calls rate_keys_tests_add().
 */
#include <string.h>

#include "rate-tests.h"

/* Key frames go again at the first window that shows the queue draining with
 * nothing lost (the drop to 300 kbit/s of a lab run, 2026-12-05, load average
 * 14: the sum of the windows' delays said "drained" only 1.2 s after the
 * first overuse, and the far end froze as long). */
static void
test_twcc_key_frame_drained(void)
{
  g_autoptr(ArRate) r = ar_rate_new(100, MAX_KBPS);
  gint64 now = 1000 * G_TIME_SPAN_SECOND;
  static const ArRateTwcc seen[] = {
      {607, 364, 0, 5.78, 6},       {804, 335, 0.184, 9.63, 19}, /* the queue overflows */
      {768, 175, 0.514, -6.58, 21}, {963, 190, 0.568, -4.46, 32}, {361, 182, 0.375, 1.32, 10},
      {145, 148, 0.062, -0.60, 11}, {93, 128, 0, -7.99, 10}, /* draining, nothing lost */
  };

  /* Held from the overflow through the last window that lost packets. */
  for (guint n = 2; n < G_N_ELEMENTS(seen); n++) {
    g_autoptr(ArRate) h = ar_rate_new(100, MAX_KBPS);
    gint64 t = now;

    twcc_feed(h, &t, seen, n);
    g_assert_false(ar_rate_key_frame_ok(h, t));
  }
  twcc_feed(r, &now, seen, G_N_ELEMENTS(seen));
  g_assert_cmpuint(ar_rate_get_target_kbps(r), <, 128);
  g_assert_true(ar_rate_key_frame_ok(r, now));
  /* A window sooner: the one before lost 6 % of its 300 ms, packets sent
   * before the decrease, but every packet new in its feedback arrived. */
  ArRateTwcc sooner[G_N_ELEMENTS(seen) - 1];
  memcpy(sooner, seen, sizeof(sooner));
  sooner[G_N_ELEMENTS(sooner) - 1].packets_arrived = sooner[G_N_ELEMENTS(sooner) - 1].packets_sent;
  g_autoptr(ArRate) s = ar_rate_new(100, MAX_KBPS);
  gint64 t = now;
  twcc_feed(s, &t, sooner, G_N_ELEMENTS(sooner) - 1);
  g_assert_false(ar_rate_key_frame_ok(s, t));
  t += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(s, t, &sooner[G_N_ELEMENTS(sooner) - 1]);
  g_assert_true(ar_rate_key_frame_ok(s, t));

  /* Another run (load average 2): a probe over the 1 Mbit/s cap overflowed
   * as the 300 kbit/s one came, and the encoder all but stopped after the
   * decrease: no window could show the queue draining, and the held key
   * frame waited the 2 s. The first loss-free window that kept up while we
   * sent under what the link passed lets it go. */
  g_autoptr(ArRate) q = ar_rate_new(100, MAX_KBPS);
  static const ArRateTwcc probe[] = {
      {947, 844, 0, 1.04, 23},      {823, 854, 0, 0.78, 23},       {977, 833, 0, 1.18, 21},
      {1028, 862, 0.146, 1.00, 33}, {1184, 794, 0.283, -0.50, 36}, {787, 806, 0.057, -0.69, 27},
      {815, 815, 0.526, 0.66, 39},  {559, 368, 0.488, 0.52, 18},
  };
  twcc_feed(q, &now, probe, G_N_ELEMENTS(probe));
  g_assert_false(ar_rate_key_frame_ok(q, now));
  const ArRateTwcc stalled = {
      .sent_kbps = 43, .recv_kbps = 43, .delay_growth_ms = 0.05, .packets_sent = 6};
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(q, now, &stalled);
  g_assert_true(ar_rate_key_frame_ok(q, now));
}

/* Once the frames stopped (a key frame request waits and the encoder's frames
 * are not sent), the key frame goes when the link had time to pass one: no
 * window comes to tell the queue drained, since we send nothing for one. The
 * windows of the drop to 300 kbit/s of a lab run (2026-12-07) in which the
 * frames stopped and the key frame waited the whole 2 s for a window. */
static void
test_twcc_key_frame_room(void)
{
  g_autoptr(ArRate) r = ar_rate_new(100, MAX_KBPS);
  gint64 now = 1000 * G_TIME_SPAN_SECOND;
  static const ArRateTwcc drop[] = {
      {540, 551, 0, -0.01, 18, 0.8},    {571, 421, 0, 1.76, 9, 0.8},
      {681, 374, 0, 5.60, 6, 1.1},      {751, 280, 0.2, 12.18, 17, 1.1},
      {596, 199, 0.455, 2.36, 21, 239}, {500, 216, 0.385, 0.18, 14, 254},
      {64, 75, 0.125, -27.01, 7, 139},
  };

  /* Not holding: nothing to wait for, and stopping frames changes nothing. */
  ar_rate_on_key_wait(r, now);
  g_assert_true(ar_rate_key_frame_ok(r, now));
  twcc_feed(r, &now, drop, 5);
  g_assert_false(ar_rate_key_frame_ok(r, now));
  double target = ar_rate_get_target_kbps(r), ceiling = ar_rate_get_ceiling_kbps(r);
  gint64 room =
      MAX((gint64)(0.4 * target / ceiling * G_TIME_SPAN_SECOND), 100 * G_TIME_SPAN_MILLISECOND);
  g_test_message("target %.0f, ceiling %.0f kbit/s: room in %" G_GINT64_FORMAT " ms", target,
                 ceiling, room / 1000);
  g_assert_cmpint(room, <, G_TIME_SPAN_SECOND);
  gint64 stop = now + 20 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_key_wait(r, stop);
  /* Each frame not sent says so again: the time counts from the first. */
  ar_rate_on_key_wait(r, stop + 33 * G_TIME_SPAN_MILLISECOND);
  /* (The target's fraction of a kbit/s, which the getter leaves out: 5 ms.) */
  g_assert_false(ar_rate_key_frame_ok(r, stop + room - 5 * G_TIME_SPAN_MILLISECOND));
  /* The windows of packets sent before say nothing new. */
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(r, now, &drop[5]);
  g_assert_true(now >= stop + room - 5 * G_TIME_SPAN_MILLISECOND || !ar_rate_key_frame_ok(r, now));
  g_assert_true(ar_rate_key_frame_ok(r, stop + room + 5 * G_TIME_SPAN_MILLISECOND));

  /* The next overuse holds key frames again, with frames flowing. */
  now += 5 * G_TIME_SPAN_SECOND;
  const ArRateTwcc clean = {.sent_kbps = 280, .recv_kbps = 280, .packets_sent = 12};
  for (int i = 0; i < 15; i++) {
    now += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(r, now, &clean);
  }
  const ArRateTwcc overflow = {
      .sent_kbps = 400, .recv_kbps = 150, .loss = 0.3, .delay_growth_ms = 10, .packets_sent = 15};
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(r, now, &overflow);
  g_assert_false(ar_rate_key_frame_ok(r, now));
  g_assert_false(ar_rate_key_frame_ok(r, now + room));
}

/* A key frame asked for just before the queue showed it lost packets went
 * into that queue: it is asked for again, to go once the queue drained. The
 * windows of the drop to 300 kbit/s of a lab run (2026-12-07): the
 * retransmissions over the budget asked for a key frame 40 ms before the
 * window that began the wait, and the far end froze 1.7 s. */
static void
test_twcc_key_frame_again(void)
{
  static const ArRateTwcc drop[] = {
      /* (under the 1 Mbit/s cap, which brings the target to 600-700) */
      {936, 850, 0, 0.41, 24, 2.8},
      {921, 853, 0, 1.23, 23, 10.7},
      {1029, 852, 0, 1.37, 23, 30.9},
      {596, 928, 0, -3.41, 30, 4.7},
      /* the 300 kbit/s cap */
      {623, 540, 0, 0.08, 8, 4.7},
      {551, 374, 0, 7.05, 10, 4.7},
      {598, 225, 0.226, 9.42, 15, 49.2},
      {564, 194, 0.438, 0.36, 18, 250},
      {733, 181, 0.5, -1.85, 29, 242},
      {26, 55, 0, -14.87, 15, 21.3},
  };
  /* When the request went, against the window that began the wait (ms; the
   * window's time is that of the last window fed before it plus 200), and
   * whether it is asked for again. */
  static const struct {
    gint64 before_ms;
    gboolean again;
  } cases[] = {
      {40, TRUE},   /* the lab run's */
      {290, TRUE},  /* its feedback covers 200-300 ms */
      {600, FALSE}, /* sent before the link narrowed: it arrived */
      {-20, TRUE},  /* it raced the wait's start */
  };

  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    g_autoptr(ArRate) r = ar_rate_new(100, MAX_KBPS);
    gint64 now = 1000 * G_TIME_SPAN_SECOND;
    guint again = 0;

    twcc_feed(r, &now, drop, 0);
    for (guint i = 0; i < G_N_ELEMENTS(drop); i++) {
      gint64 next = now + 200 * G_TIME_SPAN_MILLISECOND;
      gint64 asked = next - cases[c].before_ms * G_TIME_SPAN_MILLISECOND;
      if (i == 6 && asked <= next) /* (before this window) */
        ar_rate_on_key_request(r, asked);
      ar_rate_on_twcc(r, next, &drop[i]);
      if (i == 6 && asked > next)
        ar_rate_on_key_request(r, asked);
      if (i == 5)
        g_assert_true(ar_rate_key_frame_ok(r, next)); /* the 1 Mbit/s cap's queue drained */
      if (i == 6)
        g_assert_false(ar_rate_key_frame_ok(r, next)); /* the window that lost 23 % */
      again += ar_rate_take_key_again(r, next) ? 1 : 0;
      now = next;
    }
    g_test_message("asked %" G_GINT64_FORMAT " ms before: again %u", cases[c].before_ms, again);
    g_assert_cmpuint(again, ==, cases[c].again ? 1 : 0);
    g_assert_true(ar_rate_key_frame_ok(r, now)); /* drained: it goes */
    /* Once it went, a request is the one asked for again: no more. */
    ar_rate_on_key_request(r, now);
    g_assert_false(ar_rate_take_key_again(r, now));
  }

  /* Asked for again, but not taken before key frames went (the fuzzer's
   * case: no decision between): the key frame that went answers it. */
  g_autoptr(ArRate) late = ar_rate_new(100, MAX_KBPS);
  gint64 t = 1000 * G_TIME_SPAN_SECOND;
  twcc_feed(late, &t, drop, 6);
  ar_rate_on_key_request(late, t + 160 * G_TIME_SPAN_MILLISECOND);
  t += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(late, t, &drop[6]);
  g_assert_false(ar_rate_key_frame_ok(late, t));
  for (guint i = 7; i < G_N_ELEMENTS(drop); i++) {
    t += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(late, t, &drop[i]);
  }
  g_assert_true(ar_rate_key_frame_ok(late, t));
  g_assert_false(ar_rate_take_key_again(late, t));

  /* A wait for a queue that loses nothing (the 1 Mbit/s cap's: the queue
   * delays the key frame, it does not lose it): not again. */
  g_autoptr(ArRate) d = ar_rate_new(100, MAX_KBPS);
  gint64 now = 1000 * G_TIME_SPAN_SECOND;
  static const ArRateTwcc capped[] = {{1026, 838, 0, 1.35, 22, 3}, {1236, 839, 0, 2.14, 21, 20}};
  twcc_feed(d, &now, capped, 1);
  ar_rate_on_key_request(d, now + 150 * G_TIME_SPAN_MILLISECOND);
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(d, now, &capped[1]);
  g_assert_false(ar_rate_key_frame_ok(d, now));
  g_assert_false(ar_rate_take_key_again(d, now));
  /* ...nor one racing its start. */
  ar_rate_on_key_request(d, now + 10 * G_TIME_SPAN_MILLISECOND);
  g_assert_false(ar_rate_take_key_again(d, now + 10 * G_TIME_SPAN_MILLISECOND));
}

/* A link that narrows at once: key frames wait until a window shows the queue
 * drained (one sent into the full queue is lost), 2 s at most. */
static void
test_twcc_key_frame_waits(void)
{
  TwSim s;

  tw_init(&s);
  tw_run(&s, 5);
  g_assert_true(ar_rate_key_frame_ok(s.rate, s.now));
  s.cap_kbps = 300;
  while (ar_rate_get_target_kbps(s.rate) >= MAX_KBPS)
    tw_step(&s);
  gint64 cut = s.now;
  g_test_message("first decrease: %u kbit/s", ar_rate_get_target_kbps(s.rate));
  g_assert_false(ar_rate_key_frame_ok(s.rate, s.now));
  while (!ar_rate_key_frame_ok(s.rate, s.now))
    tw_step(&s);
  g_test_message("key frames wait %.1f s", (double)(s.now - cut) / 1e6);
  g_assert_cmpint(s.now - cut, <=, 2 * G_TIME_SPAN_SECOND);
  /* Not into a full queue: drained, or the longest wait. */
  g_assert_true(tw_delay_ms(&s) < 50 || s.now - cut >= 2 * G_TIME_SPAN_SECOND);
  /* A link that stays overloaded still gets key frames: waits of 2 s at
   * most each 4 s (100 steps of 100 ms). */
  gint64 held = 0;
  for (int i = 0; i < 100; i++) {
    tw_step(&s);
    held += ar_rate_key_frame_ok(s.rate, s.now) ? 0 : 1;
  }
  g_assert_cmpint(held, <=, 60);
  ar_rate_free(s.rate);
}

/* A wait that the queue's draining ended ends the episode: a link that
 * narrows again 2 s later holds key frames again (the 4 s between waits are
 * for one that ran out its time). */
static void
test_twcc_key_frame_next_episode(void)
{
  g_autoptr(ArRate) r = ar_rate_new(100, MAX_KBPS);
  gint64 now = G_TIME_SPAN_SECOND;
  const ArRateTwcc clean = {.sent_kbps = 1400, .recv_kbps = 1400, .packets_sent = 30};
  /* A 1 Mbit/s cap: a queue filling over two windows. */
  const ArRateTwcc filling = {
      .sent_kbps = 1300, .recv_kbps = 900, .delay_growth_ms = 2.5, .packets_sent = 25};

  for (int i = 0; i < 10; i++) {
    now += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(r, now, &clean);
  }
  for (int i = 0; i < 2; i++) {
    now += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(r, now, &filling);
  }
  g_assert_false(ar_rate_key_frame_ok(r, now));
  /* It drains: the arrivals close up, nothing lost, under what arrives. */
  guint target = ar_rate_get_target_kbps(r);
  const ArRateTwcc drains = {
      .sent_kbps = target, .recv_kbps = 900, .delay_growth_ms = -3, .packets_sent = 20};
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(r, now, &drains);
  g_assert_true(ar_rate_key_frame_ok(r, now));
  /* Under the cap for 1.6 s. */
  const ArRateTwcc under = {.sent_kbps = target, .recv_kbps = target, .packets_sent = 20};
  for (int i = 0; i < 8; i++) {
    now += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(r, now, &under);
  }
  /* The link narrows to 300 kbit/s: the queue overflows at once. */
  const ArRateTwcc overflow = {.sent_kbps = target,
                               .recv_kbps = 300,
                               .loss = 0.25,
                               .delay_growth_ms = 13,
                               .packets_sent = 18};
  now += 200 * G_TIME_SPAN_MILLISECOND;
  ar_rate_on_twcc(r, now, &overflow);
  g_assert_cmpuint(ar_rate_get_target_kbps(r), <, 300);
  /* The key frame for what it lost waits for the queue to drain (it went at
   * once when the first wait had begun less than 4 s before). */
  g_assert_false(ar_rate_key_frame_ok(r, now));
}

/* A key frame let go while the queue still loses (the decrease before the
 * wait was not deep enough: the next window says less arrives than the
 * target, the queue standing) went into that queue: the target goes under
 * what arrives, key frames wait again, and that one is asked for again. A
 * window that says the link passes more than the target changes nothing:
 * the hold after a decrease drains a queue full of packets sent before it.
 * The drop to 300 kbit/s of twcc-key-frame-room, then windows of the lab
 * run of twcc-probe-decrease-short. */
static void
test_twcc_key_frame_short(void)
{
  static const ArRateTwcc drop[] = {
      {540, 551, 0, -0.01, 18, 0.8},    {571, 421, 0, 1.76, 9, 0.8},
      {681, 374, 0, 5.60, 6, 1.1},      {751, 280, 0.2, 12.18, 17, 1.1},
      {596, 199, 0.455, 2.36, 21, 239},
  };

  for (guint c = 0; c < 2; c++) {
    g_autoptr(ArRate) r = ar_rate_new(30, MAX_KBPS); /* (a floor under the case's figures) */
    gint64 now = 1000 * G_TIME_SPAN_SECOND;

    twcc_feed(r, &now, drop, G_N_ELEMENTS(drop));
    g_assert_false(ar_rate_key_frame_ok(r, now));
    guint target = ar_rate_get_target_kbps(r);
    gint64 cut = now;
    /* The frames stop; the key frame goes once they left room for it. */
    gint64 t = now + 20 * G_TIME_SPAN_MILLISECOND;
    while (!ar_rate_key_frame_ok(r, t)) {
      ar_rate_on_key_wait(r, t);
      t += 33 * G_TIME_SPAN_MILLISECOND;
    }
    ar_rate_on_key_request(r, t);
    g_assert_false(ar_rate_take_key_again(r, t));
    /* The next window: 31 % lost, the queue at 279 ms, and what
     * arrived 0.8 x the target (the case of the lab run), or 1.3 x. */
    double arrived = (c == 0 ? 0.8 : 1.3) * target;
    ArRateTwcc after = {1.1 * target, arrived, 0.308, -0.54, 8, 279.1};
    now = MAX(now + 200 * G_TIME_SPAN_MILLISECOND, t + 50 * G_TIME_SPAN_MILLISECOND);
    ar_rate_on_twcc(r, now, &after);
    gboolean again = ar_rate_take_key_again(r, now);
    g_test_message("target %u kbit/s, the key frame went %" G_GINT64_FORMAT
                   " ms after the decrease; %.0f kbit/s arrived: the target %u kbit/s, "
                   "key frames %s, asked again: %s",
                   target, (t - cut) / 1000, arrived, ar_rate_get_target_kbps(r),
                   ar_rate_key_frame_ok(r, now) ? "go" : "wait", again ? "yes" : "no");
    if (c == 0) {
      g_assert_cmpuint(ar_rate_get_target_kbps(r), <, arrived);
      g_assert_false(ar_rate_key_frame_ok(r, now));
      g_assert_true(again);
    } else {
      g_assert_cmpuint(ar_rate_get_target_kbps(r), ==, target);
      g_assert_true(ar_rate_key_frame_ok(r, now));
      g_assert_false(again);
    }
  }
}

void
rate_keys_tests_add(void)
{
  g_test_add_func("/media/rate/twcc-key-frame-waits", test_twcc_key_frame_waits);
  g_test_add_func("/media/rate/twcc-key-frame-next-episode", test_twcc_key_frame_next_episode);
  g_test_add_func("/media/rate/twcc-key-frame-drained", test_twcc_key_frame_drained);
  g_test_add_func("/media/rate/twcc-key-frame-room", test_twcc_key_frame_room);
  g_test_add_func("/media/rate/twcc-key-frame-again", test_twcc_key_frame_again);
  g_test_add_func("/media/rate/twcc-key-frame-short", test_twcc_key_frame_short);
}
