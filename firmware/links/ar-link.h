/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link.h: meeting links. Recognize, validate and normalize the links of
 * meeting services. Links are untrusted input. Pure C + GLib (no GStreamer,
 * no network).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AR_LINK_ERROR (ar_link_error_quark())
GQuark ar_link_error_quark(void);

typedef enum {
  AR_LINK_ERROR_INVALID,     /* not a URL / malformed */
  AR_LINK_ERROR_TOO_LONG,    /* over AR_LINK_MAX_LEN */
  AR_LINK_ERROR_SCHEME,      /* scheme not allowed (e.g. http:// for a web service) */
  AR_LINK_ERROR_HOST,        /* host not allowed (lookalike, userinfo, IDN, unknown) */
  AR_LINK_ERROR_UNSUPPORTED, /* a known service but not a joinable link */
} ArLinkError;

#define AR_LINK_MAX_LEN 8192

typedef enum {
  AR_ENGINE_NATIVE,
  AR_ENGINE_WEB,
  AR_ENGINE_SIP,
} ArEngine;

const char *ar_engine_to_string(ArEngine engine);

/* What an administrator configured. NULL policy = defaults (nothing extra). */
typedef struct {
  const char *const *jitsi_domains; /* self-hosted Jitsi domains, NULL-terminated */
  const char *const *pexip_domains; /* Pexip domains */
  gboolean allow_idn;               /* allow non-ASCII / punycode hosts */
} ArLinkPolicy;

/* The [links] section of the configuration, parsed into a policy:
 *   [links]
 *   jitsi-domains=meet.example.org;*.jitsi.example.net   (self-hosted Jitsi Meet)
 *   pexip-domains=video.example.com                      (Pexip Infinity web app)
 *   allow-idn=false                                      (non-ASCII/punycode hosts)
 * "*.d" means d and its subdomains. Unknown keys are refused ("[links] foo:
 * unknown key"). A missing section gives the defaults. GROUP NULL = "links". */
typedef struct _ArLinkConfig ArLinkConfig;
ArLinkConfig *ar_link_config_new_from_keyfile(GKeyFile *kf, const char *group,
                                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Valid as long as CONFIG lives. */
const ArLinkPolicy *ar_link_config_get_policy(const ArLinkConfig *config);
void ar_link_config_free(ArLinkConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArLinkConfig, ar_link_config_free)

typedef struct {
  char *provider; /* "janus", "teams", "zoom", ... */
  ArEngine engine;
  char *meeting_id; /* service's own meeting id, or NULL */
  char *passcode;   /* or NULL */
  char *join_url;   /* what the engine opens / the API endpoint */
  char *sip_uri;    /* or NULL */
  char *display;    /* display name the link asks for (janus &display=), or NULL */
  char *tls_pin;    /* SHA-256 (64 lowercase hex) of the server's TLS certificate the link
                     * pins (a room's call link), or NULL: the system's CAs */
  char *whep_url;   /* whip links naming a WHEP URL too (one two-way call), or NULL */
  char *whep_token; /* its bearer token, or NULL (then passcode serves both) */
} ArLink;

/* A room's call link (docs/room-calls.md):
 *   https://HOST[:PORT]/call#t=arc_<64 hex>[&fp=<64 hex>]
 * -> provider "anyroom", engine native, join_url = "https://HOST[:PORT]/api/v1/call",
 *    passcode = the token, tls_pin = fp. */
#define AR_LINK_ROOM_CALL_TOKEN_PREFIX "arc_"
/* TRUE for "arc_" and 64 lowercase hex characters. */
gboolean ar_link_room_call_token_ok(const char *token);

/* Janus forms:
 *   janus+ws://HOST:PORT[/PATH]?room=ID[&pin=PIN][&display=NAME]
 *   janus+wss://...     janus+http://...     janus+https://...
 * -> provider "janus", engine native, meeting_id = room, passcode = pin,
 *    join_url = "ws://HOST:PORT/PATH" (the scheme without "janus+"; for http(s)
 *    with no path, "/janus" is the default path; ws default port 8188, wss 8989,
 *    http 8088, https 8089), display = display. */
/* WHIP form (RFC 9725 ingest endpoint):
 *   whip+https://HOST[:PORT]/PATH[?QUERY][#token=BEARER]   (whip+http:// for a lab/LAN)
 * -> provider "whip", engine native, join_url = "https://HOST[:PORT]/PATH[?QUERY]"
 *    (the endpoint to POST the offer to), passcode = BEARER (RFC 6750 token
 *    characters; sent as "Authorization: Bearer"), meeting_id = NULL. The token
 *    sits in the fragment so that it is never part of a URL sent anywhere.
 * Two-way (WHIP out, WHEP in, one call):
 *   whip+https://HOST[:PORT]/PATH[?QUERY]#[token=BEARER&]whep=URL[&whep-token=BEARER2]
 *    URL = the WHEP endpoint, percent-encoded, "https://HOST[:PORT]/PATH[?QUERY]": the same
 *    scheme, host and port as the WHIP endpoint (the token goes to both), no user info, no
 *    fragment. -> whep_url = URL normalized, whep_token = BEARER2 or NULL (BEARER serves
 *    both). whep+ links take neither parameter.
 *
 * SIP form: sip:ID@DOMAIN / sips:ID@DOMAIN where DOMAIN is the SIP domain of a
 * known service (zoomcrc.com, SITE.webex.com, lifesizecloud.com, call.sl,
 * sip.bluejeans.com, bjn.vc, configured Pexip domains) -> engine sip, that
 * provider, meeting_id = ID ("ID.PASSCODE" of digits is split).
 *
 * Web services (engine web): https only (or the service's own app scheme:
 * zoommtg:, zoomus:, msteams:, org.jitsi.meet:, jitsi-meet:), exact host
 * match, no userinfo, no port but 443, no IDN/punycode unless
 * policy->allow_idn, at most AR_LINK_MAX_LEN bytes. Mail-scanner wrappers
 * (SafeLinks, Proofpoint, Google redirect, ...) are unwrapped (at most 3
 * levels) and the inner link parsed with the same rules.
 * Errors: AR_LINK_ERROR, message is a sentence for people. */
ArLink *ar_link_parse(const char *text, const ArLinkPolicy *policy,
                      GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_link_free(ArLink *link);
/* A deep copy (NULL for NULL). */
ArLink *ar_link_copy(const ArLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArLink, ar_link_free)

/* {"ok": true, "provider": ..., "engine": ..., "meeting_id": ..., "passcode": ...,
 *  "join_url": ..., "sip_uri": ...} (absent fields as null). Newly allocated. */
char *ar_link_to_json(const ArLink *link);

/* Scans an invitation (plain text or HTML) and returns the meeting links in it,
 * best first, as a GPtrArray of ArLink* (free func set). Never NULL. */
GPtrArray *ar_link_find_all(const char *text, gsize len, const ArLinkPolicy *policy);

/* Every provider id this module knows ("teams", "zoom", ...), NULL-terminated,
 * static. */
const char *const *ar_link_provider_ids(void);

/* What `anyroomctl url-info LINK` prints: ar_link_to_json() of the parsed link,
 * or {"ok": false, "error": "<reason>"}. *ok (may be NULL) = whether the link
 * was recognized (the CLI exits 0 iff TRUE). Newly allocated, never NULL. */
char *ar_link_url_info_json(const char *text, const ArLinkPolicy *policy, gboolean *ok);

/* What `anyroomctl find-links FILE` prints: a JSON array of the links found
 * in TEXT (LEN bytes, need not be NUL-terminated), best first, each as
 * ar_link_to_json(). Newly allocated, never NULL. */
char *ar_link_find_links_json(const char *text, gsize len, const ArLinkPolicy *policy);

G_END_DECLS
