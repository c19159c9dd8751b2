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
/* A retry is against the reconnection budget: the offer leaves after at most this much
 * gathering, later candidates are trickled. */
#define AR_WHIP_RETRY_GATHER_MS 1000
#define AR_WHIP_LEAVE_MS 5000
/* A retry after a failure waits this long at most for the old session's DELETE. */
#define AR_WHIP_DELETE_WAIT_MS 2000
/* ...and takes the failed session's DELETE and ICE servers only when it comes this soon. */
#define AR_WHIP_CARRY_MAX_AGE_S 60
/* 429/503 with Retry-After: waited out up to this long, this many times; longer is an error. */
#define AR_WHIP_RETRY_AFTER_MAX_S 10
#define AR_WHIP_BUSY_RETRIES 2

void ar_whip_provider_register(ArProviderRegistry *registry, ArNativeEngine *native);

G_END_DECLS
