/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-echo-delay.h: how late the room's echo reaches the microphone, measured
 * (issue 14, part 1; docs/audio.md). Pure logic, no GStreamer: the capture
 * graph feeds it the speaker's sound with the time it plays and the
 * microphone's with the time it was taken, and moves the microphone's
 * timestamps before the echo canceller by what it answers.
 *
 * Why: the canceller (webrtcdsp) cancels well an echo that comes a few tens of
 * milliseconds after the timestamps say, and not at all one that comes 100 ms
 * or more after. Devices add delay that no latency query reports (a TV's sound
 * processing on HDMI, a USB speakerphone's buffers, a sound server's), and the
 * echo lab's room adds 60 ms on purpose. Measured in the lab: the echo 40 ms
 * nearer the timestamps took ERLE from 14-21 dB to 94-130 dB.
 *
 * How: both signals are reduced to 2 kHz (the mean of 24 samples: speech's
 * strength is below 1 kHz) into rings indexed by absolute time. Every half
 * second, the last second of microphone is correlated (normalized) against
 * the speaker at every lag from 0 to AR_ECHO_DELAY_MAX_MS; only when the far
 * end spoke in that second (the speaker's level above -50 dBFS) and the best lag's
 * correlation is at least 0.4 (the echo is in the microphone, not only the
 * near end's voice), at neither end of the range. The last three such estimates, within 2 ms of
 * their median, make a measurement; the delay in use changes only when a measurement differs from
 * it by more than 4 ms. Nothing here trusts its input: any timestamps and any samples give a delay
 * in range or none.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest echo delay looked for. */
#define AR_ECHO_DELAY_MAX_MS 300
/* Where the canceller should see the echo: this late after the timestamps. */
#define AR_ECHO_DELAY_TARGET_MS 20

typedef struct _ArEchoDelay ArEchoDelay;

ArEchoDelay *ar_echo_delay_new(void);
void ar_echo_delay_free(ArEchoDelay *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArEchoDelay, ar_echo_delay_free)

/* The speaker's sound: @n mono S16 samples at 48 kHz, the first playing at
 * @play_ns (any clock, the same as the microphone's). */
void ar_echo_delay_push_speaker(ArEchoDelay *d, gint64 play_ns, const gint16 *samples, gsize n);
/* The microphone's: @n mono S16 samples at 48 kHz, the first taken at
 * @capture_ns. Runs an estimate when one is due (about 1 ms of CPU). */
void ar_echo_delay_push_microphone(ArEchoDelay *d, gint64 capture_ns, const gint16 *samples,
                                   gsize n);

/* The echo's delay after the microphone's timestamps, in ms, as last
 * measured; -1 before the first measurement. */
int ar_echo_delay_get_ms(const ArEchoDelay *d);
/* How much earlier the canceller should take the microphone's timestamps to
 * see the echo AR_ECHO_DELAY_TARGET_MS late (0 when it comes sooner, or
 * before any measurement): what to subtract, in ns. */
gint64 ar_echo_delay_get_shift_ns(const ArEchoDelay *d);
/* Diagnostics: estimates run, and how many were confident. */
guint ar_echo_delay_get_estimates(const ArEchoDelay *d, guint *confident);

G_END_DECLS
