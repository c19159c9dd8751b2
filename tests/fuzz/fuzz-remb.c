/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the FCI of an RTCP application-layer feedback message read as
 * REMB (media/ar-rate.c), and the bandwidth controller fed from the same
 * bytes as reports (any loss fraction, round-trip time and sent rate) and
 * windows of transport-wide feedback, and the same bytes as the packets of
 * transport-wide feedbacks (media/ar-twcc.c) whose windows feed it too, and
 * a probe's figures (a probe noting some of those packets, and figures for
 * the controller from the same bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "ar-rate.h"
#include "ar-twcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  guint64 bps = 0;
  /* Property: whatever parses had its whole SSRC list. */
  if (ar_rate_parse_remb(data, size, &bps) && (size < 8 || size < 8 + 4 * (size_t)data[4]))
    abort();
  g_autoptr(ArRate) rate = ar_rate_new(100, 1500);
  gint64 now = 0;
  for (size_t i = 0; i + 12 <= size; i += 12) {
    guint32 loss, rtt, kbps;
    memcpy(&loss, data + i, 4);
    memcpy(&rtt, data + i + 4, 4);
    memcpy(&kbps, data + i + 8, 4);
    now += (gint64)(data[i] % 4) * 250000;
    if (data[i + 1] & 1)
      ar_rate_on_remb(rate, now, (guint64)kbps * 1000);
    if (data[i + 1] & 2) {
      /* A window of transport-wide feedback from the same bytes. */
      ArRateTwcc w = {.sent_kbps = kbps % 100000,
                      .recv_kbps = rtt % 100000,
                      .loss = (loss % 1200) / 1000.0,
                      .delay_growth_ms = ((gint32)loss) / 1000.0,
                      .packets_sent = data[i + 3]};
      ar_rate_on_twcc(rate, now, &w);
    } else {
      ar_rate_on_report(rate, now, (data[i + 2] & 1) ? -1.0 : (loss % 1200) / 1000.0,
                        (data[i + 3] & 1) ? -1.0 : rtt % 100000, kbps % 100000);
    }
    /* The frames stopped for a key frame: it goes within the longest wait. */
    if (data[i + 1] & 4) {
      ar_rate_on_key_wait(rate, now);
      if (!ar_rate_key_frame_ok(rate, now + 2 * G_TIME_SPAN_SECOND))
        abort();
    }
    /* A key frame asked for: one asked for again only while key frames wait. */
    if (data[i + 1] & 64) {
      ar_rate_on_key_request(rate, now);
      if (ar_rate_take_key_again(rate, now) && ar_rate_key_frame_ok(rate, now))
        abort();
    }
    /* A probe, and figures for it from the same bytes. */
    double probe_kbps = 0;
    if ((data[i + 1] & 8) && ar_rate_probe_start(rate, now, &probe_kbps) &&
        !(probe_kbps > 0 && probe_kbps <= 1.25 * 1500))
      abort();
    /* Property: a probe lasts within its bounds, whatever its rate. */
    double any_kbps = (data[i + 1] & 4) ? (double)(gint32)kbps / 7.0 : probe_kbps;
    gint64 probe_us = ar_rate_probe_duration_us(any_kbps);
    if (probe_us < AR_RATE_PROBE_US || probe_us > AR_RATE_PROBE_MAX_US)
      abort();
    if (data[i + 1] & 16) {
      ArRateProbe p = {.sent_kbps = kbps % 100000,
                       .recv_kbps = rtt % 100000,
                       .packets = data[i + 2],
                       .lost = data[i + 3],
                       .rise_ms = ((gint32)loss) / 1000.0};
      ar_rate_on_probe(rate, now, (data[i + 1] & 32) ? NULL : &p, NULL);
    }
    /* Property: the target stays within its bounds. */
    guint t = ar_rate_get_target_kbps(rate);
    if (t < 100 || t > 1500)
      abort();
  }
  /* The bytes as feedbacks of packets: 16 bytes each (sequence number, send
   * and arrival times of 48 bits, size), a feedback ending where a size's
   * top bit is set. */
  g_autoptr(ArTwccWindows) windows = ar_twcc_windows_new();
  /* And the same feedbacks with the send times from our own log (packets
   * whose first byte is odd went in it), as when the session keeps none. */
  g_autoptr(ArTwccWindows) logged = ar_twcc_windows_new();
  g_autoptr(ArTwccSendLog) log = ar_twcc_send_log_new();
  ArTwccPacket filled[64];
  /* And a probe noting the packets whose second byte is odd, ended by a
   * feedback whose last size has its second bit set. */
  g_autoptr(ArTwccProbe) probe = ar_twcc_probe_new();
  ar_twcc_probe_begin(probe);
  g_autoptr(ArRate) from_packets = ar_rate_new(100, 1500);
  ArTwccPacket packets[64];
  guint n = 0;
  for (size_t i = 0; i + 16 <= size; i += 16) {
    const uint8_t *d = data + i;
    guint64 sent = 0, arrive = 0;
    for (int b = 0; b < 6; b++) {
      sent = sent << 8 | d[2 + b];
      arrive = arrive << 8 | d[8 + b];
    }
    packets[n].seqnum = (guint16)(d[0] << 8 | d[1]);
    packets[n].sent_ns = sent == 0xffffffffffff ? AR_TWCC_TIME_NONE : sent << 8;
    packets[n].arrive_ns = arrive == 0 ? AR_TWCC_TIME_NONE : arrive << 8;
    packets[n].size = (guint)((d[14] & 0x7f) << 8 | d[15]);
    if (d[0] & 1)
      ar_twcc_send_log_add(log, packets[n].seqnum, packets[n].sent_ns, packets[n].size);
    if (d[1] & 1)
      ar_twcc_probe_note(probe, packets[n].seqnum);
    n++;
    if ((d[14] & 0x80) || n == G_N_ELEMENTS(packets) || i + 32 > size) {
      ArRateTwcc w;
      for (guint k = 0; k < n; k++) {
        filled[k] = packets[k];
        if (ar_twcc_send_log_fill(log, &filled[k]) &&
            (filled[k].seqnum != packets[k].seqnum || filled[k].sent_ns == AR_TWCC_TIME_NONE))
          abort();
      }
      ArRateProbe pr;
      if (d[14] & 0x40)
        ar_twcc_probe_end(probe);
      if (ar_twcc_probe_add(probe, packets, n, &pr) &&
          (!isfinite(pr.sent_kbps) || pr.sent_kbps < 0 || !isfinite(pr.recv_kbps) ||
           pr.recv_kbps < 0 || !isfinite(pr.rise_ms) || pr.lost > pr.packets))
        abort();
      if (!ar_twcc_probe_pending(probe))
        ar_twcc_probe_begin(probe);
      if (ar_twcc_windows_add(logged, filled, n, &w) &&
          (!isfinite(w.sent_kbps) || w.sent_kbps < 0 || !(w.loss >= 0 && w.loss <= 1) ||
           !isfinite(w.queue_ms) || w.queue_ms < 0 || w.packets_sent > n))
        abort();
      if (ar_twcc_windows_add(windows, packets, n, &w)) {
        /* Property: a window's figures are numbers in their ranges. */
        if (!isfinite(w.sent_kbps) || w.sent_kbps < 0 || !isfinite(w.recv_kbps) ||
            w.recv_kbps < 0 || !(w.loss >= 0 && w.loss <= 1) || !isfinite(w.delay_growth_ms) ||
            !isfinite(w.queue_ms) || w.queue_ms < 0 || w.packets_sent > n)
          abort();
        now += 100000;
        ar_rate_on_twcc(from_packets, now, &w);
        guint t = ar_rate_get_target_kbps(from_packets);
        if (t < 100 || t > 1500)
          abort();
      }
      n = 0;
    }
  }
  return 0;
}
