/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-provision.h: the admin server's provisioning route,
 * GET /api/v1/provision/export (admin session only; docs/api.md).
 */
#pragma once

#include "ar-web-server.h"

G_BEGIN_DECLS

/* Adds the route to @s; @board_id: the room's (ar_provision_board_id). */
void ar_web_provision_register(ArWebServer *s, const char *board_id);

G_END_DECLS
