/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ar-config.h"

G_BEGIN_DECLS

/* Whether a configured capture/playback device is there right now:
 * "/dev/videoN" (the node exists), ALSA "hw:CARD,..." / "plughw:CARD,..." (the card is in
 * /proc/asound, by id or index). Returns -1 when it cannot tell ("auto", "default", "test"...). */
int ar_devices_video_present(const char *device);
int ar_devices_alsa_present(const char *device, const char *proc_asound);

G_END_DECLS
