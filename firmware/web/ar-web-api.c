/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-api.c: the scripting API's groups served over HTTPS: status, meetings,
 * commands (join, leave, the calendar's) and configuration (docs/api.md). */
#include "ar-web-priv.h"

#include <math.h>
#include <unistd.h>

#include "ar-bridge.h"
#include "ar-self.h"
#include "ar-web-metrics.h"

static void
handle_status(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autoptr(JsonNode) status = ar_api_hub_status(s->hub);
  ar_api_respond_json(msg, SOUP_STATUS_OK, status);
}

static void
handle_join(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  /* Parsed here once for the limits; the hub parses the same bytes. */
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  /* The link is not logged: meeting links carry passcodes. */
  ar_web_audit(s, msg, caller, "join", NULL);
  ar_api_hub_join(s->hub, msg, AR_WEB_MAX_BODY);
}

static void
handle_leave(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_web_audit(s, msg, caller, "leave", NULL);
  ar_api_hub_leave(s->hub, msg);
}

/* The configuration group (ar-api-config.h), shared with the local socket. */
static void
handle_config(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_auto(GStrv) changed = ar_api_hub_config(s->hub, msg, AR_WEB_MAX_BODY);
  if (changed) {
    g_autofree char *list = g_strjoinv(", ", changed);
    g_autofree char *detail = g_strconcat("changed ", list, NULL);
    ar_web_audit(s, msg, caller, "config", detail);
  }
}

static void
handle_meetings(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_api_hub_meetings(s->hub, msg);
}

/* cancel-auto-join (the room screen and panels), calendar-refresh (an administrator). */
static void
handle_calendar_command(ArWebServer *s, SoupServerMessage *msg, const char *path,
                        const ArWebCaller *caller)
{
  const char *name = ar_api_hub_command_name(path);
  ar_web_audit(s, msg, caller, name, NULL);
  ar_api_hub_command(s->hub, msg, name, AR_WEB_MAX_BODY);
}

/* anyroomd's uptime and RSS from /proc (-1 where unreadable). */
static void
process_figures(double *uptime_s, gint64 *rss_bytes)
{
  *uptime_s = -1;
  g_autofree char *stat = NULL, *up = NULL;
  long ticks = sysconf(_SC_CLK_TCK);
  if (g_file_get_contents("/proc/self/stat", &stat, NULL, NULL) &&
      g_file_get_contents("/proc/uptime", &up, NULL, NULL) && ticks > 0) {
    /* After "(comm) ": field 22 (starttime) is the 20th. */
    const char *p = strrchr(stat, ')');
    g_auto(GStrv) f = p ? g_strsplit(p + 2, " ", 24) : NULL;
    if (f && g_strv_length(f) >= 20) {
      double since_boot = g_ascii_strtod(up, NULL);
      double start = g_ascii_strtod(f[19], NULL) / (double)ticks;
      if (since_boot >= start)
        *uptime_s = round((since_boot - start) * 100) / 100; /* the clock ticks in 10 ms */
    }
  }
  *rss_bytes = ar_self_rss_bytes();
}

/* GET /metrics (Prometheus): from the same status object as GET status. */
static void
handle_metrics(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autoptr(JsonNode) status = ar_api_hub_status(s->hub);
  guint64 joins[AR_JOIN_N_OUTCOMES];
  const char *names[AR_JOIN_N_OUTCOMES];
  guint64 dropped = 0;
  ar_call_manager_get_join_counts(ar_api_hub_get_calls(s->hub), joins, &dropped);
  for (guint i = 0; i < AR_JOIN_N_OUTCOMES; i++)
    names[i] = ar_join_outcome_to_string(i);
  ArWebMetricsInput in = {
      .status = status,
      .joins = joins,
      .join_names = names,
      .n_joins = AR_JOIN_N_OUTCOMES,
      .calls_dropped = dropped,
      .providers = ar_link_provider_ids(),
      .bridge_stuck_paths = ar_bridge_stopping_paths(),
  };
  process_figures(&in.uptime_s, &in.rss_bytes);
  gsize len = 0;
  char *text = ar_web_metrics_render(&in, &len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, AR_WEB_METRICS_CONTENT_TYPE, SOUP_MEMORY_TAKE, text, len);
}

void
ar_web_api_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/status", "GET", AR_WEB_AUTH_DEVICE, handle_status, AR_WEB_SCOPE_STATUS},
      {"/api/v1/commands/join", "POST", AR_WEB_AUTH_DEVICE, handle_join, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/leave", "POST", AR_WEB_AUTH_DEVICE, handle_leave, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/meetings", "GET", AR_WEB_AUTH_DEVICE, handle_meetings, AR_WEB_SCOPE_STATUS},
      {"/api/v1/commands/cancel-auto-join", "POST", AR_WEB_AUTH_DEVICE, handle_calendar_command,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/calendar-refresh", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN,
       handle_calendar_command, AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/config", "GET PATCH", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_config,
       AR_WEB_SCOPE_CONFIGURATION},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
  /* Prometheus: a token with the metrics scope, or an admin session. Off
   * ([admin] metrics=false): no route, so 404 like any unknown path. */
  static const ArWebRoute metrics[] = {
      {"/metrics", "GET", AR_WEB_AUTH_SESSION, handle_metrics, AR_WEB_SCOPE_METRICS},
  };
  if (s->config->admin_metrics)
    ar_web_server_add_routes(s, metrics, G_N_ELEMENTS(metrics));
}
