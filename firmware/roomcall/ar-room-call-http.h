/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-http.h: the caller's side of the room call protocol over
 * HTTPS (ar-room-call.h): JSON requests with the call link's token as a
 * bearer, the room's certificate pinned by the link (self-signed rooms), no
 * redirects, answers of at most 256 KiB, each request within a deadline. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _ArRcHttp ArRcHttp;

/* @status: the HTTP status (0 with @error: no answer); @body: the answer's
 * JSON object or NULL. Not called when the request's cancellable was cancelled. */
typedef void (*ArRcHttpFunc)(guint status, JsonNode *body, const GError *error, gpointer user_data);

/* @pin: the SHA-256 (64 lowercase hex) of the room's certificate, or NULL: the system's CAs. */
ArRcHttp *ar_rc_http_new(const char *token, const char *pin);
void ar_rc_http_free(ArRcHttp *h);
/* @body: NULL for none. */
void ar_rc_http_request(ArRcHttp *h, const char *method, const char *url, JsonNode *body,
                        guint deadline_s, GCancellable *cancellable, ArRcHttpFunc done,
                        gpointer user_data);

G_END_DECLS
