/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-cdp-priv.h: the CDP message reader without a process, for the fuzzer
 * and unit tests (tests/fuzz/fuzz-cdp.c). */
#pragma once

#include "ar-cdp.h"

G_BEGIN_DECLS

/* An ArCdp with no process: commands are numbered and kept but written
 * nowhere; the stream comes from ar_cdp_feed(). A protocol error closes it
 * at once (closed callback, then ar_cdp_is_running() is FALSE). */
ArCdp *ar_cdp_new_detached(ArCdpClosedFunc closed, gpointer user_data);

/* Feeds @len bytes of the incoming stream (messages split by NUL bytes, a
 * message may span calls). FALSE once the connection is closed (a protocol
 * error in this data or before). */
gboolean ar_cdp_feed(ArCdp *cdp, const guint8 *data, gsize len);

/* TRUE if @data (@len bytes) nests arrays and objects at most @max_depth
 * deep, outside strings. */
gboolean ar_cdp_depth_ok(const char *data, gsize len, guint max_depth);

G_END_DECLS
