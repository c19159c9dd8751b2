/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-crash.h: a fatal signal leaves the crashing thread's stack in the log. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT (the
 * calling thread's on an alternate stack, so that its stack overflowing is
 * reported too; other threads' on their own stacks). The handler writes
 * one line naming the signal and the thread, then the stack (one frame a
 * line, "object(symbol+offset)[address]"), to stderr (the journal), then
 * lets the signal do what it does by default (a core where cores are kept).
 * Call once, early, from the main thread. */
void ar_crash_install(void);

G_END_DECLS
