/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-pacer.h: the sender's video pacer (issue 14, part 2). Pure logic, no
 * GStreamer: a queue of packets and a leaky bucket that lets them leave at a
 * bounded rate instead of a frame's packets back to back at line rate (a key
 * frame into a small bottleneck queue is what a cap's drop loses first). The
 * GStreamer element around it is ar-pace-element.c.
 *
 * The rules (libwebrtc's pacer, docs/decisions.md says where and why ours
 * differs):
 *   - the pacing rate is AR_PACER_FACTOR x the bandwidth controller's target;
 *   - each packet sent adds its size to a debt that drains at the pacing rate;
 *     the next packet leaves once the debt is under AR_PACER_BURST_US of the
 *     rate (the first of a quiet stream at once). The debt never exceeds
 *     AR_PACER_MAX_DEBT_US of the rate;
 *   - bytes sent around the pacer (retransmissions: webrtcbin's rtprtxsend makes
 *     them behind the pacer) add to the same debt, so media waits for them;
 *   - the queue's delay is bounded: when the oldest packet would leave later
 *     than AR_PACER_QUEUE_LIMIT_US after it came, the rate rises to what
 *     empties the queue by then (libwebrtc's "drain large queues");
 *   - a key frame's first packet drops the older frames still queued (they
 *     are worth nothing once the key frame is there: libwebrtc's key frame
 *     flushing); and more than AR_PACER_MAX_PACKETS queued drops the whole
 *     video queue and asks the encoder for a key frame (a safety net: the
 *     drain keeps the queue far below it);
 *   - items of size 0 (the glue's events: caps, segment, end of stream) take
 *     no budget but keep their place in the order.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AR_PACER_FACTOR 2.5
#define AR_PACER_BURST_US (5 * G_TIME_SPAN_MILLISECOND)
#define AR_PACER_MAX_DEBT_US (500 * G_TIME_SPAN_MILLISECOND)
#define AR_PACER_QUEUE_LIMIT_US (400 * G_TIME_SPAN_MILLISECOND)
#define AR_PACER_MAX_PACKETS 2048u

typedef struct _ArPacer ArPacer;

/* What ar_pacer_push() did besides queueing. */
typedef enum {
  AR_PACER_PUSH_QUEUED = 0,
  AR_PACER_PUSH_FLUSHED = 1 << 0,  /* a key frame dropped older frames */
  AR_PACER_PUSH_OVERFLOW = 1 << 1, /* the queue was full: dropped, a key frame is needed */
} ArPacerPush;

struct _ArPacerStats {
  guint64 packets_sent, bytes_sent;
  guint64 packets_dropped; /* flushed by key frames or an overflow */
  guint64 overflows;
  guint queued_packets;
  gsize queued_bytes;
  gint64 max_delay_us; /* the longest a packet waited */
};
typedef struct _ArPacerStats ArPacerStats;

/* @free_item frees what ar_pacer_push() was given (drops, ar_pacer_free()). */
ArPacer *ar_pacer_new(GDestroyNotify free_item);
void ar_pacer_free(ArPacer *pacer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArPacer, ar_pacer_free)

/* The bandwidth controller's target (kbit/s); 0: no pacing (all at once). */
void ar_pacer_set_target(ArPacer *pacer, gint64 now_us, guint target_kbps);
/* The pacing rate now (kbit/s), the drain included; 0: none. */
double ar_pacer_get_rate_kbps(const ArPacer *pacer, gint64 now_us);

/* Queues @item of @size bytes (0: an event, no budget) of the frame @frame
 * (the RTP timestamp); @key_start: the first packet of a key frame. */
ArPacerPush ar_pacer_push(ArPacer *pacer, gint64 now_us, gpointer item, gsize size, guint32 frame,
                          gboolean key_start);

/* The next item if it may leave at @now_us (the caller sends it and owns it);
 * else NULL, and *@next_us says when to ask again (G_MAXINT64: the queue is
 * empty). */
gpointer ar_pacer_pop(ArPacer *pacer, gint64 now_us, gint64 *next_us);

/* @bytes sent around the queue (retransmissions). */
void ar_pacer_charge(ArPacer *pacer, gint64 now_us, gsize bytes);

/* Drops everything queued (a flush, a stop). */
void ar_pacer_clear(ArPacer *pacer);

void ar_pacer_get_stats(const ArPacer *pacer, ArPacerStats *stats);

G_END_DECLS
