/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the video pacer (media/ar-pacer.c, pure logic, simulated time)
 * and of its GStreamer element (media/ar-pace-element.c: order, events, key
 * frame requests pass upstream). The network test is
 * tests/integration/test-bandwidth.mjs.
 */
#include <string.h>

#include "ar-media-priv.h"
#include "ar-pacer.h"

#define T0 (1000 * G_TIME_SPAN_SECOND)
#define PKT 1200

/* Items are numbers (>= 1); freeing one counts it. */
static guint freed;

static void
count_free(gpointer item)
{
  (void)item;
  freed++;
}

typedef struct {
  gint64 at; /* when it left */
  guint id;
} Sent;

/* Pops everything, the clock following the pacer's "ask again at"; returns
 * what left when, in order. */
static GArray *
drain_all(ArPacer *p, gint64 *now)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(Sent));

  for (guint guard = 0; guard < 100000; guard++) {
    gint64 next = 0;
    gpointer item = ar_pacer_pop(p, *now, &next);

    if (item != NULL) {
      Sent s = {*now, GPOINTER_TO_UINT(item)};
      g_array_append_val(out, s);
      continue;
    }
    if (next == G_MAXINT64)
      break;
    g_assert_cmpint(next, >, *now);
    *now = next;
  }
  return out;
}

/* Most bytes that left within any @window_us. */
static gsize
peak_bytes(GArray *sent, gint64 window_us, gsize size)
{
  gsize best = 0;

  for (guint i = 0; i < sent->len; i++) {
    gsize bytes = 0;

    for (guint j = i; j < sent->len; j++) {
      if (g_array_index(sent, Sent, j).at - g_array_index(sent, Sent, i).at >= window_us)
        break;
      bytes += size;
    }
    best = MAX(best, bytes);
  }
  return best;
}

/* A frame of 40 packets (48 kB, a 1280x720 key frame) at 1000 kbit/s leaves
 * at 2.5 x 1000 kbit/s, not at once: never more than the rate's bytes (and a
 * burst of 5 ms) in any 50 ms, and the last packet after ~150 ms. */
static void
test_paces(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0;
  g_autoptr(GArray) sent = NULL;
  double rate = 1000 * 1000.0 / 8.0 * AR_PACER_FACTOR; /* bytes/s */

  ar_pacer_set_target(p, now, 1000);
  for (guint i = 1; i <= 40; i++)
    g_assert_cmpint(ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 1, FALSE), ==,
                    AR_PACER_PUSH_QUEUED);
  sent = drain_all(p, &now);
  g_assert_cmpuint(sent->len, ==, 40);
  g_assert_cmpint(g_array_index(sent, Sent, 0).at, ==, T0); /* the first at once */
  for (guint i = 0; i < 40; i++)
    g_assert_cmpuint(g_array_index(sent, Sent, i).id, ==, i + 1);
  g_assert_cmpuint(peak_bytes(sent, 50000, PKT), <=, (gsize)(rate * 0.055) + PKT);
  gint64 span = g_array_index(sent, Sent, 39).at - T0;
  g_assert_cmpint(span, >=, (gint64)((40 * PKT - rate * 0.005 - PKT) / rate * 1e6));
  g_assert_cmpint(span, <=, (gint64)(40 * PKT / rate * 1e6) + 1000);
  g_assert_cmpfloat(ar_pacer_get_rate_kbps(p, now), ==, 2500.0);
}

/* The pacing rate follows the target: at 300 kbit/s the same frame takes
 * more than three times as long. */
static void
test_follows_target(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0;
  g_autoptr(GArray) fast = NULL, slow = NULL;

  ar_pacer_set_target(p, now, 1000);
  for (guint i = 1; i <= 10; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 1, FALSE);
  fast = drain_all(p, &now);
  now += G_TIME_SPAN_SECOND;
  gint64 start = now;
  ar_pacer_set_target(p, now, 300);
  for (guint i = 1; i <= 10; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 2, FALSE);
  slow = drain_all(p, &now);
  g_assert_cmpint((now - start) * 3, >, g_array_index(fast, Sent, 9).at - T0);
  g_assert_cmpint(now - start, >, 80 * G_TIME_SPAN_MILLISECOND); /* 12 kB at 750 kbit/s: 128 ms */
}

/* No target: no pacing, everything at once. */
static void
test_no_target(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0;
  g_autoptr(GArray) sent = NULL;

  for (guint i = 1; i <= 100; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 1, FALSE);
  sent = drain_all(p, &now);
  g_assert_cmpuint(sent->len, ==, 100);
  g_assert_cmpint(now, ==, T0);
}

/* Events (size 0) keep their place and take no budget. */
static void
test_events_in_order(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0, next = 0;

  ar_pacer_set_target(p, now, 100);
  ar_pacer_push(p, now, GUINT_TO_POINTER(1), PKT, 1, FALSE);
  ar_pacer_push(p, now, GUINT_TO_POINTER(2), 0, 0, FALSE); /* an event */
  ar_pacer_push(p, now, GUINT_TO_POINTER(3), PKT, 1, FALSE);
  g_assert_cmpuint(GPOINTER_TO_UINT(ar_pacer_pop(p, now, &next)), ==, 1);
  g_assert_cmpuint(GPOINTER_TO_UINT(ar_pacer_pop(p, now, &next)), ==, 2);
  g_assert_null(ar_pacer_pop(p, now, &next)); /* 3 waits for the budget */
  g_assert_cmpint(next, >, now);
  g_assert_cmpuint(GPOINTER_TO_UINT(ar_pacer_pop(p, next, &next)), ==, 3);
  g_assert_null(ar_pacer_pop(p, now, &next));
  g_assert_cmpint(next, ==, G_MAXINT64);
}

/* Retransmissions sent around the queue delay the video by their size. */
static void
test_charge(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0, next = 0;
  double rate = 1000 * 1000.0 / 8.0 * AR_PACER_FACTOR;

  ar_pacer_set_target(p, now, 1000);
  ar_pacer_charge(p, now, 30000); /* 96 ms at 2.5 Mbit/s */
  ar_pacer_push(p, now, GUINT_TO_POINTER(1), PKT, 1, FALSE);
  g_assert_null(ar_pacer_pop(p, now, &next));
  g_assert_cmpint(next - now, >=, (gint64)((30000 - rate * 0.005) / rate * 1e6));
  g_assert_nonnull(ar_pacer_pop(p, next, &next));
  /* The debt is bounded (500 ms of the rate), a flood of them included. */
  ar_pacer_charge(p, now, 10 * 1000 * 1000);
  ar_pacer_push(p, now, GUINT_TO_POINTER(2), PKT, 2, FALSE);
  g_assert_null(ar_pacer_pop(p, now, &next));
  g_assert_cmpint(next - now, <=, AR_PACER_MAX_DEBT_US + 1000);
}

/* The queue's delay is bounded: 200 kB at a 100 kbit/s target (6.4 s at the
 * pacing rate) all leave within the queue limit, still spread out. */
static void
test_queue_limit(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0;
  g_autoptr(GArray) sent = NULL;
  ArPacerStats st;

  ar_pacer_set_target(p, now, 100);
  for (guint i = 1; i <= 166; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, i / 40, FALSE);
  sent = drain_all(p, &now);
  g_assert_cmpuint(sent->len, ==, 166);
  ar_pacer_get_stats(p, &st);
  g_assert_cmpint(st.max_delay_us, <=, AR_PACER_QUEUE_LIMIT_US + 2 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint(st.max_delay_us, >=, AR_PACER_QUEUE_LIMIT_US / 2);
  g_assert_cmpuint(st.packets_sent, ==, 166);
  g_assert_cmpuint(st.packets_dropped, ==, 0);
  g_assert_cmpuint(st.queued_packets, ==, 0);
  g_assert_cmpuint(st.queued_bytes, ==, 0);
}

/* A drain at a raised rate leaves no debt behind it: the next frame after
 * a drained queue waits no longer than the pacing rate says (a debt capped
 * at the raised rate held a packet 1.3 s in a lab run). */
static void
test_drain_no_debt(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(NULL);
  gint64 now = T0;
  g_autoptr(GArray) first = NULL, second = NULL;
  ArPacerStats st;

  ar_pacer_set_target(p, now, 100);
  for (guint i = 1; i <= 300; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 1, FALSE);
  first = drain_all(p, &now);
  gint64 start = now;
  ar_pacer_push(p, now, GUINT_TO_POINTER(1000), PKT, 2, FALSE);
  second = drain_all(p, &now);
  g_assert_cmpuint(second->len, ==, 1);
  /* At most the base rate's 500 ms of debt, and the queue limit bounds it. */
  g_assert_cmpint(now - start, <=, AR_PACER_QUEUE_LIMIT_US + G_TIME_SPAN_MILLISECOND);
  ar_pacer_get_stats(p, &st);
  g_assert_cmpint(st.max_delay_us, <=, AR_PACER_QUEUE_LIMIT_US + 2 * G_TIME_SPAN_MILLISECOND);
}

/* A key frame's first packet drops the older frames still queued; events stay. */
static void
test_key_flush(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(count_free);
  gint64 now = T0, next = 0;
  ArPacerStats st;

  freed = 0;
  ar_pacer_set_target(p, now, 100);
  for (guint i = 1; i <= 10; i++)
    ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, 1 + i / 5, FALSE); /* frames 1-3 */
  ar_pacer_push(p, now, GUINT_TO_POINTER(50), 0, 0, FALSE);            /* an event */
  g_assert_cmpuint(GPOINTER_TO_UINT(ar_pacer_pop(p, now, &next)), ==, 1);
  g_assert_cmpint(ar_pacer_push(p, now, GUINT_TO_POINTER(100), PKT, 9, TRUE), ==,
                  AR_PACER_PUSH_FLUSHED);
  ar_pacer_push(p, now, GUINT_TO_POINTER(101), PKT, 9, FALSE);
  g_assert_cmpuint(freed, ==, 9);
  ar_pacer_get_stats(p, &st);
  g_assert_cmpuint(st.packets_dropped, ==, 9);
  g_assert_cmpuint(st.queued_packets, ==, 2);
  g_assert_cmpuint(st.queued_bytes, ==, 2 * PKT);
  g_assert_cmpuint(GPOINTER_TO_UINT(ar_pacer_pop(p, now, &next)), ==, 50);
  g_autoptr(GArray) sent = drain_all(p, &now);
  g_assert_cmpuint(sent->len, ==, 2);
  g_assert_cmpuint(g_array_index(sent, Sent, 0).id, ==, 100);
  g_assert_cmpuint(g_array_index(sent, Sent, 1).id, ==, 101);
  /* A key frame into an empty queue drops nothing. */
  g_assert_cmpint(ar_pacer_push(p, now, GUINT_TO_POINTER(102), PKT, 10, TRUE), ==,
                  AR_PACER_PUSH_QUEUED);
}

/* A full queue (nobody popping) drops its video and asks for a key frame;
 * the packet that found it full goes too unless it starts a key frame. */
static void
test_overflow(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(count_free);
  gint64 now = T0, next = 0;
  ArPacerStats st;

  freed = 0;
  ar_pacer_set_target(p, now, 1000);
  for (guint i = 1; i <= AR_PACER_MAX_PACKETS; i++)
    g_assert_cmpint(ar_pacer_push(p, now, GUINT_TO_POINTER(i), PKT, i / 50, FALSE), ==,
                    AR_PACER_PUSH_QUEUED);
  g_assert_cmpint(ar_pacer_push(p, now, GUINT_TO_POINTER(99999), PKT, 9999, FALSE), ==,
                  AR_PACER_PUSH_OVERFLOW);
  g_assert_cmpuint(freed, ==, AR_PACER_MAX_PACKETS + 1);
  ar_pacer_get_stats(p, &st);
  g_assert_cmpuint(st.overflows, ==, 1);
  g_assert_cmpuint(st.queued_packets, ==, 0);
  g_assert_null(ar_pacer_pop(p, now, &next));
  g_assert_cmpint(next, ==, G_MAXINT64);
}

/* Random pushes, events, charges and target changes with pops at the times
 * the pacer names: every item leaves once, in order, or is freed by a key
 * frame's flush; nothing waits much beyond the queue limit. */
static void
test_random(void)
{
  g_autoptr(ArPacer) p = ar_pacer_new(count_free);
  g_autoptr(GRand) rnd = g_rand_new_with_seed(14);
  gint64 now = T0, next = G_MAXINT64;
  guint id = 0, last_out = 0, out = 0;
  guint32 frame = 0;
  ArPacerStats st;

  freed = 0;
  for (guint step = 0; step < 20000; step++) {
    gint64 arrive = now + g_rand_int_range(rnd, 0, 3000);
    gpointer item;

    if (next != G_MAXINT64 && next <= arrive) {
      now = MAX(now, next);
      while ((item = ar_pacer_pop(p, now, &next)) != NULL) {
        g_assert_cmpuint(GPOINTER_TO_UINT(item), >, last_out);
        last_out = GPOINTER_TO_UINT(item);
        out++;
      }
      continue;
    }
    now = arrive;
    switch (g_rand_int_range(rnd, 0, 20)) {
    case 0:
      ar_pacer_set_target(p, now, (guint)g_rand_int_range(rnd, 0, 2000));
      break;
    case 1:
      ar_pacer_charge(p, now, (gsize)g_rand_int_range(rnd, 0, 5000));
      break;
    case 2:
      ar_pacer_push(p, now, GUINT_TO_POINTER(++id), 0, 0, FALSE);
      break;
    default: {
      gboolean new_frame = g_rand_int_range(rnd, 0, 6) == 0;
      if (new_frame)
        frame += 3000;
      ar_pacer_push(p, now, GUINT_TO_POINTER(++id), (gsize)g_rand_int_range(rnd, 50, 1300), frame,
                    new_frame && g_rand_int_range(rnd, 0, 10) == 0);
    }
    }
    while ((item = ar_pacer_pop(p, now, &next)) != NULL) {
      g_assert_cmpuint(GPOINTER_TO_UINT(item), >, last_out);
      last_out = GPOINTER_TO_UINT(item);
      out++;
    }
  }
  /* The rest leaves too. */
  while (next != G_MAXINT64) {
    gpointer item;

    now = MAX(now, next);
    while ((item = ar_pacer_pop(p, now, &next)) != NULL) {
      g_assert_cmpuint(GPOINTER_TO_UINT(item), >, last_out);
      last_out = GPOINTER_TO_UINT(item);
      out++;
    }
  }
  ar_pacer_get_stats(p, &st);
  g_assert_cmpuint(st.queued_packets, ==, 0);
  g_assert_cmpuint(out + freed, ==, id);
  g_assert_cmpint(st.max_delay_us, <=, AR_PACER_QUEUE_LIMIT_US + 10 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint(st.packets_dropped, ==, freed);
}

/* ---- the element ---- */

static GstBuffer *
rtp_packet(guint32 ts, guint16 seq, GstClockTime pts)
{
  GstBuffer *b = gst_rtp_buffer_new_allocate(1000, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_timestamp(&rtp, ts);
  gst_rtp_buffer_set_seq(&rtp, seq);
  gst_rtp_buffer_set_payload_type(&rtp, 96);
  gst_rtp_buffer_unmap(&rtp);
  GST_BUFFER_PTS(b) = pts;
  return b;
}

typedef struct {
  GMutex lock;
  GCond cond;
  GArray *seqs;
  gboolean eos;
  guint key_requests;
} Sink;

static GstFlowReturn
sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  Sink *s = g_object_get_data(G_OBJECT(pad), "sink");
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint16 seq;

  (void)parent;
  g_assert_true(gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp));
  seq = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  gst_buffer_unref(buffer);
  g_mutex_lock(&s->lock);
  g_array_append_val(s->seqs, seq);
  g_cond_signal(&s->cond);
  g_mutex_unlock(&s->lock);
  return GST_FLOW_OK;
}

static gboolean
sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  Sink *s = g_object_get_data(G_OBJECT(pad), "sink");

  (void)parent;
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    g_mutex_lock(&s->lock);
    s->eos = TRUE;
    g_cond_signal(&s->cond);
    g_mutex_unlock(&s->lock);
  }
  gst_event_unref(event);
  return TRUE;
}

static gboolean
src_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  Sink *s = g_object_get_data(G_OBJECT(pad), "sink");

  (void)parent;
  if (gst_video_event_is_force_key_unit(event))
    g_atomic_int_inc(&s->key_requests);
  gst_event_unref(event);
  return TRUE;
}

/* Through the element: every packet in order, the end of stream after them,
 * a key frame drops the frames queued before it, and a key frame request from
 * downstream reaches the encoder's side. */
static void
test_element(void)
{
  Sink s = {0};
  g_autoptr(GstElement) pace = gst_object_ref_sink(ar_pace_new("pace", 300));
  g_autoptr(GstPad) src = gst_pad_new("src", GST_PAD_SRC);
  g_autoptr(GstPad) sink = gst_pad_new("sink", GST_PAD_SINK);
  g_autoptr(GstPad) pace_sink = gst_element_get_static_pad(pace, "sink");
  g_autoptr(GstPad) pace_src = gst_element_get_static_pad(pace, "src");
  g_autoptr(GstCaps) caps = gst_caps_from_string("application/x-rtp,media=video,clock-rate=90000");
  GstSegment segment;
  guint16 seq = 0;

  g_mutex_init(&s.lock);
  g_cond_init(&s.cond);
  s.seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
  g_object_set_data(G_OBJECT(sink), "sink", &s);
  g_object_set_data(G_OBJECT(src), "sink", &s);
  gst_pad_set_chain_function(sink, sink_chain);
  gst_pad_set_event_function(sink, sink_event);
  gst_pad_set_event_function(src, src_event);
  g_assert_cmpint(gst_pad_link(src, pace_sink), ==, GST_PAD_LINK_OK);
  g_assert_cmpint(gst_pad_link(pace_src, sink), ==, GST_PAD_LINK_OK);
  gst_pad_set_active(sink, TRUE);
  gst_pad_set_active(src, TRUE);
  g_assert_cmpint(gst_element_set_state(pace, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);

  gst_pad_push_event(src, gst_event_new_stream_start("pace-test"));
  gst_pad_push_event(src, gst_event_new_caps(caps));
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(src, gst_event_new_segment(&segment));
  /* Frame 1 (30 packets: ~320 ms at 750 kbit/s), then at once a key frame
   * (2 packets): most of frame 1 is still queued and dropped. */
  for (guint i = 0; i < 30; i++)
    g_assert_cmpint(gst_pad_push(src, rtp_packet(1000, seq++, 0)), ==, GST_FLOW_OK);
  ar_pace_mark_key(AR_PACE(pace), 33 * GST_MSECOND);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpint(gst_pad_push(src, rtp_packet(4000, seq++, 33 * GST_MSECOND)), ==, GST_FLOW_OK);
  gst_pad_push_event(src, gst_event_new_eos());
  g_assert_true(gst_pad_push_event(
      sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));

  g_mutex_lock(&s.lock);
  gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
  while (!s.eos && g_cond_wait_until(&s.cond, &s.lock, deadline))
    ;
  g_mutex_unlock(&s.lock);
  g_assert_true(s.eos);
  g_assert_cmpuint(g_atomic_int_get(&s.key_requests), ==, 1);
  /* In order; the key frame's two packets last; frame 1's tail dropped. */
  g_assert_cmpuint(s.seqs->len, >=, 2);
  g_assert_cmpuint(s.seqs->len, <, 32);
  for (guint i = 1; i < s.seqs->len; i++)
    g_assert_cmpuint(g_array_index(s.seqs, guint16, i), >, g_array_index(s.seqs, guint16, i - 1));
  g_assert_cmpuint(g_array_index(s.seqs, guint16, s.seqs->len - 1), ==, 31);
  g_assert_cmpuint(g_array_index(s.seqs, guint16, s.seqs->len - 2), ==, 30);
  ArPacerStats st;
  ar_pace_get_stats(AR_PACE(pace), &st);
  g_assert_cmpuint(st.packets_dropped, ==, 32 - s.seqs->len);

  g_assert_cmpint(gst_element_set_state(pace, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  g_array_unref(s.seqs);
  g_mutex_clear(&s.lock);
  g_cond_clear(&s.cond);
}

/* Stopping with packets queued frees them and joins the thread. */
static void
test_element_stop(void)
{
  g_autoptr(GstElement) pace = gst_object_ref_sink(ar_pace_new("pace", 100));
  g_autoptr(GstPad) src = gst_pad_new("src", GST_PAD_SRC);
  g_autoptr(GstPad) pace_sink = gst_element_get_static_pad(pace, "sink");
  GstSegment segment;

  g_assert_cmpint(gst_pad_link(src, pace_sink), ==, GST_PAD_LINK_OK);
  gst_pad_set_active(src, TRUE);
  g_assert_cmpint(gst_element_set_state(pace, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  gst_pad_push_event(src, gst_event_new_stream_start("pace-stop"));
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(src, gst_event_new_segment(&segment));
  for (guint i = 0; i < 100; i++)
    gst_pad_push(src, rtp_packet(1000, (guint16)i, 0));
  g_assert_cmpint(gst_element_set_state(pace, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint(gst_pad_push(src, rtp_packet(1000, 100, 0)), ==, GST_FLOW_FLUSHING);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/pacer/paces", test_paces);
  g_test_add_func("/media/pacer/follows-target", test_follows_target);
  g_test_add_func("/media/pacer/no-target", test_no_target);
  g_test_add_func("/media/pacer/events-in-order", test_events_in_order);
  g_test_add_func("/media/pacer/charge", test_charge);
  g_test_add_func("/media/pacer/queue-limit", test_queue_limit);
  g_test_add_func("/media/pacer/drain-no-debt", test_drain_no_debt);
  g_test_add_func("/media/pacer/key-flush", test_key_flush);
  g_test_add_func("/media/pacer/overflow", test_overflow);
  g_test_add_func("/media/pacer/random", test_random);
  g_test_add_func("/media/pacer/element", test_element);
  g_test_add_func("/media/pacer/element-stop", test_element_stop);
  return g_test_run();
}
