/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-stamp.c: a machine-readable time stamp in a picture, for the glass-to-glass
 * latency benchmark (docs/latency.md). The test camera writes the wall clock into
 * each frame; the far end reads it from its decoded picture (and the other way
 * round), so the delay is measured through encoder, network, jitter buffer and
 * decoder as a person would see it.
 *
 * The code: 3 rows of 16 blocks of AR_STAMP_BLOCK x AR_STAMP_BLOCK pixels at
 * the top-left corner, luma 235 for a 1 bit and 16 for a 0 (video range); row 0
 * holds bits 31..16 of the time in ms (the wall clock modulo 2^32), row 1 bits
 * 15..0, row 2 the complement of row 1: a frame whose rows disagree is not read.
 * Blocks of 16 pixels survive H.264 and VP8 at video-call bitrates; the reader
 * takes the mean of each block's inner half. Documented for other readers (the
 * benchmark's page) in docs/latency.md.
 */
#include "ar-media-priv.h"

#include <string.h>

#define AR_STAMP_COLS 16
#define AR_STAMP_ROWS 3

gboolean
ar_stamp_fits(const GstVideoInfo *info)
{
  return GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_I420 &&
         GST_VIDEO_INFO_WIDTH(info) >= AR_STAMP_COLS * AR_STAMP_BLOCK &&
         GST_VIDEO_INFO_HEIGHT(info) >= AR_STAMP_ROWS * AR_STAMP_BLOCK;
}

static guint
ar_stamp_row_bits(guint32 ms, guint row)
{
  switch (row) {
  case 0:
    return ms >> 16;
  case 1:
    return ms & 0xffff;
  default:
    return ~ms & 0xffff;
  }
}

gboolean
ar_stamp_write(GstVideoFrame *frame, guint32 ms)
{
  guint8 *y = GST_VIDEO_FRAME_COMP_DATA(frame, 0);
  gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);

  if (!ar_stamp_fits(&frame->info))
    return FALSE;
  for (guint row = 0; row < AR_STAMP_ROWS; row++) {
    guint bits = ar_stamp_row_bits(ms, row);
    for (guint col = 0; col < AR_STAMP_COLS; col++) {
      guint8 v = (bits >> (AR_STAMP_COLS - 1 - col)) & 1 ? 235 : 16;
      for (guint py = 0; py < AR_STAMP_BLOCK; py++)
        memset(y + (gsize)(row * AR_STAMP_BLOCK + py) * stride + col * AR_STAMP_BLOCK, v,
               AR_STAMP_BLOCK);
    }
  }
  /* Neutral chroma under the code: no colour bleeds into the blocks. */
  for (guint c = 1; c <= 2; c++) {
    guint8 *uv = GST_VIDEO_FRAME_COMP_DATA(frame, c);
    gint uv_stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
    for (guint py = 0; py < AR_STAMP_ROWS * AR_STAMP_BLOCK / 2; py++)
      memset(uv + (gsize)py * uv_stride, 128, AR_STAMP_COLS * AR_STAMP_BLOCK / 2);
  }
  return TRUE;
}

gboolean
ar_stamp_read(const GstVideoFrame *frame, guint32 *ms)
{
  const guint8 *y = GST_VIDEO_FRAME_COMP_DATA(frame, 0);
  gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  guint rows[AR_STAMP_ROWS] = {0};
  const guint q = AR_STAMP_BLOCK / 4;

  if (!ar_stamp_fits(&frame->info))
    return FALSE;
  for (guint row = 0; row < AR_STAMP_ROWS; row++) {
    for (guint col = 0; col < AR_STAMP_COLS; col++) {
      guint sum = 0, n = 0;
      for (guint py = q; py < AR_STAMP_BLOCK - q; py++)
        for (guint px = q; px < AR_STAMP_BLOCK - q; px++, n++)
          sum += y[(gsize)(row * AR_STAMP_BLOCK + py) * stride + col * AR_STAMP_BLOCK + px];
      rows[row] = (rows[row] << 1) | (sum / n > 125 ? 1u : 0u);
    }
  }
  if ((rows[1] ^ rows[2]) != 0xffff)
    return FALSE;
  *ms = (rows[0] << 16) | rows[1];
  return TRUE;
}

guint32
ar_stamp_now(void)
{
  return (guint32)(g_get_real_time() / 1000);
}

gboolean
ar_stamp_enabled(void)
{
  static gint enabled = -1;
  if (g_atomic_int_get(&enabled) < 0) {
    const char *v = g_getenv("ANYROOM_TEST_STAMP");
    g_atomic_int_set(&enabled, v != NULL && g_str_equal(v, "1"));
  }
  return g_atomic_int_get(&enabled);
}
