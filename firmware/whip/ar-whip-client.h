/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "ar-whip-msg.h"

G_BEGIN_DECLS

/* The HTTP side of a WHIP (RFC 9725) or WHEP session: POST the offer to the endpoint, PATCH
 * trickle fragments to the session, DELETE it at leave. Each request is bounded (an I/O
 * timeout and an overall deadline), follows 307/308 redirects (at most AR_WHIP_MAX_REDIRECTS,
 * never from https to http, the body resent), reads at most AR_WHIP_MAX_BODY bytes of answer,
 * and turns error statuses into plain words. The bearer token goes only in the Authorization
 * header: never in a log or an error. Async calls run on the thread-default main context of
 * ar_whip_client_new(). */

#define AR_WHIP_MAX_REDIRECTS 3
#define AR_WHIP_MAX_BODY 65536

/* More codes of AR_WHIP_ERROR (ar-whip-msg.h). */
#define AR_WHIP_ERROR_STATUS 100      /* the endpoint answered an error status */
#define AR_WHIP_ERROR_UNSUPPORTED 101 /* PATCH not supported (405, 501): no trickle, no restart */
#define AR_WHIP_ERROR_TIMEOUT 102     /* no answer within the deadline */

typedef struct _ArWhipClient ArWhipClient;

typedef struct {
  guint io_timeout_s;  /* no byte for this long: failed; 0: 10 s */
  guint deadline_s;    /* a whole request, redirects included; 0: 20 s */
  const char *ca_file; /* PEM CA to verify https with; NULL: the system's */
  const char *what;    /* words for errors: "WHIP publish", "WHEP receive"; NULL: "WHIP" */
} ArWhipClientOptions;

/* @endpoint: http(s) URL; @token: NULL for none. NULL and @error for a URL that is not one. */
ArWhipClient *ar_whip_client_new(const char *endpoint, const char *token,
                                 const ArWhipClientOptions *options, GError **error);
/* Reference counted: free drops the caller's reference; a request in flight keeps the client
 * (a DELETE sent as the call ends outlives the provider). */
ArWhipClient *ar_whip_client_ref(ArWhipClient *c);
void ar_whip_client_free(ArWhipClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWhipClient, ar_whip_client_free)

typedef struct {
  char *answer_sdp;       /* the body of the 201 */
  char *session_url;      /* its Location, resolved */
  char *etag;             /* or NULL */
  GPtrArray *ice_servers; /* ArWhipIceServer* from its Link headers (possibly empty) */
  char *ice_skipped;      /* why some Link ice-servers were not taken ("" if none) */
  gboolean counter_offer; /* a WHEP 406 with an SDP: @answer_sdp is the endpoint's own offer,
                           * to be answered with ar_whip_client_patch_sdp() */
} ArWhipAnswer;

void ar_whip_answer_free(ArWhipAnswer *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWhipAnswer, ar_whip_answer_free)

/* The _finish() functions do not use @c (it may be NULL): a callback can learn that it was
 * cancelled before it touches what may be gone. */

/* POSTs @offer_sdp (application/sdp). Success: a 201 with an SDP body and a Location; the
 * client keeps the session URL and ETag for PATCH and DELETE. Also a success: a 406 Not
 * Acceptable with Content-Type application/sdp, a body and a Location (WHEP's counter-offer,
 * docs/decisions.md): counter_offer is set. A 406 without them stays an error. */
void ar_whip_client_post_offer(ArWhipClient *c, const char *offer_sdp, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
ArWhipAnswer *ar_whip_client_post_offer_finish(ArWhipClient *c, GAsyncResult *result,
                                               GError **error);

/* PATCHes @sdpfrag (application/trickle-ice-sdpfrag) to the session, with If-Match the ETag
 * when there is one. Success: 204, or 200 with the endpoint's fragment (@answer_frag, else
 * NULL). 405 and 501: AR_WHIP_ERROR_UNSUPPORTED. */
void ar_whip_client_patch(ArWhipClient *c, const char *sdpfrag, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
gboolean ar_whip_client_patch_finish(ArWhipClient *c, GAsyncResult *result, char **answer_frag,
                                     GError **error);

/* PATCHes @answer_sdp (application/sdp) to the session: the room's answer to a WHEP endpoint's
 * counter-offer. If-Match the ETag when there is one; success: 200 or 204. */
void ar_whip_client_patch_sdp(ArWhipClient *c, const char *answer_sdp, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
#define ar_whip_client_patch_sdp_finish ar_whip_client_patch_finish

/* DELETEs the session (a no-op success without one). */
void ar_whip_client_delete(ArWhipClient *c, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean ar_whip_client_delete_finish(ArWhipClient *c, GAsyncResult *result, GError **error);

/* The session URL (NULL before a 201) and the last error status and its Retry-After (seconds,
 * 0 if none; after a 429 or 503). */
const char *ar_whip_client_get_session_url(ArWhipClient *c);
guint ar_whip_client_get_last_status(ArWhipClient *c);
guint ar_whip_client_get_retry_after(ArWhipClient *c);

G_END_DECLS
