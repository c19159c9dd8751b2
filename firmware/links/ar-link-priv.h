/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-priv.h: private declarations of the meeting-link module.
 *
 *   ar-link-url.c        strict RFC 3986 subset URL parser, query/percent helpers
 *   ar-link.c            public API: ar_link_parse(), native forms (janus, whip), JSON
 *   ar-link-providers.c  the provider table (data) and its one matcher
 *   ar-link-wrappers.c   mail-scanner wrappers (SafeLinks, Proofpoint, ...)
 *   ar-link-find.c       invitation scanner (text/HTML -> ranked links)
 */
#pragma once

#include "ar-link.h"

G_BEGIN_DECLS

/* A parsed URL. Every component is kept as written (percent-encoded), except
 * scheme and host, which are lower-cased; the host is validated and, if the
 * policy allows IDN, converted to ASCII. Nothing is percent-decoded here. */
typedef struct {
  char *scheme; /* lower-case, without ':' */
  char *host;   /* lower-case ASCII, no trailing dot, IPv6 with brackets; NULL if no authority */
  gboolean host_is_ip;
  int port;       /* -1 if absent */
  char *path;     /* raw, "" if empty (never NULL) */
  char *query;    /* raw, without '?', NULL if absent */
  char *fragment; /* raw, without '#', NULL if absent */
} ArUrl;

ArUrl *ar_url_parse(const char *text, gsize len, const ArLinkPolicy *policy,
                    GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_url_free(ArUrl *url);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArUrl, ar_url_free)

/* Looks up query parameter NAME (ASCII case-insensitive) and percent-decodes
 * its value once (application/x-www-form-urlencoded: '+' is a space).
 * Returns TRUE and sets *value (NULL if absent). FALSE with an error if the
 * parameter is given twice or its value does not decode to clean UTF-8. */
gboolean ar_url_query_get(const ArUrl *url, const char *name, char **value,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Same on an arbitrary raw query string (e.g. a fragment "a=b&c=d"). */
gboolean ar_url_params_get(const char *params, const char *name, char **value,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Percent-decodes S (LEN bytes, -1 = NUL-terminated) once. Refuses bad
 * escapes, NUL and control characters and invalid UTF-8. */
char *ar_url_decode(const char *s, gssize len, gboolean plus_is_space,
                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Appends RAW to OUT, keeping valid %XX escapes and percent-encoding every
 * byte that is not allowed in a path (or query/fragment if IS_QUERY). */
void ar_url_append_encoded(GString *out, const char *raw, gboolean is_query);
/* Appends S percent-encoded as a query value (only unreserved kept). */
void ar_url_append_param(GString *out, const char *s);

/* "scheme://host[:port]" with the port omitted if it equals DEFAULT_PORT. */
void ar_url_append_origin(GString *out, const char *scheme, const ArUrl *url, int default_port);

/* TRUE if HOST equals DOMAIN or is a subdomain of it (label-aligned). */
gboolean ar_host_is_or_under(const char *host, const char *domain);

ArLink *ar_link_new(const char *provider, ArEngine engine);
/* ar-link-roomcall.c: a room's call link (https://HOST/call#t=TOKEN[&fp=PIN]).
 * *handled: the URL has that shape (then a NULL return is a refusal with
 * @error set), else NULL and the URL is someone else's. */
ArLink *ar_link_parse_room_call(const ArUrl *url, gboolean *handled, GError **error);

/* The provider table: ar-link-providers.c. Returns NULL with an error, or
 * NULL without an error if the URL's host/scheme belongs to no provider. */
ArLink *ar_link_providers_match(const ArUrl *url, const ArLinkPolicy *policy, GError **error);
/* TRUE if HOST belongs to a known meeting service (used by wrappers). */
gboolean ar_link_providers_knows_host(const char *host, const ArLinkPolicy *policy);
/* The provider a SIP domain belongs to, or NULL. */
const char *ar_link_provider_for_sip_domain(const char *host, const ArLinkPolicy *policy);
/* A name people know ("Microsoft Teams") for a provider id. */
const char *ar_link_provider_name(const char *id);

/* Validates a host name (no port) as the URL parser does; returns it
 * lower-cased ASCII or NULL with an error. */
char *ar_url_normalize_host(const char *raw, gsize len, const ArLinkPolicy *policy, gboolean *is_ip,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Mail-scanner wrappers: ar-link-wrappers.c. If URL is a known wrapper,
 * returns TRUE and sets *inner to the wrapped link (newly allocated).
 * Returns TRUE with *inner NULL if it is not a wrapper. FALSE with an error if
 * it is a wrapper that cannot be unwrapped. *wrapper_name: a name people know. */
gboolean ar_link_unwrap(const ArUrl *url, char **inner, const char **wrapper_name,
                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Internal entry with a wrapper depth counter. */
ArLink *ar_link_parse_depth(const char *text, gsize len, const ArLinkPolicy *policy, guint depth,
                            GError **error);

#define AR_LINK_MAX_WRAP_DEPTH 3

G_END_DECLS
