/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the native engine reads of a WHIP (RFC 9725) or WHEP endpoint's HTTP answers: the ICE
 * servers of its Link headers, the session URL of its Location, a Retry-After, and plain words
 * for its error statuses. Untrusted input: every size is bounded, nothing asserts. */

#define AR_WHIP_ERROR (ar_whip_error_quark())
GQuark ar_whip_error_quark(void);

typedef enum {
  AR_WHIP_ERROR_INVALID,   /* a header that cannot be read */
  AR_WHIP_ERROR_TOO_LARGE, /* over a bound */
} ArWhipError;

#define AR_WHIP_MAX_ICE_SERVERS 8
#define AR_WHIP_MAX_LINK_BYTES 16384 /* all Link values of one answer together */
#define AR_WHIP_MAX_URL 2048

typedef struct {
  char *uri;        /* "stun:", "turn:" or "turns:" URI, checked (ar_ice_uri_parse) */
  char *username;   /* TURN only */
  char *credential; /* TURN only; never logged */
} ArWhipIceServer;

void ar_whip_ice_server_free(ArWhipIceServer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWhipIceServer, ar_whip_ice_server_free)

/* The ICE servers in an answer's Link header values (RFC 8288 syntax; one value may hold several
 * links, comma-separated), in order, at most AR_WHIP_MAX_ICE_SERVERS: the links with
 * rel="ice-server" (RFC 9725 section 4.6). Links of other relations are ignored. An ice-server
 * link that cannot be used (not a STUN/TURN URI, a TURN server without username and credential,
 * a credential-type other than "password") is skipped and said in @skipped (one line each,
 * credentials never in it; may be NULL). A value that is not Link syntax, or over the bounds, is
 * an error. Returns a GPtrArray of ArWhipIceServer* (possibly empty). */
GPtrArray *ar_whip_parse_ice_links(const char *const *values, GString *skipped, GError **error);

/* The session URL: a 201's Location resolved against the endpoint URL (RFC 3986). Only http and
 * https; never from https down to http; at most AR_WHIP_MAX_URL bytes; no user info. */
char *ar_whip_resolve_location(const char *endpoint, const char *location, GError **error);

/* Retry-After (RFC 9110): delta-seconds or an HTTP-date, against @now_unix, clamped to 1..3600
 * seconds. FALSE when it is neither. */
gboolean ar_whip_parse_retry_after(const char *value, gint64 now_unix, guint *seconds);

/* Plain words for an error status of an endpoint (@what: "publish", "receive", "leave"...),
 * e.g. "the WHIP endpoint refused the token (401)". */
char *ar_whip_status_message(guint status, const char *what);

/* Trickle ICE and ICE restarts (RFC 9725 section 4.3: PATCH with
 * application/trickle-ice-sdpfrag, RFC 8840). */

#define AR_WHIP_MAX_SDPFRAG 65536
#define AR_WHIP_MAX_FRAG_CANDIDATES 64

typedef struct {
  guint mline;           /* the m-line index webrtcbin gave */
  const char *candidate; /* "candidate:..." (without "a=") */
} ArWhipCandidate;

/* The fragment that sends @candidates (and "a=end-of-candidates" when @end) of the local
 * description @offer_sdp: its ice-ufrag and ice-pwd, and for each media section a candidate
 * belongs to, that section's m= line and a=mid. Errors when the offer lacks them or a candidate
 * names no section. */
char *ar_whip_sdpfrag_build(const char *offer_sdp, const ArWhipCandidate *candidates, gsize n,
                            gboolean end, GError **error);

typedef struct {
  char *ufrag; /* NULL when the fragment has none */
  char *pwd;
  GPtrArray *mids;       /* char*: the mid of each candidate, in order */
  GPtrArray *candidates; /* char*: "candidate:..." */
  gboolean end;          /* a=end-of-candidates */
} ArWhipSdpfrag;

/* A fragment an endpoint answered (its candidates, or its new credentials after an ICE restart),
 * untrusted: at most AR_WHIP_MAX_SDPFRAG bytes and AR_WHIP_MAX_FRAG_CANDIDATES candidates, lines
 * of printable ASCII; a candidate before any a=mid is an error. */
ArWhipSdpfrag *ar_whip_sdpfrag_parse(const char *text, gsize len, GError **error);
void ar_whip_sdpfrag_free(ArWhipSdpfrag *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWhipSdpfrag, ar_whip_sdpfrag_free)

/* The offer a WHIP client POSTs when it does not trickle (or before it does): @offer_sdp with the
 * gathered @candidates as a=candidate lines in their media sections and, when @end, an
 * a=end-of-candidates in each section that got candidates (RFC 8839). Errors when a candidate
 * names a section the offer does not have. */
char *ar_whip_offer_with_candidates(const char *offer_sdp, const ArWhipCandidate *candidates,
                                    gsize n, gboolean end, GError **error);

G_END_DECLS
