/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cal-source.h: where the room's calendar comes from (docs/calendar.md): an iCalendar feed
 * (HTTPS GET, conditional with ETag / If-Modified-Since) or a CalDAV calendar (RFC 4791: a
 * PROPFIND of the collection's getctag / sync-token, then a REPORT calendar-query for the
 * window when it changed). HTTPS only, with the system's CA store or a configured CA file;
 * every answer is bounded in size and time. libsoup 3, asynchronous, on the caller's main
 * context.
 */
#pragma once

#include <gio/gio.h>

#include "ar-cal.h"

G_BEGIN_DECLS

typedef enum {
  AR_CAL_SOURCE_FEED,
  AR_CAL_SOURCE_CALDAV,
} ArCalSourceKind;

typedef struct {
  ArCalSourceKind kind;
  const char *url;     /* https:// only */
  const char *user;    /* Basic auth user (CalDAV, or a feed behind a password), or NULL */
  const char *secret;  /* password, or a bearer token when user is NULL; never logged */
  const char *ca_file; /* PEM CA file; NULL = the system's store */
  gsize max_bytes;     /* one answer [8 MiB]; 0 = default */
  guint timeout_s;     /* the whole fetch [60]; 0 = default */
} ArCalSourceSettings;

typedef struct _ArCalSource ArCalSource;

/* Checks the settings (https://, the CA file readable). */
ArCalSource *ar_cal_source_new(const ArCalSourceSettings *settings,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_cal_source_free(ArCalSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCalSource, ar_cal_source_free)

/* For status and logs: "https://HOST[:PORT]" (never the path: a feed's path is its secret). */
const char *ar_cal_source_display(const ArCalSource *source);

/* Fetches what changed. The window [@from, @to) (UTC seconds) is used by CalDAV's
 * calendar-query; a changed window fetches again even if the collection did not change. */
void ar_cal_source_fetch_async(ArCalSource *source, gint64 from, gint64 to,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* A GPtrArray of GBytes (one iCalendar text each: the feed, or each CalDAV object), or NULL
 * with *@not_modified = TRUE when nothing changed since the last success, or NULL and @error
 * (AR_CAL_ERROR_FETCH, _AUTH, _TLS, _TOO_BIG; the message is for people and names no
 * secret). */
GPtrArray *ar_cal_source_fetch_finish(ArCalSource *source, GAsyncResult *result,
                                      gboolean *not_modified,
                                      GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
