/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-update-priv.h: the update module's insides. */
#pragma once

#include "ar-update.h"

G_BEGIN_DECLS

/* ---- https download of a bundle (ar-update-download.c) ---- */

typedef struct _ArDownload ArDownload;
typedef void (*ArDownloadProgressFunc)(guint64 got, guint64 total, gpointer data);
/* @error NULL: @dest holds the whole body. */
typedef void (*ArDownloadDoneFunc)(const GError *error, gpointer data);

/* Downloads @url (checked with ar_update_check_url) into @dest (created,
 * 0600, must not exist), at most @max bytes, TLS verified against @ca_file or
 * the system store, redirects to https:// only. */
ArDownload *ar_download_start(const char *url, const char *dest, guint64 max, const char *ca_file,
                              ArDownloadProgressFunc progress, ArDownloadDoneFunc done,
                              gpointer data, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Cancels (no callback afterwards) and frees. */
void ar_download_free(ArDownload *dl);

/* ---- RAUC's answers (ar-update.c) ---- */

/* GetSlotStatus's a(sa{sv}) as the status's "slots" array: at most 16 slots,
 * known keys only, strings made valid UTF-8 and cut at 1 KiB. *@booted_version
 * (if not NULL) gets the booted slot's bundle.version, when there is one. */
JsonNode *ar_update_slots_to_json(GVariant *array, char **booted_version);

G_END_DECLS
