/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-echo-delay.c: how late the room's echo reaches the microphone (see the
 * header for what and why).
 */
#include "ar-echo-delay.h"

#include <math.h>
#include <string.h>

#define IN_RATE 48000
#define DECIMATION 24 /* 48 kHz -> 2 kHz */
#define RATE (IN_RATE / DECIMATION)
#define RING 8192   /* 4.1 s at 2 kHz: a window and the longest delay, twice */
#define WINDOW RATE /* one second */
#define MAX_LAG (AR_ECHO_DELAY_MAX_MS * RATE / 1000)
#define STEP (RATE / 2) /* an estimate every half second, over the last second */
#define HISTORY 3
#define MIN_CORRELATION 0.4
/* -50 dBFS: the far end speaks (S16 full scale 32768). */
#define MIN_SPEAKER_RMS (32768.0 * 0.0031623)
#define MAX_MISSING (RATE / 100)
#define AGREE_MS 2.0
#define CHANGE_MS 4.0

G_STATIC_ASSERT(WINDOW + MAX_LAG < RING);

typedef struct {
  float value[RING];
  gint64 index[RING]; /* the absolute 2 kHz index a slot holds; -1: none */
  gint64 current;     /* the index being summed, -1: none */
  double sum;
  guint count;
} Ring;

struct _ArEchoDelay {
  GMutex lock; /* the speaker's ring: its streaming thread writes it */
  Ring speaker, microphone;
  float mic[WINDOW], spk[WINDOW + MAX_LAG]; /* an estimate's work */
  gint64 next_estimate;                     /* the microphone's index at which to estimate next */
  double history[HISTORY];
  guint history_len;
  int delay_ms;               /* atomic; -1: none yet */
  guint estimates, confident; /* atomic */
};

static void
ring_init(Ring *r)
{
  for (gsize i = 0; i < RING; i++)
    r->index[i] = -1;
  r->current = -1;
}

ArEchoDelay *
ar_echo_delay_new(void)
{
  ArEchoDelay *d = g_new0(ArEchoDelay, 1);

  g_mutex_init(&d->lock);
  ring_init(&d->speaker);
  ring_init(&d->microphone);
  d->next_estimate = -1;
  d->delay_ms = -1;
  return d;
}

void
ar_echo_delay_free(ArEchoDelay *d)
{
  if (d == NULL)
    return;
  g_mutex_clear(&d->lock);
  g_free(d);
}

/* The mean of the samples summed so far goes into its slot. */
static void
ring_flush(Ring *r)
{
  if (r->current >= 0 && r->count > 0) {
    gsize slot = (gsize)(r->current % RING);
    r->value[slot] = (float)(r->sum / r->count);
    r->index[slot] = r->current;
  }
  r->current = -1;
  r->sum = 0;
  r->count = 0;
}

/* @t_ns in 48 kHz samples, without overflow for any non-negative time. */
static gint64
samples_at(gint64 t_ns)
{
  return t_ns / 1000000 * (IN_RATE / 1000) + (t_ns % 1000000) * (IN_RATE / 1000) / 1000000;
}

static void
ring_push(Ring *r, gint64 t_ns, const gint16 *samples, gsize n)
{
  gint64 first;

  if (t_ns < 0 || samples == NULL || n > (gsize)IN_RATE * 10)
    return;
  first = samples_at(t_ns);
  for (gsize i = 0; i < n; i++) {
    gint64 at = (first + (gint64)i) / DECIMATION;
    if (at != r->current) {
      ring_flush(r);
      r->current = at;
    }
    r->sum += samples[i];
    r->count++;
  }
}

static gboolean
ring_get(const Ring *r, gint64 at, float *out)
{
  gsize slot;

  if (at < 0)
    return FALSE;
  slot = (gsize)(at % RING);
  if (r->index[slot] != at)
    return FALSE;
  *out = r->value[slot];
  return TRUE;
}

void
ar_echo_delay_push_speaker(ArEchoDelay *d, gint64 play_ns, const gint16 *samples, gsize n)
{
  g_mutex_lock(&d->lock);
  ring_push(&d->speaker, play_ns, samples, n);
  g_mutex_unlock(&d->lock);
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The last three confident estimates, if they agree, make a measurement. */
static void
ar_echo_delay_take(ArEchoDelay *d, double ms)
{
  double sorted[HISTORY], median;

  if (d->history_len == HISTORY) {
    memmove(d->history, d->history + 1, sizeof(double) * (HISTORY - 1));
    d->history_len--;
  }
  d->history[d->history_len++] = ms;
  if (d->history_len < HISTORY)
    return;
  memcpy(sorted, d->history, sizeof(sorted));
  qsort(sorted, HISTORY, sizeof(double), compare_double);
  median = sorted[HISTORY / 2];
  for (guint i = 0; i < HISTORY; i++)
    if (fabs(sorted[i] - median) > AGREE_MS)
      return;
  if (d->delay_ms < 0 || fabs(median - d->delay_ms) > CHANGE_MS) {
    g_atomic_int_set(&d->delay_ms, (int)lround(median));
    g_debug("echo delay: %d ms (estimates %u, confident %u)", (int)lround(median), d->estimates,
            d->confident);
  }
}

/* The last second of microphone (ending before @end) against the speaker. */
static void
ar_echo_delay_estimate(ArEchoDelay *d, gint64 end)
{
  float *mic = d->mic, *spk = d->spk;
  double em = 0, es = 0, es_all = 0, best = 0;
  int best_lag = -1, missing = 0;
  gint64 start = end - WINDOW;

  g_atomic_int_inc(&d->estimates);
  /* A device's timestamps that wobble leave a slot empty now and then: up to
   * 10 ms of them count as silence; more is a gap, and no estimate. */
  for (gint64 i = 0; i < WINDOW; i++) {
    if (!ring_get(&d->microphone, start + i, &mic[i])) {
      mic[i] = 0;
      if (++missing > MAX_MISSING) {
        g_debug("echo delay estimate: a gap in the microphone");
        return;
      }
    }
    em += (double)mic[i] * mic[i];
  }
  /* spk[k] is the speaker at start - MAX_LAG + k; missing is silence. */
  g_mutex_lock(&d->lock);
  for (gint64 k = 0; k < WINDOW + MAX_LAG; k++) {
    if (!ring_get(&d->speaker, start - MAX_LAG + k, &spk[k]))
      spk[k] = 0;
    es_all += (double)spk[k] * spk[k];
  }
  g_mutex_unlock(&d->lock);
  if (em <= 0 || sqrt(es_all / (WINDOW + MAX_LAG)) < MIN_SPEAKER_RMS) {
    g_debug("echo delay estimate: the far end is silent");
    return;
  }
  /* The speaker's energy under the window at lag 0, then slid one lag on. */
  for (int t = 0; t < WINDOW; t++)
    es += (double)spk[MAX_LAG + t] * spk[MAX_LAG + t];
  for (int lag = 0; lag <= MAX_LAG; lag++) {
    const float *s = spk + MAX_LAG - lag;
    double c = 0;
    if (lag > 0) {
      es += (double)s[0] * s[0];
      es -= (double)s[WINDOW] * s[WINDOW];
    }
    if (es <= 1e-9)
      continue;
    for (int t = 0; t < WINDOW; t++)
      c += (double)mic[t] * s[t];
    c = fabs(c) / sqrt(em * es);
    if (c > best) {
      best = c;
      best_lag = lag;
    }
  }
  g_debug("echo delay estimate: %.1f ms, correlation %.2f", best_lag * 1000.0 / RATE, best);
  /* A best lag at either end of the range is no located peak (the echo may
   * be outside it: before its reference's time, or too late): no estimate,
   * and the delay in use stays. An echo at 0 ms needs no shift anyway. */
  if (best_lag > 0 && best_lag < MAX_LAG && best >= MIN_CORRELATION) {
    g_atomic_int_inc(&d->confident);
    ar_echo_delay_take(d, best_lag * 1000.0 / RATE);
  }
}

void
ar_echo_delay_push_microphone(ArEchoDelay *d, gint64 capture_ns, const gint16 *samples, gsize n)
{
  gint64 done;

  ring_push(&d->microphone, capture_ns, samples, n);
  /* The slot being summed is not complete: the window ends before it. */
  done = d->microphone.current;
  if (done < WINDOW)
    return;
  if (d->next_estimate < 0 || d->next_estimate > done + RING)
    d->next_estimate = done; /* the first, or time went back */
  if (done < d->next_estimate)
    return;
  ar_echo_delay_estimate(d, done);
  d->next_estimate = done + STEP;
}

int
ar_echo_delay_get_ms(const ArEchoDelay *d)
{
  return g_atomic_int_get(&d->delay_ms);
}

gint64
ar_echo_delay_get_shift_ns(const ArEchoDelay *d)
{
  int ms = g_atomic_int_get(&d->delay_ms);
  return ms <= AR_ECHO_DELAY_TARGET_MS ? 0 : (gint64)(ms - AR_ECHO_DELAY_TARGET_MS) * 1000000;
}

guint
ar_echo_delay_get_estimates(const ArEchoDelay *d, guint *confident)
{
  if (confident != NULL)
    *confident = g_atomic_int_get(&d->confident);
  return g_atomic_int_get(&d->estimates);
}
