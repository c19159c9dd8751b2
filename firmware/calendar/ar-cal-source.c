/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-cal-source.c: iCalendar feeds and CalDAV calendars over HTTPS (ar-cal-source.h,
 * docs/calendar.md "Where the calendar comes from").
 *
 * One fetch is one GTask on the caller's thread-default main context: a feed is one GET; a
 * CalDAV calendar is a PROPFIND (getctag, sync-token) and, when it or the window changed, a
 * REPORT calendar-query. Every answer is read with a byte cap, the whole fetch has a deadline,
 * redirects are followed by hand (https only, at most 3, credentials only to the configured
 * origin). Error messages never hold the secret, the Authorization value, or the URL's path and
 * query (a published feed's path is its password): they are scrubbed before they leave.
 */
#include "ar-cal-source.h"

#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((gsize)8 * 1024 * 1024)
#define DEFAULT_TIMEOUT_S 60
#define MAX_TIMEOUT_S 3600
#define MAX_REDIRECTS 3
#define MAX_OBJECTS 20000
#define MAX_URL 4096
#define MAX_TAG 1024 /* an ETag, Last-Modified, ctag or sync-token we keep and send back */
#define READ_CHUNK 65536

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_CS "http://calendarserver.org/ns/"

struct _ArCalSource {
  gint refs; /* the owner's, and one per fetch in flight */
  ArCalSourceKind kind;
  GUri *uri;
  char *display;
  char *url;        /* as configured: scrubbed from messages */
  char *path_query; /* the same */
  char *secret;     /* never logged; zeroed at free */
  char *auth;       /* the Authorization value, or NULL; never logged; zeroed at free */
  gsize max_bytes;
  guint timeout_s;
  SoupSession *soup;
  GCancellable *running; /* the fetch in flight, or NULL: one at a time */
  /* The last success. */
  gboolean have_last;
  char *etag, *last_modified; /* feed */
  char *body_sum;             /* feed: SHA-256 of the last body */
  char *ctag, *sync_token;    /* CalDAV */
  gint64 from, to;            /* CalDAV: the window */
};

typedef enum { STEP_GET, STEP_PROPFIND, STEP_REPORT } Step;

/* One fetch (a GTask's data). */
typedef struct {
  ArCalSource *source; /* a reference */
  gint64 from, to;
  Step step;
  GUri *uri;        /* this request's URL (redirects change it) */
  gboolean foreign; /* redirected to another origin: no credentials */
  guint redirects;
  SoupMessage *msg;
  GInputStream *in;
  GByteArray *buf;
  GCancellable *cancel; /* ours: the caller's cancellable and the deadline cancel it */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  gboolean timed_out;
  gboolean tls_refused;
  GTlsCertificateFlags tls_errors;
  char *ctag, *sync_token; /* the PROPFIND's answer */
} Fetch;

static void
source_unref(ArCalSource *s)
{
  if (s == NULL || --s->refs > 0)
    return;
  g_clear_object(&s->soup);
  g_clear_pointer(&s->uri, g_uri_unref);
  g_free(s->display);
  g_free(s->url);
  g_free(s->path_query);
  if (s->secret != NULL)
    memset(s->secret, 0, strlen(s->secret));
  g_free(s->secret);
  if (s->auth != NULL)
    memset(s->auth, 0, strlen(s->auth));
  g_free(s->auth);
  g_free(s->etag);
  g_free(s->last_modified);
  g_free(s->body_sum);
  g_free(s->ctag);
  g_free(s->sync_token);
  g_free(s);
}

static void
fetch_free(Fetch *f)
{
  if (f->deadline != NULL) {
    g_source_destroy(f->deadline);
    g_source_unref(f->deadline);
  }
  if (f->caller != NULL)
    g_cancellable_disconnect(f->caller, f->caller_handler);
  g_clear_object(&f->caller);
  if (f->in != NULL)
    g_input_stream_close(f->in, NULL, NULL);
  g_clear_object(&f->in);
  g_clear_object(&f->msg);
  g_clear_object(&f->cancel);
  g_clear_pointer(&f->uri, g_uri_unref);
  g_clear_pointer(&f->buf, g_byte_array_unref);
  g_free(f->ctag);
  g_free(f->sync_token);
  g_clear_pointer(&f->source, source_unref);
  g_free(f);
}

/* @text without the source's secrets: the password or token, the Authorization value, the
 * URL's path and query (a feed's secret) and the URL itself. */
static char *
scrub(const ArCalSource *s, const char *text)
{
  GString *out = g_string_new(text != NULL ? text : "");
  const char *needles[] = {s->auth, s->secret, s->url, s->path_query};

  for (guint i = 0; i < G_N_ELEMENTS(needles); i++) {
    if (needles[i] != NULL && strlen(needles[i]) >= 2)
      g_string_replace(out, needles[i], "[hidden]", 0);
  }
  return g_string_free(out, FALSE);
}

static gboolean
has_control(const char *s)
{
  for (; s != NULL && *s != '\0'; s++) {
    if ((guchar)*s < 0x20 || *s == 0x7f)
      return TRUE;
  }
  return FALSE;
}

ArCalSource *
ar_cal_source_new(const ArCalSourceSettings *settings, GError **error)
{
  if (settings == NULL || settings->url == NULL || settings->url[0] == '\0') {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH, "the calendar has no URL");
    return NULL;
  }
  if (settings->kind != AR_CAL_SOURCE_FEED && settings->kind != AR_CAL_SOURCE_CALDAV) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                        "the calendar is neither a feed nor a CalDAV calendar");
    return NULL;
  }
  g_autoptr(GUri) uri = NULL;
  if (strlen(settings->url) <= MAX_URL && !has_control(settings->url))
    uri = g_uri_parse(settings->url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_scheme(uri) == NULL || g_uri_get_host(uri) == NULL ||
      g_uri_get_host(uri)[0] == '\0') {
    /* The URL itself is not repeated: a feed's URL is its secret. */
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                "the calendar URL is not a URL (https://host/path, at most %d characters)",
                MAX_URL);
    return NULL;
  }
  if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0) {
    g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                "the calendar URL must start with https:// (not %s://): the calendar and its "
                "credentials would otherwise travel unencrypted",
                g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") == 0 ? "http" : "another");
    return NULL;
  }
  if (g_uri_get_userinfo(uri) != NULL) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                        "the calendar URL must not hold a user name or password: set them as "
                        "the calendar's user and password");
    return NULL;
  }
  if (settings->user != NULL && (settings->user[0] == '\0' || strchr(settings->user, ':') != NULL ||
                                 has_control(settings->user))) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH,
                        "the calendar's user name is empty or holds ':' or control characters");
    return NULL;
  }
  if (settings->user != NULL && (settings->secret == NULL || settings->secret[0] == '\0')) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH,
                        "the calendar has a user name but no password");
    return NULL;
  }
  if (settings->secret != NULL && has_control(settings->secret)) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH,
                        "the calendar's password or token holds control characters");
    return NULL;
  }

  g_autoptr(GTlsDatabase) db = NULL;
  if (settings->ca_file != NULL) {
    g_autoptr(GError) e = NULL;
    db = g_tls_file_database_new(settings->ca_file, &e);
    if (db == NULL) {
      g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TLS,
                  "the calendar's CA file cannot be used: %s", e->message);
      return NULL;
    }
  }

  xmlInitParser();
  ArCalSource *s = g_new0(ArCalSource, 1);
  s->refs = 1;
  s->kind = settings->kind;
  s->url = g_strdup(settings->url);
  s->uri = g_steal_pointer(&uri);
  const char *host = g_uri_get_host(s->uri);
  gint port = g_uri_get_port(s->uri);
  gboolean v6 = strchr(host, ':') != NULL;
  if (port > 0 && port != 443)
    s->display = g_strdup_printf("https://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
  else
    s->display = g_strdup_printf("https://%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
  const char *query = g_uri_get_query(s->uri);
  s->path_query = g_strdup_printf("%s%s%s", g_uri_get_path(s->uri), query != NULL ? "?" : "",
                                  query != NULL ? query : "");
  s->secret = g_strdup(settings->secret);
  if (settings->user != NULL) {
    g_autofree char *pair = g_strdup_printf("%s:%s", settings->user, settings->secret);
    g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
    s->auth = g_strdup_printf("Basic %s", b64);
    memset(pair, 0, strlen(pair));
    memset(b64, 0, strlen(b64));
  } else if (settings->secret != NULL && settings->secret[0] != '\0') {
    s->auth = g_strdup_printf("Bearer %s", settings->secret);
  }
  s->max_bytes = settings->max_bytes ? settings->max_bytes : DEFAULT_MAX_BYTES;
  s->max_bytes = MIN(s->max_bytes, (gsize)INT_MAX - 1); /* libxml2 takes an int */
  s->timeout_s = settings->timeout_s ? MIN(settings->timeout_s, MAX_TIMEOUT_S) : DEFAULT_TIMEOUT_S;
  /* No cookie jar (none by default); no auth manager: the Authorization header is ours and
   * a 401 is an answer, not a prompt. */
  s->soup = soup_session_new_with_options("timeout", s->timeout_s, "idle-timeout", s->timeout_s,
                                          "user-agent", "Anyroom", "max-conns-per-host", 2, NULL);
  soup_session_remove_feature_by_type(s->soup, SOUP_TYPE_AUTH_MANAGER);
  if (db != NULL)
    soup_session_set_tls_database(s->soup, db);
  return s;
}

void
ar_cal_source_free(ArCalSource *source)
{
  if (source == NULL)
    return;
  /* A fetch in flight ends (cancelled) and drops its reference then. */
  if (source->running != NULL)
    g_cancellable_cancel(source->running);
  source_unref(source);
}

const char *
ar_cal_source_display(const ArCalSource *source)
{
  return source->display;
}

static const char *
describe_tls(GTlsCertificateFlags flags)
{
  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return "it is not signed by a trusted authority (set the calendar's CA file, or add the "
           "authority to the system's store)";
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return "it is for another host name";
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    return "it has expired";
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return "it is not valid yet (is the room's clock right?)";
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    return "it has been revoked";
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    return "it uses an insecure algorithm";
  return "it was refused";
}

/* Ends the fetch: the source takes the next one at once (even from the callback). */
static void
finish_task(GTask *task)
{
  Fetch *f = g_task_get_task_data(task);
  if (f->source->running == f->cancel)
    f->source->running = NULL;
}

static void
fail(GTask *task, GError *error)
{
  Fetch *f = g_task_get_task_data(task);
  ArCalSource *s = f->source;
  GError *out = NULL;

  if (f->timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    out =
        g_error_new(AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                    "the calendar server %s did not answer within %u s", s->display, s->timeout_s);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    out = g_error_copy(error);
  } else if (f->tls_refused || g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
    g_autofree char *m = scrub(s, error->message);
    out = g_error_new(AR_CAL_ERROR, AR_CAL_ERROR_TLS,
                      "the calendar server's certificate is not trusted: %s",
                      f->tls_refused ? describe_tls(f->tls_errors) : m);
  } else if (error->domain == G_TLS_ERROR) {
    g_autofree char *m = scrub(s, error->message);
    out = g_error_new(AR_CAL_ERROR, AR_CAL_ERROR_TLS,
                      "the TLS handshake with the calendar server %s failed: %s", s->display, m);
  } else if (error->domain == AR_CAL_ERROR) {
    g_autofree char *m = scrub(s, error->message);
    out = g_error_new_literal(AR_CAL_ERROR, error->code, m);
  } else {
    g_autofree char *m = scrub(s, error->message);
    out = g_error_new(AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                      "the calendar server %s could not be reached: %s", s->display, m);
  }
  g_error_free(error);
  finish_task(task);
  g_task_return_error(task, out);
  g_object_unref(task);
}

static void fail_new(GTask *task, ArCalError code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void
fail_new(GTask *task, ArCalError code, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  GError *e = g_error_new_valist(AR_CAL_ERROR, code, format, args);
  va_end(args);
  fail(task, e);
}

static void
return_result(GTask *task, GPtrArray *objects)
{
  finish_task(task);
  g_task_return_pointer(task, objects, objects != NULL ? (GDestroyNotify)g_ptr_array_unref : NULL);
  g_object_unref(task);
}

static char *
keep_tag(const char *value)
{
  return value != NULL && value[0] != '\0' && strlen(value) <= MAX_TAG && !has_control(value)
             ? g_strdup(value)
             : NULL;
}

/* ---- the XML of a 207 Multi-Status ---- */

static gboolean
is_el(const xmlNode *n, const char *ns, const char *name)
{
  return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
         strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *
child_el(const xmlNode *n, const char *ns, const char *name)
{
  for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL; c = c->next) {
    if (is_el(c, ns, name))
      return c;
  }
  return NULL;
}

/* The element's own text and CDATA (entity references are not followed). */
static GString *
text_of(const xmlNode *n)
{
  GString *t = g_string_new(NULL);
  for (xmlNode *c = n->children; c != NULL; c = c->next) {
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
      g_string_append(t, (const char *)c->content);
  }
  return t;
}

static char *
trimmed_text(const xmlNode *n)
{
  GString *t = text_of(n);
  g_strstrip(t->str);
  char *r = keep_tag(t->str);
  g_string_free(t, TRUE);
  return r;
}

/* A propstat's <status>HTTP/1.1 200 OK</status>: 2xx, or no status at all. */
static gboolean
propstat_ok(const xmlNode *propstat)
{
  xmlNode *st = child_el(propstat, NS_DAV, "status");
  if (st == NULL)
    return TRUE;
  GString *t = text_of(st);
  const char *sp = strchr(t->str, ' ');
  guint64 code = sp != NULL ? g_ascii_strtoull(sp + 1, NULL, 10) : 0;
  g_string_free(t, TRUE);
  return code >= 200 && code <= 299;
}

static xmlDoc *
parse_multistatus(GByteArray *buf, GError **error)
{
  /* No entity expansion (no XML_PARSE_NOENT), no DTD loading, no network, default limits
   * (no XML_PARSE_HUGE); a document that declares a DTD at all is refused. */
  xmlDoc *doc = xmlReadMemory((const char *)buf->data, (int)buf->len, NULL, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL) {
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                        "the calendar server's answer is not XML");
    return NULL;
  }
  if (doc->intSubset != NULL || doc->extSubset != NULL) {
    xmlFreeDoc(doc);
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                        "the calendar server's answer declares a DTD (refused)");
    return NULL;
  }
  if (!is_el(xmlDocGetRootElement(doc), NS_DAV, "multistatus")) {
    xmlFreeDoc(doc);
    g_set_error_literal(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH,
                        "the calendar server's answer is not a WebDAV multistatus");
    return NULL;
  }
  return doc;
}

/* PROPFIND: the collection's CS:getctag and DAV:sync-token (either may be absent). */
static gboolean
parse_propfind(Fetch *f, GError **error)
{
  xmlDoc *doc = parse_multistatus(f->buf, error);
  if (doc == NULL)
    return FALSE;
  for (xmlNode *r = xmlDocGetRootElement(doc)->children; r != NULL; r = r->next) {
    if (!is_el(r, NS_DAV, "response"))
      continue;
    for (xmlNode *ps = r->children; ps != NULL; ps = ps->next) {
      if (!is_el(ps, NS_DAV, "propstat") || !propstat_ok(ps))
        continue;
      xmlNode *prop = child_el(ps, NS_DAV, "prop");
      xmlNode *ctag = child_el(prop, NS_CS, "getctag");
      xmlNode *sync = child_el(prop, NS_DAV, "sync-token");
      if (ctag != NULL && f->ctag == NULL)
        f->ctag = trimmed_text(ctag);
      if (sync != NULL && f->sync_token == NULL)
        f->sync_token = trimmed_text(sync);
    }
    break; /* Depth: 0: the collection's own response comes first */
  }
  xmlFreeDoc(doc);
  return TRUE;
}

/* REPORT calendar-query: each response's C:calendar-data, one GBytes each. */
static GPtrArray *
parse_report(Fetch *f, GError **error)
{
  xmlDoc *doc = parse_multistatus(f->buf, error);
  if (doc == NULL)
    return NULL;
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  for (xmlNode *r = xmlDocGetRootElement(doc)->children; r != NULL; r = r->next) {
    if (!is_el(r, NS_DAV, "response"))
      continue;
    for (xmlNode *ps = r->children; ps != NULL; ps = ps->next) {
      if (!is_el(ps, NS_DAV, "propstat") || !propstat_ok(ps))
        continue;
      xmlNode *data = child_el(child_el(ps, NS_DAV, "prop"), NS_CALDAV, "calendar-data");
      if (data == NULL)
        continue;
      GString *t = text_of(data);
      const char *p = t->str;
      while (g_ascii_isspace(*p))
        p++;
      if (*p == '\0') {
        g_string_free(t, TRUE);
        continue;
      }
      if (objects->len >= MAX_OBJECTS) {
        g_string_free(t, TRUE);
        xmlFreeDoc(doc);
        g_set_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG,
                    "the calendar has more than %d events in the window", MAX_OBJECTS);
        return NULL;
      }
      gsize len = t->len;
      g_ptr_array_add(objects, g_bytes_new_take(g_string_free(t, FALSE), len));
    }
  }
  xmlFreeDoc(doc);
  return g_steal_pointer(&objects);
}

/* ---- requests ---- */

static char *
utc_stamp(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return dt != NULL && g_date_time_get_year(dt) >= 1000 ? g_date_time_format(dt, "%Y%m%dT%H%M%SZ")
                                                        : NULL;
}

static gboolean
on_accept_certificate(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                      gpointer data)
{
  Fetch *f = data;
  f->tls_refused = TRUE;
  f->tls_errors = errors;
  return FALSE;
}

static void sent_cb(GObject *source, GAsyncResult *res, gpointer data);

static void
send_req(GTask *task)
{
  Fetch *f = g_task_get_task_data(task);
  ArCalSource *s = f->source;
  const char *method = f->step == STEP_GET        ? SOUP_METHOD_GET
                       : f->step == STEP_PROPFIND ? "PROPFIND"
                                                  : "REPORT";

  g_clear_object(&f->msg);
  f->msg = soup_message_new_from_uri(method, f->uri);
  soup_message_add_flags(f->msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect(f->msg, "accept-certificate", G_CALLBACK(on_accept_certificate), f);
  SoupMessageHeaders *h = soup_message_get_request_headers(f->msg);
  if (s->auth != NULL && !f->foreign)
    soup_message_headers_replace(h, "Authorization", s->auth);
  switch (f->step) {
  case STEP_GET:
    soup_message_headers_replace(h, "Accept", "text/calendar, */*;q=0.1");
    if (s->have_last && s->etag != NULL)
      soup_message_headers_replace(h, "If-None-Match", s->etag);
    if (s->have_last && s->last_modified != NULL)
      soup_message_headers_replace(h, "If-Modified-Since", s->last_modified);
    break;
  case STEP_PROPFIND: {
    static const char body[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                               "<d:propfind xmlns:d=\"DAV:\" xmlns:cs=\"" NS_CS "\">"
                               "<d:prop><cs:getctag/><d:sync-token/></d:prop></d:propfind>\n";
    g_autoptr(GBytes) b = g_bytes_new_static(body, sizeof body - 1);
    soup_message_headers_replace(h, "Depth", "0");
    soup_message_set_request_body_from_bytes(f->msg, "application/xml; charset=utf-8", b);
    break;
  }
  case STEP_REPORT: {
    g_autofree char *start = utc_stamp(f->from);
    g_autofree char *end = utc_stamp(f->to);
    g_autofree char *body = g_strdup_printf(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"" NS_CALDAV "\">"
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        "<c:filter><c:comp-filter name=\"VCALENDAR\"><c:comp-filter name=\"VEVENT\">"
        "<c:time-range start=\"%s\" end=\"%s\"/>"
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>\n",
        start, end);
    gsize len = strlen(body);
    g_autoptr(GBytes) b = g_bytes_new_take(g_steal_pointer(&body), len);
    soup_message_headers_replace(h, "Depth", "1");
    soup_message_set_request_body_from_bytes(f->msg, "application/xml; charset=utf-8", b);
    break;
  }
  }
  soup_session_send_async(s->soup, f->msg, G_PRIORITY_DEFAULT, f->cancel, sent_cb, task);
}

static void
close_in(Fetch *f)
{
  if (f->in != NULL)
    g_input_stream_close(f->in, NULL, NULL);
  g_clear_object(&f->in);
}

static gboolean
looks_like_icalendar(const guint8 *d, gsize n)
{
  gsize i = 0;
  if (n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
    i = 3;
  while (i < n && g_ascii_isspace(d[i]))
    i++;
  return n - i >= 15 && g_ascii_strncasecmp((const char *)d + i, "BEGIN:VCALENDAR", 15) == 0;
}

/* The Content-Type for a message: printable ASCII, short. */
static char *
content_type_for_people(SoupMessage *msg)
{
  const char *ct =
      soup_message_headers_get_one(soup_message_get_response_headers(msg), "Content-Type");
  if (ct == NULL)
    return g_strdup("none");
  GString *out = g_string_new(NULL);
  for (const char *p = ct; *p != '\0' && out->len < 64; p++)
    g_string_append_c(out, g_ascii_isprint(*p) ? *p : '?');
  return g_string_free(out, FALSE);
}

/* The body is complete (f->buf). */
static void
body_done(GTask *task)
{
  Fetch *f = g_task_get_task_data(task);
  ArCalSource *s = f->source;
  GError *error = NULL;

  switch (f->step) {
  case STEP_GET: {
    if (!looks_like_icalendar(f->buf->data, f->buf->len)) {
      g_autofree char *ct = content_type_for_people(f->msg);
      fail_new(task, AR_CAL_ERROR_PARSE,
               "the feed is not an iCalendar file (Content-Type %s; it does not begin with "
               "BEGIN:VCALENDAR)",
               ct);
      return;
    }
    SoupMessageHeaders *h = soup_message_get_response_headers(f->msg);
    g_autofree char *sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, f->buf->data, f->buf->len);
    gboolean same = s->have_last && g_strcmp0(sum, s->body_sum) == 0;
    g_free(s->etag);
    s->etag = keep_tag(soup_message_headers_get_one(h, "ETag"));
    g_free(s->last_modified);
    s->last_modified = keep_tag(soup_message_headers_get_one(h, "Last-Modified"));
    g_free(s->body_sum);
    s->body_sum = g_steal_pointer(&sum);
    s->have_last = TRUE;
    if (same) {
      /* A server without conditional requests sent the same text again. */
      return_result(task, NULL);
      return;
    }
    GPtrArray *objects = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_ptr_array_add(objects, g_byte_array_free_to_bytes(g_steal_pointer(&f->buf)));
    return_result(task, objects);
    return;
  }
  case STEP_PROPFIND:
    if (!parse_propfind(f, &error)) {
      fail(task, error);
      return;
    }
    if (s->have_last && s->from == f->from && s->to == f->to &&
        (f->ctag != NULL || f->sync_token != NULL) && g_strcmp0(f->ctag, s->ctag) == 0 &&
        g_strcmp0(f->sync_token, s->sync_token) == 0) {
      return_result(task, NULL);
      return;
    }
    g_clear_pointer(&f->buf, g_byte_array_unref);
    f->step = STEP_REPORT;
    g_clear_pointer(&f->uri, g_uri_unref);
    f->uri = g_uri_ref(s->uri);
    f->foreign = FALSE;
    f->redirects = 0;
    send_req(task);
    return;
  case STEP_REPORT: {
    GPtrArray *objects = parse_report(f, &error);
    if (objects == NULL) {
      fail(task, error);
      return;
    }
    /* The tags read before the REPORT: a change in between is seen at the next fetch. */
    g_free(s->ctag);
    s->ctag = g_steal_pointer(&f->ctag);
    g_free(s->sync_token);
    s->sync_token = g_steal_pointer(&f->sync_token);
    s->from = f->from;
    s->to = f->to;
    s->have_last = TRUE;
    return_result(task, objects);
    return;
  }
  }
}

/* "8 MiB", "1500000 bytes": plain ASCII (g_format_size puts a no-break space). */
static char *
size_for_people(gsize n)
{
  if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
    return g_strdup_printf("%" G_GSIZE_FORMAT " MiB", n / (1024 * 1024));
  return g_strdup_printf("%" G_GSIZE_FORMAT " bytes", n);
}

static void
read_cb(GObject *stream, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  Fetch *f = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish(G_INPUT_STREAM(stream), res, &error);

  if (chunk == NULL) {
    fail(task, error);
    return;
  }
  gsize n = g_bytes_get_size(chunk);
  if (n == 0) {
    close_in(f);
    body_done(task);
    return;
  }
  if (n > f->source->max_bytes - f->buf->len) {
    g_autofree char *max = size_for_people(f->source->max_bytes);
    fail_new(task, AR_CAL_ERROR_TOO_BIG, "the calendar server's answer is larger than %s", max);
    return;
  }
  g_byte_array_append(f->buf, g_bytes_get_data(chunk, NULL), n);
  g_input_stream_read_bytes_async(f->in, READ_CHUNK, G_PRIORITY_DEFAULT, f->cancel, read_cb, task);
}

static gboolean
same_origin(GUri *a, GUri *b)
{
  return g_ascii_strcasecmp(g_uri_get_scheme(a), g_uri_get_scheme(b)) == 0 &&
         g_ascii_strcasecmp(g_uri_get_host(a), g_uri_get_host(b)) == 0 &&
         g_uri_get_port(a) == g_uri_get_port(b);
}

static void
follow_redirect(GTask *task)
{
  Fetch *f = g_task_get_task_data(task);
  ArCalSource *s = f->source;
  const char *loc =
      soup_message_headers_get_one(soup_message_get_response_headers(f->msg), "Location");
  guint status = soup_message_get_status(f->msg);

  close_in(f);
  if (++f->redirects > MAX_REDIRECTS) {
    fail_new(task, AR_CAL_ERROR_FETCH, "the calendar server %s redirected more than %d times",
             s->display, MAX_REDIRECTS);
    return;
  }
  g_autoptr(GUri) to = NULL;
  if (loc != NULL && strlen(loc) <= MAX_URL && !has_control(loc))
    to = g_uri_parse_relative(f->uri, loc, G_URI_FLAGS_ENCODED, NULL);
  if (to == NULL || g_uri_get_host(to) == NULL || g_uri_get_host(to)[0] == '\0' ||
      g_uri_get_userinfo(to) != NULL) {
    fail_new(task, AR_CAL_ERROR_FETCH,
             "the calendar server %s redirected (HTTP %u) to something that is not a URL",
             s->display, status);
    return;
  }
  if (g_ascii_strcasecmp(g_uri_get_scheme(to), "https") != 0) {
    fail_new(task, AR_CAL_ERROR_FETCH,
             "the calendar server %s redirected (HTTP %u) away from https (refused)", s->display,
             status);
    return;
  }
  if (!same_origin(to, s->uri))
    f->foreign = TRUE; /* the credentials stay with the configured server */
  g_clear_pointer(&f->uri, g_uri_unref);
  f->uri = g_steal_pointer(&to);
  send_req(task);
}

static void
sent_cb(GObject *session, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  Fetch *f = g_task_get_task_data(task);
  ArCalSource *s = f->source;
  GError *error = NULL;

  f->in = soup_session_send_finish(SOUP_SESSION(session), res, &error);
  if (f->in == NULL) {
    fail(task, error);
    return;
  }
  guint status = soup_message_get_status(f->msg);
  switch (status) {
  case 301:
  case 302:
  case 303:
  case 307:
  case 308:
    follow_redirect(task);
    return;
  case 401:
  case 403:
    close_in(f);
    fail_new(task, AR_CAL_ERROR_AUTH,
             s->auth != NULL ? "the calendar server refused the user name or password (HTTP %u)"
                             : "the calendar server asks for a user name and password (HTTP %u)",
             status);
    return;
  case 304:
    close_in(f);
    if (f->step == STEP_GET && s->have_last && (s->etag != NULL || s->last_modified != NULL)) {
      return_result(task, NULL);
      return;
    }
    break;
  default:
    break;
  }
  gboolean ok = f->step == STEP_GET ? (status == 200 || status == 203) : status == 207;
  if (!ok) {
    const char *phrase = soup_status_get_phrase(status);
    close_in(f);
    fail_new(task, AR_CAL_ERROR_FETCH, "the calendar server %s answered HTTP %u%s%s%s%s",
             s->display, status, phrase != NULL ? " (" : "", phrase != NULL ? phrase : "",
             phrase != NULL ? ")" : "",
             status == 404 ? ": there is no calendar at this address"
             : f->step != STEP_GET && (status == 405 || status == 501 || status == 200)
                 ? ": is this a CalDAV calendar's address?"
                 : "");
    return;
  }
  SoupMessageHeaders *h = soup_message_get_response_headers(f->msg);
  if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length(h) > (goffset)s->max_bytes) {
    g_autofree char *max = size_for_people(s->max_bytes);
    close_in(f);
    fail_new(task, AR_CAL_ERROR_TOO_BIG, "the calendar server's answer is larger than %s", max);
    return;
  }
  g_clear_pointer(&f->buf, g_byte_array_unref);
  f->buf = g_byte_array_new();
  g_input_stream_read_bytes_async(f->in, READ_CHUNK, G_PRIORITY_DEFAULT, f->cancel, read_cb, task);
}

static void
on_caller_cancelled(GCancellable *caller, gpointer data)
{
  g_cancellable_cancel(G_CANCELLABLE(data));
}

static gboolean
deadline_cb(gpointer data)
{
  Fetch *f = data;
  f->timed_out = TRUE;
  g_cancellable_cancel(f->cancel);
  return G_SOURCE_REMOVE;
}

void
ar_cal_source_fetch_async(ArCalSource *source, gint64 from, gint64 to, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  if (source->running != NULL) {
    /* One at a time: the caller's refresh timer simply tries again later. */
    g_task_report_new_error(NULL, callback, user_data, ar_cal_source_fetch_async, AR_CAL_ERROR,
                            AR_CAL_ERROR_FETCH, "a fetch of the calendar at %s is already running",
                            source->display);
    return;
  }
  if (source->kind == AR_CAL_SOURCE_CALDAV) {
    g_autofree char *a = utc_stamp(from);
    g_autofree char *b = utc_stamp(to);
    if (a == NULL || b == NULL || to <= from) {
      g_task_report_new_error(NULL, callback, user_data, ar_cal_source_fetch_async, AR_CAL_ERROR,
                              AR_CAL_ERROR_FETCH, "the calendar window is empty or out of range");
      return;
    }
  }

  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  Fetch *f = g_new0(Fetch, 1);
  g_task_set_source_tag(task, ar_cal_source_fetch_async);
  g_task_set_task_data(task, f, (GDestroyNotify)fetch_free);
  source->refs++;
  f->source = source;
  f->from = from;
  f->to = to;
  f->step = source->kind == AR_CAL_SOURCE_FEED ? STEP_GET : STEP_PROPFIND;
  f->uri = g_uri_ref(source->uri);
  f->cancel = g_cancellable_new();
  source->running = f->cancel;
  if (cancellable != NULL) {
    f->caller = g_object_ref(cancellable);
    f->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(on_caller_cancelled),
                                              g_object_ref(f->cancel), g_object_unref);
  }
  f->deadline = g_timeout_source_new_seconds(source->timeout_s);
  g_source_set_callback(f->deadline, deadline_cb, f, NULL);
  g_source_attach(f->deadline, g_main_context_get_thread_default());
  send_req(task);
}

GPtrArray *
ar_cal_source_fetch_finish(ArCalSource *source, GAsyncResult *result, gboolean *not_modified,
                           GError **error)
{
  GError *e = NULL;

  if (not_modified != NULL)
    *not_modified = FALSE;
  GPtrArray *objects = g_task_propagate_pointer(G_TASK(result), &e);
  if (e != NULL) {
    g_propagate_error(error, e);
    return NULL;
  }
  if (objects == NULL && not_modified != NULL)
    *not_modified = TRUE;
  return objects;
}
