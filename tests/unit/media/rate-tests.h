/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bandwidth controller's unit tests: one binary, several sources (test-rate.c
 * holds main), and a simulated path they share (rate-sim.c). */
#pragma once

#include <glib.h>

#include "ar-rate.h"

/* The controller's highest rate in every case (kbit/s). */
#define MAX_KBPS 1500

/* Adds the cases fed with transport-wide feedback (test-rate-twcc.c), the
 * probes' (test-rate-probe.c) and the key frames' (test-rate-keys.c). */
void rate_twcc_tests_add(void);
void rate_probe_tests_add(void);
void rate_keys_tests_add(void);

/* Transport-wide feedback against a simulated token bucket (like the lab's
 * `tc tbf ... latency 150ms`): a queue of 150 ms at the cap; what arrives
 * over the cap waits, then is dropped. Every 100 ms a step; every 200 ms a
 * feedback window, as Janus sends them; every 500 ms the controller's tick
 * (no receiver reports: they stand aside anyway). */
typedef struct {
  ArRate *rate;
  gint64 now;
  double cap_kbps; /* 0: none */
  /* The bucket's burst (kbit; 0: none, as `tc tbf` with a burst of one
   * packet): tokens saved while under the cap, spent over it. */
  double burst_kbit, tokens_kbit;
  double queue_kbit, win_sent, win_served, win_dropped, win_delay0;
  double sent_total, dropped_total;
  guint steps;
  /* Probes (ar_rate_probe_start): padding on top of the target while one
   * runs, its figures 200 ms after it ended. */
  gboolean probes, probe_on;
  double probe_kbps, probe_sent, probe_served, probe_dropped, probe_delay0, probe_rise;
  guint probe_steps, probes_passed, probes_failed;
  gint64 probe_us; /* how long the probe runs (ar_rate_probe_duration_us) */
  gint64 probe_result_at;
  gint64 probe_starts[32];
  guint probe_target_before, probe_cut; /* cut: a result that lowered the target */
  guint probe_keys_held;                /* failed probes that held key frames */
} TwSim;

#define TW_STEP_US (100 * G_TIME_SPAN_MILLISECOND)

void tw_init(TwSim *s);
/* The queue's wait now (ms). */
double tw_delay_ms(const TwSim *s);
/* One step of 100 ms. */
void tw_step(TwSim *s);
/* Runs @seconds; the mean rate sent over them (kbit/s). */
double tw_run(TwSim *s, double seconds);
/* The two caps, then the lift: the steps (100 ms) back to full quality. */
guint tw_cap_and_lift(TwSim *s);
/* Feeds @n windows, one each 200 ms from *@now, after 2 s of clean ones at
 * 1400 kbit/s (a call at full quality). */
void twcc_feed(ArRate *r, gint64 *now, const ArRateTwcc *windows, guint n);
