/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-tls.h: the admin server's self-signed certificate. Made on first
 * start (ECDSA P-256, SHA-256, 10 years, SAN: localhost, 127.0.0.1, ::1, the
 * listen address and [admin] hostnames) into the state dir: admin-cert.pem and
 * admin-key.pem, both 0600. The key is never logged.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Loads @dir/admin-cert.pem + admin-key.pem, making them first if missing. */
GTlsCertificate *ar_web_tls_load_or_create(const char *dir, const char *const *names,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* "AB:CD:..." SHA-256 of the certificate's DER. */
char *ar_web_tls_fingerprint(GTlsCertificate *cert);

/* Writes @data to @path atomically with mode 0600 (O_CLOEXEC, no symlink
 * following at the target). */
gboolean ar_web_write_private_file(const char *path, const char *data, gsize len, GError **error);

G_END_DECLS
