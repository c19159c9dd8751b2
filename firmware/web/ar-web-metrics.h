/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-metrics.h: GET /metrics in the Prometheus text exposition format
 * 0.0.4 (docs/fleet.md "Monitoring with Prometheus"). Pure: it writes what
 * it is given (the status object the status endpoint already builds, the
 * join counters, uptime and RSS) and reads nothing itself. Unit tested in
 * tests/unit/web/test-web-metrics.c; tests/fuzz/fuzz-metrics.c feeds it any
 * JSON.
 *
 * Label values come only from bounded sets (call states, engines, provider
 * ids of the built-in table, track kind and direction, device kinds, join
 * outcomes, update phases, calendar source kinds, positions); anything else
 * is "other". Never a meeting id, a link, a name or a server address.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AR_WEB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The answer never grows past this (it is far smaller: the caps below bound it). */
#define AR_WEB_METRICS_MAX_BYTES (128 * 1024)
/* Tracks reported per kind and direction (anyroom_call_tracks counts them all). */
#define AR_WEB_METRICS_MAX_TRACKS 8
/* Calendar sources reported. */
#define AR_WEB_METRICS_MAX_SOURCES 8

typedef struct {
  /* The status object (docs/cli.md, ar_api_hub_status), borrowed; NULL or a
   * non-object: none of its families. */
  JsonNode *status;
  /* Joins by outcome (ar-call.h ArJoinOutcome order, @n_joins of them,
   * named by @join_names), and calls that failed after connecting. */
  const guint64 *joins;
  const char *const *join_names;
  gsize n_joins;
  guint64 calls_dropped;
  double uptime_s;  /* < 0: unknown (left out) */
  gint64 rss_bytes; /* < 0: unknown (left out) */
  /* Web call bridge paths that did not stop in time and are still stopping
   * (ar_bridge_stopping_paths()). */
  guint bridge_stuck_paths;
  /* The provider ids a label may name (NULL-terminated); others: "other". */
  const char *const *providers;
} ArWebMetricsInput;

/* The exposition text (UTF-8, '\n' line ends), at most
 * AR_WEB_METRICS_MAX_BYTES; its length in @len. */
char *ar_web_metrics_render(const ArWebMetricsInput *in, gsize *len);

/* Appends @value escaped as a label value (backslash, double quote and
 * line feed escaped; invalid UTF-8 replaced). */
void ar_web_metrics_escape(GString *out, const char *value);

/* @value if it is in @allowed (NULL-terminated), else "other"; NULL: "none". */
const char *ar_web_metrics_bounded(const char *value, const char *const *allowed);

/* A version string fit for a label: [A-Za-z0-9.+~_:-], 1 to 64 bytes; else "other". */
const char *ar_web_metrics_version(const char *version);

G_END_DECLS
