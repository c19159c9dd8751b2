/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the windows of transport-wide feedback (media/ar-twcc.c),
 * against a simulated path: an encoder sends each frame's packets in one
 * burst, 30 frames a second; a bottleneck (a token bucket with a queue of
 * 150 ms, as the lab's tc tbf) passes them at its rate or drops what does not
 * fit; the far end stamps arrivals on its own clock and reports every 100 ms
 * what arrived up to then. The real network test is
 * tests/integration/test-bandwidth.mjs.
 */
#include <math.h>
#include <string.h>

#include "ar-twcc.h"

#define MS (G_GUINT64_CONSTANT(1000000))
#define PACKET_BYTES 1200
#define PATH_MS 20
/* Our clock and the far end's: any offset. */
#define OUR_CLOCK_NS (G_GUINT64_CONSTANT(1000000000))
#define FAR_CLOCK_NS (G_GUINT64_CONSTANT(7000000000))
/* Our monotonic clock, which our own log of send times uses. */
#define LOG_CLOCK_NS (G_GUINT64_CONSTANT(3000000000000))

typedef struct {
  ArTwccWindows *windows;
  guint64 now_ns;
  double cap_kbps;    /* 0: none */
  double random_loss; /* 0..1 */
  guint64 link_free_ns;
  guint16 seqnum;
  GArray *pending; /* ArTwccPacket, true times */
  GArray *made;    /* ArRateTwcc */
  GRand *rand;
  /* Set: the send times come from our own log (on another clock), not with
   * the feedback, as when the RTP session keeps none (ar-peer-rate.c). */
  ArTwccSendLog *log;
  /* Set: a probe (ar_twcc_probe_*) notes the packets sent while noting, and
   * reads every feedback until its figures come. */
  ArTwccProbe *probe;
  gboolean noting, probe_done, probe_measured;
  ArRateProbe probe_result;
} PathSim;

static void
path_init(PathSim *s)
{
  memset(s, 0, sizeof(*s));
  s->windows = ar_twcc_windows_new();
  s->now_ns = 100 * G_GUINT64_CONSTANT(1000000000);
  s->pending = g_array_new(FALSE, FALSE, sizeof(ArTwccPacket));
  s->made = g_array_new(FALSE, FALSE, sizeof(ArRateTwcc));
  s->rand = g_rand_new_with_seed(14);
}

static void
path_clear(PathSim *s)
{
  ar_twcc_windows_free(s->windows);
  g_array_unref(s->pending);
  g_array_unref(s->made);
  g_rand_free(s->rand);
  g_clear_pointer(&s->log, ar_twcc_send_log_free);
  g_clear_pointer(&s->probe, ar_twcc_probe_free);
}

/* One packet leaves now: through the bottleneck or dropped. */
static void
path_send(PathSim *s, guint size, guint64 at_ns)
{
  ArTwccPacket p = {.seqnum = s->seqnum++, .sent_ns = at_ns, .size = size};

  if (s->log != NULL)
    ar_twcc_send_log_add(s->log, p.seqnum, at_ns + LOG_CLOCK_NS, size);
  if (s->noting)
    ar_twcc_probe_note(s->probe, p.seqnum);

  p.arrive_ns = AR_TWCC_TIME_NONE;
  if (s->random_loss > 0 && g_rand_double(s->rand) < s->random_loss) {
    /* lost on the way */
  } else if (s->cap_kbps > 0) {
    guint64 start = MAX(at_ns, s->link_free_ns);
    if (start - at_ns <= 150 * MS) {
      s->link_free_ns = start + (guint64)(size * 8.0 / s->cap_kbps * 1e6);
      p.arrive_ns = s->link_free_ns + PATH_MS * MS;
    }
  } else {
    p.arrive_ns = at_ns + PATH_MS * MS;
  }
  g_array_append_val(s->pending, p);
}

/* The far end's feedback at now: every packet up to the last one arrived. */
static void
path_feedback(PathSim *s)
{
  guint upto = 0;

  for (guint i = 0; i < s->pending->len; i++) {
    const ArTwccPacket *p = &g_array_index(s->pending, ArTwccPacket, i);
    if (p->arrive_ns != AR_TWCC_TIME_NONE && p->arrive_ns <= s->now_ns)
      upto = i + 1;
  }
  if (upto == 0)
    return;
  g_autofree ArTwccPacket *report = g_new(ArTwccPacket, upto);
  for (guint i = 0; i < upto; i++) {
    report[i] = g_array_index(s->pending, ArTwccPacket, i);
    report[i].sent_ns += OUR_CLOCK_NS;
    if (report[i].arrive_ns != AR_TWCC_TIME_NONE)
      report[i].arrive_ns += FAR_CLOCK_NS;
    if (s->log != NULL) {
      report[i].sent_ns = AR_TWCC_TIME_NONE;
      report[i].size = 0;
      g_assert_true(ar_twcc_send_log_fill(s->log, &report[i]));
    }
  }
  g_array_remove_range(s->pending, 0, upto);
  if (s->probe != NULL && ar_twcc_probe_pending(s->probe)) {
    s->probe_measured = ar_twcc_probe_add(s->probe, report, upto, &s->probe_result);
    s->probe_done = !ar_twcc_probe_pending(s->probe);
  }
  ArRateTwcc w;
  if (ar_twcc_windows_add(s->windows, report, upto, &w))
    g_array_append_val(s->made, w);
}

/* Sends at @kbps for @ms: a frame's packets in one burst (50 us apart) every
 * 1/30 s, feedback every 100 ms. */
static void
path_run(PathSim *s, double kbps, guint ms)
{
  guint64 end = s->now_ns + ms * MS, frame_every = 1000 * MS / 30, next_frame = s->now_ns;
  guint64 next_feedback = s->now_ns + 100 * MS - (s->now_ns % (100 * MS));

  while (s->now_ns < end) {
    if (next_frame <= next_feedback) {
      s->now_ns = next_frame;
      double bytes = kbps * 1000.0 / 8.0 / 30.0;
      guint n = (guint)ceil(bytes / PACKET_BYTES);
      for (guint i = 0; i < n; i++)
        path_send(s, (guint)(bytes / n), s->now_ns + i * 50 * G_GUINT64_CONSTANT(1000));
      next_frame += frame_every;
    } else {
      s->now_ns = next_feedback;
      path_feedback(s);
      next_feedback += 100 * MS;
    }
  }
}

/* The windows made since @from (an index into s->made): their mean of a
 * field and its extremes. */
typedef struct {
  double sent, recv, loss, growth, queue, growth_max, queue_min, queue_max;
  guint n;
} Means;

static Means
path_means(const PathSim *s, guint from)
{
  Means m = {.queue_min = G_MAXDOUBLE, .growth_max = -G_MAXDOUBLE};

  for (guint i = from; i < s->made->len; i++) {
    const ArRateTwcc *w = &g_array_index(s->made, ArRateTwcc, i);
    m.sent += w->sent_kbps;
    m.recv += w->recv_kbps;
    m.loss += w->loss;
    m.growth += w->delay_growth_ms;
    m.queue += w->queue_ms;
    m.growth_max = MAX(m.growth_max, w->delay_growth_ms);
    m.queue_min = MIN(m.queue_min, w->queue_ms);
    m.queue_max = MAX(m.queue_max, w->queue_ms);
    m.n++;
  }
  g_assert_cmpuint(m.n, >, 0);
  m.sent /= m.n;
  m.recv /= m.n;
  m.loss /= m.n;
  m.growth /= m.n;
  m.queue /= m.n;
  g_test_message("%u windows: sent %.0f, arrived %.0f kbit/s, loss %.1f %%, growth %.2f ms "
                 "(at most %.2f), queue %.1f ms (%.1f-%.1f)",
                 m.n, m.sent, m.recv, m.loss * 100, m.growth, m.growth_max, m.queue, m.queue_min,
                 m.queue_max);
  return m;
}

/* An open path: the rates sent, all of it arriving, no queue. */
static void
test_open_path(void)
{
  PathSim s;

  path_init(&s);
  path_run(&s, 1000, 5000);
  Means m = path_means(&s, 5);
  g_assert_cmpfloat(fabs(m.sent - 1000), <, 100);
  g_assert_cmpfloat(fabs(m.recv - m.sent), <, 100);
  g_assert_cmpfloat(m.loss, ==, 0);
  g_assert_cmpfloat(fabs(m.growth), <, 0.1);
  g_assert_cmpfloat(m.queue_max, <, 1);
  /* A window per feedback, with its new packets. */
  g_assert_cmpuint(s.made->len, >=, 45);
  const ArRateTwcc *tenth = &g_array_index(s.made, ArRateTwcc, 10);
  g_assert_cmpuint(tenth->packets_sent, >=, 9);
  g_assert_cmpuint(tenth->packets_arrived, ==, tenth->packets_sent);
  path_clear(&s);
}

/* Sending over a bottleneck: first the queue fills (the delay grows, less
 * arrives than was sent, nothing lost), then it stands full: the delay grows
 * no more, what does not fit is lost, and every packet waits the queue's
 * 150 ms. GStreamer's window sees nothing of the second. */
static void
test_queue_fills_then_stands(void)
{
  PathSim s;

  path_init(&s);
  path_run(&s, 1000, 3000);
  guint filling = s.made->len;
  s.cap_kbps = 800;
  path_run(&s, 1000, 500);
  Means m = path_means(&s, filling + 1);
  g_assert_cmpfloat(m.growth, >, 0.25); /* ar-rate.c's AR_RATE_TWCC_GROWTH_MS */
  g_assert_cmpfloat(m.recv, <, m.sent * 0.9);
  /* The window's lowest delay is its oldest packet's, which the queue held
   * least: the queue is filling, not standing. */
  g_assert_cmpfloat(m.queue_max, >, 10);
  guint standing = s.made->len;
  path_run(&s, 1000, 3000);
  m = path_means(&s, standing + 5);
  g_assert_cmpfloat(fabs(m.growth), <, 0.25);
  g_assert_cmpfloat(fabs(m.recv - 800), <, 80);
  g_assert_cmpfloat(m.loss, >, 0.1);
  g_assert_cmpfloat(m.queue_min, >, 100);
  /* Sending under the bottleneck drains it: no queue after a second, but
   * for each packet's own time on the narrower link (1041 bytes at 800
   * kbit/s: 10.4 ms), which the path's delay measured before the cap came
   * did not have. */
  path_run(&s, 500, 1000);
  guint drained = s.made->len;
  path_run(&s, 500, 2000);
  m = path_means(&s, drained);
  g_assert_cmpfloat(m.queue_max, <, 11);
  g_assert_cmpfloat(m.loss, ==, 0);
  path_clear(&s);
}

/* Random loss (a Wi-Fi) loses as much, but queues nothing. */
static void
test_random_loss(void)
{
  PathSim s;

  path_init(&s);
  s.random_loss = 0.12;
  path_run(&s, 1000, 5000);
  Means m = path_means(&s, 5);
  g_assert_cmpfloat(m.loss, >, 0.08);
  guint sent = 0, arrived = 0;
  for (guint i = 0; i < s.made->len; i++) {
    sent += g_array_index(s.made, ArRateTwcc, i).packets_sent;
    arrived += g_array_index(s.made, ArRateTwcc, i).packets_arrived;
  }
  g_assert_cmpfloat(1.0 - (double)arrived / sent, >, 0.08);
  g_assert_cmpfloat(m.queue_max, <, 1);
  g_assert_cmpfloat(fabs(m.growth), <, 0.25);
  path_clear(&s);
}

/* One packet late at a window's end (a far end that stamped it late): the
 * mean delta of delta is that packet's delay over the window's packets (30
 * ms over 10 is 3 ms a packet), the fitted line barely moves. */
static void
test_one_late_packet(void)
{
  g_autoptr(ArTwccWindows) t = ar_twcc_windows_new();
  ArTwccPacket p[40];
  ArRateTwcc w;

  for (guint i = 0; i < G_N_ELEMENTS(p); i++) {
    p[i].seqnum = (guint16)(65520 + i); /* across the wrap */
    p[i].sent_ns = OUR_CLOCK_NS + i * 10 * MS;
    p[i].arrive_ns = FAR_CLOCK_NS + i * 10 * MS + PATH_MS * MS;
    p[i].size = PACKET_BYTES;
  }
  p[39].arrive_ns += 30 * MS;
  g_assert_true(ar_twcc_windows_add(t, p, G_N_ELEMENTS(p), &w));
  g_test_message("growth %.3f ms a packet, queue %.1f ms", w.delay_growth_ms, w.queue_ms);
  g_assert_cmpuint(w.packets_sent, ==, 40);
  g_assert_cmpuint(w.packets_arrived, ==, 40);
  g_assert_cmpfloat(w.delay_growth_ms, <, 0.25);
  g_assert_cmpfloat(w.delay_growth_ms, >, 0);
  g_assert_cmpfloat(w.loss, ==, 0);
  g_assert_cmpfloat(w.queue_ms, <, 0.01);
  g_assert_cmpfloat(fabs(w.sent_kbps - 960), <, 1); /* 1200 bytes each 10 ms */
}

/* The feedback is the far end's: repeats, times going back, no times, huge
 * sizes and times. Nothing counts twice, every figure stays a number. */
/* A probe: @kbps for 500 ms from a path sent @base_kbps, then back to it;
 * its figures once every packet of it was reported. */
static void
path_probe(PathSim *s, double base_kbps, double kbps)
{
  s->probe = ar_twcc_probe_new();
  path_run(s, base_kbps, 3000);
  ar_twcc_probe_begin(s->probe);
  s->noting = TRUE;
  path_run(s, kbps, 500);
  s->noting = FALSE;
  ar_twcc_probe_end(s->probe);
  g_assert_true(ar_twcc_probe_pending(s->probe));
  path_run(s, base_kbps, 1000);
  g_assert_true(s->probe_done);
  g_assert_true(s->probe_measured);
  const ArRateProbe *r = &s->probe_result;
  g_test_message("probe to %.0f kbit/s: sent %.0f, arrived %.0f kbit/s, %u packets, %u lost, "
                 "the delay up %.1f ms",
                 kbps, r->sent_kbps, r->recv_kbps, r->packets, r->lost, r->rise_ms);
}

/* On an open path a probe arrives as it left: its rate, nothing lost, no
 * queue. */
static void
test_probe_open(void)
{
  PathSim s;

  path_init(&s);
  path_probe(&s, 300, 600);
  g_assert_cmpfloat(fabs(s.probe_result.sent_kbps - 600), <, 90);
  g_assert_cmpfloat(fabs(s.probe_result.recv_kbps - s.probe_result.sent_kbps), <,
                    0.1 * s.probe_result.sent_kbps);
  g_assert_cmpuint(s.probe_result.lost, ==, 0);
  g_assert_cmpuint(s.probe_result.packets, >=, 20);
  g_assert_cmpfloat(fabs(s.probe_result.rise_ms), <, 2);
  path_clear(&s);
}

/* Over a bottleneck a probe arrives at the bottleneck's rate, behind a
 * queue it filled. */
static void
test_probe_capped(void)
{
  PathSim s;

  path_init(&s);
  s.cap_kbps = 300;
  path_probe(&s, 250, 600);
  g_assert_cmpfloat(s.probe_result.recv_kbps, <, 0.9 * s.probe_result.sent_kbps);
  g_assert_cmpfloat(s.probe_result.recv_kbps, <, 330);
  g_assert_cmpfloat(s.probe_result.rise_ms, >, 50);
  path_clear(&s);
}

/* The transport-wide numbers wrap within a probe; a probe with no packet
 * ends at once with no figures; one reported only in part waits. */
static void
test_probe_edges(void)
{
  g_autoptr(ArTwccProbe) probe = ar_twcc_probe_new();
  ArTwccPacket p[8];
  ArRateProbe r;

  ar_twcc_probe_begin(probe);
  ar_twcc_probe_end(probe);
  g_assert_false(ar_twcc_probe_pending(probe));
  g_assert_false(ar_twcc_probe_add(probe, p, 0, &r));

  ar_twcc_probe_begin(probe);
  for (guint i = 0; i < 8; i++) {
    p[i] = (ArTwccPacket){.seqnum = (guint16)(65532 + i),
                          .sent_ns = OUR_CLOCK_NS + i * 10 * MS,
                          .arrive_ns = FAR_CLOCK_NS + i * 10 * MS,
                          .size = 1000};
    ar_twcc_probe_note(probe, p[i].seqnum);
  }
  ar_twcc_probe_note(probe, 65532); /* again: nothing new */
  ar_twcc_probe_end(probe);
  ar_twcc_probe_note(probe, 4); /* after its end: not its */
  g_assert_false(ar_twcc_probe_add(probe, p, 5, &r));
  g_assert_true(ar_twcc_probe_pending(probe));
  g_assert_true(ar_twcc_probe_add(probe, p + 5, 3, &r));
  g_assert_false(ar_twcc_probe_pending(probe));
  g_assert_cmpuint(r.packets, ==, 8);
  g_assert_cmpuint(r.lost, ==, 0);
  g_assert_cmpfloat(fabs(r.sent_kbps - 800), <, 1);
  g_assert_cmpfloat(fabs(r.recv_kbps - 800), <, 1);

  /* Its last two never reported, but a later packet was: lost. */
  ar_twcc_probe_begin(probe);
  for (guint i = 0; i < 8; i++)
    ar_twcc_probe_note(probe, p[i].seqnum);
  ar_twcc_probe_end(probe);
  ArTwccPacket later = p[7];
  later.seqnum = 10;
  g_assert_false(ar_twcc_probe_add(probe, p, 6, &r));
  g_assert_true(ar_twcc_probe_add(probe, &later, 1, &r));
  g_assert_cmpuint(r.lost, ==, 2);
}

/* Anything in the feedback: no crash, figures that are numbers. */
static void
test_probe_hostile(void)
{
  g_autoptr(ArTwccProbe) probe = ar_twcc_probe_new();
  ArTwccPacket p[64];
  ArRateProbe r;

  for (guint round = 0; round < 300; round++) {
    if (round % 3 == 0) {
      ar_twcc_probe_begin(probe);
      for (guint i = 0; i < 700; i++)
        ar_twcc_probe_note(probe, (guint16)g_test_rand_int());
      ar_twcc_probe_end(probe);
    }
    for (guint i = 0; i < G_N_ELEMENTS(p); i++) {
      guint32 r32 = g_test_rand_int();
      p[i].seqnum = (guint16)g_test_rand_int();
      p[i].sent_ns = (r32 & 0x100) ? AR_TWCC_TIME_NONE : (guint64)g_test_rand_int() << (r32 % 40);
      p[i].arrive_ns = (r32 & 0x400) ? AR_TWCC_TIME_NONE : (guint64)g_test_rand_int() << (r32 % 40);
      p[i].size = (r32 & 0x1000) ? G_MAXUINT : r32 % 1500;
    }
    if (!ar_twcc_probe_add(probe, p, G_N_ELEMENTS(p), &r))
      continue;
    g_assert_true(isfinite(r.sent_kbps) && r.sent_kbps >= 0);
    g_assert_true(isfinite(r.recv_kbps) && r.recv_kbps >= 0);
    g_assert_true(isfinite(r.rise_ms));
    g_assert_cmpuint(r.lost, <=, r.packets);
    g_assert_cmpuint(r.packets, <=, AR_TWCC_PROBE_MAX);
  }
}

static void
test_hostile(void)
{
  g_autoptr(ArTwccWindows) t = ar_twcc_windows_new();
  ArTwccPacket p[64];
  ArRateTwcc w;
  guint made = 0;

  g_assert_false(ar_twcc_windows_add(t, NULL, 0, &w));
  g_assert_false(ar_twcc_windows_add(t, p, 0, &w));
  for (guint round = 0; round < 200; round++) {
    for (guint i = 0; i < G_N_ELEMENTS(p); i++) {
      guint32 r = g_test_rand_int();
      p[i].seqnum = (guint16)(round * 8 + (r % 16)); /* repeats, out of order */
      p[i].sent_ns = (r & 0x100)   ? AR_TWCC_TIME_NONE
                     : (r & 0x200) ? G_MAXUINT64 - r
                                   : OUR_CLOCK_NS + round * 50 * MS + (r % 20) * MS;
      p[i].arrive_ns = (r & 0x400)   ? AR_TWCC_TIME_NONE
                       : (r & 0x800) ? (guint64)r << 31
                                     : p[i].sent_ns + (r % 1000) * MS;
      p[i].size = (r & 0x1000) ? G_MAXUINT : r % 1500;
    }
    if (!ar_twcc_windows_add(t, p, G_N_ELEMENTS(p), &w))
      continue;
    made++;
    g_assert_true(isfinite(w.sent_kbps) && w.sent_kbps >= 0);
    g_assert_true(isfinite(w.recv_kbps) && w.recv_kbps >= 0);
    g_assert_true(w.loss >= 0 && w.loss <= 1);
    g_assert_true(isfinite(w.delay_growth_ms));
    g_assert_true(isfinite(w.queue_ms) && w.queue_ms >= 0);
    g_assert_cmpuint(w.packets_sent, <=, G_N_ELEMENTS(p));
    g_assert_cmpuint(w.packets_arrived, <=, w.packets_sent);
  }
  g_test_message("%u windows made", made);
  g_assert_cmpuint(made, >, 0);
  /* Packets with no send time are counted, not used. */
  for (guint i = 0; i < G_N_ELEMENTS(p); i++)
    p[i].sent_ns = AR_TWCC_TIME_NONE;
  g_assert_false(ar_twcc_windows_add(t, p, G_N_ELEMENTS(p), &w));
  guint reported = 0, timed = 1;
  ar_twcc_windows_get_last(t, &reported, &timed);
  g_assert_cmpuint(reported, ==, G_N_ELEMENTS(p));
  g_assert_cmpuint(timed, ==, 0);
}

/* Our own log of send times: what it holds, and what it no longer does. */
static void
test_send_log(void)
{
  g_autoptr(ArTwccSendLog) log = ar_twcc_send_log_new();
  ArTwccPacket p = {0};

  /* Across the wrap of the 16-bit numbers. */
  for (guint i = 0; i < 20; i++)
    ar_twcc_send_log_add(log, (guint16)(65530 + i), (i + 1) * MS, 1000 + i);
  for (guint i = 0; i < 20; i++) {
    p = (ArTwccPacket){.seqnum = (guint16)(65530 + i), .sent_ns = 77, .size = 5};
    g_assert_true(ar_twcc_send_log_fill(log, &p));
    g_assert_cmpuint(p.sent_ns, ==, (i + 1) * MS);
    g_assert_cmpuint(p.size, ==, 1000 + i);
  }
  /* Not sent (as far as the log knows): no time, not even one that came
   * with it (one clock for all). */
  p = (ArTwccPacket){.seqnum = 100, .sent_ns = 77, .size = 5};
  g_assert_false(ar_twcc_send_log_fill(log, &p));
  g_assert_cmpuint(p.sent_ns, ==, AR_TWCC_TIME_NONE);
  /* A slot taken by a later packet. */
  ar_twcc_send_log_add(log, (guint16)(65530 + AR_TWCC_SEND_LOG_SIZE), 30 * MS, 9);
  p.seqnum = 65530;
  g_assert_false(ar_twcc_send_log_fill(log, &p));
  p.seqnum = (guint16)(65530 + AR_TWCC_SEND_LOG_SIZE);
  g_assert_true(ar_twcc_send_log_fill(log, &p));
  /* Too old: the same number again after the wrap would be another packet. */
  ar_twcc_send_log_add(log, 7000, 31 * MS + AR_TWCC_SEND_LOG_MAX_AGE_NS, 9);
  p.seqnum = 65531;
  g_assert_false(ar_twcc_send_log_fill(log, &p));
  p.seqnum = 7000;
  g_assert_true(ar_twcc_send_log_fill(log, &p));
  /* No time: not kept. */
  ar_twcc_send_log_add(log, 7001, AR_TWCC_TIME_NONE, 9);
  p.seqnum = 7001;
  g_assert_false(ar_twcc_send_log_fill(log, &p));
  /* Hostile times do not overflow the age test. */
  ar_twcc_send_log_add(log, 7002, G_MAXUINT64 - 1, 9);
  p.seqnum = 7002;
  g_assert_true(ar_twcc_send_log_fill(log, &p));
  p.seqnum = 7000;
  g_assert_false(ar_twcc_send_log_fill(log, &p));
}

/* A retransmission carries its original's number (rtprtxsend copies the
 * header extensions): which of the two the far end reports is not known, so
 * that number has no send time; its neighbours keep theirs. The same number
 * after the 16-bit wrap, long after, is another packet. */
static void
test_send_log_twice(void)
{
  g_autoptr(ArTwccSendLog) log = ar_twcc_send_log_new();
  ArTwccPacket p = {0};

  for (guint i = 0; i < 10; i++)
    ar_twcc_send_log_add(log, (guint16)(100 + i), (i + 1) * MS, 1000);
  ar_twcc_send_log_add(log, 104, 40 * MS, 1000); /* the retransmission of 104 */
  for (guint i = 0; i < 10; i++) {
    p = (ArTwccPacket){.seqnum = (guint16)(100 + i)};
    g_assert_cmpint(ar_twcc_send_log_fill(log, &p), ==, i != 4);
    if (i == 4)
      g_assert_cmpuint(p.sent_ns, ==, AR_TWCC_TIME_NONE);
    else
      g_assert_cmpuint(p.sent_ns, ==, (i + 1) * MS);
  }
  ar_twcc_send_log_add(log, 104, 41 * MS, 1000); /* a third copy: still unknown */
  p.seqnum = 104;
  g_assert_false(ar_twcc_send_log_fill(log, &p));
  /* 104 again after the wrap, more than the log's age later: a new packet. */
  ar_twcc_send_log_add(log, 104, 42 * MS + AR_TWCC_SEND_LOG_MAX_AGE_NS, 700);
  g_assert_true(ar_twcc_send_log_fill(log, &p));
  g_assert_cmpuint(p.sent_ns, ==, 42 * MS + AR_TWCC_SEND_LOG_MAX_AGE_NS);
  g_assert_cmpuint(p.size, ==, 700);
}

/* The same path, its send times once with the feedback (the RTP session's)
 * and once from our log on another clock: the same windows. */
static void
test_send_log_windows(void)
{
  PathSim with, logged;

  path_init(&with);
  path_init(&logged);
  logged.log = ar_twcc_send_log_new();
  with.cap_kbps = logged.cap_kbps = 500;
  path_run(&with, 400, 2000);
  path_run(&logged, 400, 2000);
  path_run(&with, 900, 2000);
  path_run(&logged, 900, 2000);
  g_test_message("%u windows", with.made->len);
  g_assert_cmpuint(with.made->len, >, 10);
  g_assert_cmpuint(logged.made->len, ==, with.made->len);
  for (guint i = 0; i < with.made->len; i++) {
    const ArRateTwcc *a = &g_array_index(with.made, ArRateTwcc, i);
    const ArRateTwcc *b = &g_array_index(logged.made, ArRateTwcc, i);
    g_assert_cmpfloat_with_epsilon(a->sent_kbps, b->sent_kbps, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->recv_kbps, b->recv_kbps, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->loss, b->loss, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->delay_growth_ms, b->delay_growth_ms, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->queue_ms, b->queue_ms, 1e-6);
  }
  /* The cap showed: a queue, and loss. */
  Means m = path_means(&logged, 0);
  g_assert_cmpfloat(m.queue_max, >, 20);
  path_clear(&with);
  path_clear(&logged);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/twcc/open-path", test_open_path);
  g_test_add_func("/media/twcc/queue-fills-then-stands", test_queue_fills_then_stands);
  g_test_add_func("/media/twcc/random-loss", test_random_loss);
  g_test_add_func("/media/twcc/one-late-packet", test_one_late_packet);
  g_test_add_func("/media/twcc/hostile", test_hostile);
  g_test_add_func("/media/twcc/probe-open", test_probe_open);
  g_test_add_func("/media/twcc/probe-capped", test_probe_capped);
  g_test_add_func("/media/twcc/probe-edges", test_probe_edges);
  g_test_add_func("/media/twcc/probe-hostile", test_probe_hostile);
  g_test_add_func("/media/twcc/send-log", test_send_log);
  g_test_add_func("/media/twcc/send-log-twice", test_send_log_twice);
  g_test_add_func("/media/twcc/send-log-windows", test_send_log_windows);
  return g_test_run();
}
