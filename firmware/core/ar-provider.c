/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-provider.h"

static const ArProviderClass *const providers[] = {
    &ar_janus_provider_class,
};

const ArProviderClass *
ar_provider_lookup(const char *id)
{
  for (gsize i = 0; id && i < G_N_ELEMENTS(providers); i++)
    if (g_str_equal(providers[i]->id, id))
      return providers[i];
  return NULL;
}

void
ar_participant_free(ArParticipant *p)
{
  if (!p)
    return;
  g_free(p->id);
  g_free(p->display);
  g_free(p);
}
