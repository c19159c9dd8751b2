/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-janus-transport.h: carries Janus API JSON over WebSocket (subprotocol
 * janus-protocol) or HTTP (POST + long-poll GET). The provider speaks only
 * JSON text; session/handle ids inside the JSON pick the HTTP path.
 */
#pragma once

#include <gio/gio.h>

#include "ar-janus-msg.h"

G_BEGIN_DECLS

typedef struct _ArJanusTransport ArJanusTransport;

typedef struct {
  /* Connected and ready to send. */
  void (*opened)(ArJanusTransport *t, gpointer user_data);
  /* One parsed message from the server. */
  void (*message)(ArJanusTransport *t, ArJanusMsg *msg, gpointer user_data);
  /* The transport failed (connect error, connection lost). Terminal. */
  void (*failed)(ArJanusTransport *t, const GError *error, gpointer user_data);
} ArJanusTransportCallbacks;

/* @url: ws://, wss://, http:// or https:// (the link's join_url). */
ArJanusTransport *ar_janus_transport_new(const char *url, const ArJanusTransportCallbacks *cb,
                                         gpointer user_data,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_janus_transport_open(ArJanusTransport *t);
/* Sends one request (JSON text from ar_janus_build*). */
void ar_janus_transport_send(ArJanusTransport *t, const char *json);
/* Sends a last message (a goodbye) that must not be cut off when @t is freed
 * right after: over HTTP on a short-lived session of its own, whose answer is
 * ignored; over a WebSocket like ar_janus_transport_send (the close follows
 * the message, and Janus ends the sessions of a closed connection anyway). */
void ar_janus_transport_send_detached(ArJanusTransport *t, const char *json);
/* Closes; no callback fires after this. Accepts NULL. */
void ar_janus_transport_free(ArJanusTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArJanusTransport, ar_janus_transport_free)

G_END_DECLS
