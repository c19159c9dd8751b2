/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-self.h: anyroomd's own process figures, from /proc. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The process's resident memory (RSS) in bytes, from /proc/self/statm; -1
 * where it cannot be read. */
gint64 ar_self_rss_bytes(void);

G_END_DECLS
