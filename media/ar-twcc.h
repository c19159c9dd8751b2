/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-twcc.h: windows of transport-wide feedback computed from its packets
 * (issue 14, part 2). Pure logic, no GStreamer: the peer hands over each
 * feedback's packets as GStreamer's RTP session matched them with what we
 * sent (its "RTPTWCCPackets" event: per packet, when it left and when it
 * arrived, or that it was lost), and gets back a window for the bandwidth
 * controller (ar-rate.h).
 *
 * A window is the packets sent in the last 300 ms (the same span as
 * GStreamer's own "twcc-stats", which it replaces):
 *   - the rates sent and arrived, and the share lost;
 *   - the delay growth: the slope of a line fitted through every arrived
 *     packet's one-way delay against its send time, given as the mean
 *     growth per packet. GStreamer's window gives the mean of the packets'
 *     delta of delta, which sums to the last packet's delay less the first
 *     one's: two packets decide it, and one late packet at a window's end
 *     reads as a queue;
 *   - the standing queue: the lowest one-way delay of the window above the
 *     lowest of the last 20 s (the path's own). A queue that stands full
 *     grows no more, so only this shows it; the lowest packet of a window
 *     is the one the queue held least (a frame's burst queues its own
 *     later packets behind the first).
 * The far end's clock and ours differ by a constant: only differences of
 * one-way delays are used.
 */
#pragma once

#include <glib.h>

#include "ar-rate.h"

G_BEGIN_DECLS

#define AR_TWCC_TIME_NONE G_MAXUINT64

/* One packet of a feedback, as the RTP session reported it. */
typedef struct {
  guint16 seqnum;    /* the transport-wide sequence number */
  guint64 sent_ns;   /* our send time (AR_TWCC_TIME_NONE: not known) */
  guint64 arrive_ns; /* the far end's arrival time (AR_TWCC_TIME_NONE: lost) */
  guint size;        /* bytes (the payload, as GStreamer counts it) */
} ArTwccPacket;

typedef struct _ArTwccWindows ArTwccWindows;

ArTwccWindows *ar_twcc_windows_new(void);
void ar_twcc_windows_free(ArTwccWindows *windows);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArTwccWindows, ar_twcc_windows_free)

/* One feedback's @n packets (untrusted: any order, repeats, any times).
 * Packets without a send time, and ones already reported, are not used.
 * Returns TRUE and fills @window once the packets kept span the window;
 * window->packets_sent counts this feedback's new packets, packets_arrived
 * those of them that arrived. */
gboolean ar_twcc_windows_add(ArTwccWindows *windows, const ArTwccPacket *packets, guint n,
                             ArRateTwcc *window);

/* Of the last feedback: its packets, and how many had a send time. */
void ar_twcc_windows_get_last(const ArTwccWindows *windows, guint *reported, guint *timed);

/* A probe: a burst of padding above the target (ar-rate.h), the packets that
 * left while it ran, by their transport-wide numbers (the sending side notes
 * them), and what the feedbacks say of them once all were reported. */
#define AR_TWCC_PROBE_MAX 512

typedef struct _ArTwccProbe ArTwccProbe;

ArTwccProbe *ar_twcc_probe_new(void);
void ar_twcc_probe_free(ArTwccProbe *probe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArTwccProbe, ar_twcc_probe_free)
/* A new probe begins: the packets noted from now on are its. */
void ar_twcc_probe_begin(ArTwccProbe *probe);
/* Packet @seqnum left while the probe ran (numbers only move on; past
 * AR_TWCC_PROBE_MAX packets the rest are not its). */
void ar_twcc_probe_note(ArTwccProbe *probe, guint16 seqnum);
/* No more packets are its. */
void ar_twcc_probe_end(ArTwccProbe *probe);
/* One feedback's @n packets (untrusted, as ar_twcc_windows_add). TRUE once,
 * when the probe ended and every packet of it was reported (or a later one
 * was: the feedback reports in order), with @result; an empty probe or one
 * whose packets had no send time gives no result. */
gboolean ar_twcc_probe_add(ArTwccProbe *probe, const ArTwccPacket *packets, guint n,
                           ArRateProbe *result);
/* Whether it is between its beginning and its result. */
gboolean ar_twcc_probe_pending(const ArTwccProbe *probe);

/* Our own record of when each packet left, by its transport-wide sequence
 * number: taken when GStreamer's RTP session keeps none (its send caps never
 * named the extension, which rtpfunnel can lose: docs/bandwidth.md). The
 * last AR_TWCC_SEND_LOG_SIZE packets, none older than
 * AR_TWCC_SEND_LOG_MAX_AGE_NS before the newest. */
#define AR_TWCC_SEND_LOG_SIZE 4096
#define AR_TWCC_SEND_LOG_MAX_AGE_NS (G_GUINT64_CONSTANT(10000000000))

typedef struct _ArTwccSendLog ArTwccSendLog;

ArTwccSendLog *ar_twcc_send_log_new(void);
void ar_twcc_send_log_free(ArTwccSendLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArTwccSendLog, ar_twcc_send_log_free)
/* Packet @seqnum (@size payload bytes) left at @sent_ns (a monotonic clock). */
void ar_twcc_send_log_add(ArTwccSendLog *log, guint16 seqnum, guint64 sent_ns, guint size);
/* @p's send time and size from the log: TRUE if it holds @p->seqnum; else
 * @p->sent_ns is AR_TWCC_TIME_NONE (one clock for every packet). A number
 * that left twice (a retransmission carries its original's number) has no
 * send time: which copy arrived is not known. */
gboolean ar_twcc_send_log_fill(const ArTwccSendLog *log, ArTwccPacket *p);

G_END_DECLS
