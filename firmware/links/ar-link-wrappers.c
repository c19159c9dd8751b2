/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-link-wrappers.c: mail-scanner wrappers (filled in next). */
#include "ar-link-priv.h"

gboolean
ar_link_unwrap(const ArUrl *url, char **inner, GError **error)
{
  *inner = NULL;
  return TRUE;
}
