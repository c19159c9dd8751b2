/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision-dhcp.c: a provisioning file from a URL given by DHCP
 * (ar-provision.h; docs/fleet.md "Provisioning a hundred rooms"; the choices
 * in docs/decisions.md "Provisioning from DHCP").
 *
 * A new room's anyroomd watches systemd-networkd's lease folder (inotify, and
 * a look every RESCAN_S); the network may come long after the start. When a
 * lease carries option 224, the URL is fetched over https with the update
 * module's bounded download (ar-update-download.c) under a deadline, then
 * checked as a start checks it (signature, board, machine, settings). A good
 * file goes to the state dir and the owner restarts anyroomd, whose next
 * start applies it as the "dhcp" source (ar-provision-apply.c): provisioning
 * only ever runs before anything reads the state dir. Failures back off
 * (BACKOFF_MIN_S doubling to BACKOFF_MAX_S, +-10 %) with one line each; a new
 * URL in the lease is tried at once.
 */
#include "ar-provision-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ar-update-priv.h"
#include "ar-web-priv.h"

#define DEADLINE_S 30     /* one fetch, from the request to the last byte */
#define BACKOFF_MIN_S 10  /* the first retry after a failure */
#define BACKOFF_MAX_S 600 /* at most between tries */
#define RESCAN_S 30       /* a look at the leases without a change event */
#define SETTLE_MS 500     /* after a change event: networkd writes, then renames */
#define MAX_LEASES 64     /* lease files looked at */
#define PART_FILE ".provision-dhcp.part"

struct _ArProvisionDhcp {
  char *state_dir, *board_id, *machine_id, *ca_file, *leases_dir;
  GStrv keyrings;
  ArConfig *config; /* borrowed */
  ArProvisionDhcpReady ready;
  gpointer data;
  guint deadline_s, backoff_min_s, backoff_max_s;

  GFileMonitor *monitor;
  guint settle, rescan, retry, deadline;
  ArDownload *dl;
  char *url;      /* fetched now, or last */
  char *source;   /* its name: dhcp:https://HOST/ */
  gboolean due;   /* the retry's time came */
  guint failures; /* in a row, for this URL */
  char *reported; /* the option's last refusal (logged and audited once) */
  char *audited;  /* the last file refusal audited */
  char taken[65]; /* SHA-256 of the file the start took (and refused), or "" */
  gboolean stopped;
};

static void check(ArProvisionDhcp *p);

char *
ar_provision_dhcp_cached_source(const char *state_dir)
{
  g_autofree char *path = g_build_filename(state_dir, AR_PROVISION_DHCP_SOURCE_FILE, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ar_provision_read_bounded(path, 512, &data, &len, NULL))
    return g_strdup("dhcp");
  g_strchomp(data);
  for (const char *c = data; *c; c++)
    if ((guchar)*c <= ' ' || (guchar)*c >= 0x7f)
      return g_strdup("dhcp");
  return g_str_has_prefix(data, "dhcp:") ? g_steal_pointer(&data) : g_strdup("dhcp");
}

static char *
state_path(ArProvisionDhcp *p, const char *name)
{
  return g_build_filename(p->state_dir, name, NULL);
}

/* ---- the leases ---- */

static gint
compare_ifindex(gconstpointer a, gconstpointer b)
{
  guint64 x = g_ascii_strtoull(*(char *const *)a, NULL, 10);
  guint64 y = g_ascii_strtoull(*(char *const *)b, NULL, 10);
  return x < y ? -1 : x > y;
}

/* The first https URL in a lease (links in ifindex order); *@url NULL: none.
 * FALSE: no good one, and a lease's option was refused (@error). */
static gboolean
find_url(const char *dir, char **url, GError **error)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL && names->len < MAX_LEASES) {
    gboolean digits = *name != '\0' && strlen(name) <= 10;
    for (const char *c = name; digits && *c; c++)
      digits = g_ascii_isdigit(*c);
    if (digits) /* networkd's IFINDEX files; not its temporary ones */
      g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, compare_ifindex);
  g_autoptr(GError) first_error = NULL;
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!ar_provision_read_bounded(path, AR_PROVISION_MAX_LEASE, &data, &len, &local))
      continue; /* gone meanwhile, or not a lease */
    g_autofree char *found = NULL;
    if (!ar_provision_lease_url(data, len, &found, &local)) {
      if (!first_error)
        first_error = g_steal_pointer(&local);
      continue;
    }
    if (found) {
      *url = g_steal_pointer(&found);
      return TRUE;
    }
  }
  if (first_error) {
    g_propagate_error(error, g_steal_pointer(&first_error));
    return FALSE;
  }
  *url = NULL;
  return TRUE;
}

/* ---- life ---- */

static void
stop(ArProvisionDhcp *p)
{
  p->stopped = TRUE;
  if (p->monitor) {
    g_signal_handlers_disconnect_by_data(p->monitor, p);
    g_file_monitor_cancel(p->monitor);
    g_clear_object(&p->monitor);
  }
  g_clear_handle_id(&p->settle, g_source_remove);
  g_clear_handle_id(&p->rescan, g_source_remove);
  g_clear_handle_id(&p->retry, g_source_remove);
  g_clear_handle_id(&p->deadline, g_source_remove);
  g_clear_pointer(&p->dl, ar_download_free);
  g_autofree char *part = state_path(p, PART_FILE);
  g_unlink(part);
}

static gboolean
retry_now(gpointer data)
{
  ArProvisionDhcp *p = data;
  p->retry = 0;
  p->due = TRUE;
  check(p);
  return G_SOURCE_REMOVE;
}

/* A refusal in the audit log unless it is the one in *@last (kept there): the same refusal at
 * each look or retry is not repeated. TRUE if it is new. */
static gboolean
audit_once(ArProvisionDhcp *p, char **last, const char *source, const char *why)
{
  if (g_strcmp0(*last, why) == 0)
    return FALSE;
  g_free(*last);
  *last = g_strdup(why);
  if (ar_web_private_dir(p->state_dir, NULL))
    ar_provision_audit(p->state_dir, "provision_refused", source, FALSE, why);
  return TRUE;
}

/* One line for each failure; a refusal of what the server gave (its file) is
 * audited too, once until it changes (not at each retry). */
static void
failed(ArProvisionDhcp *p, const char *why, gboolean refusal)
{
  g_autofree char *part = state_path(p, PART_FILE);
  g_unlink(part);
  p->failures = MIN(p->failures + 1, 1000);
  guint delay =
      ar_update_jitter(ar_channel_poll_delay(p->backoff_max_s, p->backoff_min_s, p->failures));
  g_warning("provision: %s: %s (try %u; again in %u s; the room stays as it is)", p->source, why,
            p->failures, delay);
  if (refusal)
    audit_once(p, &p->audited, p->source, why);
  g_clear_handle_id(&p->retry, g_source_remove);
  p->retry = g_timeout_add_seconds(delay, retry_now, p);
}

/* The whole file is in PART_FILE: the start's checks, then hand it over. */
static void
take(ArProvisionDhcp *p)
{
  g_autofree char *part = state_path(p, PART_FILE);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!ar_provision_read_bounded(part, AR_PROVISION_MAX_FILE, &data, &len, &error)) {
    failed(p, error->message, FALSE);
    return;
  }
  g_autofree char *digest =
      g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
  if (g_str_equal(digest, p->taken)) {
    failed(p, "the server gives the file this start refused (the audit log says why)", FALSE);
    return;
  }
  if (!ar_provision_room_is_new(p->state_dir, &error)) {
    g_message("provision: %s: not taken: %s", p->source, error->message);
    stop(p);
    return;
  }
  ArProvisionStart start = {
      .state_dir = p->state_dir, .config = p->config, .keyrings = (const char *const *)p->keyrings};
  g_autoptr(ArChannelKeyring) keyring = ar_provision_start_keyring(&start, &error);
  g_autoptr(ArProvision) prov =
      keyring ? ar_provision_load((const guint8 *)data, len, keyring, p->board_id, p->machine_id,
                                  g_get_real_time() / G_USEC_PER_SEC, &error)
              : NULL;
  if (!prov || !ar_provision_check_settings(prov, p->config, &error)) {
    failed(p, error->message, TRUE);
    return;
  }
  g_autofree char *dest = state_path(p, AR_PROVISION_DHCP_FILE);
  g_autofree char *source_file = state_path(p, AR_PROVISION_DHCP_SOURCE_FILE);
  g_autofree char *line = g_strconcat(p->source, "\n", NULL);
  if (!ar_web_write_private_file(source_file, line, strlen(line), &error) ||
      g_rename(part, dest) != 0) {
    g_autofree char *why = error ? g_strdup(error->message)
                                 : g_strdup_printf("cannot move the file into %s: %s", p->state_dir,
                                                   g_strerror(errno));
    failed(p, why, FALSE);
    return;
  }
  g_message("provision: %s: a good provisioning file (serial %" G_GINT64_FORMAT
            ", sha256 %.16s): anyroomd restarts to apply it",
            p->source, prov->serial, prov->digest);
  g_autofree char *source = g_strdup(p->source);
  stop(p);
  p->ready(source, p->data);
}

static void
fetched(const GError *error, gpointer data)
{
  ArProvisionDhcp *p = data;
  g_clear_handle_id(&p->deadline, g_source_remove);
  g_clear_pointer(&p->dl, ar_download_free);
  if (g_error_matches(error, AR_UPDATE_ERROR, AR_UPDATE_ERROR_TOO_LARGE)) {
    g_autofree char *why =
        g_strdup_printf("the file is larger than %d KiB", AR_PROVISION_MAX_FILE / 1024);
    failed(p, why, TRUE);
  } else if (error) {
    failed(p, error->message, FALSE);
  } else {
    take(p);
  }
}

static gboolean
fetch_deadline(gpointer data)
{
  ArProvisionDhcp *p = data;
  p->deadline = 0;
  g_clear_pointer(&p->dl, ar_download_free);
  g_autofree char *why = g_strdup_printf("no whole answer within %u s", p->deadline_s);
  failed(p, why, FALSE);
  return G_SOURCE_REMOVE;
}

static void
fetch(ArProvisionDhcp *p, const char *url)
{
  g_autoptr(GError) error = NULL;
  g_clear_handle_id(&p->retry, g_source_remove);
  p->due = FALSE;
  if (!ar_web_private_dir(p->state_dir, &error)) {
    failed(p, error->message, FALSE);
    return;
  }
  g_autofree char *part = state_path(p, PART_FILE);
  g_unlink(part); /* a leftover */
  const char *ca = p->ca_file && g_file_test(p->ca_file, G_FILE_TEST_EXISTS) ? p->ca_file : NULL;
  g_debug("provision: %s: fetching (TLS checked against %s)", p->source,
          ca ? ca : "the system's CAs");
  p->dl = ar_download_start(url, part, AR_PROVISION_MAX_FILE, ca, NULL, fetched, p, &error);
  if (!p->dl) {
    failed(p, error->message, FALSE);
    return;
  }
  p->deadline = g_timeout_add_seconds(p->deadline_s, fetch_deadline, p);
}

static void
check(ArProvisionDhcp *p)
{
  if (p->stopped || p->dl)
    return;
  g_autoptr(GError) error = NULL;
  if (!ar_provision_room_is_new(p->state_dir, &error)) {
    g_message("provision: no longer watching DHCP: %s", error->message);
    stop(p);
    return;
  }
  g_autofree char *url = NULL;
  if (!find_url(p->leases_dir, &url, &error)) {
    /* The option is there but refused: once until it changes. */
    if (audit_once(p, &p->reported, "dhcp", error->message))
      g_warning("provision: dhcp: %s (the room stays as it is)", error->message);
    return;
  }
  g_clear_pointer(&p->reported, g_free);
  if (!url)
    return; /* no lease, or no option 224 in it: wait */
  if (g_strcmp0(url, p->url) != 0) {
    /* A new URL (or the first): at once, from no failures. */
    g_free(p->url);
    p->url = g_strdup(url);
    g_free(p->source);
    p->source = ar_provision_dhcp_source(url);
    p->failures = 0;
    g_message("provision: DHCP option 224 gives %s", p->source);
    fetch(p, url);
  } else if (p->due) {
    fetch(p, url);
  }
}

static gboolean
settled(gpointer data)
{
  ArProvisionDhcp *p = data;
  p->settle = 0;
  check(p);
  return G_SOURCE_REMOVE;
}

static gboolean
rescan(gpointer data)
{
  check(data);
  return G_SOURCE_CONTINUE;
}

static void
leases_changed(GFileMonitor *m, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
  ArProvisionDhcp *p = data;
  if (!p->settle)
    p->settle = g_timeout_add(SETTLE_MS, settled, p);
}

ArProvisionDhcp *
ar_provision_dhcp_new(const ArProvisionStart *start, const char *leases_dir, const char *ca_file,
                      ArProvisionDhcpReady ready, gpointer data)
{
  const char *const *sources =
      start->sources ? start->sources : (const char *const *)start->config->provision_sources;
  gboolean wanted = FALSE;
  for (gsize i = 0; sources && sources[i] && !wanted; i++) {
    if (g_str_equal(sources[i], "dhcp"))
      wanted = TRUE;
    else if (g_file_test(sources[i], G_FILE_TEST_EXISTS))
      return NULL; /* a file before it: that one is the room's (first present wins) */
  }
  if (!wanted)
    return NULL;
  /* The file fetched before this start was taken by it (applied or refused): gone now;
   * a refused one is not fetched into a restart again. */
  g_autofree char *cached = g_build_filename(start->state_dir, AR_PROVISION_DHCP_FILE, NULL);
  g_autofree char *cached_source =
      g_build_filename(start->state_dir, AR_PROVISION_DHCP_SOURCE_FILE, NULL);
  g_autofree char *cached_data = NULL;
  gsize cached_len = 0;
  g_autofree char *taken = NULL;
  if (ar_provision_read_bounded(cached, AR_PROVISION_MAX_FILE, &cached_data, &cached_len, NULL))
    taken = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)cached_data, cached_len);
  g_unlink(cached);
  g_unlink(cached_source);
  if (!ar_provision_room_is_new(start->state_dir, NULL))
    return NULL;

  ArProvisionDhcp *p = g_new0(ArProvisionDhcp, 1);
  p->state_dir = g_strdup(start->state_dir);
  p->board_id = g_strdup(start->board_id);
  p->machine_id = g_strdup(start->machine_id);
  p->keyrings = g_strdupv((char **)start->keyrings);
  p->config = start->config;
  p->ca_file = g_strdup(ca_file);
  /* Tests only: a lease folder of their own networkd's. */
  const char *test_leases = g_getenv("ANYROOM_TEST_DHCP_LEASES");
  p->leases_dir = g_strdup(leases_dir    ? leases_dir
                           : test_leases ? test_leases
                                         : AR_PROVISION_DHCP_LEASES);
  p->ready = ready;
  p->data = data;
  if (taken)
    g_strlcpy(p->taken, taken, sizeof p->taken);
  p->deadline_s = DEADLINE_S;
  p->backoff_min_s = BACKOFF_MIN_S;
  p->backoff_max_s = BACKOFF_MAX_S;
  /* Tests only: a short deadline and a retry every N s. */
  const char *test_s = g_getenv("ANYROOM_TEST_DHCP_SECONDS");
  guint64 s = 0;
  if (test_s && g_ascii_string_to_unsigned(test_s, 10, 1, 3600, &s, NULL))
    p->deadline_s = p->backoff_min_s = p->backoff_max_s = (guint)s;

  g_autoptr(GFile) dir = g_file_new_for_path(p->leases_dir);
  g_autoptr(GError) error = NULL;
  p->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_NONE, NULL, &error);
  if (p->monitor)
    g_signal_connect(p->monitor, "changed", G_CALLBACK(leases_changed), p);
  else
    g_debug("provision: no change events for %s (%s): looking every %d s", p->leases_dir,
            error->message, RESCAN_S);
  p->rescan = g_timeout_add_seconds(RESCAN_S, rescan, p);
  p->settle = g_timeout_add(0, settled, p);
  g_message("provision: no provisioning file yet: watching the DHCP leases (%s) for option 224",
            p->leases_dir);
  return p;
}

void
ar_provision_dhcp_free(ArProvisionDhcp *p)
{
  if (!p)
    return;
  stop(p);
  g_free(p->state_dir);
  g_free(p->board_id);
  g_free(p->machine_id);
  g_free(p->ca_file);
  g_free(p->leases_dir);
  g_strfreev(p->keyrings);
  g_free(p->url);
  g_free(p->source);
  g_free(p->reported);
  g_free(p->audited);
  g_free(p);
}
