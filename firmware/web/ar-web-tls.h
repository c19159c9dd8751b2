/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-tls.h: the admin server's self-signed certificate. Made on first
 * start (ECDSA P-256, SHA-256, 10 years, SAN: localhost, 127.0.0.1, ::1, the
 * listen address and [admin] hostnames) into the state dir: admin-cert.pem and
 * admin-key.pem, both 0600. The key is never logged.
 *
 * And the process's TLS policy (docs/decisions.md "TLS 1.2 minimum, AEAD
 * only"): TLS 1.3 or 1.2, AES-GCM or ChaCha20-Poly1305, ECDHE, for every
 * TLS connection anyroomd takes or makes through GIO (glib-networking's
 * GnuTLS backend): the admin server and its own clients alike.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The GnuTLS priority string of the policy. */
#define AR_WEB_TLS_PRIORITY                                                                        \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:"        \
  "+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/* Checks that the running GnuTLS takes @priority and that it allows nothing
 * below the policy: protocols TLS 1.2/1.3 only, AEAD ciphers only. */
gboolean ar_web_tls_check_priority(const char *priority, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Puts the policy in place for the whole process: call first thing in
 * main(), before any thread or TLS object exists. glib-networking reads
 * G_TLS_GNUTLS_PRIORITY once, when its first TLS connection is made; this
 * sets it to AR_WEB_TLS_PRIORITY, over any value the environment had (that
 * value is returned in @ignored, for the caller to warn about). Fails if the
 * running GnuTLS refuses the string or the TLS backend is not GnuTLS (the
 * policy could not be enforced). */
gboolean ar_web_tls_init_policy(char **ignored, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Loads @dir/admin-cert.pem + admin-key.pem, making them first if missing. */
GTlsCertificate *ar_web_tls_load_or_create(const char *dir, const char *const *names,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* "AB:CD:..." SHA-256 of the certificate's DER. */
char *ar_web_tls_fingerprint(GTlsCertificate *cert);

/* Writes @data to @path atomically with mode 0600 (O_CLOEXEC, no symlink
 * following at the target). */
gboolean ar_web_write_private_file(const char *path, const char *data, gsize len, GError **error);

G_END_DECLS
