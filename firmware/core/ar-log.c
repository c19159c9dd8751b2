/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-log.h"

#include "ar-log-remote.h"

#include <string.h>

#define MAX_SECRETS 16

static GMutex lock; /* log lines come from any thread */
static char *ring[AR_LOG_RING_LINES];
static guint ring_next, ring_count;
static char *secrets[MAX_SECRETS];
static guint secrets_next;

static GRegex *
patterns(void)
{
  static gsize once = 0;
  static GRegex *re = NULL;
  if (g_once_init_enter(&once)) {
    /* turn://user:pass@, turns://..., an API token, password=/"password":. */
    re = g_regex_new("((?:turns?|stuns?)://[^:@/\\s]*:)[^@\\s]*@"
                     "|(art_)[0-9a-fA-F]{16,}"
                     "|((?:password|passwd|secret|credential)\"?\\s*[=:]\\s*\"?)[^\\s\",;&]+",
                     G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
    g_once_init_leave(&once, 1);
  }
  return re;
}

static gboolean
redact_cb(const GMatchInfo *info, GString *out, gpointer data)
{
  g_autofree char *turn = g_match_info_fetch(info, 1);
  g_autofree char *tok = g_match_info_fetch(info, 2);
  g_autofree char *pw = g_match_info_fetch(info, 3);
  if (turn && *turn)
    g_string_append_printf(out, "%s***@", turn);
  else if (tok && *tok)
    g_string_append(out, "art_***");
  else
    g_string_append_printf(out, "%s***", pw ? pw : "");
  return FALSE;
}

/* Call with the lock held. */
static char *
redact_locked(const char *line)
{
  g_autofree char *a = g_regex_replace_eval(patterns(), line, -1, 0, 0, redact_cb, NULL, NULL);
  GString *s = g_string_new(a ? a : line);
  for (guint i = 0; i < MAX_SECRETS; i++)
    if (secrets[i])
      g_string_replace(s, secrets[i], "***", 0);
  return g_string_free(s, FALSE);
}

char *
ar_log_redact(const char *line)
{
  g_mutex_lock(&lock);
  char *r = redact_locked(line);
  g_mutex_unlock(&lock);
  return r;
}

void
ar_log_ring_add_secret(const char *secret)
{
  if (!secret || strlen(secret) < 6)
    return;
  g_mutex_lock(&lock);
  for (guint i = 0; i < MAX_SECRETS; i++)
    if (secrets[i] && g_str_equal(secrets[i], secret)) {
      g_mutex_unlock(&lock);
      return;
    }
  g_free(secrets[secrets_next]);
  secrets[secrets_next] = g_strdup(secret);
  secrets_next = (secrets_next + 1) % MAX_SECRETS;
  g_mutex_unlock(&lock);
}

static const char *
level_name(GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

/* Call without the lock. */
static char *
one_line(const char *text)
{
  g_autofree char *line = g_strdup(text);
  /* One line each, bounded, valid UTF-8. */
  g_strdelimit(line, "\r\n", ' ');
  if (strlen(line) > AR_LOG_LINE_MAX) {
    const char *end = line + AR_LOG_LINE_MAX;
    g_utf8_validate(line, AR_LOG_LINE_MAX, &end);
    line[end - line] = '\0';
  }
  return g_utf8_make_valid(line, -1);
}

char *
ar_log_clean(const char *text)
{
  g_autofree char *valid = one_line(text);
  return ar_log_redact(valid);
}

void
ar_log_ring_append(GLogLevelFlags level, const char *domain, const char *message)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_autofree char *line =
      g_strdup_printf("%s %s %s%s%s", when ? when : "", level_name(level), domain ? domain : "",
                      domain ? ": " : "", message ? message : "");
  g_autofree char *valid = one_line(line);
  g_mutex_lock(&lock);
  char *clean = redact_locked(valid);
  g_free(ring[ring_next]);
  ring[ring_next] = clean;
  ring_next = (ring_next + 1) % AR_LOG_RING_LINES;
  ring_count = MIN(ring_count + 1, AR_LOG_RING_LINES);
  g_mutex_unlock(&lock);
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *domain = NULL, *message = NULL;
  gboolean local = FALSE;
  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0)
      domain = fields[i].value;
    else if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0)
      message = fields[i].value;
    else if (g_str_equal(fields[i].key, AR_LOG_LOCAL_FIELD))
      local = TRUE;
  }
  /* Debug lines only when debug output is on (as the default writer). */
  if (!(level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) || g_log_get_debug_enabled())
    ar_log_ring_append(level, domain, message);
  /* Off the box ([logs] remote), redacted; never the forwarder's own lines. */
  if (!local)
    ar_log_remote_submit(level, domain, message);
  return g_log_writer_default(level, fields, n_fields, data);
}

void
ar_log_ring_install(void)
{
  g_log_set_writer_func(writer, NULL, NULL);
}

GStrv
ar_log_ring_lines(guint max)
{
  g_mutex_lock(&lock);
  guint n = MIN(max, ring_count);
  GStrv out = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    guint idx = (ring_next + AR_LOG_RING_LINES - n + i) % AR_LOG_RING_LINES;
    out[i] = g_strdup(ring[idx]);
  }
  g_mutex_unlock(&lock);
  return out;
}

void
ar_log_ring_clear(void)
{
  g_mutex_lock(&lock);
  for (guint i = 0; i < AR_LOG_RING_LINES; i++)
    g_clear_pointer(&ring[i], g_free);
  ring_next = ring_count = 0;
  g_mutex_unlock(&lock);
}
