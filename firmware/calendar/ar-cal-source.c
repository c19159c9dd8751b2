/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-cal-source.c: iCalendar feeds and CalDAV calendars over HTTPS (ar-cal-source.h). */
#include "ar-cal-source.h"

struct _ArCalSource {
  ArCalSourceKind kind;
  char *display;
};

ArCalSource *
ar_cal_source_new(const ArCalSourceSettings *settings, GError **error)
{
  g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH, "calendar sources are not fetched yet");
  return NULL;
}

void
ar_cal_source_free(ArCalSource *source)
{
  if (!source)
    return;
  g_free(source->display);
  g_free(source);
}

const char *
ar_cal_source_display(const ArCalSource *source)
{
  return source->display;
}

void
ar_cal_source_fetch_async(ArCalSource *source, gint64 from, gint64 to, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_return_new_error(task, AR_CAL_ERROR, AR_CAL_ERROR_FETCH, "not fetched yet");
}

GPtrArray *
ar_cal_source_fetch_finish(ArCalSource *source, GAsyncResult *result, gboolean *not_modified,
                           GError **error)
{
  if (not_modified)
    *not_modified = FALSE;
  return g_task_propagate_pointer(G_TASK(result), error);
}
