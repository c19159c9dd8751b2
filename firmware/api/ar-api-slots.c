/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-api-slots.c: stream slots per credential (ar-api-slots.h). */
#include "ar-api-slots.h"

gboolean
ar_slot_owner_privileged(const char *owner)
{
  return owner == NULL || g_str_has_prefix(owner, "room:");
}

gboolean
ar_slot_admit(const ArSlotPolicy *p, const char *const *owners, guint n, const char *owner,
              gint *evict)
{
  guint same = 0, unprivileged = 0;
  gint oldest_same = -1, oldest_unprivileged = -1;
  for (guint i = 0; i < n; i++) {
    if (owner && g_strcmp0(owners[i], owner) == 0 && same++ == 0)
      oldest_same = (gint)i;
    if (!ar_slot_owner_privileged(owners[i]) && unprivileged++ == 0)
      oldest_unprivileged = (gint)i;
  }
  *evict = -1;
  if (owner && same >= p->per_owner) {
    /* The credential's own oldest stream makes room: nobody else's. */
    *evict = oldest_same;
    return TRUE;
  }
  if (ar_slot_owner_privileged(owner)) {
    if (n >= p->max_total)
      *evict = oldest_unprivileged >= 0 ? oldest_unprivileged : 0;
    return TRUE;
  }
  guint open_to_all = p->max_total > p->reserved ? p->max_total - p->reserved : 0;
  return unprivileged < open_to_all && n < p->max_total;
}
