/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-playout-delay.c: the playout-delay RTP header extension
 * (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay), written on our
 * video: the sender's wish for how long the receiver holds a frame before it
 * shows it, a minimum and a maximum of 12 bits each in units of 10 ms.
 * Chromium honours it (a minimum of 0 and a small maximum switch it to
 * rendering frames as soon as they are decoded); Janus negotiates it with a
 * publisher and forwards it to the subscribers. GStreamer 1.22 has no element
 * for it, so this is ours; send only (a received one is ignored).
 */
#include "ar-media-priv.h"

#include <gst/rtp/rtp.h>

struct _ArPlayoutDelay {
  GstRTPHeaderExtension parent;
  guint min_ms, max_ms;
};

G_DEFINE_TYPE(ArPlayoutDelay, ar_playout_delay, GST_TYPE_RTP_HEADER_EXTENSION)

static GstRTPHeaderExtensionFlags
ar_playout_delay_get_supported_flags(GstRTPHeaderExtension *ext)
{
  (void)ext;
  return GST_RTP_HEADER_EXTENSION_ONE_BYTE | GST_RTP_HEADER_EXTENSION_TWO_BYTE;
}

static gsize
ar_playout_delay_get_max_size(GstRTPHeaderExtension *ext, const GstBuffer *input_meta)
{
  (void)ext;
  (void)input_meta;
  return AR_PLAYOUT_DELAY_SIZE;
}

gsize
ar_playout_delay_pack(guint min_ms, guint max_ms, guint8 *data, gsize size)
{
  /* 12 bits of 10 ms each: 0 to 40.95 s. */
  guint lo = MIN(min_ms / 10u, 0xfffu), hi = MIN(max_ms / 10u, 0xfffu);

  if (data == NULL || size < AR_PLAYOUT_DELAY_SIZE)
    return 0;
  hi = MAX(hi, lo);
  data[0] = (guint8)(lo >> 4);
  data[1] = (guint8)(((lo & 0x0fu) << 4) | (hi >> 8));
  data[2] = (guint8)(hi & 0xffu);
  return AR_PLAYOUT_DELAY_SIZE;
}

static gssize
ar_playout_delay_write(GstRTPHeaderExtension *ext, const GstBuffer *input_meta,
                       GstRTPHeaderExtensionFlags write_flags, GstBuffer *output, guint8 *data,
                       gsize size)
{
  ArPlayoutDelay *self = AR_PLAYOUT_DELAY(ext);
  gsize n = ar_playout_delay_pack(self->min_ms, self->max_ms, data, size);

  (void)input_meta;
  (void)write_flags;
  (void)output;
  return n > 0 ? (gssize)n : -1;
}

static gboolean
ar_playout_delay_read(GstRTPHeaderExtension *ext, GstRTPHeaderExtensionFlags read_flags,
                      const guint8 *data, gsize size, GstBuffer *buffer)
{
  (void)ext;
  (void)read_flags;
  (void)data;
  (void)size;
  (void)buffer;
  return TRUE;
}

static void
ar_playout_delay_class_init(ArPlayoutDelayClass *klass)
{
  GstRTPHeaderExtensionClass *ext_class = GST_RTP_HEADER_EXTENSION_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  ext_class->get_supported_flags = ar_playout_delay_get_supported_flags;
  ext_class->get_max_size = ar_playout_delay_get_max_size;
  ext_class->write = ar_playout_delay_write;
  ext_class->read = ar_playout_delay_read;
  gst_element_class_set_static_metadata(
      element_class, "Playout delay RTP header extension", "Network/Extension/RTPHeader",
      "Asks the receiver to show frames within a delay", "Anyroom");
  gst_rtp_header_extension_class_set_uri(ext_class, AR_MEDIA_PLAYOUT_DELAY_URI);
}

static void
ar_playout_delay_init(ArPlayoutDelay *self)
{
  (void)self;
}

GstRTPHeaderExtension *
ar_playout_delay_new(guint min_ms, guint max_ms)
{
  ArPlayoutDelay *self = g_object_new(ar_playout_delay_get_type(), NULL);

  self->min_ms = min_ms;
  self->max_ms = MAX(max_ms, min_ms);
  return GST_RTP_HEADER_EXTENSION(gst_object_ref_sink(self));
}
