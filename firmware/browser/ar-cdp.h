/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cdp.h: a Chrome DevTools Protocol client over --remote-debugging-pipe.
 *
 * ArCdp starts Chromium itself (a process group of its own, killed with its
 * parent) and talks to it on two pipes: Chromium reads commands on its fd 3
 * and writes answers and events on its fd 4, one JSON text per message, each
 * ended by a NUL byte (docs/web-engine.md). Everything runs on the thread
 * default main context: commands are asynchronous, with ids, answered through
 * a callback; events are dispatched by method (and session id).
 *
 * What comes from the pipe is untrusted (the page can make Chromium send
 * large values): a message is at most AR_CDP_MAX_MESSAGE bytes and nested at
 * most AR_CDP_MAX_DEPTH deep; a message that is not JSON, not an object, or
 * lacks the fields CDP promises ends the browser with AR_CDP_ERROR_PROTOCOL.
 * A command sent with a timeout that gets no answer in time means the browser
 * is hung: it is killed (AR_CDP_ERROR_HUNG). Its death is reported once,
 * through the closed callback, with the reason.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AR_CDP_ERROR (ar_cdp_error_quark())
GQuark ar_cdp_error_quark(void);

typedef enum {
  AR_CDP_ERROR_START,    /* Chromium could not be started */
  AR_CDP_ERROR_PROTOCOL, /* a message that is not CDP: the browser is ended */
  AR_CDP_ERROR_HUNG,     /* a command not answered within its timeout: the browser is ended */
  AR_CDP_ERROR_CRASHED,  /* the browser was killed by a signal */
  AR_CDP_ERROR_EXITED,   /* the browser exited by itself */
  AR_CDP_ERROR_COMMAND,  /* the browser answered a command with an error (it lives on) */
  AR_CDP_ERROR_CLOSED,   /* the browser is closed (or closing): the command was not sent */
  AR_CDP_ERROR_BUSY,     /* AR_CDP_MAX_PENDING commands are already waiting */
} ArCdpError;

/* A screenshot of a 1920x1080 screen is at most 6.2 MB as PNG (raw RGB plus
 * a little), 8.3 MB in base64: 16 MiB holds it twice over and bounds what a
 * flood of page-made values can make anyroomd hold at once. */
#define AR_CDP_MAX_MESSAGE (16u * 1024 * 1024)
/* Deeper JSON is refused before json-glib (recursive) parses it. */
#define AR_CDP_MAX_DEPTH 128
/* Commands waiting for an answer (paused requests of a busy page included). */
#define AR_CDP_MAX_PENDING 1024

typedef struct _ArCdp ArCdp;

/* @result is the command's "result" object (borrowed; NULL on error). */
typedef void (*ArCdpReplyFunc)(ArCdp *cdp, JsonObject *result, const GError *error,
                               gpointer user_data);
/* @session_id is NULL for the browser's own session; @params never NULL. */
typedef void (*ArCdpEventFunc)(ArCdp *cdp, const char *session_id, JsonObject *params,
                               gpointer user_data);
/* Called exactly once, when the browser process is gone (reaped, its group
 * killed): @error is NULL after ar_cdp_close(), else why it ended. */
typedef void (*ArCdpClosedFunc)(ArCdp *cdp, const GError *error, gpointer user_data);

/* Starts @argv (argv[0] a path; --remote-debugging-pipe is the caller's)
 * with exactly @envp as its environment, fds 3 and 4 as the pipe, in a new
 * process group that gets SIGKILL if anyroomd dies. Its stdout is dropped;
 * its stderr too unless @keep_stderr. */
ArCdp *ar_cdp_launch(const char *const *argv, const char *const *envp, gboolean keep_stderr,
                     ArCdpClosedFunc closed, gpointer user_data,
                     GError **error) G_GNUC_WARN_UNUSED_RESULT;

ArCdp *ar_cdp_ref(ArCdp *cdp);
/* The last unref of a live browser kills its process group (no callback). */
void ar_cdp_unref(ArCdp *cdp);

/* Sends @method with @params (an object; taken; NULL for {}) to @session_id
 * (NULL: the browser). @timeout_ms > 0: no answer by then = hung (the browser
 * is ended); 0: no bound here (for commands that wait on the page: the
 * caller bounds them and may ar_cdp_cancel()). @callback (may be NULL) is
 * called once, never from inside this call. Returns the command id. */
guint ar_cdp_call(ArCdp *cdp, const char *session_id, const char *method, JsonNode *params,
                  guint timeout_ms, ArCdpReplyFunc callback, gpointer user_data);
/* Forgets a command: its callback is not called, a late answer is dropped. */
void ar_cdp_cancel(ArCdp *cdp, guint id);

/* Calls @func for every event named @method (any session). */
void ar_cdp_on(ArCdp *cdp, const char *method, ArCdpEventFunc func, gpointer user_data);

/* Kills the browser's process group; closed(NULL) follows once it is reaped.
 * Commands still waiting get AR_CDP_ERROR_CLOSED. */
void ar_cdp_close(ArCdp *cdp);

/* No callback of any kind any more (the owner is going away); the
 * browser's process group is killed. */
void ar_cdp_disown(ArCdp *cdp);

/* Chromium's crash handler leaves the process group (setsid, parent 1):
 * our processes that run a program from the browser's own folder and have
 * @marker (the profile folder: unique per browser) in one of their flags
 * are killed with the group, and waited for, too. */
void ar_cdp_set_marker(ArCdp *cdp, const char *marker);
/* Counts our processes with @marker in a flag (and, if @exe_dir is given,
 * running a program from that folder); with @do_kill and @exe_dir,
 * SIGKILLs them. */
guint ar_cdp_kill_marked(const char *marker, const char *exe_dir, gboolean do_kill);

/* TRUE while a process of process group @pgid (not a zombie) exists. */
gboolean ar_cdp_group_alive(GPid pgid);

gboolean ar_cdp_is_running(ArCdp *cdp);
/* The browser's pid (= its process group id); 0 when not started. */
GPid ar_cdp_get_pid(ArCdp *cdp);
/* Microseconds from launch to the first answer; -1 before it. */
gint64 ar_cdp_get_first_answer_us(ArCdp *cdp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCdp, ar_cdp_unref)

G_END_DECLS
