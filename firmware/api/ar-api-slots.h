/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-slots.h: who may open one more long-lived stream (an event or video
 * WebSocket): a limit per credential, and capacity only the room screen and
 * the owner-only local socket may use, so that no LAN client holding any
 * credential can shut them out (docs/decisions.md "Stream slots per
 * credential"). Pure: unit tested in tests/unit/firmware/test-api-slots.c.
 *
 * Owners are credential names: "room:HASH" (the room screen's session),
 * "panel:ID", "token:HASH", "session:HASH"; NULL is the local socket.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint max_total; /* streams in all */
  guint per_owner; /* streams of one credential (the local socket has no such limit) */
  guint reserved;  /* of max_total, only privileged owners may use these */
} ArSlotPolicy;

/* The room screen ("room:...") and the local socket (NULL). */
gboolean ar_slot_owner_privileged(const char *owner);

/* Whether a stream of @owner may open next to the @n open streams whose
 * owners are @owners, oldest first. *@evict is the index of a stream to close
 * first (-1: none):
 *   - a credential at its limit: its own oldest stream goes (a panel that
 *     reconnects after a network blip gets in at once; its dead stream,
 *     which the server may not have noticed yet, is the one closed);
 *   - a privileged owner is never refused: when all slots are taken the
 *     oldest unprivileged stream goes;
 *   - anyone else is refused (FALSE) when the unreserved slots are taken. */
gboolean ar_slot_admit(const ArSlotPolicy *policy, const char *const *owners, guint n,
                       const char *owner, gint *evict);

G_END_DECLS
