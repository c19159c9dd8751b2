/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-rate.c: the sender's bandwidth controller (see ar-rate.h for how it
 * decides). Loss-based and delay-based like the WebRTC congestion
 * controllers, on what every SFU sends back (RTCP receiver reports, REMB):
 * GStreamer 1.22 has no congestion control element.
 */
#include "ar-rate.h"

#include <math.h>
#include <string.h>

#define AR_RATE_LOSS_HIGH 0.10
#define AR_RATE_LOSS_LOW 0.02
/* After a decrease: the reports take a second to show its effect (RTCP and
 * our stats, a second each), so none before that, and no increase either. */
#define AR_RATE_HOLD_US (1500 * G_TIME_SPAN_MILLISECOND)
/* Decreases closer than this are one episode of overuse. */
#define AR_RATE_EPISODE_US (5 * G_TIME_SPAN_SECOND)
#define AR_RATE_LOSS_DOWN 0.95
#define AR_RATE_STEP_US (400 * G_TIME_SPAN_MILLISECOND)
#define AR_RATE_REMB_VALID_US (5 * G_TIME_SPAN_SECOND)
#define AR_RATE_UP_AFTER_US (2 * G_TIME_SPAN_SECOND)
/* A smaller picture only once the target stayed low this long: a new size
 * starts with a key frame, and one sent into the full queue of a link that
 * just narrowed is lost, with every request for it (./build.sh bench
 * bandwidth: the far end froze 3 s at the drop to 300 kbit/s). */
#define AR_RATE_DOWN_AFTER_US (1500 * G_TIME_SPAN_MILLISECOND)
#define AR_RATE_FAST_UP 1.25
#define AR_RATE_SLOW_UP 1.05
/* Above the ceiling without a queue showing: the bottleneck is higher than
 * it was, or gone; faster, until it is forgotten. */
#define AR_RATE_ABOVE_UP 1.10
/* ...faster once the ceiling moved up (the path passed 20 % more than it,
 * clean, for AR_RATE_FORGET_US: the bottleneck is likely gone). Right above
 * a ceiling, where a link that did not change is, x1.15 ran into it: every
 * step x1.15 brought the far end back within 10 s of a lift in 10 runs of
 * 10 (x1.1: 7 of 10), froze it once, 1.2 s, at the top of a probe under
 * 1 Mbit/s (850 -> 977 -> 1124 kbit/s before the queue showed), and left
 * more gaps of 0.5-0.8 s at probes' tops under 300 kbit/s (./build.sh
 * bench bandwidth, 2026-12-07; docs/bandwidth.md). */
#define AR_RATE_ABOVE_UP_RAISED 1.15
/* Past the ceiling by this much, clean for this long while above it (two
 * receiver reports): the bottleneck went away. */
#define AR_RATE_FORGET 1.20
#define AR_RATE_FORGET_US (900 * G_TIME_SPAN_MILLISECOND)
/* Near the ceiling: from this fraction of it on, the slow increase. */
#define AR_RATE_ZONE 0.85
#define AR_RATE_QUEUE_DOWN 0.85
/* A queue: the round-trip time above the call's lowest by this much (ms), or
 * by the lowest itself when that is larger (a long path jitters more). */
#define AR_RATE_QUEUE_MS 100.0
/* A queue shows in this many new measurements in a row: one long round trip
 * alone is more often a busy host (ours, the SFU's) than a queue. */
#define AR_RATE_QUEUE_REPORTS 2
/* ...or this many while transport-wide feedback comes: its windows see a
 * queue filling; the round trip is left the queue that stays full, which
 * costs delay, not loss, and two long round trips in a row were a starved
 * host as often (2026-12-05, load average 15, no cap: 353 ms). */
#define AR_RATE_QUEUE_REPORTS_TWCC 4
/* Sending less than this share of the target, the encoder is not using its
 * budget (a still picture, a start): a decrease starts from this share. */
#define AR_RATE_APP_LIMITED 0.5
#define AR_RATE_RTT_WINDOW_US (30 * G_TIME_SPAN_SECOND)
/* The picture levels, as fractions of the configured bitrate. */
#define AR_RATE_HALF_SIZE_BELOW 0.40
#define AR_RATE_HALF_FPS_BELOW 0.15
#define AR_RATE_LEVEL_UP_MARGIN 1.25
/* ...and at once this far above it: no hovering near the threshold there, and
 * a ramp after a lifted cap reaches the full rate before the 2 s pass. */
#define AR_RATE_LEVEL_UP_CLEAR 2.0
/* Transport-wide feedback (every 100-200 ms from Janus and browsers): while
 * it comes, it decides and the receiver reports' rules stand aside (they say
 * the same a second later, from older packets). */
#define AR_RATE_TWCC_VALID_US (2 * G_TIME_SPAN_SECOND)
/* A window with fewer packets says nothing (a still picture, audio only). */
#define AR_RATE_TWCC_MIN_PACKETS 3
/* A queue filling: the arrivals spread out more than the departures by this
 * much on average (ms per packet), and less arrived than was sent, in two
 * windows in a row. One window alone is as often a starved host: a sender or
 * an SFU that got no CPU for 50-200 ms spreads a window's arrivals by 1-10 ms
 * a packet (2026-12-05, load average 12: 1427 kbit/s sent, 1113 arrived,
 * 1.59 ms; the next window 240 sent, 328 arrived, -8.46 ms: it caught up). */
#define AR_RATE_TWCC_GROWTH_MS 0.25
#define AR_RATE_TWCC_RECV_SHARE 0.95
/* A queue overflowing decides in one window: spreading out, well under what
 * was sent arriving, and at least this share (and AR_RATE_TWCC_OVERFLOW_LOST
 * packets) lost. A starved host delays packets; it does not lose them. */
#define AR_RATE_TWCC_OVERFLOW_SHARE 0.85
#define AR_RATE_TWCC_OVERFLOW_LOSS 0.05
#define AR_RATE_TWCC_OVERFLOW_LOST 2.0
/* A queue that stands full decides in one window too: every packet of it
 * waited at least this long (ms) more than the path's own delay, and it lost
 * as one overflowing does. Its delay grows no more, so none of the rules
 * above sees it until a window loses 30 % (lab runs, 2026-12-06: 12-13 % lost
 * for seconds at a probe's top, the far end frozen). Random loss queues
 * nothing. At least the time two full packets take at the rate that arrived:
 * a link's own packet time is in the delay too (32 ms a packet at 300
 * kbit/s), and the path's delay may have been measured on a faster link. */
#define AR_RATE_TWCC_STANDING_MS 50.0
/* A queue building up: the standing queue rose by this much (ms) over two
 * windows, to at least AR_RATE_TWCC_RISEN_MS. A starved host (the SFU's)
 * raises it only by holding every packet of a window that long. */
#define AR_RATE_TWCC_RISE_MS 30.0
#define AR_RATE_TWCC_RISEN_MS 40.0
#define AR_RATE_TWCC_STANDING_PACKETS_BITS (2 * 1200 * 8.0)
/* The decrease also drains what the queue holds (its delay, summed over the
 * windows that showed it filling) within about a second: 0.85 x what arrived,
 * less that delay's share of a second, down to this share of what arrived. */
#define AR_RATE_TWCC_DRAIN_FLOOR 0.5
/* Key frames wait while the queue drains, this long at most from an overuse
 * (one sent into the full queue is lost, and every request for it; the first
 * lab version waited 1 s and let one go into a queue still full), and after
 * a wait that ran out its time, a new one starts at most
 * AR_RATE_KEY_EVERY_US after it began: a link that stays overloaded still
 * gets its key frames. */
#define AR_RATE_KEY_HOLD_US (2 * G_TIME_SPAN_SECOND)
#define AR_RATE_KEY_EVERY_US (4 * G_TIME_SPAN_SECOND)
/* A wait held again (the decrease it began with was not deep enough) ends
 * this long after the first began, at most: 1 s of each 4 s at least for
 * key frames, on a link that stays overloaded. */
#define AR_RATE_KEY_AGAIN_MOST_US (3 * G_TIME_SPAN_SECOND)
/* ...or until the delay the queue added is back under this (ms). */
#define AR_RATE_KEY_DRAINED_MS 10.0
/* ...or, once we stopped sending frames, the time the link takes to pass a
 * key frame: this many seconds of the target (twice x264enc's 200 ms rate
 * buffer) at the ceiling's rate, at least AR_RATE_KEY_ROOM_MIN_US. */
#define AR_RATE_KEY_ROOM_S 0.4
#define AR_RATE_KEY_ROOM_MIN_US (100 * G_TIME_SPAN_MILLISECOND)
/* A key frame asked for this long before a wait that began with packets
 * lost went into the queue that lost them (a feedback window covers the
 * packets of the last 200-300 ms): it goes again once the queue drained. */
#define AR_RATE_KEY_LOST_US (300 * G_TIME_SPAN_MILLISECOND)
/* Loss is judged over this many packets (or this long, with at least
 * AR_RATE_TWCC_LOSS_MIN_PACKETS): a window of 30 packets says "over 10 %" for
 * 4 lost, which random loss of 5 % gives one window in sixteen; 200 packets
 * say it one time in 1,700. */
#define AR_RATE_TWCC_LOSS_PACKETS 200
#define AR_RATE_TWCC_LOSS_US (2 * G_TIME_SPAN_SECOND)
#define AR_RATE_TWCC_LOSS_MIN_PACKETS 50
/* ...except a window of at least AR_RATE_TWCC_HEAVY_PACKETS that lost more
 * than this: a queue overflowing, now. */
#define AR_RATE_TWCC_HEAVY_LOSS 0.30
#define AR_RATE_TWCC_HEAVY_PACKETS 10
/* Overuse: at most down to this share of the target in one window. */
#define AR_RATE_TWCC_FLOOR 0.2
/* Overuse: a little under what arrived, the bottleneck's real rate. */
#define AR_RATE_TWCC_DOWN 0.85
/* Probes (ar-rate.h): twice the target, at most this share of the
 * configured bitrate; none that would add less than AR_RATE_PROBE_MIN_GAIN. */
#define AR_RATE_PROBE_GAIN 2.0
#define AR_RATE_PROBE_MAX_SHARE 1.25
#define AR_RATE_PROBE_MIN_GAIN 1.2
/* A probe passes: this share of what it sent arrived, as fast, with at most
 * AR_RATE_PROBE_LOSS lost (one packet at least allowed) and its last packets
 * waiting under AR_RATE_PROBE_RISE_MS more than its first ones. A token
 * bucket of rate C and burst B passes at most C + B / T over a probe of T
 * (ar_rate_probe_duration_us): T is long enough that a burst of
 * AR_RATE_PROBE_BURST_BITS adds at most AR_RATE_PROBE_BURST_SHARE of the
 * probe's rate, and a queue behind it shows as the rise. */
#define AR_RATE_PROBE_ARRIVED 0.9
#define AR_RATE_PROBE_BURST_BITS (8 * 8000.0)
#define AR_RATE_PROBE_BURST_SHARE 0.2
#define AR_RATE_PROBE_LOSS 0.02
#define AR_RATE_PROBE_RISE_MS 20.0
/* No figures this long after it began: it gave none. */
#define AR_RATE_PROBE_WAIT_US (3 * G_TIME_SPAN_SECOND)
/* After a probe that failed, the next waits this long, twice as long after
 * each failure up to AR_RATE_PROBE_BACKOFF_MAX_US: a steady bottleneck costs
 * a short queue that often. */
#define AR_RATE_PROBE_BACKOFF_US (4 * G_TIME_SPAN_SECOND)
#define AR_RATE_PROBE_BACKOFF_MAX_US (8 * G_TIME_SPAN_SECOND)
/* After one that passed, the next may follow (from the new target) this
 * soon, while the last passed within AR_RATE_PROBE_CHAIN_US. */
#define AR_RATE_PROBE_AGAIN_US (400 * G_TIME_SPAN_MILLISECOND)
#define AR_RATE_PROBE_CHAIN_US (3 * G_TIME_SPAN_SECOND)
/* The windows this long after a probe's figures still hold its packets
 * (a window is the last 300 ms sent). */
#define AR_RATE_PROBE_QUIET_US (300 * G_TIME_SPAN_MILLISECOND)
/* ...unless what arrived is under this share of the target: the link no
 * longer carries even the video, and the window decides as any other. */
#define AR_RATE_PROBE_NARROWED 0.8
/* A probe starts from an empty queue: the last two windows' standing queue
 * under this (ms). One on top of a queue the video keeps (a target at the
 * link's rate) overflows it before its first window can stop it. */
#define AR_RATE_PROBE_QUEUE_MS 10.0

struct _ArRate {
  double min_kbps, max_kbps, target_kbps;
  double ceiling_kbps;      /* the rate of the last overuse, 0: none known */
  gint64 clean_above_since; /* reports without loss while above it since, 0: not */
  guint raises;             /* times it moved up since the last overuse */
  gint64 last_decrease_us, last_increase_us;
  gint64 last_overuse_us;              /* no increase for AR_RATE_HOLD_US after it */
  gint64 twcc_until_us;                /* transport-wide feedback decides until then */
  gboolean twcc_growing;               /* the last window showed a queue filling */
  double twcc_queue_seen[2];           /* the last two windows' standing queue (ms) */
  double twcc_queue_ms;                /* the delay those windows added (0: not filling) */
  gint64 key_hold_until_us;            /* key frames wait until then (a queue draining) */
  gint64 key_hold_from_us;             /* since then (0: never) */
  double key_queue_ms;                 /* the queue's delay since, as the windows tell it */
  gint64 key_room_us;                  /* ...or until then (0: we send frames) */
  gint64 key_asked_us;                 /* a key frame request went to the encoder (0: none) */
  gboolean key_hold_lost;              /* the window that began the wait lost packets */
  gboolean key_again;                  /* one went into a queue that loses: ask again */
  double twcc_acc_sent, twcc_acc_lost; /* packets of the windows since twcc_acc_since_us */
  gint64 twcc_acc_since_us;
  gint64 twcc_drain_until_us;  /* loss until then is a queue's, answered: not counted */
  gint64 probe_since_us;       /* a probe runs or waits for its figures since (0: none) */
  gboolean probe_failing;      /* a window showed its queue */
  gint64 probe_next_us;        /* no probe before then */
  gint64 probe_backoff_us;     /* the wait after the next failure */
  gint64 probe_passed_us;      /* the last one that passed (0: none since a failure) */
  gint64 probe_quiet_until_us; /* windows until then still hold its packets */
  double remb_kbps;
  gint64 remb_until_us;
  double rtt_min_ms; /* < 0 until known */
  double rtt_last_ms;
  guint rtt_high;    /* new measurements in a row that showed a queue */
  gint64 rtt_min_us; /* when the lowest was seen */
  double loss;       /* of the last receiver report */
  ArRateLevel level;
  gint64 up_since_us;   /* 0: no move up pending */
  gint64 down_since_us; /* 0: no move down pending */
  ArRateLimit limit;
};

ArRate *
ar_rate_new(guint min_kbps, guint max_kbps)
{
  ArRate *r = g_new0(ArRate, 1);

  r->max_kbps = MAX(max_kbps, 1u);
  r->min_kbps = MIN(MAX(min_kbps, 1u), r->max_kbps);
  r->target_kbps = r->max_kbps;
  r->rtt_min_ms = -1;
  r->rtt_last_ms = -1;
  return r;
}

void
ar_rate_free(ArRate *rate)
{
  g_free(rate);
}

void
ar_rate_on_remb(ArRate *rate, gint64 now_us, guint64 bps)
{
  rate->remb_kbps = (double)bps / 1000.0;
  rate->remb_until_us = now_us + AR_RATE_REMB_VALID_US;
}

static ArRateLevel
ar_rate_level_for(const ArRate *r, double margin)
{
  if (r->target_kbps < AR_RATE_HALF_FPS_BELOW * margin * r->max_kbps)
    return AR_RATE_LEVEL_HALF_SIZE_FPS;
  if (r->target_kbps < AR_RATE_HALF_SIZE_BELOW * margin * r->max_kbps)
    return AR_RATE_LEVEL_HALF_SIZE;
  return AR_RATE_LEVEL_FULL;
}

static void
ar_rate_update_level(ArRate *r, gint64 now_us)
{
  ArRateLevel down = ar_rate_level_for(r, 1.0);
  ArRateLevel up = ar_rate_level_for(r, AR_RATE_LEVEL_UP_MARGIN);

  if (down > r->level) {
    r->up_since_us = 0;
    if (r->down_since_us == 0)
      r->down_since_us = now_us;
    if (now_us - r->down_since_us >= AR_RATE_DOWN_AFTER_US) {
      r->level = down;
      r->down_since_us = 0;
    }
    return;
  }
  r->down_since_us = 0;
  /* Not while the target probes past a bottleneck's ceiling: a bigger
   * picture starts with a key frame, and one sent into the queue the probe
   * fills is lost (two lab runs: up to 1280x720 at 1130 and 1176 kbit/s
   * under a 1 Mbit/s cap, the far end frozen 1.8 and 2.3 s, until the
   * picture halved again). Once the probe found the link wider (the ceiling
   * moved up to the target, or was forgotten), it may. */
  if (r->ceiling_kbps > 0 && r->target_kbps > r->ceiling_kbps) {
    r->up_since_us = 0;
    return;
  }
  ArRateLevel clear = ar_rate_level_for(r, AR_RATE_LEVEL_UP_CLEAR);
  if (clear < r->level) {
    r->level = clear;
    r->up_since_us = 0;
  }
  if (up < r->level) {
    if (r->up_since_us == 0)
      r->up_since_us = now_us;
    else if (now_us - r->up_since_us >= AR_RATE_UP_AFTER_US) {
      r->level = up;
      r->up_since_us = 0;
    }
  } else {
    r->up_since_us = 0;
  }
}

/* A report or window without loss while above the ceiling: the evidence to
 * forget it, once it lasted AR_RATE_FORGET_US. */
static void
ar_rate_note_clean(ArRate *r, gint64 now_us)
{
  if (r->ceiling_kbps > 0 && r->target_kbps > r->ceiling_kbps && r->loss < AR_RATE_LOSS_LOW) {
    if (r->clean_above_since == 0)
      r->clean_above_since = now_us;
  } else {
    r->clean_above_since = 0;
  }
}

/* Bounds, REMB and the picture after a decision; TRUE when something the
 * encoder should hear changed. */
static gboolean
ar_rate_settle(ArRate *r, gint64 now_us, double old_target, ArRateLevel old_level)
{
  r->target_kbps = CLAMP(r->target_kbps, r->min_kbps, r->max_kbps);
  if (r->remb_until_us > now_us && r->remb_kbps > 0 && r->target_kbps > r->remb_kbps) {
    r->target_kbps = MAX(r->remb_kbps, r->min_kbps);
    r->limit = AR_RATE_LIMIT_REMB;
  }
  if (r->target_kbps >= r->max_kbps)
    r->limit = AR_RATE_LIMIT_NONE;
  ar_rate_update_level(r, now_us);
  /* Whole kbit/s: changes below that are not worth an encoder call. */
  return (guint)old_target != (guint)r->target_kbps || old_level != r->level;
}

/* No loss, no overuse for a while, and a step since the last increase: up,
 * fast below the zone of the last bottleneck, slowly in it. */
static void
ar_rate_maybe_increase(ArRate *r, gint64 now_us)
{
  gboolean hold = r->last_decrease_us != 0 && now_us - r->last_decrease_us < AR_RATE_HOLD_US;
  gboolean calm = r->last_overuse_us == 0 || now_us - r->last_overuse_us >= AR_RATE_HOLD_US;

  if (r->loss >= AR_RATE_LOSS_LOW || hold || !calm || r->target_kbps >= r->max_kbps ||
      now_us - r->last_increase_us < AR_RATE_STEP_US || r->probe_since_us != 0)
    return;
  double zone = AR_RATE_ZONE * r->ceiling_kbps;

  if (r->ceiling_kbps > 0 && r->target_kbps >= r->ceiling_kbps)
    r->target_kbps =
        MAX(r->target_kbps * (r->raises > 0 ? AR_RATE_ABOVE_UP_RAISED : AR_RATE_ABOVE_UP),
            r->target_kbps + 20);
  else if (r->ceiling_kbps > 0 && r->target_kbps >= zone)
    r->target_kbps =
        MIN(MAX(r->target_kbps * AR_RATE_SLOW_UP, r->target_kbps + 20), r->ceiling_kbps);
  else if (r->ceiling_kbps > 0)
    r->target_kbps = MIN(r->target_kbps * AR_RATE_FAST_UP, zone); /* not over the zone */
  else
    r->target_kbps *= AR_RATE_FAST_UP;
  /* Past the old bottleneck, and reports say so (they lag): it went away. */
  if (r->ceiling_kbps > 0 && r->target_kbps > AR_RATE_FORGET * r->ceiling_kbps &&
      r->clean_above_since != 0 && now_us - r->clean_above_since >= AR_RATE_FORGET_US) {
    /* The first time the ceiling was only low (an estimate made while
     * the reports lagged, or a window's arrivals under the link's rate): it
     * moves up. The second time it is gone. */
    r->ceiling_kbps = r->raises++ == 0 ? r->target_kbps : 0;
    r->clean_above_since = 0;
  }
  r->last_increase_us = now_us;
  r->limit = AR_RATE_LIMIT_RAMP;
}

gboolean
ar_rate_on_report(ArRate *r, gint64 now_us, double loss, double rtt_ms, double sent_kbps)
{
  double old_target = r->target_kbps;
  ArRateLevel old_level = r->level;
  gboolean fresh = loss >= 0;

  gboolean twcc = r->twcc_until_us > now_us;

  /* While transport-wide feedback comes, it tells loss and queues sooner. */
  if (twcc)
    fresh = FALSE;
  if (fresh) {
    r->loss = MIN(loss, 1.0);
    ar_rate_note_clean(r, now_us);
  }
  gboolean queue = FALSE;
  gboolean hold = r->last_decrease_us != 0 && now_us - r->last_decrease_us < AR_RATE_HOLD_US;

  /* Only a new measurement says something: the stats repeat the last one
   * until the next receiver report. */
  if (rtt_ms >= 0 && rtt_ms < 60000 && rtt_ms != r->rtt_last_ms) {
    r->rtt_last_ms = rtt_ms;
    /* The lowest of the last AR_RATE_RTT_WINDOW_US: a path that got longer
     * for good (another route, a relay) becomes the new normal. */
    if (r->rtt_min_ms < 0 || rtt_ms < r->rtt_min_ms ||
        now_us - r->rtt_min_us > AR_RATE_RTT_WINDOW_US) {
      r->rtt_min_ms = rtt_ms;
      r->rtt_min_us = now_us;
    }
    if (rtt_ms > r->rtt_min_ms + MAX(AR_RATE_QUEUE_MS, r->rtt_min_ms))
      r->rtt_high = MIN(r->rtt_high + 1, 1000u);
    else
      r->rtt_high = 0;
    /* On with transport-wide feedback too: a queue that stays full shows
     * only here. */
    queue = r->rtt_high >= (twcc ? AR_RATE_QUEUE_REPORTS_TWCC : AR_RATE_QUEUE_REPORTS);
  }
  if ((fresh && r->loss > AR_RATE_LOSS_HIGH) || queue) {
    if (!hold) {
      /* From what was sent (the link passed at most that), but not from
       * what an encoder with nothing to say sent. */
      double base = sent_kbps > 0
                        ? MIN(r->target_kbps, MAX(sent_kbps, AR_RATE_APP_LIMITED * r->target_kbps))
                        : r->target_kbps;
      gboolean by_loss = fresh && r->loss > AR_RATE_LOSS_HIGH;

      gboolean episode =
          r->last_decrease_us != 0 && now_us - r->last_decrease_us <= AR_RATE_EPISODE_US;

      /* What got through is what was sent less what was lost: a little under
       * it, at once (to 30 % at most: a report of everything lost is more
       * likely a hiccup than a link gone). */
      r->target_kbps =
          base * (by_loss ? MAX(0.3, (1.0 - r->loss) * AR_RATE_LOSS_DOWN) : AR_RATE_QUEUE_DOWN);
      /* What got through when an episode of overuse began is the
       * bottleneck's ceiling; the decreases that follow (reports still
       * showing the overuse) do not lower it. */
      if (!episode)
        r->ceiling_kbps = r->target_kbps / AR_RATE_LOSS_DOWN;
      r->raises = 0;
      r->last_decrease_us = now_us;
      r->last_overuse_us = now_us;
      r->limit = by_loss ? AR_RATE_LIMIT_LOSS : AR_RATE_LIMIT_DELAY;
    }
  } else {
    ar_rate_maybe_increase(r, now_us);
  }
  return ar_rate_settle(r, now_us, old_target, old_level);
}

/* Key frames wait for a queue to drain (@queue_ms: the delay it added), at
 * most once each AR_RATE_KEY_EVERY_US. A key frame asked for just before,
 * when the window @w that shows the queue lost packets, went into it: it is
 * asked for again, to go once the queue drained (the drop to 300 kbit/s of
 * four lab runs, 2026-12-07: the retransmissions over the budget asked for a
 * key frame 6-96 ms before the window that began the wait, it was lost with
 * the queue's packets, the next request was not due for 1.5 s, and the far
 * end froze 1.2-1.9 s, until the smaller picture brought one). @again: the
 * decrease the wait began with was not deep enough, and it holds again
 * within the episode (AR_RATE_KEY_AGAIN_MOST_US). */
static void
ar_rate_hold_keys(ArRate *r, gint64 now_us, double queue_ms, const ArRateTwcc *w, gboolean again)
{
  gboolean episode =
      r->key_hold_from_us != 0 && now_us - r->key_hold_from_us < AR_RATE_KEY_EVERY_US;

  if (episode && !(again && now_us - r->key_hold_from_us < AR_RATE_KEY_AGAIN_MOST_US))
    return;
  if (episode) {
    r->key_hold_until_us =
        MIN(now_us + AR_RATE_KEY_HOLD_US, r->key_hold_from_us + AR_RATE_KEY_AGAIN_MOST_US);
  } else {
    r->key_hold_from_us = now_us;
    r->key_hold_until_us = now_us + AR_RATE_KEY_HOLD_US;
  }
  r->key_room_us = 0;
  r->key_queue_ms = MAX(queue_ms, AR_RATE_KEY_DRAINED_MS * 2);
  r->key_hold_lost = w->loss * w->packets_sent >= AR_RATE_TWCC_OVERFLOW_LOST;
  if (r->key_hold_lost && r->key_asked_us != 0 && now_us - r->key_asked_us <= AR_RATE_KEY_LOST_US)
    r->key_again = TRUE;
}

gboolean
ar_rate_on_twcc(ArRate *r, gint64 now_us, const ArRateTwcc *w)
{
  double old_target = r->target_kbps;
  ArRateLevel old_level = r->level;

  if (w == NULL || !(w->sent_kbps > 0) || !(w->recv_kbps >= 0) || !(w->loss >= 0) ||
      w->sent_kbps > 1e7 || w->recv_kbps > 1e7 ||
      !(w->delay_growth_ms > -1e6 && w->delay_growth_ms < 1e6))
    return FALSE;
  r->twcc_until_us = now_us + AR_RATE_TWCC_VALID_US;
  /* Loss over enough packets: the windows' own shares are too noisy. The
   * windows that come in the hold after a decrease for a queue are not
   * counted: they tell of packets sent before it, and the ones they lost
   * overflowed the queue it drains (two of seven lost after the last
   * decrease of a lab run held the target 3.6 s after the cap lifted: the
   * judgement 2 s later said 4 %, the next one came 2 s after that). */
  gboolean draining_queue =
      now_us < r->twcc_drain_until_us && r->twcc_drain_until_us - now_us <= AR_RATE_HOLD_US;
  /* A probe's windows tell of its padding: its loss and its queue are its
   * own, and end with it. */
  gboolean probe_window = r->probe_since_us != 0 || now_us < r->probe_quiet_until_us;
  if (!draining_queue && !probe_window) {
    if (r->twcc_acc_since_us == 0)
      r->twcc_acc_since_us = now_us;
    r->twcc_acc_sent += w->packets_sent;
    r->twcc_acc_lost += MIN(w->loss, 1.0) * w->packets_sent;
  }
  gboolean judged = !draining_queue && !probe_window &&
                    (r->twcc_acc_sent >= AR_RATE_TWCC_LOSS_PACKETS ||
                     (now_us - r->twcc_acc_since_us >= AR_RATE_TWCC_LOSS_US &&
                      r->twcc_acc_sent >= AR_RATE_TWCC_LOSS_MIN_PACKETS));
  if (judged) {
    r->loss = r->twcc_acc_lost / r->twcc_acc_sent;
    r->twcc_acc_sent = r->twcc_acc_lost = 0;
    r->twcc_acc_since_us = 0;
    ar_rate_note_clean(r, now_us);
  }
  /* ...but a window that lost most of itself is a queue overflowing now. */
  gboolean heavy =
      w->loss > AR_RATE_TWCC_HEAVY_LOSS && w->packets_sent >= AR_RATE_TWCC_HEAVY_PACKETS;
  gboolean by_loss = heavy || (judged && r->loss > AR_RATE_LOSS_HIGH);

  if (heavy && !probe_window)
    r->loss = MIN(w->loss, 1.0);
  if (w->packets_sent < AR_RATE_TWCC_MIN_PACKETS && !by_loss)
    return ar_rate_settle(r, now_us, old_target, old_level); /* too few for a queue */

  double share = w->recv_kbps / w->sent_kbps;
  /* A window in which we sent under half the target says nothing of the
   * path: the encoder had nothing to say, or our host starved it (its
   * frames then leave late and in bursts, which the far end sees as a
   * queue: 2026-12-05, 341 kbit/s sent of a target of 866, 6.24 ms). */
  gboolean starved = w->sent_kbps < AR_RATE_APP_LIMITED * r->target_kbps;
  /* The floor of the delay rising: the standing queue up by
   * AR_RATE_TWCC_RISE_MS over the last two windows, to at least
   * AR_RATE_TWCC_RISEN_MS. A queue filling slowly passes almost all it
   * gets in a window (a lab run under 300 kbit/s: windows of 96 % arriving
   * between windows of 80-86 %, the delay growing 1-8 ms a packet in every
   * one, the queue 3 -> 6 -> 41 -> 68 -> 98 -> 128 ms: "two windows in a
   * row" waited for the loss, and the far end froze 1.1 s). */
  gboolean rising =
      w->queue_ms >= AR_RATE_TWCC_RISEN_MS &&
      w->queue_ms - MIN(r->twcc_queue_seen[0], r->twcc_queue_seen[1]) >= AR_RATE_TWCC_RISE_MS;
  r->twcc_queue_seen[0] = r->twcc_queue_seen[1];
  r->twcc_queue_seen[1] = isfinite(w->queue_ms) ? w->queue_ms : 0;
  gboolean growing = w->delay_growth_ms > AR_RATE_TWCC_GROWTH_MS &&
                     (share < AR_RATE_TWCC_RECV_SHARE || rising) && !starved;
  gboolean overflow = growing && share < AR_RATE_TWCC_OVERFLOW_SHARE &&
                      w->loss > AR_RATE_TWCC_OVERFLOW_LOSS &&
                      w->loss * w->packets_sent >= AR_RATE_TWCC_OVERFLOW_LOST;
  /* Two windows in a row: a queue, not a hiccup. A queue that stays full
   * grows no more: the receiver reports' round-trip rule sees it (it stays
   * on with transport-wide feedback). Less arriving than sent alone is no
   * sign: random loss looks the same. */
  gboolean queue = growing && (overflow || r->twcc_growing);
  gboolean standing = !starved && w->recv_kbps > 0 &&
                      w->queue_ms >= MAX(AR_RATE_TWCC_STANDING_MS,
                                         AR_RATE_TWCC_STANDING_PACKETS_BITS / w->recv_kbps) &&
                      w->loss > AR_RATE_TWCC_OVERFLOW_LOSS &&
                      w->loss * w->packets_sent >= AR_RATE_TWCC_OVERFLOW_LOST;
  /* ...and less arriving than the target: the link passes less than the
   * video alone, so the last decrease (or a probe's window) did not go deep
   * enough. After a decrease the target is at most 0.85 x what arrived, and
   * a link that did not narrow further passes that again. A lab run
   * (2026-12-07): the first window of the drop to 300 kbit/s said 289
   * kbit/s arrived, the target went to 222, and for the next 1.4 s the
   * windows said 183-201 arrived with 12-31 % lost and the queue standing
   * at 240-285 ms; the key frame that went meanwhile was lost, and the far
   * end froze 3.1 s. */
  gboolean short_link = standing && w->recv_kbps < r->target_kbps;
  /* Not in the hold after a decrease for a queue: it drains its packets
   * sent before, full as it is, and would decrease again and again; unless
   * the link passes less than the target. */
  standing = standing && (!draining_queue || short_link);
  queue = queue || standing;
  if (probe_window) {
    /* The queue the probe fills: it failed, and stops at once (a window
     * spreading out is enough: the probe is what fills it). No decrease: the
     * video alone was under the target that passed before. */
    if (r->probe_since_us != 0 && !r->probe_failing &&
        (by_loss || queue || growing || rising ||
         w->loss * w->packets_sent >= AR_RATE_TWCC_OVERFLOW_LOST)) {
      r->probe_failing = TRUE;
      /* Key frames wait for that queue to drain, as after an overuse: one
       * sent into it is lost (a lab run under 300 kbit/s: a probe lost 2
       * packets, the key frame asked for instead of their retransmissions
       * went into its queue, and the far end froze 3.1 s). */
      ar_rate_hold_keys(r, now_us, isfinite(w->queue_ms) ? MIN(w->queue_ms, 1000.0) : 0, w, FALSE);
    }
    /* Its windows decide nothing, but may tell the queue drained; unless
     * far less arrived than the video alone sends: then the link narrowed
     * under the probe, and its windows are an overuse like any other (a lab
     * run, 2026-12-07: the 300 kbit/s cap came during a probe at a target of
     * 703 kbit/s, 214 kbit/s arrived, and the decrease waited 1 s for the
     * probe's windows to end; the key frame that went meanwhile was lost). */
    gboolean narrowed =
        ((by_loss || queue) && w->recv_kbps < AR_RATE_PROBE_NARROWED * r->target_kbps) ||
        short_link;
    if (!narrowed)
      by_loss = queue = growing = overflow = standing = FALSE;
  }

  r->twcc_queue_ms =
      growing ? MIN(r->twcc_queue_ms + w->delay_growth_ms * (w->packets_sent - 1.0), 1000.0) : 0;
  /* A queue standing full holds its whole delay: the decrease drains it. */
  if (standing)
    r->twcc_queue_ms = MAX(r->twcc_queue_ms, MIN(w->queue_ms, 1000.0));
  r->twcc_growing = growing;
  if (by_loss || queue) {
    /* What arrived is what the bottleneck passes: a little under it, less
     * what drains the queue built up (to a fifth of the target at most: a
     * window of everything lost is more likely a hiccup than a link gone,
     * but a link that fell from 1 Mbit/s to 300 kbit/s is real). Later
     * windows of the same overuse say the same: the target only goes down
     * to it, it does not compound. */
    double down = MAX(AR_RATE_TWCC_DOWN - r->twcc_queue_ms / 1000.0, AR_RATE_TWCC_DRAIN_FLOOR);
    double to = down * w->recv_kbps;

    /* A window that lost much tells what gets through sooner than its
     * arrival rate does (that still counts packets sent before the link
     * narrowed): what we sent less what was lost, as with the reports. */
    if (by_loss || overflow || standing)
      to = MIN(to,
               MIN(w->sent_kbps, r->target_kbps) * (1.0 - MIN(w->loss, 1.0)) * AR_RATE_LOSS_DOWN);
    to = MAX(to, AR_RATE_TWCC_FLOOR * r->target_kbps);

    /* The bottleneck's ceiling: what arrived in the last window that showed
     * it (the feedback comes early enough to measure it, unlike the reports,
     * whose later decreases of one episode still show the overuse). A queue
     * filling arrives at the bottleneck's rate, whatever the target is by
     * then: capped by the target, which the episode's first window had
     * already cut, the ceiling came out at 130-151 kbit/s under a cap that
     * passes 200 kbit/s of video, and probes above it found no queue, forgot
     * it and grew x1.25 into the cap (266 -> 415 kbit/s, a 1.1 s freeze).
     * Without a queue (a decrease for loss alone), what arrived says less:
     * at most the target. Never 0, which says "none known". */
    r->ceiling_kbps =
        MAX(growing || standing ? w->recv_kbps : MIN(w->recv_kbps, r->target_kbps), r->min_kbps);
    gboolean decreased = to < r->target_kbps;
    if (decreased) {
      r->target_kbps = to;
      r->raises = 0;
      r->last_decrease_us = now_us;
      r->limit = by_loss ? AR_RATE_LIMIT_LOSS : AR_RATE_LIMIT_DELAY;
    }
    r->last_overuse_us = now_us;
    /* Key frames wait only for a queue to drain: after a decrease for loss
     * alone (a lossy Wi-Fi, no delay growing) there is none, and a far end
     * that lost a key frame would wait for nothing. */
    /* A decrease that was not deep enough: the wait that began with it
     * counted on a queue that drains, and a key frame let go meanwhile went
     * into one that still loses packets. Key frames wait again (a few times
     * at most: each such decrease cuts the target to under 0.85 x what
     * arrived, down to the floor). */
    if (queue || overflow)
      ar_rate_hold_keys(r, now_us, r->twcc_queue_ms, w, short_link && decreased);
    if (by_loss || decreased) {
      /* That loss is answered, and so is the loss of a queue that this
       * decrease drains: the next judgement counts from here, or it would
       * hold the target down for seconds after the link came back (at
       * 100 kbit/s the next judgement comes 4 s later). */
      r->loss = 0;
      r->twcc_acc_sent = r->twcc_acc_lost = 0;
      r->twcc_acc_since_us = 0;
    }
    if (decreased && (queue || overflow))
      r->twcc_drain_until_us = now_us + AR_RATE_HOLD_US;
  } else if (r->key_hold_until_us > now_us) {
    /* The queue drains as the arrivals close up on the departures: once
     * what it held is gone, and nothing was lost, key frames go again; so
     * they do as soon as a window shows it draining with nothing lost while
     * we send under what arrives (a key frame at that rate finds room: the
     * summed delays lag, 1.2 s in a lab run that froze as long). */
    r->key_queue_ms += w->delay_growth_ms * (w->packets_sent - 1.0);
    gboolean draining =
        w->delay_growth_ms < -AR_RATE_TWCC_GROWTH_MS && !starved && r->target_kbps < w->recv_kbps;
    /* ...or arrivals keeping up while we send under what the link passed
     * at the overuse: the queue cannot be filling (an encoder that all but
     * stopped after the decrease shows no draining, it has nothing to send:
     * the far end waited 2 s for the key frame in a lab run). */
    gboolean under = w->sent_kbps < r->ceiling_kbps && share >= AR_RATE_TWCC_RECV_SHARE &&
                     w->delay_growth_ms <= AR_RATE_TWCC_GROWTH_MS;
    /* A queue seen drained ends the episode: the next overuse (the link
     * narrowing again) holds key frames again at once. The 4 s between
     * waits are for one that ran out its time, a link that stays
     * overloaded (a lab run: a wait released after 0.2 s under the 1 Mbit/s
     * cap, then the drop to 300 kbit/s 1.8 s later sent the key frame for
     * the lost packets into the full queue; the far end froze 1.3 s). */
    /* Nothing lost: the window's loss counts packets sent up to 300 ms back,
     * before the decrease, lost in the queue it drains; every packet new
     * in this feedback arrived says as much, a feedback sooner (the drop
     * to 300 kbit/s in a lab run: a window of 13 % lost, 200 ms before
     * the one with none released the key frame; the far end froze 1.1 s). */
    gboolean none_lost =
        w->loss == 0 || (w->packets_arrived > 0 && w->packets_arrived >= w->packets_sent);
    if (none_lost && (r->key_queue_ms < AR_RATE_KEY_DRAINED_MS || draining || under)) {
      r->key_hold_until_us = 0;
      r->key_hold_from_us = 0;
      r->key_room_us = 0;
    }
  }
  return ar_rate_settle(r, now_us, old_target, old_level);
}

gboolean
ar_rate_probe_start(ArRate *r, gint64 now_us, double *kbps)
{
  gboolean hold = r->last_decrease_us != 0 && now_us - r->last_decrease_us < AR_RATE_HOLD_US;
  gboolean calm = r->last_overuse_us == 0 || now_us - r->last_overuse_us >= AR_RATE_HOLD_US;
  gboolean chained =
      r->probe_passed_us != 0 && now_us - r->probe_passed_us < AR_RATE_PROBE_CHAIN_US;
  /* Near a ceiling a queue measured, not past it, nor near one the
   * target's own steps moved up (to the target: the link's edge). There the
   * target already tries the link, and a probe goes on top of the queue it
   * keeps (lab runs under 300 kbit/s: on top of a target 1.3 x the ceiling,
   * 4 packets lost and a 3.1 s freeze; at a ceiling just moved up to the
   * target, the delay up 150-220 ms, retransmissions over the budget and
   * gaps of 0.6-0.9 s). */
  gboolean near = r->ceiling_kbps > 0 && r->raises == 0 &&
                  r->target_kbps >= AR_RATE_ZONE * r->ceiling_kbps &&
                  r->target_kbps <= r->ceiling_kbps;
  double to = MIN(AR_RATE_PROBE_GAIN * r->target_kbps, AR_RATE_PROBE_MAX_SHARE * r->max_kbps);

  if (r->probe_since_us != 0 && now_us - r->probe_since_us >= AR_RATE_PROBE_WAIT_US)
    ar_rate_on_probe(r, now_us, NULL, NULL); /* no figures in time: it failed */
  if (r->probe_since_us != 0 || now_us >= r->twcc_until_us || now_us < r->probe_next_us || hold ||
      !calm || r->loss >= AR_RATE_LOSS_LOW || now_us < r->key_hold_until_us ||
      now_us < r->twcc_drain_until_us || r->target_kbps >= r->max_kbps || !(chained || near) ||
      MAX(r->twcc_queue_seen[0], r->twcc_queue_seen[1]) >= AR_RATE_PROBE_QUEUE_MS ||
      to < AR_RATE_PROBE_MIN_GAIN * r->target_kbps)
    return FALSE;
  r->probe_since_us = now_us;
  r->probe_failing = FALSE;
  *kbps = to;
  return TRUE;
}

gint64
ar_rate_probe_duration_us(double kbps)
{
  /* NaN and the absurd end at the bounds too (compared before the cast). */
  double us = kbps > 0 ? AR_RATE_PROBE_BURST_BITS / (AR_RATE_PROBE_BURST_SHARE * kbps * 1000.0) *
                             G_TIME_SPAN_SECOND
                       : INFINITY;
  return us >= AR_RATE_PROBE_MAX_US ? AR_RATE_PROBE_MAX_US : MAX((gint64)us, AR_RATE_PROBE_US);
}

gboolean
ar_rate_probe_failing(const ArRate *rate)
{
  return rate->probe_since_us != 0 && rate->probe_failing;
}

gboolean
ar_rate_probing(const ArRate *rate)
{
  return rate->probe_since_us != 0;
}

gboolean
ar_rate_on_probe(ArRate *r, gint64 now_us, const ArRateProbe *p, gboolean *passed_out)
{
  double old_target = r->target_kbps;
  ArRateLevel old_level = r->level;

  if (passed_out != NULL)
    *passed_out = FALSE;
  if (r->probe_since_us == 0)
    return FALSE;
  /* What the link was seen to pass: what left, if all of it arrived as
   * fast. */
  double passed = p != NULL ? MIN(p->sent_kbps, p->recv_kbps) : 0;
  gboolean ok = p != NULL && !r->probe_failing && isfinite(passed) && passed < 1e7 &&
                p->packets > 0 && p->recv_kbps >= AR_RATE_PROBE_ARRIVED * p->sent_kbps &&
                p->lost <= MAX(1.0, AR_RATE_PROBE_LOSS * p->packets) &&
                p->rise_ms < AR_RATE_PROBE_RISE_MS &&
                passed >= AR_RATE_PROBE_MIN_GAIN * r->target_kbps;

  r->probe_since_us = 0;
  r->probe_failing = FALSE;
  r->probe_quiet_until_us = now_us + AR_RATE_PROBE_QUIET_US;
  if (!ok) {
    if (r->probe_backoff_us == 0)
      r->probe_backoff_us = AR_RATE_PROBE_BACKOFF_US;
    r->probe_next_us = now_us + r->probe_backoff_us;
    r->probe_backoff_us = MIN(r->probe_backoff_us * 2, AR_RATE_PROBE_BACKOFF_MAX_US);
    r->probe_passed_us = 0;
    return FALSE;
  }
  if (passed_out != NULL)
    *passed_out = TRUE;
  r->probe_backoff_us = 0;
  r->probe_passed_us = now_us;
  r->probe_next_us = now_us + AR_RATE_PROBE_AGAIN_US;
  /* The bottleneck is at least that wide: the ceiling moves up to what
   * passed, not away (a ceiling measured low under a cap that stayed, 140
   * kbit/s under 300, let a probe of 280 pass; forgotten, the target grew
   * x1.25 into the cap). Once a probe passed the configured bitrate there
   * is none. */
  if (passed >= r->max_kbps)
    r->ceiling_kbps = 0;
  else if (r->ceiling_kbps > 0)
    r->ceiling_kbps = MAX(r->ceiling_kbps, passed);
  r->clean_above_since = 0;
  if (AR_RATE_TWCC_DOWN * passed > r->target_kbps) {
    r->target_kbps = AR_RATE_TWCC_DOWN * passed;
    r->last_increase_us = now_us;
    r->limit = AR_RATE_LIMIT_RAMP;
  }
  return ar_rate_settle(r, now_us, old_target, old_level);
}

gboolean
ar_rate_key_frame_ok(const ArRate *rate, gint64 now_us)
{
  return now_us >= rate->key_hold_until_us ||
         (rate->key_room_us != 0 && now_us >= rate->key_room_us);
}

void
ar_rate_on_key_request(ArRate *r, gint64 now_us)
{
  /* One that passed while key frames wait raced the wait's start. */
  if (!ar_rate_key_frame_ok(r, now_us) && r->key_hold_lost)
    r->key_again = TRUE;
  r->key_asked_us = now_us;
}

gboolean
ar_rate_take_key_again(ArRate *r, gint64 now_us)
{
  gboolean again = r->key_again && !ar_rate_key_frame_ok(r, now_us);

  r->key_again = FALSE;
  return again;
}

void
ar_rate_on_key_wait(ArRate *r, gint64 now_us)
{
  if (now_us >= r->key_hold_until_us || r->key_room_us != 0)
    return;
  double link = r->ceiling_kbps > 0 ? r->ceiling_kbps : r->target_kbps;
  double us = AR_RATE_KEY_ROOM_S * r->target_kbps / MAX(link, 1.0) * G_TIME_SPAN_SECOND;

  r->key_room_us =
      now_us + CLAMP((gint64)MIN(us, 1e12), AR_RATE_KEY_ROOM_MIN_US, AR_RATE_KEY_HOLD_US);
}

void
ar_key_wait_arm(ArKeyWait *wait)
{
  g_atomic_int_set(&wait->waiting, 1);
}

void
ar_key_wait_hold(ArKeyWait *wait, gboolean hold)
{
  g_atomic_int_set(&wait->held, hold ? 1 : 0);
}

gboolean
ar_key_wait_holding(ArKeyWait *wait)
{
  return g_atomic_int_get(&wait->held) != 0;
}

gboolean
ar_key_wait_pass(ArKeyWait *wait, gint64 now_us, gboolean delta)
{
  if (!g_atomic_int_get(&wait->waiting)) {
    wait->since_us = 0;
    return TRUE;
  }
  if (wait->since_us == 0)
    wait->since_us = now_us;
  if ((delta || g_atomic_int_get(&wait->held)) && now_us - wait->since_us < AR_KEY_WAIT_MAX_US) {
    g_atomic_int_inc(&wait->dropped);
    return FALSE;
  }
  /* A request armed after this key frame left the encoder once key frames
   * went again is answered by the next one: a race of a frame at most. */
  g_atomic_int_set(&wait->waiting, 0);
  wait->since_us = 0;
  return TRUE;
}

gboolean
ar_key_wait_active(ArKeyWait *wait)
{
  return g_atomic_int_get(&wait->waiting) != 0;
}

guint
ar_key_wait_take_dropped(ArKeyWait *wait)
{
  return (guint)g_atomic_int_and(&wait->dropped, 0u);
}

void
ar_key_wait_reset(ArKeyWait *wait)
{
  g_atomic_int_set(&wait->waiting, 0);
  g_atomic_int_set(&wait->held, 0);
  g_atomic_int_set(&wait->dropped, 0);
}

guint
ar_rate_get_target_kbps(const ArRate *rate)
{
  return (guint)rate->target_kbps;
}

ArRateLevel
ar_rate_get_level(const ArRate *rate)
{
  return rate->level;
}

ArRateLimit
ar_rate_get_limit(const ArRate *rate)
{
  return rate->limit;
}

double
ar_rate_get_loss(const ArRate *rate)
{
  return rate->loss;
}

double
ar_rate_get_ceiling_kbps(const ArRate *rate)
{
  return rate->ceiling_kbps;
}

const char *
ar_rate_limit_to_string(ArRateLimit limit)
{
  switch (limit) {
  case AR_RATE_LIMIT_LOSS:
    return "loss";
  case AR_RATE_LIMIT_DELAY:
    return "delay";
  case AR_RATE_LIMIT_REMB:
    return "remb";
  case AR_RATE_LIMIT_RAMP:
    return "ramp";
  case AR_RATE_LIMIT_NONE:
  default:
    return "none";
  }
}

gboolean
ar_rate_parse_remb(const guint8 *fci, gsize size, guint64 *bps)
{
  if (fci == NULL || size < 8 || memcmp(fci, "REMB", 4) != 0)
    return FALSE;
  guint n = fci[4];
  if (size < 8 + 4 * (gsize)n)
    return FALSE;
  guint exp = fci[5] >> 2;
  guint64 mantissa = ((guint64)(fci[5] & 0x03) << 16) | ((guint64)fci[6] << 8) | fci[7];
  /* 18 bits shifted by up to 63: saturate rather than wrap. */
  if (mantissa != 0 && exp > 46)
    *bps = G_MAXUINT64;
  else
    *bps = mantissa << exp;
  return TRUE;
}
