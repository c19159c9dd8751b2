/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the meeting browser's CDP pipe (firmware/browser/ar-cdp.c).
 * The input is the byte stream Chromium writes on its fd 4 (messages ended
 * by NUL bytes), fed to a CDP connection without a process that has a few
 * commands waiting (ids 1-4, with and without a session) and event handlers,
 * in two reads split where the first byte says. */
#include <stdint.h>

#include "ar-cdp-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_reply(ArCdp *cdp, JsonObject *result, const GError *error, gpointer user_data)
{
  if (result != NULL)
    (void)json_object_get_size(result);
  if (error != NULL)
    (void)error->message[0];
}

static void
on_event(ArCdp *cdp, const char *session_id, JsonObject *params, gpointer user_data)
{
  (void)json_object_get_size(params);
  /* a handler may send a command while being dispatched */
  ar_cdp_call(cdp, session_id, "Runtime.runIfWaitingForDebugger", NULL, 0, on_reply, NULL);
}

static void
on_closed(ArCdp *cdp, const GError *error, gpointer user_data)
{
  if (error != NULL)
    (void)error->message[0];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(ArCdp) cdp = ar_cdp_new_detached(on_closed, NULL);
  ar_cdp_on(cdp, "Target.attachedToTarget", on_event, NULL);
  ar_cdp_on(cdp, "Fetch.requestPaused", on_event, NULL);
  ar_cdp_on(cdp, "Page.loadEventFired", on_event, NULL);
  ar_cdp_call(cdp, NULL, "Browser.getVersion", NULL, 0, on_reply, NULL);
  ar_cdp_call(cdp, "S1", "Runtime.evaluate", NULL, 0, on_reply, NULL);
  ar_cdp_call(cdp, "S2", "Page.navigate", NULL, 0, on_reply, NULL);
  guint cancelled = ar_cdp_call(cdp, NULL, "Page.captureScreenshot", NULL, 0, on_reply, NULL);
  ar_cdp_cancel(cdp, cancelled);
  size_t split = size > 0 ? data[0] % (size + 1) : 0;
  if (ar_cdp_feed(cdp, data, split))
    (void)ar_cdp_feed(cdp, data + split, size - split);
  ar_cdp_close(cdp);
  /* refusals of commands sent after the close come from the main loop */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  return 0;
}
