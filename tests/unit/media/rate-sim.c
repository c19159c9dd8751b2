/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bandwidth controller's tests' simulated path (rate-tests.h): a token
 * bucket that transport-wide feedback windows describe, and a feed of
 * windows taken from lab runs.
 */
#include <math.h>
#include <string.h>

#include "rate-tests.h"

void
tw_init(TwSim *s)
{
  memset(s, 0, sizeof(*s));
  s->rate = ar_rate_new(100, MAX_KBPS);
  s->now = 1000 * G_TIME_SPAN_SECOND;
}

double
tw_delay_ms(const TwSim *s)
{
  return s->cap_kbps > 0 ? s->queue_kbit / s->cap_kbps * 1000.0 : 0;
}

void
tw_step(TwSim *s)
{
  double kbps = 0;

  if (s->probes && !s->probe_on && s->probe_result_at == 0 &&
      ar_rate_probe_start(s->rate, s->now, &kbps)) {
    s->probe_on = TRUE;
    s->probe_kbps = kbps;
    s->probe_us = ar_rate_probe_duration_us(kbps);
    s->probe_steps = 0;
    s->probe_sent = s->probe_served = s->probe_dropped = 0;
    s->probe_delay0 = tw_delay_ms(s);
    s->probe_target_before = ar_rate_get_target_kbps(s->rate);
    if (s->probes_passed + s->probes_failed < G_N_ELEMENTS(s->probe_starts))
      s->probe_starts[s->probes_passed + s->probes_failed] = s->now;
  }
  double sent = (s->probe_on ? s->probe_kbps : ar_rate_get_target_kbps(s->rate)) * 0.1;
  double served = sent, dropped = 0;

  if (s->cap_kbps > 0) {
    double room = s->cap_kbps * 0.1, max_queue = s->cap_kbps * 0.15;

    s->queue_kbit += sent;
    /* The burst: tokens saved while under the cap let more through. */
    double extra = MIN(s->tokens_kbit, MAX(s->queue_kbit - room, 0.0));
    served = MIN(s->queue_kbit, room + extra);
    s->tokens_kbit = MIN(s->tokens_kbit - extra + MAX(room - (served - extra), 0.0), s->burst_kbit);
    s->queue_kbit -= served;
    if (s->queue_kbit > max_queue) {
      dropped = s->queue_kbit - max_queue;
      s->queue_kbit = max_queue;
    }
  } else {
    served += s->queue_kbit;
    s->queue_kbit = 0;
  }
  s->win_sent += sent;
  s->win_served += served;
  s->win_dropped += dropped;
  s->sent_total += sent;
  s->dropped_total += dropped;
  s->steps++;
  s->now += TW_STEP_US;
  if (s->probe_on) {
    s->probe_sent += sent;
    s->probe_served += served;
    s->probe_dropped += dropped;
    if (ar_rate_probe_failing(s->rate) && !ar_rate_key_frame_ok(s->rate, s->now))
      s->probe_keys_held++;
    if (++s->probe_steps * TW_STEP_US >= s->probe_us || ar_rate_probe_failing(s->rate)) {
      s->probe_on = FALSE;
      s->probe_rise = tw_delay_ms(s) - s->probe_delay0;
      s->probe_result_at = s->now + 2 * TW_STEP_US;
    }
  } else if (s->probe_result_at != 0 && s->now >= s->probe_result_at) {
    double span = s->probe_steps * 0.1;
    ArRateProbe p = {.sent_kbps = s->probe_sent / span,
                     .recv_kbps = s->probe_served / span,
                     .packets = (guint)(s->probe_sent / 9.6),
                     .lost = (guint)ceil(s->probe_dropped / 9.6),
                     .rise_ms = s->probe_rise};
    gboolean passed = FALSE;
    ar_rate_on_probe(s->rate, s->now, &p, &passed);
    if (ar_rate_get_target_kbps(s->rate) < s->probe_target_before)
      s->probe_cut++;
    if (passed)
      s->probes_passed++;
    else
      s->probes_failed++;
    g_test_message("probe to %.0f kbit/s (cap %.0f): sent %.0f, arrived %.0f, lost %u, delay up "
                   "%.0f ms: %s; target %u",
                   s->probe_kbps, s->cap_kbps, p.sent_kbps, p.recv_kbps, p.lost, p.rise_ms,
                   passed ? "passed" : "failed", ar_rate_get_target_kbps(s->rate));
    s->probe_result_at = 0;
  }
  if (s->steps % 2 == 0) {
    double packets = s->win_sent / 9.6; /* 1200-byte packets */
    ArRateTwcc w = {
        .sent_kbps = s->win_sent / 0.2,
        .recv_kbps = s->win_served / 0.2,
        .loss = s->win_sent > 0 ? s->win_dropped / s->win_sent : 0,
        .delay_growth_ms = packets > 0 ? (tw_delay_ms(s) - s->win_delay0) / packets : 0,
        .packets_sent = (guint)packets,
        /* The window's least queued packet waited the lower of the two. */
        .queue_ms = MIN(tw_delay_ms(s), s->win_delay0),
    };
    ar_rate_on_twcc(s->rate, s->now, &w);
    s->win_sent = s->win_served = s->win_dropped = 0;
    s->win_delay0 = tw_delay_ms(s);
  }
  /* The receiver reports' round trip: the path's 10 ms and the queue's wait. */
  if (s->steps % 5 == 0)
    ar_rate_on_report(s->rate, s->now, -1, 10 + tw_delay_ms(s) + (s->steps % 10) * 0.1,
                      ar_rate_get_target_kbps(s->rate));
}

double
tw_run(TwSim *s, double seconds)
{
  double before = s->sent_total;

  for (guint i = 0; i < (guint)(seconds * 10); i++)
    tw_step(s);
  return (s->sent_total - before) / seconds;
}

guint
tw_cap_and_lift(TwSim *s)
{
  tw_run(s, 5);
  g_assert_cmpuint(ar_rate_get_target_kbps(s->rate), ==, MAX_KBPS);
  const double caps[] = {850, 250};
  for (guint c = 0; c < G_N_ELEMENTS(caps); c++) {
    double dropped0 = s->dropped_total;
    guint steps = 0;

    s->cap_kbps = caps[c];
    /* Seen in the first windows of the queue: under the cap within 1 s-> */
    while (ar_rate_get_target_kbps(s->rate) > caps[c] && steps < 100) {
      tw_step(s);
      steps++;
    }
    g_test_message("cap %.0f: under it after %.1f s", caps[c], steps / 10.0);
    g_assert_cmpuint(steps, <=, 10);
    tw_run(s, 1);
    g_test_message("cap %.0f: %.1f kbit dropped when it came", caps[c],
                   s->dropped_total - dropped0);
    dropped0 = s->dropped_total;
    tw_run(s, 9);
    double mean = tw_run(s, 10);
    double lost = s->dropped_total - dropped0;
    g_test_message("cap %.0f: mean sent %.0f kbit/s, %.1f kbit dropped in the next 19 s", caps[c],
                   mean, lost);
    /* Close under the cap, without running into it again and again: less
     * than 1 % of what the cap passes in 19 s dropped. */
    g_assert_cmpfloat(mean, <=, caps[c]);
    g_assert_cmpfloat(mean, >=, caps[c] * 0.7);
    g_assert_cmpfloat(lost, <=, caps[c] * 20 * 0.01);
  }
  g_assert_cmpint(ar_rate_get_level(s->rate), !=, AR_RATE_LEVEL_FULL);
  s->cap_kbps = 0;
  guint steps = 0;
  while ((ar_rate_get_target_kbps(s->rate) < MAX_KBPS ||
          ar_rate_get_level(s->rate) != AR_RATE_LEVEL_FULL) &&
         steps < 300) {
    tw_step(s);
    steps++;
  }
  g_test_message("full again %.1f s after the cap lifted", steps / 10.0);
  return steps;
}

void
twcc_feed(ArRate *r, gint64 *now, const ArRateTwcc *windows, guint n)
{
  const ArRateTwcc clean = {.sent_kbps = 1400, .recv_kbps = 1400, .packets_sent = 35};

  for (guint i = 0; i < 10 + n; i++) {
    *now += 200 * G_TIME_SPAN_MILLISECOND;
    ar_rate_on_twcc(r, *now, i < 10 ? &clean : &windows[i - 10]);
  }
}
