/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-auth.h: the pure parts of the admin API's security, unit-tested on
 * their own (tests/unit/web): password hashes, login throttling, Host and
 * Origin checks, CSRF tokens, session cookies, random secrets.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AR_WEB_PASSWORD_MIN_CHARS 10
#define AR_WEB_PASSWORD_MAX_BYTES 1024
#define AR_WEB_PBKDF2_ITERATIONS 250000
#define AR_WEB_SESSION_COOKIE "__Host-ar_session"

/* 32 random bytes from the OS (OpenSSL RAND_bytes) as 64 lowercase hex
 * characters, with @prefix in front. NULL if the RNG failed. */
char *ar_web_random_hex(const char *prefix);
/* SHA-256 of @data as 64 lowercase hex characters. */
char *ar_web_sha256_hex(const char *data, gsize len);
/* Compares two NUL-terminated strings in time that depends only on their
 * lengths. */
gboolean ar_web_secret_equal(const char *a, const char *b);

/* Whether @password is acceptable as the admin password; sets @why. */
gboolean ar_web_password_acceptable(const char *password, const char **why);
/* "pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX" with a fresh 16-byte salt. */
char *ar_web_password_hash(const char *password, guint iterations);
/* Verifies @password against a string made by ar_web_password_hash. Malformed
 * hashes (and iteration counts outside 1000..10M) never verify. */
gboolean ar_web_password_verify(const char *password, const char *hash);
/* Whether @hash is well formed as ar_web_password_hash makes it (iterations
 * 1000..10M); @iterations: its count. */
gboolean ar_web_password_hash_ok(const char *hash, guint *iterations);
/* A provisioned setup code as a person types it: letters and digits, spaces
 * and dashes ignored, letters upper-cased; NULL if anything else, empty, or
 * over 64 bytes. Its SHA-256 is what a provisioning file carries. */
char *ar_web_setup_code_normalize(const char *typed);

/* ---- login throttling: per client address ---- */
typedef struct {
  guint base_delay_ms; /* after the first failure; doubles with each */
  guint max_delay_ms;
  guint max_failures; /* this many in a row: locked */
  guint lockout_s;
} ArThrottlePolicy;

typedef struct {
  guint failures;
  gint64 next_allowed_us; /* monotonic */
  gint64 locked_until_us;
} ArThrottleEntry;

typedef enum {
  AR_THROTTLE_OK,
  AR_THROTTLE_WAIT,   /* too soon after a failure */
  AR_THROTTLE_LOCKED, /* too many failures */
} ArThrottleVerdict;

ArThrottleVerdict ar_throttle_check(ArThrottleEntry *e, gint64 now_us, gint64 *retry_after_us);
void ar_throttle_failed(ArThrottleEntry *e, const ArThrottlePolicy *p, gint64 now_us);
void ar_throttle_succeeded(ArThrottleEntry *e);

/* ---- a global budget (a token bucket): wrong setup codes, failed remote
 * logins; across every address, so rotating addresses gains nothing ---- */
typedef struct {
  double capacity; /* the burst */
  double per_hour; /* the refill */
  double tokens;   /* may go below 0: checks already running when it ran out */
  gint64 last_us;  /* monotonic */
} ArBudget;

void ar_budget_init(ArBudget *b, double capacity, double per_hour, gint64 now_us);
/* Microseconds until one unit is there (0: now). */
gint64 ar_budget_wait_us(ArBudget *b, gint64 now_us);
/* Spends one unit; the debt is bounded by the capacity. */
void ar_budget_spend(ArBudget *b, gint64 now_us);

/* ---- Host and Origin ---- */
/* The Host values accepted for a server on @port: 127.0.0.1:P, localhost:P,
 * [::1]:P, @listen_host:P, and each of @hostnames (":P" added unless it has a
 * port; a name alone too when P is 443, as browsers leave the default port
 * out: the local names and @listen_host too). Lowercase. */
GStrv ar_web_allowed_hosts(guint port, const char *listen_host, const char *const *hostnames);
/* @allowed with @extra added (lowercase); free with g_strfreev. */
GStrv ar_web_hosts_with(const char *const *allowed, const char *extra);
/* Whether @host (a Host header) is one of @allowed (case-insensitive). */
gboolean ar_web_host_ok(const char *host, const char *const *allowed);
/* Whether @host is an IP address literal equal to @local (the address the
 * client connected to), with :@port, or without a port when @port is 443:
 * "192.168.1.20", "192.168.1.20:8443", "[fe80::1]:8443". A DNS rebinding
 * attack needs a name, so the device's own address typed in a browser is
 * safe to accept even when the server listens on every address. */
gboolean ar_web_host_is_local_address(const char *host, guint port, GSocketAddress *local);
/* Whether @origin (an Origin header) is "https://" + one of @allowed. */
gboolean ar_web_origin_ok(const char *origin, const char *const *allowed);

typedef enum {
  AR_WEB_ORIGIN_OK,
  AR_WEB_ORIGIN_FOREIGN,       /* Origin present and not ours */
  AR_WEB_ORIGIN_NOT_SAME_SITE, /* state change without proof of same origin */
} ArWebOriginVerdict;

/* The cross-site rule for one request: an Origin, when present, must be ours;
 * a state-changing request (not GET/HEAD) made with ambient credentials (a
 * cookie, or none at all: setup/login) must carry our Origin or
 * Sec-Fetch-Site: same-origin. A bearer-token request needs neither. */
ArWebOriginVerdict ar_web_origin_check(const char *method, const char *origin,
                                       const char *sec_fetch_site, gboolean bearer,
                                       const char *const *allowed);
gboolean ar_web_method_changes_state(const char *method);

/* CSRF: the header must equal the session's token (constant time). */
gboolean ar_web_csrf_ok(const char *session_token, const char *header);

/* The Set-Cookie value for a session (Secure; HttpOnly; SameSite=Strict;
 * Path=/), or one that clears it when @session_id is NULL. */
char *ar_web_session_cookie(const char *session_id);
/* The session id from a Cookie header, or NULL. Only 64-hex values. */
char *ar_web_session_from_cookie_header(const char *cookie);
/* The token of "Authorization: Bearer TOKEN", or NULL. */
char *ar_web_bearer_token(const char *authorization);

/* "ADDR:PORT", "[V6]:PORT" -> host (without brackets) and port (1..65535). */
gboolean ar_web_parse_listen(const char *listen, char **host, guint *port, GError **error);

G_END_DECLS
