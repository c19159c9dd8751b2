/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision-apply.c: a provisioning file at first start (ar-provision.h).
 * Runs before anything reads the state dir: the files it writes are the ones
 * the admin server and the saved settings load next.
 */
#include "ar-provision-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-api-config.h"
#include "ar-web-audit.h"
#include "ar-web-priv.h"

#define RECORD_FILE "provisioned.json"
#define SETUP_CODE_FILE "setup-code.sha256"
#define PENDING_FILE "provision-pending" /* files are being moved into place */
#define MAX_KEYRING (1024 * 1024)

gboolean
ar_provision_set_error(GError **error, ArProvisionError code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, AR_PROVISION_ERROR, code, msg);
  return FALSE;
}

gboolean
ar_provision_read_bounded(const char *path, gsize max, char **data, gsize *len, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return ar_provision_set_error(error, AR_PROVISION_ERROR_IO, "%s: %s", path, g_strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (guint64)st.st_size > max) {
    close(fd);
    return ar_provision_set_error(error, AR_PROVISION_ERROR_INVALID,
                                  "%s: must be a file of 1 to %" G_GSIZE_FORMAT " bytes", path,
                                  max);
  }
  char *buf = g_malloc((gsize)st.st_size + 1);
  gsize done = 0;
  while (done < (gsize)st.st_size) {
    ssize_t n = read(fd, buf + done, (gsize)st.st_size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += (gsize)n;
  }
  close(fd);
  if (done != (gsize)st.st_size) {
    g_free(buf);
    return ar_provision_set_error(error, AR_PROVISION_ERROR_IO, "%s: short read", path);
  }
  buf[done] = '\0';
  *data = buf;
  *len = done;
  return TRUE;
}

ArChannelKeyring *
ar_provision_load_keyrings(const char *const *paths, GError **error)
{
  g_autoptr(GString) pem = g_string_new(NULL);
  g_autoptr(GStrvBuilder) tried = g_strv_builder_new();
  for (gsize i = 0; paths && paths[i]; i++) {
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_strv_builder_add(tried, paths[i]);
    if (!ar_provision_read_bounded(paths[i], MAX_KEYRING, &data, &len, &local))
      continue; /* missing (the data partition's is optional) */
    g_string_append_len(pem, data, (gssize)len);
    g_string_append_c(pem, '\n');
  }
  g_auto(GStrv) names = g_strv_builder_end(tried);
  g_autofree char *list = g_strjoinv(", ", names);
  g_autoptr(GError) local = NULL;
  ArChannelKeyring *k = pem->len ? ar_channel_keyring_new(pem->str, pem->len, &local) : NULL;
  if (!k)
    ar_provision_set_error(error, AR_PROVISION_ERROR_KEYRING,
                           "no keyring to check it against (%s): %s", list,
                           local ? local->message : "none of them can be read");
  return k;
}

ArChannelKeyring *
ar_provision_start_keyring(const ArProvisionStart *start, GError **error)
{
  const char *const *keyrings = start->keyrings;
  const char *update_keyring[] = {start->config->update_keyring, NULL};
  if (!keyrings)
    keyrings = start->config->provision_keyrings
                   ? (const char *const *)start->config->provision_keyrings
                   : update_keyring;
  return ar_provision_load_keyrings(keyrings, error);
}

/* ---- the audit entry ---- */

void
ar_provision_audit(const char *state_dir, const char *event, const char *source, gboolean trusted,
                   const char *detail)
{
  g_autoptr(ArAuditLog) log = ar_audit_log_new(state_dir, AR_WEB_AUDIT_MAX_BYTES);
  g_autofree char *now = ar_audit_now_text();
  g_autofree char *line = ar_audit_format_line(now, event, source, "provisioning", detail);
  (void)ar_audit_log_append(log, trusted ? AR_AUDIT_AUTHENTICATED : AR_AUDIT_UNAUTHENTICATED, line);
}

/* ---- what the room holds already ---- */

static gboolean
state_exists(const char *state_dir, const char *name)
{
  g_autofree char *path = g_build_filename(state_dir, name, NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS);
}

static JsonObject *load_record(const char *state_dir);

static gboolean
provisioned_before(JsonObject *record, GError **error)
{
  return ar_provision_set_error(
      error, AR_PROVISION_ERROR_APPLIED,
      "this room was provisioned before (serial %" G_GINT64_FORMAT
      "): a room takes one provisioning file; factory reset it to take another",
      json_object_get_int_member_with_default(record, "serial", 0));
}

gboolean
ar_provision_room_is_new(const char *state_dir, GError **error)
{
  g_autoptr(JsonObject) record = load_record(state_dir);
  if (record)
    return provisioned_before(record, error);
  if (!state_exists(state_dir, PENDING_FILE) &&
      (state_exists(state_dir, "admin-password") || state_exists(state_dir, "tokens.json") ||
       state_exists(state_dir, "settings.conf")))
    return ar_provision_set_error(
        error, AR_PROVISION_ERROR_APPLIED,
        "this room was set up by hand (admin password, tokens or settings): a "
        "provisioning file applies to a new or factory-reset room");
  return TRUE;
}

/* The record of an earlier provisioning: its digest, serial and time. */
static JsonObject *
load_record(const char *state_dir)
{
  g_autofree char *path = g_build_filename(state_dir, RECORD_FILE, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!ar_provision_read_bounded(path, 4096, &data, &len, &local))
    return NULL;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
    return json_object_new(); /* damaged: still "provisioned" */
  return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

/* ---- staging ---- */

static gboolean
stage(const char *dir, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  return ar_web_write_private_file(path, text, strlen(text), error);
}

static gboolean
stage_tokens(const char *dir, const ArProvision *p, gint64 now, GError **error)
{
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < p->tokens->len; i++) {
    const ArProvisionToken *pt = p->tokens->pdata[i];
    ArWebToken *t = g_new0(ArWebToken, 1);
    t->name = pt->name; /* borrowed: freed with @p */
    t->hash = pt->sha256;
    t->created = now;
    t->scopes = pt->scopes;
    g_ptr_array_add(tokens, t);
  }
  g_autofree char *path = g_build_filename(dir, "tokens.json", NULL);
  return ar_web_write_tokens(path, tokens, error);
}

/* The record: the signed file's digest (the same file found again at the
 * next start is "already applied", quietly), the JSON's, the serial. */
static char *
record_text(const ArProvision *p, const char *source, const char *file_digest, gint64 now)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "file-sha256");
  json_builder_add_string_value(b, file_digest);
  json_builder_set_member_name(b, "sha256");
  json_builder_add_string_value(b, p->digest);
  json_builder_set_member_name(b, "serial");
  json_builder_add_int_value(b, p->serial);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, source);
  json_builder_set_member_name(b, "applied");
  json_builder_add_int_value(b, now);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  g_autofree char *text = json_to_string(n, TRUE);
  return g_strconcat(text, "\n", NULL);
}

/* Removes @dir and the files in it (a staging folder: flat). */
static void
remove_staging(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(dir);
}

/* Everything checked, then written to a staging folder in @state_dir, then
 * renamed into place (the record last: a start cut short applies again). */
static gboolean
apply(const ArProvision *p, const ArProvisionStart *start, const char *source,
      const char *file_digest, GString *detail, GError **error)
{
  g_autoptr(GError) local = NULL;
  gint64 now = start->now ? start->now : g_get_real_time() / G_USEC_PER_SEC;
  if (!ar_provision_check_settings(p, start->config, error))
    return FALSE;
  if (!ar_web_private_dir(start->state_dir, &local))
    return ar_provision_set_error(error, AR_PROVISION_ERROR_IO, "%s", local->message);
  g_autofree char *staging = g_build_filename(start->state_dir, ".provision-XXXXXX", NULL);
  if (!g_mkdtemp_full(staging, 0700))
    return ar_provision_set_error(error, AR_PROVISION_ERROR_IO, "cannot create a folder in %s: %s",
                                  start->state_dir, g_strerror(errno));
  gboolean ok = TRUE;
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();
  if (p->settings) {
    g_autoptr(ArConfig) scratch = NULL;
    if (start->config && start->config->source) {
      gsize len = 0;
      g_autofree char *data = g_key_file_to_data(start->config->source, &len, NULL);
      scratch = ar_config_load_data(data, len, "config", &local);
    } else {
      scratch = ar_config_new_default();
    }
    g_auto(GStrv) changed = NULL;
    ok = scratch && ar_api_config_patch(scratch, staging, p->settings, &changed, NULL, &local);
    if (ok) {
      g_autofree char *list = g_strjoinv(", ", changed);
      g_string_append_printf(detail, "; settings %s", list);
      g_strv_builder_add(names, "settings.conf");
    }
  }
  if (ok && p->password_hash) {
    g_autofree char *line = g_strconcat(p->password_hash, "\n", NULL);
    ok = stage(staging, "admin-password", line, &local);
    g_strv_builder_add(names, "admin-password");
    g_string_append(detail, "; admin password");
  }
  if (ok && p->setup_code_sha256) {
    g_autofree char *line = g_strconcat(p->setup_code_sha256, "\n", NULL);
    ok = stage(staging, SETUP_CODE_FILE, line, &local);
    g_strv_builder_add(names, SETUP_CODE_FILE);
    g_string_append(detail, "; a one-time setup code");
  }
  if (ok && p->tokens->len > 0) {
    ok = stage_tokens(staging, p, now, &local);
    g_strv_builder_add(names, "tokens.json");
    g_string_append_printf(detail, "; %u API token%s", p->tokens->len,
                           p->tokens->len == 1 ? "" : "s");
  }
  for (int i = 0; ok && i < AR_PROVISION_CA_N; i++) {
    if (!p->ca[i])
      continue;
    ok = stage(staging, ar_provision_ca_file(i), p->ca[i], &local);
    g_strv_builder_add(names, ar_provision_ca_file(i));
    g_string_append_printf(detail, "; CA %s", ar_provision_ca_name(i));
  }
  if (ok) {
    g_autofree char *record = record_text(p, source, file_digest, now);
    ok = stage(staging, RECORD_FILE, record, &local);
    g_strv_builder_add(names, RECORD_FILE);
  }
  g_auto(GStrv) files = g_strv_builder_end(names);
  /* A start cut short while the files move (a power cut, a kill) finds this
   * marker without the record: it applies the file again over what moved. */
  g_autofree char *pending = g_build_filename(start->state_dir, PENDING_FILE, NULL);
  if (ok)
    ok = ar_web_write_private_file(pending, file_digest, strlen(file_digest), &local);
  for (gsize i = 0; ok && files[i]; i++) {
    g_autofree char *from = g_build_filename(staging, files[i], NULL);
    g_autofree char *to = g_build_filename(start->state_dir, files[i], NULL);
    if (g_rename(from, to) != 0) {
      int e = errno;
      /* Take back what moved already: the room stays as it was. */
      for (gsize k = 0; k < i; k++) {
        g_autofree char *moved = g_build_filename(start->state_dir, files[k], NULL);
        g_unlink(moved);
      }
      g_set_error(&local, G_IO_ERROR, g_io_error_from_errno(e), "cannot move %s into %s: %s",
                  files[i], start->state_dir, g_strerror(e));
      ok = FALSE;
    }
  }
  remove_staging(staging);
  g_unlink(pending);
  if (!ok)
    return ar_provision_set_error(
        error,
        g_error_matches(local, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_INVALID)
            ? AR_PROVISION_ERROR_INVALID
            : AR_PROVISION_ERROR_IO,
        "%s", local ? local->message : "cannot be applied");
  return TRUE;
}

ArProvisionOutcome
ar_provision_at_start(const ArProvisionStart *start, GError **error)
{
  g_autoptr(GError) err = NULL;
  const char *const *sources =
      start->sources ? start->sources : (const char *const *)start->config->provision_sources;
  g_autofree char *source = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  for (gsize i = 0; sources && sources[i] && !source; i++) {
    gboolean dhcp = g_str_equal(sources[i], "dhcp");
    g_autofree char *path = dhcp ? g_build_filename(start->state_dir, AR_PROVISION_DHCP_FILE, NULL)
                                 : g_strdup(sources[i]);
    if (!g_file_test(path, G_FILE_TEST_EXISTS) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
      continue;
    /* "dhcp": the file a DHCP URL gave before this start (ar-provision-dhcp.c), named by it. */
    source = dhcp ? ar_provision_dhcp_cached_source(start->state_dir) : g_strdup(path);
    (void)ar_provision_read_bounded(path, AR_PROVISION_MAX_FILE, &data, &len, &local);
  }
  if (!source)
    return AR_PROVISION_NONE;
  ArProvisionOutcome outcome = AR_PROVISION_REFUSED;
  g_autofree char *digest = NULL;
  g_autoptr(JsonObject) record = load_record(start->state_dir);
  if (local) {
    /* Present but unreadable or too large. */
    err = g_steal_pointer(&local);
  } else if (record) {
    digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
    const char *was = json_object_get_string_member_with_default(record, "file-sha256", "");
    if (g_str_equal(was, digest))
      return AR_PROVISION_ALREADY;
    provisioned_before(record, &err);
  } else if (!ar_provision_room_is_new(start->state_dir, &err)) {
    /* set up by hand: @err says so */
  } else {
    g_autoptr(ArChannelKeyring) keyring = ar_provision_start_keyring(start, &err);
    gint64 now = start->now ? start->now : g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(ArProvision) p =
        keyring ? ar_provision_load((const guint8 *)data, len, keyring, start->board_id,
                                    start->machine_id, now, &err)
                : NULL;
    g_autoptr(GString) detail = g_string_new(NULL);
    digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
    if (p && apply(p, start, source, digest, detail, &err)) {
      g_autofree char *text = g_strdup_printf("serial %" G_GINT64_FORMAT ", sha256 %.16s%s",
                                              p->serial, p->digest, detail->str);
      ar_provision_audit(start->state_dir, "provisioned", source, TRUE, text);
      g_message("provision: applied %s (%s)", source, text);
      outcome = AR_PROVISION_APPLIED;
    }
  }
  if (outcome == AR_PROVISION_REFUSED) {
    const char *why = err ? err->message : "refused";
    if (ar_web_private_dir(start->state_dir, NULL))
      ar_provision_audit(start->state_dir, "provision_refused", source, FALSE, why);
    g_message("provision: %s refused: %s", source, why);
    g_propagate_error(error, g_steal_pointer(&err));
  }
  return outcome;
}

char *
ar_provision_machine_id(void)
{
  const char *path = g_getenv("ANYROOM_TEST_MACHINE_ID_FILE"); /* tests only, as the channel's */
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ar_provision_read_bounded(path ? path : "/etc/machine-id", 64, &data, &len, NULL))
    return NULL;
  return g_strdup(g_strstrip(data));
}

void
ar_provision_use_cas(ArConfig *config, const char *state_dir)
{
  char **fields[AR_PROVISION_CA_N] = {
      [AR_PROVISION_CA_CALENDAR] = &config->calendar_ca,
      [AR_PROVISION_CA_UPDATE_CHANNEL] = &config->update_channel_ca,
      [AR_PROVISION_CA_UPDATE_DOWNLOAD] = &config->update_download_ca,
      [AR_PROVISION_CA_TURN] = &config->turn_tls_ca,
      [AR_PROVISION_CA_LOGS] = &config->logs_remote_ca,
  };
  for (int i = 0; i < AR_PROVISION_CA_N; i++) {
    if (*fields[i] && **fields[i])
      continue; /* the config file's own wins */
    g_autofree char *path = g_build_filename(state_dir, ar_provision_ca_file(i), NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
      g_free(*fields[i]);
      *fields[i] = g_steal_pointer(&path);
    }
  }
}
