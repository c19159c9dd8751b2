/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The meeting browser tests' harness (browser-harness.c): FIXTURE HTTPS servers written for the
 * tests (see test-browser.c), the main loop, a browser started with the test's origins, and
 * process and socket checks. */
#pragma once

#include <gio/gio.h>

#include "ar-browser.h"

#define CHROMIUM "/usr/bin/chromium"

typedef struct {
  const char *name;
  GSocketListener *listener;
  GCancellable *cancel;
  guint16 port;
  char *origin;
  GMutex lock;
  GPtrArray *log; /* "GET /path" per request */
  char *accept_language;
  GThread *thread;
} Server;

extern Server servers[4];
#define SA (&servers[0])
#define SB (&servers[1])
#define SC (&servers[2])
#define SD (&servers[3])
extern char *workdir;        /* the run's folder, removed at the end */
extern char *profile_parent; /* where each browser's profile goes */

typedef struct {
  gboolean ready, closed, done;
  GError *ready_error, *closed_error, *error;
  JsonNode *result;
  GBytes *bytes;
  gint64 closed_at;
} Run;

/* A fixture server on 127.0.0.1 (its own port: one origin); what it was asked is logged. */
void server_start(Server *s, const char *name);
gboolean server_saw(Server *s, const char *prefix);
guint server_count(Server *s, const char *prefix);
guint server_requests(Server *s);
void make_certificate(void);
/* Runs the main loop until *@flag or @ms passed; TRUE if *@flag. */
gboolean wait_for(const gboolean *flag, guint ms);
void pause_ms(guint ms);
void run_clear(Run *r);
void on_ready(ArBrowser *b, const GError *error, gpointer data);
void on_closed(ArBrowser *b, const GError *error, gpointer data);
void on_done(ArBrowser *b, JsonNode *result, const GError *error, gpointer data);
void on_bytes(ArBrowser *b, GBytes *bytes, const GError *error, gpointer data);
/* A browser allowed A, C (also blocked) and D, media for A, profile under profile_parent;
 * asserts it became ready. */
ArBrowser *start_browser(Run *r, guint answer_timeout_ms);
char *eval(ArBrowser *b, const char *expr, GError **error);
char *eval_ok(ArBrowser *b, const char *expr);
void navigate(ArBrowser *b, const char *url, GError **error);
/* The PIDs of process group @pgid; the inodes of the sockets listening in /proc/net/@file. */
GArray *group_pids(GPid pgid);
void listening_inodes(const char *file, gboolean tcp, GHashTable *out);
