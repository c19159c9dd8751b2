/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-log.h: a bounded in-memory ring of the daemon's log lines for the admin
 * UI (view and download), secrets redacted. Every line still goes on to
 * GLib's default writer (journald on the device), and to the remote syslog
 * forwarder when [logs] remote is set (ar-log-remote.h), redacted too.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AR_LOG_RING_LINES 2000
#define AR_LOG_LINE_MAX 1024

/* Installs the writer (once, from main). */
void ar_log_ring_install(void);
/* A secret to blank out of every later line (e.g. the TURN password);
 * at most 16 are remembered, shorter than 6 bytes ignored. */
void ar_log_ring_add_secret(const char *secret);
/* Adds a line as the writer does (for tests). */
void ar_log_ring_append(GLogLevelFlags level, const char *domain, const char *message);
/* The newest @max lines (oldest first); "" joined with "\n" by the caller. */
GStrv ar_log_ring_lines(guint max);
/* Redacts what looks like a credential in @line: TURN URIs with a
 * password, API tokens, "password=..." and the registered secrets. */
char *ar_log_redact(const char *line);
/* @text as one line (CR/LF as spaces), at most AR_LOG_LINE_MAX bytes, valid
 * UTF-8, redacted: what the ring keeps and what is forwarded (ar-log-remote.h). */
char *ar_log_clean(const char *text);
void ar_log_ring_clear(void);

G_END_DECLS
