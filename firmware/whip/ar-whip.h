/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ar-native-call.h"
#include "ar-provider.h"

G_BEGIN_DECLS

/* WHEP (whep+https://...): the same, the other way: a receive peer that offers recvonly audio
 * and video; the stream plays on the room's screen and speaker like a remote participant.
 *
 * WHIP (RFC 9725): the room publishes its camera and microphone to a WHIP endpoint
 * (whip+https://HOST/PATH[#token=...]) as one native send peer. The offer is POSTed once ICE
 * gathering is complete (bounded by AR_WHIP_GATHER_MS, with the candidates gathered by then);
 * candidates found later are trickled with PATCH where the endpoint takes it. The endpoint's
 * DTLS fingerprint is verified as for every native peer. DELETE at leave. */

#define AR_WHIP_GATHER_MS 3000
#define AR_WHIP_LEAVE_MS 5000

void ar_whip_provider_register(ArProviderRegistry *registry, ArNativeEngine *native);

G_END_DECLS
