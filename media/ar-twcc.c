/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-twcc.c: windows of transport-wide feedback from its packets (see
 * ar-twcc.h).
 */
#include "ar-twcc.h"

#include <string.h>

/* The window: the packets sent in the last 300 ms, from the newest one back
 * to the first sent at least this long before it. */
#define AR_TWCC_WINDOW_NS (300 * G_GUINT64_CONSTANT(1000000))
/* Packets kept: 300 ms of 1200-byte packets at 50 Mbit/s. More in a window
 * than this (a faster link) and the window is the newest this many. */
#define AR_TWCC_KEPT 1600
/* The path's own one-way delay: the lowest of the last 20 s, in slots of 2 s
 * by send time (a path that got longer for good is the new normal after
 * that). */
#define AR_TWCC_BASE_SLOT_NS (2000 * G_GUINT64_CONSTANT(1000000))
#define AR_TWCC_BASE_SLOTS 10
/* Times past this (146 years) are no clock's. */
#define AR_TWCC_MAX_NS (G_GUINT64_CONSTANT(1) << 62)

typedef struct {
  guint64 sent_ns, arrive_ns; /* arrive_ns AR_TWCC_TIME_NONE: lost */
  guint size;
} ArTwccKept;

struct _ArTwccWindows {
  ArTwccKept kept[AR_TWCC_KEPT]; /* a ring, oldest at first */
  guint first, len;
  gboolean have_seqnum;
  guint16 last_seqnum; /* the newest taken */
  guint64 base_slot[AR_TWCC_BASE_SLOTS];
  double base_ms[AR_TWCC_BASE_SLOTS];
  gboolean base_used[AR_TWCC_BASE_SLOTS];
  guint last_reported, last_timed;
};

ArTwccWindows *
ar_twcc_windows_new(void)
{
  return g_new0(ArTwccWindows, 1);
}

void
ar_twcc_windows_free(ArTwccWindows *windows)
{
  g_free(windows);
}

static const ArTwccKept *
ar_twcc_at(const ArTwccWindows *t, guint i)
{
  return &t->kept[(t->first + i) % AR_TWCC_KEPT];
}

static void
ar_twcc_keep(ArTwccWindows *t, const ArTwccPacket *p)
{
  if (t->len == AR_TWCC_KEPT) {
    t->first = (t->first + 1) % AR_TWCC_KEPT;
    t->len--;
  }
  ArTwccKept *k = &t->kept[(t->first + t->len) % AR_TWCC_KEPT];
  k->sent_ns = p->sent_ns;
  k->arrive_ns = p->arrive_ns < AR_TWCC_MAX_NS ? p->arrive_ns : AR_TWCC_TIME_NONE;
  k->size = MIN(p->size, 65536u);
  t->len++;
}

/* A packet's one-way delay (ms), the two clocks' offset included. */
static double
ar_twcc_delay_ms(const ArTwccKept *k)
{
  return (double)((gint64)k->arrive_ns - (gint64)k->sent_ns) / 1e6;
}

/* The lowest delay of the window @delay_ms, sent in the slot of @sent_ns,
 * joins the last 20 s; returns their lowest. */
static double
ar_twcc_base(ArTwccWindows *t, guint64 sent_ns, double delay_ms)
{
  guint64 slot = sent_ns / AR_TWCC_BASE_SLOT_NS;
  guint i = (guint)(slot % AR_TWCC_BASE_SLOTS);
  double base = delay_ms;

  if (!t->base_used[i] || t->base_slot[i] != slot) {
    t->base_used[i] = TRUE;
    t->base_slot[i] = slot;
    t->base_ms[i] = delay_ms;
  } else {
    t->base_ms[i] = MIN(t->base_ms[i], delay_ms);
  }
  for (guint k = 0; k < AR_TWCC_BASE_SLOTS; k++)
    if (t->base_used[k] && t->base_slot[k] <= slot && slot - t->base_slot[k] < AR_TWCC_BASE_SLOTS)
      base = MIN(base, t->base_ms[k]);
  return base;
}

/* Packets over a span of time (their send or their arrival times): the
 * rate is the bits after the first packet's over the span. */
typedef struct {
  guint64 min, max;
  double bits, first_bits;
  guint n;
} ArTwccSpan;

static void
ar_twcc_span_add(ArTwccSpan *span, guint64 at_ns, guint size)
{
  if (span->n++ == 0 || at_ns < span->min) {
    span->min = at_ns;
    span->first_bits = size * 8.0;
  }
  span->max = MAX(span->max, at_ns);
  span->bits += size * 8.0;
}

static double
ar_twcc_span_kbps(const ArTwccSpan *span)
{
  return (span->bits - span->first_bits) * 1e6 / (double)(span->max - span->min);
}

/* The window of the packets kept, the older ones dropped. */
static gboolean
ar_twcc_window(ArTwccWindows *t, ArRateTwcc *w)
{
  if (t->len < 2)
    return FALSE;
  const ArTwccKept *newest = ar_twcc_at(t, t->len - 1);
  guint start = 0;
  gboolean spans = FALSE;

  for (guint i = t->len - 1; i-- > 0;)
    if (ar_twcc_at(t, i)->sent_ns + AR_TWCC_WINDOW_NS <= newest->sent_ns) {
      start = i;
      spans = TRUE;
      break;
    }
  if (!spans)
    return FALSE;
  t->first = (t->first + start) % AR_TWCC_KEPT;
  t->len -= start;

  const ArTwccKept *oldest = ar_twcc_at(t, 0);
  ArTwccSpan sent = {0}, arrivals = {0};
  double sx = 0, sy = 0, sxx = 0, sxy = 0, x_min = G_MAXDOUBLE, x_max = -G_MAXDOUBLE;
  double delay_min = G_MAXDOUBLE, delay0 = 0;

  for (guint i = 0; i < t->len; i++) {
    const ArTwccKept *k = ar_twcc_at(t, i);

    ar_twcc_span_add(&sent, k->sent_ns, k->size);
    if (k->arrive_ns == AR_TWCC_TIME_NONE)
      continue;
    double delay = ar_twcc_delay_ms(k);
    if (arrivals.n == 0)
      delay0 = delay;
    ar_twcc_span_add(&arrivals, k->arrive_ns, k->size);
    /* The line through the delays: x the send time, y the delay (ms, both
     * from the window's first, so the sums stay small). */
    double x = (double)((gint64)k->sent_ns - (gint64)oldest->sent_ns) / 1e6, y = delay - delay0;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    x_min = MIN(x_min, x);
    x_max = MAX(x_max, x);
    delay_min = MIN(delay_min, delay);
  }
  *w = (ArRateTwcc){0};
  w->sent_kbps = ar_twcc_span_kbps(&sent); /* (the window spans AR_TWCC_WINDOW_NS) */
  if (arrivals.n >= 2 && arrivals.max > arrivals.min)
    w->recv_kbps = ar_twcc_span_kbps(&arrivals);
  w->loss = (double)(t->len - arrivals.n) / t->len;
  double n = arrivals.n, spread = n * sxx - sx * sx;
  if (arrivals.n >= 3 && spread > 1e-9) {
    double slope = (n * sxy - sx * sy) / spread;
    w->delay_growth_ms = slope * (x_max - x_min) / (n - 1.0);
  }
  if (arrivals.n > 0)
    w->queue_ms = MAX(delay_min - ar_twcc_base(t, newest->sent_ns, delay_min), 0.0);
  return TRUE;
}

gboolean
ar_twcc_windows_add(ArTwccWindows *t, const ArTwccPacket *packets, guint n, ArRateTwcc *window)
{
  guint taken = 0, arrived = 0;

  t->last_reported = n;
  t->last_timed = 0;
  for (guint i = 0; packets != NULL && i < n; i++) {
    const ArTwccPacket *p = &packets[i];

    if (p->sent_ns >= AR_TWCC_MAX_NS)
      continue;
    t->last_timed++;
    /* Only newer than the newest taken: a packet reported again (or
     * out of order) would count twice. */
    if (t->have_seqnum && (gint16)(guint16)(p->seqnum - t->last_seqnum) <= 0)
      continue;
    /* Our send times only move on; one that went back is no clock's. */
    if (t->len > 0 && p->sent_ns < ar_twcc_at(t, t->len - 1)->sent_ns)
      continue;
    t->have_seqnum = TRUE;
    t->last_seqnum = p->seqnum;
    ar_twcc_keep(t, p);
    taken++;
    if (p->arrive_ns < AR_TWCC_MAX_NS)
      arrived++;
  }
  if (taken == 0 || !ar_twcc_window(t, window))
    return FALSE;
  window->packets_sent = taken;
  window->packets_arrived = arrived;
  return TRUE;
}

void
ar_twcc_windows_get_last(const ArTwccWindows *windows, guint *reported, guint *timed)
{
  *reported = windows->last_reported;
  *timed = windows->last_timed;
}

typedef struct {
  guint64 sent_ns;
  guint32 size;
  guint16 seqnum;
  gboolean used;
  gboolean twice; /* a second packet left with the same number */
} ArTwccSent;

struct _ArTwccSendLog {
  ArTwccSent slots[AR_TWCC_SEND_LOG_SIZE]; /* by seqnum modulo the size */
  guint64 newest_ns;
};

ArTwccSendLog *
ar_twcc_send_log_new(void)
{
  return g_new0(ArTwccSendLog, 1);
}

void
ar_twcc_send_log_free(ArTwccSendLog *log)
{
  g_free(log);
}

void
ar_twcc_send_log_add(ArTwccSendLog *log, guint16 seqnum, guint64 sent_ns, guint size)
{
  ArTwccSent *slot = &log->slots[seqnum % AR_TWCC_SEND_LOG_SIZE];

  if (sent_ns == AR_TWCC_TIME_NONE)
    return;
  /* The same number again, recently: a retransmission (rtprtxsend copies the
   * original's header extensions). Which of the two arrived, the feedback
   * cannot say: neither time is right for sure, so the packet stays untimed.
   * The later time would make a spurious retransmission's original arrive
   * before it left, and lower the base of every delay after it. */
  if (slot->used && slot->seqnum == seqnum && sent_ns >= slot->sent_ns &&
      sent_ns - slot->sent_ns <= AR_TWCC_SEND_LOG_MAX_AGE_NS) {
    slot->twice = TRUE;
    log->newest_ns = MAX(log->newest_ns, sent_ns);
    return;
  }
  slot->twice = FALSE;
  slot->seqnum = seqnum;
  slot->sent_ns = sent_ns;
  slot->size = size;
  slot->used = TRUE;
  log->newest_ns = MAX(log->newest_ns, sent_ns);
}

gboolean
ar_twcc_send_log_fill(const ArTwccSendLog *log, ArTwccPacket *p)
{
  const ArTwccSent *slot = &log->slots[p->seqnum % AR_TWCC_SEND_LOG_SIZE];

  /* A slot last written 65536 numbers ago (the numbers wrapped while this
   * residue was skipped) is too old to be the packet asked about. */
  if (!slot->used || slot->seqnum != p->seqnum || slot->twice ||
      log->newest_ns - slot->sent_ns > AR_TWCC_SEND_LOG_MAX_AGE_NS) {
    p->sent_ns = AR_TWCC_TIME_NONE;
    return FALSE;
  }
  p->sent_ns = slot->sent_ns;
  p->size = slot->size;
  return TRUE;
}

typedef struct {
  guint64 sent_ns, arrive_ns; /* AR_TWCC_TIME_NONE: not known, lost */
  guint size;
  gboolean reported;
} ArTwccProbed;

struct _ArTwccProbe {
  ArTwccProbed packets[AR_TWCC_PROBE_MAX]; /* by number, from the first */
  gboolean pending, ended, have_first, later_seen;
  guint16 first;
  guint count, reported;
};

ArTwccProbe *
ar_twcc_probe_new(void)
{
  return g_new0(ArTwccProbe, 1);
}

void
ar_twcc_probe_free(ArTwccProbe *probe)
{
  g_free(probe);
}

void
ar_twcc_probe_begin(ArTwccProbe *probe)
{
  memset(probe, 0, sizeof(*probe));
  probe->pending = TRUE;
}

void
ar_twcc_probe_note(ArTwccProbe *probe, guint16 seqnum)
{
  if (!probe->pending || probe->ended)
    return;
  if (!probe->have_first) {
    probe->have_first = TRUE;
    probe->first = seqnum;
    probe->count = 1;
    return;
  }
  guint d = (guint16)(seqnum - probe->first);
  /* The packets between two noted ones left in between: they are its too. */
  if (d >= probe->count && d < AR_TWCC_PROBE_MAX)
    probe->count = d + 1;
}

void
ar_twcc_probe_end(ArTwccProbe *probe)
{
  probe->ended = TRUE;
  if (!probe->have_first)
    probe->pending = FALSE;
}

gboolean
ar_twcc_probe_pending(const ArTwccProbe *probe)
{
  return probe->pending;
}

static double
ar_twcc_probed_delay_ms(const ArTwccProbed *k)
{
  return (double)((gint64)k->arrive_ns - (gint64)k->sent_ns) / 1e6;
}

/* The figures of a probe whose packets were all reported; FALSE when too
 * few had a send time to say anything. */
static gboolean
ar_twcc_probe_result(const ArTwccProbe *probe, ArRateProbe *r)
{
  ArTwccSpan sent = {0}, arrived = {0};

  *r = (ArRateProbe){0};
  for (guint i = 0; i < probe->count; i++) {
    const ArTwccProbed *k = &probe->packets[i];

    if (!k->reported || k->sent_ns >= AR_TWCC_MAX_NS) {
      /* Not reported though a later one was: lost to the far end. */
      if (!k->reported)
        r->lost++;
      continue;
    }
    ar_twcc_span_add(&sent, k->sent_ns, k->size);
    if (k->arrive_ns >= AR_TWCC_MAX_NS)
      r->lost++;
    else
      ar_twcc_span_add(&arrived, k->arrive_ns, k->size);
  }
  if (sent.n < 4 || arrived.n < 2 || sent.max <= sent.min || arrived.max <= arrived.min)
    return FALSE;
  r->packets = probe->count;
  r->sent_kbps = ar_twcc_span_kbps(&sent);
  r->recv_kbps = ar_twcc_span_kbps(&arrived);
  /* The lowest delay of the first and of the last quarter of the arrivals
   * (by number, which is the order they left in). */
  guint quarter = MAX(arrived.n / 4, 1u), seen = 0;
  double first_low = G_MAXDOUBLE, last_low = G_MAXDOUBLE;
  for (guint i = 0; i < probe->count; i++) {
    const ArTwccProbed *k = &probe->packets[i];

    if (!k->reported || k->sent_ns >= AR_TWCC_MAX_NS || k->arrive_ns >= AR_TWCC_MAX_NS)
      continue;
    double delay = ar_twcc_probed_delay_ms(k);
    if (seen < quarter)
      first_low = MIN(first_low, delay);
    if (seen >= arrived.n - quarter)
      last_low = MIN(last_low, delay);
    seen++;
  }
  r->rise_ms = CLAMP(last_low - first_low, -1e6, 1e6);
  return TRUE;
}

gboolean
ar_twcc_probe_add(ArTwccProbe *probe, const ArTwccPacket *packets, guint n, ArRateProbe *result)
{
  if (!probe->pending || !probe->have_first)
    return FALSE;
  for (guint i = 0; packets != NULL && i < n; i++) {
    const ArTwccPacket *p = &packets[i];
    guint d = (guint16)(p->seqnum - probe->first);

    if (d < probe->count) {
      ArTwccProbed *k = &probe->packets[d];
      if (k->reported)
        continue;
      k->reported = TRUE;
      k->sent_ns = p->sent_ns < AR_TWCC_MAX_NS ? p->sent_ns : AR_TWCC_TIME_NONE;
      k->arrive_ns = p->arrive_ns < AR_TWCC_MAX_NS ? p->arrive_ns : AR_TWCC_TIME_NONE;
      k->size = MIN(p->size, 65536u);
      probe->reported++;
    } else if (probe->ended && d < 32768) {
      probe->later_seen = TRUE;
    }
  }
  if (!probe->ended || (probe->reported < probe->count && !probe->later_seen))
    return FALSE;
  probe->pending = FALSE;
  return ar_twcc_probe_result(probe, result);
}
