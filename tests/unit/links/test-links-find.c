/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-links-find.c: the invitation scanner (filled in next). */
#include "test-links.h"

void
test_links_add_find_tests(void)
{
}
