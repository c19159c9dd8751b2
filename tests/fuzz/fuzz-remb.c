/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the FCI of an RTCP application-layer feedback message read as
 * REMB (media/ar-rate.c), and the bandwidth controller fed from the same
 * bytes as reports (any loss fraction, round-trip time and sent rate) and
 * windows of transport-wide feedback. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ar-rate.h"

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
    /* Property: the target stays within its bounds. */
    guint t = ar_rate_get_target_kbps(rate);
    if (t < 100 || t > 1500)
      abort();
  }
  return 0;
}
