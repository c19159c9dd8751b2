/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-config-priv.h: the checks of single groups (ar-config-check.c). */
#pragma once

#include "ar-config.h"

G_BEGIN_DECLS

gboolean ar_config_validate_web(const ArConfig *c, const char *origin, GError **error);
gboolean ar_config_validate_whip(const ArConfig *c, const char *origin, GError **error);
gboolean ar_config_validate_calendar(const ArConfig *c, const char *origin, GError **error);
gboolean ar_config_validate_logs(const ArConfig *c, const char *origin, GError **error);
gboolean ar_config_validate_provision(const ArConfig *c, const char *origin, GError **error);

G_END_DECLS
