/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include "ar-link.h"

/* Parses TEXT and checks every field (NULL = expect NULL). */
void check_link(const char *text, const ArLinkPolicy *policy, const char *provider, ArEngine engine,
                const char *meeting_id, const char *passcode, const char *join_url,
                const char *sip_uri);
/* Parses TEXT and expects failure with CODE (-1 = any). */
void check_refused(const char *text, const ArLinkPolicy *policy, int code);

void test_links_add_provider_tests(void);
void test_links_add_find_tests(void);
