/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-rate.h: the sender's bandwidth controller (issue 14, part 2). Pure logic,
 * no GStreamer: the peer feeds it what the far end reports (RTCP receiver
 * reports: packets lost, round-trip time; REMB) and what we sent, and applies
 * the target bitrate and picture level it answers (ar-peer-rate.c).
 *
 * How it decides, each tick (every 500 ms; receiver reports come about once a
 * second):
 *   - overuse: a loss above 10 % in the last report interval, or a round-trip
 *     time grown well above the lowest of the last 30 s in two new measurements
 *     in a row, four while transport-wide feedback comes (a queue building up
 *     in a bottleneck; one alone is more often a busy host): the target drops
 *     at once to a little under what got through (what was really sent, times
 *     0.95 (1 - loss); or times 0.85 for a growing queue; an encoder sending
 *     under half its target counts as half its target), at most once in 1.5 s
 *     (the reports lag), and what got through when the episode began is
 *     remembered as the bottleneck's ceiling;
 *   - underuse (loss under 2 %, no growing queue): the target grows, fast
 *     (x1.25 per tick) up to 85 % of the ceiling, slowly (+5 % or 20 kbit/s per tick)
 *     from there to the ceiling, x1.1 per tick above it; 20 % past the
 *     ceiling with two clean reports in a row while above it moves the
 *     ceiling up to there, the second time forgets it (the bottleneck went
 *     away);
 *   - near the ceiling, with transport-wide feedback, a probe (500 ms of
 *     padding, twice the target in all) that passes moves the ceiling up to
 *     what passed and sets the target to 0.85 x it; one that fails costs no
 *     decrease, and the next waits longer (4 s, then 8 s);
 *   - REMB from the SFU (or the far end) caps the target;
 *   - the picture follows the target with hysteresis: half width and height
 *     below 40 % of the configured bitrate, and half the frame rate as well
 *     below 15 %; back up once the target stayed 25 % above the threshold
 *     for 2 s, or at once when it is twice the threshold.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  AR_RATE_LEVEL_FULL = 0,      /* the configured size and frame rate */
  AR_RATE_LEVEL_HALF_SIZE,     /* half width and height */
  AR_RATE_LEVEL_HALF_SIZE_FPS, /* half width, height and frame rate */
} ArRateLevel;

/* Why the target is below the configured bitrate (the last decision). */
typedef enum {
  AR_RATE_LIMIT_NONE = 0,
  AR_RATE_LIMIT_LOSS,  /* packet loss */
  AR_RATE_LIMIT_DELAY, /* a growing round-trip time */
  AR_RATE_LIMIT_REMB,  /* the far end's estimate (REMB) */
  AR_RATE_LIMIT_RAMP,  /* growing back after a limit */
} ArRateLimit;

typedef struct _ArRate ArRate;

/* What the far end's transport-wide feedback says of a window of our packets
 * (ar-twcc.h computes it from the feedback's packets): what we sent and what
 * arrived of it, in the same window, the share lost, the mean growth of the
 * gap between arrivals over the gap between departures (a queue filling:
 * > 0), and the delay a queue that stands adds to every packet (ms; 0: none
 * or unknown). */
typedef struct {
  double sent_kbps, recv_kbps;
  double loss; /* 0..1 */
  double delay_growth_ms;
  guint packets_sent; /* new since the last window */
  double queue_ms;
  guint packets_arrived; /* of those, arrived (0: not known) */
} ArRateTwcc;

/* What the far end's feedback says of a probe's packets (ar-twcc.h measures
 * it): the rates sent and arrived (over the send and the arrival spans), the
 * packets and how many were lost, and the delay its last packets waited more
 * than its first ones (ms; a queue it filled: the lowest of the last
 * quarter's over the lowest of the first quarter's). */
typedef struct {
  double sent_kbps, recv_kbps;
  guint packets, lost;
  double rise_ms;
} ArRateProbe;

/* @max_kbps: the configured bitrate (the target never exceeds it);
 * @min_kbps: the floor (never below). The target starts at @max_kbps. */
ArRate *ar_rate_new(guint min_kbps, guint max_kbps);
void ar_rate_free(ArRate *rate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArRate, ar_rate_free)

/* A REMB (bits per second) at @now_us; it caps the target for 5 s. */
void ar_rate_on_remb(ArRate *rate, gint64 now_us, guint64 bps);

/* A tick at @now_us (monotonic): the fraction of our packets the far end lost
 * in its last receiver report's interval (0..1; < 0: no new report since the
 * last tick), the round-trip time in ms (< 0: unknown; a repeated value is an
 * old one) and the bitrate really sent over the last interval. Returns TRUE
 * when the target or the level changed. */
gboolean ar_rate_on_report(ArRate *rate, gint64 now_us, double loss, double rtt_ms,
                           double sent_kbps);

/* A window of transport-wide feedback at @now_us (each as it comes). While
 * such windows come (within 2 s), they decide overuse and loss instead of
 * the receiver reports: a queue filling (arrivals spreading out over the
 * departures, less arriving than sent or the standing queue rising, while
 * we sent at least half the target; in two windows in a row, or in one that
 * also lost packets: a queue overflowing; or one whose every packet waited
 * 50 ms over the path's own delay and that lost packets: a queue standing
 * full) or a loss above 10 % brings the target down to 0.85 x what arrived
 * (the bottleneck's rate) less what drains the queue, and what arrived is
 * the ceiling. Returns TRUE when the target or the level changed. */
gboolean ar_rate_on_twcc(ArRate *rate, gint64 now_us, const ArRateTwcc *window);

/* Probes. Above a bottleneck's ceiling the target grows slowly, and moves
 * the ceiling only on evidence that takes seconds to gather (clean loss
 * judgements, AR_RATE_FORGET_US), so a link that came back is found late.
 * A probe sends padding (retransmissions of recent packets) on top of the
 * video for AR_RATE_PROBE_US, twice the target in all: its packets arriving
 * as fast as they left, with no queue rising and nothing lost, show the link
 * passes that much, whatever a token bucket's burst hid at its start; the
 * ceiling moves up to it (away once it is the configured bitrate) and the
 * target to a little under it. A probe that fails costs no decrease (its
 * queue is its own) and the next waits longer.
 *
 * Whether a probe starts now (TRUE, with the whole rate to send, video and
 * padding, in @kbps): transport-wide feedback comes, nothing held or
 * decreased lately, the target under the configured bitrate and near a
 * known ceiling (or a probe just passed). */
#define AR_RATE_PROBE_US (500 * G_TIME_SPAN_MILLISECOND)
gboolean ar_rate_probe_start(ArRate *rate, gint64 now_us, double *kbps);
/* How long a probe to @kbps lasts: AR_RATE_PROBE_US, longer at low rates
 * (AR_RATE_PROBE_MAX_US at most) so that a token bucket's burst cannot pass
 * for the link. A bucket of rate C and burst B passes C + B / T over a probe
 * of T: a CI run's probe of 0.5 s to 306 kbit/s over a link of about 200
 * passed on a 6 kB burst (269 kbit/s arrived), the target went to 228 and
 * the far end froze 1.4 s. The probe lasts until an 8 kB burst would add at
 * most a fifth of its rate: 1 s at 320 kbit/s, 0.5 s from 640 up. */
#define AR_RATE_PROBE_MAX_US (1200 * G_TIME_SPAN_MILLISECOND)
gint64 ar_rate_probe_duration_us(double kbps);
/* Whether a window during the probe showed the queue it fills: stop it. */
gboolean ar_rate_probe_failing(const ArRate *rate);
/* The probe's packets were all reported (@probe), or it gave no figures
 * (NULL: too few packets, or no answer in time); @passed (may be NULL) says
 * whether it passed. TRUE when the target or the level changed. */
gboolean ar_rate_on_probe(ArRate *rate, gint64 now_us, const ArRateProbe *probe, gboolean *passed);
/* Whether a probe runs or waits for its figures. */
gboolean ar_rate_probing(const ArRate *rate);

/* Whether a key frame may go now: FALSE from an overuse until a window shows
 * the queue drained (2 s at most), as one sent into a full queue is lost; or
 * until the queue had time to make room for it once we stopped feeding it
 * (ar_rate_on_key_wait). */
gboolean ar_rate_key_frame_ok(const ArRate *rate, gint64 now_us);
/* A key frame request waits, and from @now_us on the encoder's frames are
 * not sent (ArKeyWait): nothing of ours enters the queue, which drains at the
 * link's rate, so a key frame finds room once the link passed its size. A
 * key frame that then waits behind the queue's packets arrives as soon as if
 * it were sent after them: the windows that would tell the queue drained
 * come only for packets we send, and we send none. The key frame's size is
 * taken as twice the encoder's rate buffer (200 ms of the target), the
 * link's rate as the ceiling: 0.4 s x target / ceiling, 100 ms at least. */
void ar_rate_on_key_wait(ArRate *rate, gint64 now_us);
/* A key frame request went to the encoder at @now_us (not held: key frames
 * went, or the request raced the wait's start). One asked for just before a
 * wait that began with packets lost, or during it, went into the queue that
 * loses them: ar_rate_take_key_again() then says so, once. */
void ar_rate_on_key_request(ArRate *rate, gint64 now_us);
/* Whether a key frame must be asked for again, to go once the queue drained
 * (held as a request, with the frames stopped: the far end cannot decode
 * them without it). TRUE once per such key frame, and only while key frames
 * wait at @now_us: once they went, the key frame that went answers it. */
gboolean ar_rate_take_key_again(ArRate *rate, gint64 now_us);

/* Frames the far end cannot use: while a key frame request waits for the
 * queue (ar_rate_key_frame_ok() said no), every delta frame the encoder makes
 * until its next key frame depends on the picture the far end lost and asked
 * again for; sent, it only lengthens the queue the key frame then waits
 * behind. Those frames are not sent, for AR_KEY_WAIT_MAX_US at most (an
 * encoder that never answers the request does not stop the video). The
 * request's thread arms it, the frames' thread asks per frame. */
typedef struct {
  gint waiting;    /* atomic: a request held, no key frame out since */
  gint held;       /* atomic: key frames wait too (ar_key_wait_hold) */
  guint dropped;   /* atomic: frames not sent, until taken */
  gint64 since_us; /* the frames' thread: the first frame that found it armed */
} ArKeyWait;

#define AR_KEY_WAIT_MAX_US (3 * G_TIME_SPAN_SECOND)

/* Any thread: a key frame request was held. */
void ar_key_wait_arm(ArKeyWait *wait);
/* Any thread: whether key frames wait now (ar_rate_key_frame_ok() said no).
 * While they do, a key frame the encoder makes is not sent either: it was
 * asked for before the wait (the request raced it, or it is the encoder's
 * periodic one), and sent, it goes into the queue that has no room for it
 * (lab runs, 2026-12-07: such a key frame ended the frames' stop, the delta
 * frames after it went into the queue, and the far end froze 1.3 and 3.1 s).
 * The one asked for once the queue drained ends the wait. */
void ar_key_wait_hold(ArKeyWait *wait, gboolean hold);
/* Any thread: whether key frames wait now (the last ar_key_wait_hold()). */
gboolean ar_key_wait_holding(ArKeyWait *wait);
/* The frames' thread: whether this encoded frame goes (@delta: it depends on
 * earlier frames). A key frame ends the wait unless key frames wait too, and
 * so does its time running out. */
gboolean ar_key_wait_pass(ArKeyWait *wait, gint64 now_us, gboolean delta);
/* Any thread: whether frames are not sent now (retransmissions of the
 * frames before the key frame are of no use either). */
gboolean ar_key_wait_active(ArKeyWait *wait);
/* Any thread: the frames not sent since the last call. */
guint ar_key_wait_take_dropped(ArKeyWait *wait);
/* Any thread, no frame flowing (the call ends): no wait. */
void ar_key_wait_reset(ArKeyWait *wait);

guint ar_rate_get_target_kbps(const ArRate *rate);
ArRateLevel ar_rate_get_level(const ArRate *rate);
ArRateLimit ar_rate_get_limit(const ArRate *rate);
/* The loss fraction of the last receiver report (0..1). */
double ar_rate_get_loss(const ArRate *rate);
/* The last bottleneck's rate (kbit/s) the increases slow down near; 0: none
 * known. */
double ar_rate_get_ceiling_kbps(const ArRate *rate);
const char *ar_rate_limit_to_string(ArRateLimit limit);

/* Parses the FCI of an RTCP PSFB application-layer feedback (RFC 4585 6.4)
 * as REMB (draft-alvestrand-rmcat-remb): "REMB", the number of SSRCs, a 6-bit
 * exponent and an 18-bit mantissa, then the SSRCs. Untrusted: FALSE for
 * anything else or anything short. */
gboolean ar_rate_parse_remb(const guint8 *fci, gsize size, guint64 *bps);

G_END_DECLS
