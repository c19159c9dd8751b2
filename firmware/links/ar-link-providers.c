/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-link-providers.c: the provider table and its matcher (filled in next). */
#include "ar-link-priv.h"

ArLink *
ar_link_providers_match(const ArUrl *url, const ArLinkPolicy *policy, GError **error)
{
  return NULL;
}

gboolean
ar_link_providers_knows_host(const char *host, const ArLinkPolicy *policy)
{
  return FALSE;
}

const char *const *
ar_link_provider_ids(void)
{
  static const char *const ids[] = { "janus", "whip", NULL };
  return ids;
}
