/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-auth.h"

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#define SALT_BYTES 16
#define HASH_BYTES 32

static char *
hex_of(const guchar *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc(len * 2 + 1);
  for (gsize i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  out[len * 2] = '\0';
  return out;
}

static gboolean
unhex(const char *hex, guchar *out, gsize out_len)
{
  if (strlen(hex) != out_len * 2)
    return FALSE;
  for (gsize i = 0; i < out_len; i++) {
    int hi = g_ascii_xdigit_value(hex[2 * i]);
    int lo = g_ascii_xdigit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return FALSE;
    out[i] = (guchar)(hi << 4 | lo);
  }
  return TRUE;
}

static gboolean
is_lower_hex(const char *s, gsize len)
{
  if (strlen(s) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

char *
ar_web_random_hex(const char *prefix)
{
  guchar buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1)
    return NULL;
  g_autofree char *hex = hex_of(buf, sizeof buf);
  OPENSSL_cleanse(buf, sizeof buf);
  return g_strconcat(prefix ? prefix : "", hex, NULL);
}

char *
ar_web_sha256_hex(const char *data, gsize len)
{
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

gboolean
ar_web_secret_equal(const char *a, const char *b)
{
  if (!a || !b)
    return FALSE;
  gsize la = strlen(a), lb = strlen(b);
  if (la != lb)
    return FALSE;
  return CRYPTO_memcmp(a, b, la) == 0;
}

gboolean
ar_web_password_acceptable(const char *password, const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  if (!password || !g_utf8_validate(password, -1, NULL)) {
    *why = "the password must be UTF-8 text";
    return FALSE;
  }
  if (strlen(password) > AR_WEB_PASSWORD_MAX_BYTES) {
    *why = "the password is longer than 1024 bytes";
    return FALSE;
  }
  if (g_utf8_strlen(password, -1) < AR_WEB_PASSWORD_MIN_CHARS) {
    *why = "the password must have at least 10 characters";
    return FALSE;
  }
  for (const char *p = password; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f) {
      *why = "the password must not contain control characters";
      return FALSE;
    }
  *why = NULL;
  return TRUE;
}

static gboolean
pbkdf2(const char *password, const guchar *salt, guint iterations, guchar out[HASH_BYTES])
{
  return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_BYTES, (int)iterations,
                           EVP_sha256(), HASH_BYTES, out) == 1;
}

char *
ar_web_password_hash(const char *password, guint iterations)
{
  guchar salt[SALT_BYTES], hash[HASH_BYTES];
  if (!password || RAND_bytes(salt, sizeof salt) != 1 || !pbkdf2(password, salt, iterations, hash))
    return NULL;
  g_autofree char *salt_hex = hex_of(salt, sizeof salt);
  g_autofree char *hash_hex = hex_of(hash, sizeof hash);
  OPENSSL_cleanse(hash, sizeof hash);
  return g_strdup_printf("pbkdf2-sha256$%u$%s$%s", iterations, salt_hex, hash_hex);
}

/* "pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX" into its parts. */
static gboolean
parse_stored(const char *stored, guint *iterations, guchar salt[SALT_BYTES],
             guchar hash[HASH_BYTES])
{
  if (!stored || strlen(stored) > 256)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(stored, "$", 5);
  guint64 iter;
  if (g_strv_length(parts) != 4 || !g_str_equal(parts[0], "pbkdf2-sha256") ||
      !g_ascii_string_to_unsigned(parts[1], 10, 1000, 10000000, &iter, NULL) ||
      !unhex(parts[2], salt, SALT_BYTES) || !unhex(parts[3], hash, HASH_BYTES))
    return FALSE;
  *iterations = (guint)iter;
  return TRUE;
}

gboolean
ar_web_password_hash_ok(const char *stored, guint *iterations)
{
  guchar salt[SALT_BYTES], hash[HASH_BYTES];
  guint iter = 0;
  if (!parse_stored(stored, &iter, salt, hash))
    return FALSE;
  if (iterations)
    *iterations = iter;
  return TRUE;
}

gboolean
ar_web_password_verify(const char *password, const char *stored)
{
  if (!password || strlen(password) > AR_WEB_PASSWORD_MAX_BYTES)
    return FALSE;
  guint iterations;
  guchar salt[SALT_BYTES], want[HASH_BYTES], got[HASH_BYTES];
  if (!parse_stored(stored, &iterations, salt, want))
    return FALSE;
  if (!pbkdf2(password, salt, iterations, got))
    return FALSE;
  gboolean ok = CRYPTO_memcmp(got, want, HASH_BYTES) == 0;
  OPENSSL_cleanse(got, sizeof got);
  return ok;
}

char *
ar_web_setup_code_normalize(const char *typed)
{
  if (!typed || strlen(typed) > 64)
    return NULL;
  GString *s = g_string_new(NULL);
  for (const char *c = typed; *c; c++) {
    if (g_ascii_isalnum(*c))
      g_string_append_c(s, g_ascii_toupper(*c));
    else if (*c != ' ' && *c != '-') {
      g_string_free(s, TRUE);
      return NULL;
    }
  }
  if (s->len == 0) {
    g_string_free(s, TRUE);
    return NULL;
  }
  return g_string_free(s, FALSE);
}

/* ---- throttling ---- */

ArThrottleVerdict
ar_throttle_check(ArThrottleEntry *e, gint64 now_us, gint64 *retry_after_us)
{
  gint64 dummy;
  if (!retry_after_us)
    retry_after_us = &dummy;
  *retry_after_us = 0;
  if (e->locked_until_us) {
    if (now_us < e->locked_until_us) {
      *retry_after_us = e->locked_until_us - now_us;
      return AR_THROTTLE_LOCKED;
    }
    /* The lockout is over: start again from nothing. */
    e->locked_until_us = 0;
    e->failures = 0;
    e->next_allowed_us = 0;
  }
  if (now_us < e->next_allowed_us) {
    *retry_after_us = e->next_allowed_us - now_us;
    return AR_THROTTLE_WAIT;
  }
  return AR_THROTTLE_OK;
}

void
ar_throttle_failed(ArThrottleEntry *e, const ArThrottlePolicy *p, gint64 now_us)
{
  if (e->failures < G_MAXUINT)
    e->failures++;
  if (p->max_failures && e->failures >= p->max_failures) {
    e->locked_until_us = now_us + (gint64)p->lockout_s * G_USEC_PER_SEC;
    e->next_allowed_us = e->locked_until_us;
    return;
  }
  guint64 delay_ms = p->base_delay_ms;
  for (guint i = 1; i < e->failures && delay_ms < p->max_delay_ms; i++)
    delay_ms *= 2;
  delay_ms = MIN(delay_ms, p->max_delay_ms);
  e->next_allowed_us = now_us + (gint64)delay_ms * 1000;
}

void
ar_throttle_succeeded(ArThrottleEntry *e)
{
  e->failures = 0;
  e->next_allowed_us = 0;
  e->locked_until_us = 0;
}

/* ---- budgets ---- */

void
ar_budget_init(ArBudget *b, double capacity, double per_hour, gint64 now_us)
{
  b->capacity = capacity;
  b->per_hour = per_hour;
  b->tokens = capacity;
  b->last_us = now_us;
}

static void
budget_refill(ArBudget *b, gint64 now_us)
{
  if (now_us > b->last_us) {
    b->tokens += (double)(now_us - b->last_us) / (3600.0 * G_USEC_PER_SEC) * b->per_hour;
    b->tokens = MIN(b->tokens, b->capacity);
  }
  b->last_us = now_us; /* a clock that went back only waits longer */
}

gint64
ar_budget_wait_us(ArBudget *b, gint64 now_us)
{
  budget_refill(b, now_us);
  if (b->tokens >= 1.0 || b->per_hour <= 0)
    return b->tokens >= 1.0 ? 0 : G_MAXINT64;
  return (gint64)((1.0 - b->tokens) / b->per_hour * 3600.0 * G_USEC_PER_SEC) + 1;
}

void
ar_budget_spend(ArBudget *b, gint64 now_us)
{
  budget_refill(b, now_us);
  b->tokens = MAX(b->tokens - 1.0, -b->capacity);
}

/* ---- Host and Origin ---- */

static gboolean
host_has_port(const char *h)
{
  const char *colon = strrchr(h, ':');
  const char *bracket = strrchr(h, ']');
  return colon && (!bracket || colon > bracket) && (h[0] == '[' || strchr(h, ':') == colon);
}

static gboolean
host_chars_ok(const char *h)
{
  if (!*h || strlen(h) > 260)
    return FALSE;
  for (const char *p = h; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr(".-:[]_", *p))
      return FALSE;
  return TRUE;
}

static void
add_host(GPtrArray *a, const char *h)
{
  char *lower = g_ascii_strdown(h, -1);
  for (guint i = 0; i < a->len; i++)
    if (g_str_equal(a->pdata[i], lower)) {
      g_free(lower);
      return;
    }
  g_ptr_array_add(a, lower);
}

GStrv
ar_web_allowed_hosts(guint port, const char *listen_host, const char *const *hostnames)
{
  GPtrArray *a = g_ptr_array_new();
  const char *local[] = {"127.0.0.1", "localhost", "[::1]"};
  for (gsize i = 0; i < G_N_ELEMENTS(local); i++) {
    g_autofree char *h = g_strdup_printf("%s:%u", local[i], port);
    add_host(a, h);
    if (port == 443)
      add_host(a, local[i]);
  }
  if (listen_host && *listen_host && !g_str_equal(listen_host, "0.0.0.0") &&
      !g_str_equal(listen_host, "::")) {
    gboolean v6 = strchr(listen_host, ':') != NULL;
    g_autofree char *h = g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", listen_host, port);
    add_host(a, h);
    if (port == 443) {
      g_autofree char *bare = g_strdup_printf(v6 ? "[%s]" : "%s", listen_host);
      add_host(a, bare);
    }
  }
  for (gsize i = 0; hostnames && hostnames[i]; i++) {
    const char *n = hostnames[i];
    if (!host_chars_ok(n))
      continue;
    if (host_has_port(n)) {
      add_host(a, n);
    } else {
      g_autofree char *h = g_strdup_printf("%s:%u", n, port);
      add_host(a, h);
      if (port == 443)
        add_host(a, n);
    }
  }
  g_ptr_array_add(a, NULL);
  return (GStrv)g_ptr_array_free(a, FALSE);
}

gboolean
ar_web_host_ok(const char *host, const char *const *allowed)
{
  if (!host || !allowed || !host_chars_ok(host))
    return FALSE;
  for (gsize i = 0; allowed[i]; i++)
    if (g_ascii_strcasecmp(host, allowed[i]) == 0)
      return TRUE;
  return FALSE;
}

GStrv
ar_web_hosts_with(const char *const *allowed, const char *extra)
{
  GPtrArray *a = g_ptr_array_new();
  for (gsize i = 0; allowed && allowed[i]; i++)
    add_host(a, allowed[i]);
  if (extra)
    add_host(a, extra);
  g_ptr_array_add(a, NULL);
  return (GStrv)g_ptr_array_free(a, FALSE);
}

gboolean
ar_web_host_is_local_address(const char *host, guint port, GSocketAddress *local)
{
  if (!host || !host_chars_ok(host) || !G_IS_INET_SOCKET_ADDRESS(local))
    return FALSE;
  g_autofree char *addr = NULL;
  const char *port_text = NULL;
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (!end)
      return FALSE;
    addr = g_strndup(host + 1, end - host - 1);
    if (end[1] == ':')
      port_text = end + 2;
    else if (end[1] != '\0')
      return FALSE;
  } else {
    const char *colon = strchr(host, ':');
    if (colon && strchr(colon + 1, ':'))
      return FALSE; /* an IPv6 literal needs brackets in a Host */
    addr = colon ? g_strndup(host, colon - host) : g_strdup(host);
    port_text = colon ? colon + 1 : NULL;
  }
  if (port_text) {
    guint64 p = 0;
    if (!g_ascii_string_to_unsigned(port_text, 10, 1, 65535, &p, NULL) || p != port)
      return FALSE;
  } else if (port != 443) {
    return FALSE;
  }
  g_autoptr(GInetAddress) want = g_inet_address_new_from_string(addr);
  if (!want)
    return FALSE; /* a name, not an address */
  GInetAddress *have = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
  if (g_inet_address_equal(want, have))
    return TRUE;
  /* An IPv4 client of a dual-stack socket: the local address is ::ffff:a.b.c.d. */
  if (g_inet_address_get_family(have) == G_SOCKET_FAMILY_IPV6 &&
      g_inet_address_get_family(want) == G_SOCKET_FAMILY_IPV4) {
    const guint8 *b = g_inet_address_to_bytes(have);
    static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(b, mapped, 12) == 0 && memcmp(b + 12, g_inet_address_to_bytes(want), 4) == 0;
  }
  return FALSE;
}

gboolean
ar_web_origin_ok(const char *origin, const char *const *allowed)
{
  if (!origin || !g_str_has_prefix(origin, "https://"))
    return FALSE;
  return ar_web_host_ok(origin + strlen("https://"), allowed);
}

gboolean
ar_web_method_changes_state(const char *method)
{
  return !(g_str_equal(method, "GET") || g_str_equal(method, "HEAD"));
}

ArWebOriginVerdict
ar_web_origin_check(const char *method, const char *origin, const char *sec_fetch_site,
                    gboolean bearer, const char *const *allowed)
{
  if (origin && !ar_web_origin_ok(origin, allowed))
    return AR_WEB_ORIGIN_FOREIGN;
  /* A browser says where a request comes from; anything but our own page is
   * refused, whatever the credentials. */
  if (sec_fetch_site && !g_str_equal(sec_fetch_site, "same-origin") &&
      !g_str_equal(sec_fetch_site, "none"))
    return AR_WEB_ORIGIN_FOREIGN;
  if (bearer || !ar_web_method_changes_state(method))
    return AR_WEB_ORIGIN_OK;
  if (origin || (sec_fetch_site && g_str_equal(sec_fetch_site, "same-origin")))
    return AR_WEB_ORIGIN_OK;
  return AR_WEB_ORIGIN_NOT_SAME_SITE;
}

gboolean
ar_web_csrf_ok(const char *session_token, const char *header)
{
  if (!session_token || !*session_token || !header)
    return FALSE;
  return ar_web_secret_equal(session_token, header);
}

char *
ar_web_session_cookie(const char *session_id)
{
  if (session_id)
    return g_strdup_printf("%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict",
                           AR_WEB_SESSION_COOKIE, session_id);
  return g_strdup_printf("%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
                         AR_WEB_SESSION_COOKIE);
}

char *
ar_web_session_from_cookie_header(const char *cookie)
{
  if (!cookie || strlen(cookie) > 8192)
    return NULL;
  g_auto(GStrv) parts = g_strsplit(cookie, ";", 64);
  for (gsize i = 0; parts[i]; i++) {
    char *p = g_strstrip(parts[i]);
    gsize nlen = strlen(AR_WEB_SESSION_COOKIE);
    if (strncmp(p, AR_WEB_SESSION_COOKIE, nlen) == 0 && p[nlen] == '=') {
      const char *v = p + nlen + 1;
      if (is_lower_hex(v, 64))
        return g_strdup(v);
    }
  }
  return NULL;
}

char *
ar_web_bearer_token(const char *authorization)
{
  if (!authorization || g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0)
    return NULL;
  const char *t = authorization + 7;
  while (*t == ' ')
    t++;
  gsize len = strlen(t);
  if (len == 0 || len > 128)
    return NULL;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(t[i]) && t[i] != '_' && t[i] != '-')
      return NULL;
  return g_strdup(t);
}

gboolean
ar_web_parse_listen(const char *listen, char **host, guint *port, GError **error)
{
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  if (!colon || colon == listen) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "admin.listen: '%s' is not ADDRESS:PORT", listen ? listen : "");
    return FALSE;
  }
  g_autofree char *h = g_strndup(listen, (gsize)(colon - listen));
  if (h[0] == '[') {
    gsize l = strlen(h);
    if (l < 3 || h[l - 1] != ']') {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "admin.listen: '%s' is not [IPV6]:PORT", listen);
      return FALSE;
    }
    char *inner = g_strndup(h + 1, l - 2);
    g_free(h);
    h = inner;
  }
  guint64 p;
  if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "admin.listen: '%s' has no port from 1 to 65535", listen);
    return FALSE;
  }
  if (!g_hostname_is_ip_address(h)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "admin.listen: '%s' is not an IP address", h);
    return FALSE;
  }
  *host = g_steal_pointer(&h);
  *port = (guint)p;
  return TRUE;
}
