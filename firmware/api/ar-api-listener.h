/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-listener.h: the connections of both API servers (the Unix socket and
 * the HTTPS admin server), accepted by us and handed to libsoup.
 *
 * libsoup's own listener stops accepting for good after one failed accept
 * (EMFILE: its watch returns G_SOURCE_REMOVE) and has no deadlines, so a LAN
 * host that opens connections and sends nothing holds file descriptors
 * forever. Here:
 *   - accept recovers after EMFILE/ENFILE (a spare descriptor drains the
 *     queue, accepting pauses briefly, both are logged);
 *   - caps: remote connections in all and per address, local (loopback or
 *     Unix socket) connections in a pool of their own, so the room screen and
 *     the console are served while the LAN side is full;
 *   - deadlines: the TLS handshake, the request headers (slowloris), the body
 *     (reset by each chunk), and the handler and response; a WebSocket has
 *     none once upgraded (kernel keepalive and TCP_USER_TIMEOUT find a dead
 *     peer);
 *   - on the Unix socket, a peer with another uid is closed before it can
 *     send a byte.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _ArApiListener ArApiListener;

typedef struct {
  const char *name;      /* log prefix: "admin", "api" */
  guint max_remote;      /* connections from other hosts at once */
  guint max_per_address; /* from one other host; 0: no own limit */
  guint max_local;       /* loopback / Unix-socket connections at once */
  guint handshake_timeout_s;
  guint header_timeout_s;  /* from connect (after TLS) to the end of the headers */
  guint body_timeout_s;    /* reading the body, from the headers or the last chunk */
  guint request_timeout_s; /* from the body to the end of the response */
  gboolean owner_only;     /* Unix socket: only peers with our uid */
} ArApiListenerLimits;

/* What the listener did, for logs, tests and the bench. */
typedef struct {
  guint open_remote;
  guint open_local;
  guint64 accepted;
  guint64 refused_cap;     /* closed at once: a cap was reached */
  guint64 refused_owner;   /* Unix socket: not our uid */
  guint64 deadline_closed; /* closed at a deadline */
  guint64 fd_exhausted;    /* accept failed for want of descriptors */
} ArApiListenerStats;

/* Fills @limits with what @nofile descriptors allow: the defaults below,
 * scaled down so that connections never take more than half of them and 128
 * stay for everything else. */
void ar_api_listener_limits_for_nofile(ArApiListenerLimits *limits, guint64 nofile);

/* Accepts on @socket (bound and listening; borrowed) for @soup (borrowed;
 * must outlive the listener); TLS with @cert when it is not NULL. */
ArApiListener *ar_api_listener_new(SoupServer *soup, GSocket *socket, GTlsCertificate *cert,
                                   const ArApiListenerLimits *limits,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_api_listener_free(ArApiListener *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArApiListener, ar_api_listener_free)

void ar_api_listener_get_stats(ArApiListener *l, ArApiListenerStats *stats);

/* The process's RLIMIT_NOFILE soft limit raised towards its hard limit, to at
 * most @cap (0: only read it); returns the soft limit in force. */
guint64 ar_api_raise_nofile(guint64 cap);

G_END_DECLS
