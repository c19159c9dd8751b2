/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bandwidth controller's unit tests: one binary, two sources. */
#pragma once

#include <glib.h>

/* The controller's highest rate in every case (kbit/s). */
#define MAX_KBPS 1500

/* Adds the cases fed with transport-wide feedback (test-rate-twcc.c). */
void rate_twcc_tests_add(void);
