/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-native-call.h: the native engine's policies around its signalling
 * providers (Janus, WHIP, ...), which only make sense for WebRTC peers of our
 * own:
 * - ICE servers on the media engine, and TURN REST credentials fetched from
 *   [network] turn-credentials-url, cached until half their ttl, and a call
 *   relayed through TURN rebuilt with fresh ones before they expire;
 * - re-establishing a call whose connection broke (server gone, ICE/DTLS
 *   failed, dead peer, address change) with a new provider for the same link:
 *   webrtcbin has no ICE restart (docs/network.md "Recovery").
 * Each native provider class is registered wrapped (ar_native_register): the
 * call manager sees one provider for the whole call, which reports
 * "reconnecting" while it rebuilds and "connected" once it is back.
 */
#pragma once

#include "ar-config.h"
#include "ar-provider.h"

G_BEGIN_DECLS

/* Re-establishing a broken call: attempts with exponential backoff (first
 * after AR_NATIVE_RECONNECT_FIRST_MS, doubling, at most
 * AR_NATIVE_RECONNECT_MAX_MS apart, +-25 % jitter) until the call is back or
 * the budget is spent; then the call fails.
 * - AR_NATIVE_RECONNECT_BUDGET_MS since the path went silent while the meeting
 *   server does not answer (refused, closed, silent): "the meeting server
 *   died" ends within 10 s even when the 6 s dead-peer timeout noticed it.
 * - AR_NATIVE_RECONNECT_MEDIA_BUDGET_MS since then once the server has
 *   answered an attempt's join (the meeting is there; the media path is what
 *   is broken, e.g. a Wi-Fi blackout); each such attempt gets
 *   AR_NATIVE_RECONNECT_ATTEMPT_MS to connect its media, then a fresh one is
 *   built (fresh ICE, no retransmission backoff carried over). */
#define AR_NATIVE_RECONNECT_FIRST_MS 250
#define AR_NATIVE_RECONNECT_MAX_MS 4000
#define AR_NATIVE_RECONNECT_BUDGET_MS 8500
#define AR_NATIVE_RECONNECT_MEDIA_BUDGET_MS 20000
#define AR_NATIVE_RECONNECT_ATTEMPT_MS 4000

typedef struct _ArNativeEngine ArNativeEngine;

/* The native engine's state shared by its providers: sets the configured ICE
 * servers on @media (unless TURN credentials come from a URL: then at each
 * join). @config and @media must outlive it; @media may be NULL (tests that
 * only register). Fails on ICE settings the media engine refuses. */
ArNativeEngine *ar_native_engine_new(const ArConfig *config, ArMediaEngine *media,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArNativeEngine *ar_native_engine_ref(ArNativeEngine *native);
void ar_native_engine_unref(ArNativeEngine *native);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArNativeEngine, ar_native_engine_unref)

ArMediaEngine *ar_native_engine_get_media(ArNativeEngine *native);
const ArConfig *ar_native_engine_get_config(ArNativeEngine *native);

/* Registers the native engine's hooks (the [network] settings changed) in
 * @registry, once, whatever the number of its providers. */
void ar_native_engine_register(ArNativeEngine *native, ArProviderRegistry *registry);

/* Registers @klass for native links whose provider id is @id, wrapped with the
 * policies above. @klass->create() gets @class_data; its providers may report
 * passing losses (callbacks.lost) and an answered join (signalling_up). */
void ar_native_register(ArProviderRegistry *registry, ArNativeEngine *native, const char *id,
                        const ArProviderClass *klass, gpointer class_data);

G_END_DECLS
