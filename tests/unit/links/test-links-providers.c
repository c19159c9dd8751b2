/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-links-providers.c: one test per meeting service (filled in next). */
#include "test-links.h"

void
test_links_add_provider_tests(void)
{
}
