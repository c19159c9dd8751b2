/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cal-source.c: the calendar sources (firmware/calendar/ar-cal-source.c) against a real
 * CalDAV server, Debian's radicale, over HTTPS with a test CA and a user (tests/lab/radicale.sh),
 * with events this test PUTs there by CalDAV. Loopback only (radicale and the fixtures bind
 * 127.0.0.1 on free ports); radicale is stopped by its PID at the end.
 *
 * radicale answers GET of a collection with the whole calendar and an ETag, but ignores
 * If-None-Match (always 200): the feed's conditional requests (ETag -> 304) are tested against a
 * FIXTURE HTTPS server in this process (SoupServer, the lab's certificate), which also serves the
 * over-size bodies, redirects and a non-iCalendar page. The server that never answers is a
 * FIXTURE too: a listening socket that accepts and stays silent.
 */
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "ar-cal-source.h"

#define USER "alice"
#define PASSWORD "Pw-4f9c1e-s3cret"
#define WRONG_PASSWORD "wrong-Xq93-pass"
#define FEED_PATH "/secret-feed-7a1b9e"
#define NS_CS_TEST "http://calendarserver.org/ns/"

/* 2030-01-01T00:00:00Z, 2030-01-15, 2030-02-01 */
#define JAN1 G_GINT64_CONSTANT(1893456000)
#define JAN15 (JAN1 + 14 * 86400)
#define FEB1 (JAN1 + 31 * 86400)

static struct {
  char *dir;
  char *url; /* the radicale collection */
  char *origin;
  GPid pid;
  char *ca;
  SoupServer *fixture;
  char *fixture_origin;
  /* The fixture feed's state. */
  char *feed_body;
  char *feed_etag;
  guint feed_200, feed_304;
  char *feed_if_none_match;
  gboolean auth_seen;
  int fixture_port;
  ArCalSource *caldav; /* shared by the CalDAV cases, in order */
} lab;

/* ---- helpers ---- */

typedef struct {
  ArCalSource *source;
  GMainLoop *loop;
  GPtrArray *objects;
  gboolean not_modified;
  GError *error;
} Result;

static void
fetched(GObject *o, GAsyncResult *res, gpointer data)
{
  Result *r = data;
  r->objects = ar_cal_source_fetch_finish(r->source, res, &r->not_modified, &r->error);
  g_main_loop_quit(r->loop);
}

static Result
fetch(ArCalSource *s, gint64 from, gint64 to)
{
  Result r = {.source = s, .loop = g_main_loop_new(NULL, FALSE)};
  ar_cal_source_fetch_async(s, from, to, NULL, fetched, &r);
  g_main_loop_run(r.loop);
  g_main_loop_unref(r.loop);
  r.loop = NULL;
  if (r.error != NULL)
    g_test_message("fetch: %s", r.error->message);
  return r;
}

static void
result_clear(Result *r)
{
  g_clear_pointer(&r->objects, g_ptr_array_unref);
  g_clear_error(&r->error);
}

/* All objects' texts, one after another. */
static char *
joined(GPtrArray *objects)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; objects != NULL && i < objects->len; i++) {
    gsize n = 0;
    const char *d = g_bytes_get_data(objects->pdata[i], &n);
    g_string_append_len(s, d, n);
    g_string_append_c(s, '\n');
  }
  return g_string_free(s, FALSE);
}

static char *
stamp(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return g_date_time_format(dt, "%Y%m%dT%H%M%SZ");
}

/* PUT one event into radicale by CalDAV (a real client request: libsoup, Basic auth). */
static void
put_event(const char *uid, const char *summary, gint64 start)
{
  g_autofree char *a = stamp(start);
  g_autofree char *b = stamp(start + 3600);
  g_autofree char *ics = g_strdup_printf(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Anyroom tests//EN\r\nBEGIN:VEVENT\r\n"
      "UID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n",
      uid, a, b, summary);
  g_autofree char *url = g_strdup_printf("%s%s.ics", lab.url, uid);
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupSession) session = soup_session_new();
  g_autoptr(GTlsDatabase) db = g_tls_file_database_new(lab.ca, &error);
  g_assert_no_error(error);
  soup_session_set_tls_database(session, db);
  g_autoptr(SoupMessage) msg = soup_message_new("PUT", url);
  g_autofree char *pair = g_strdup_printf("%s:%s", USER, PASSWORD);
  g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
  g_autofree char *auth = g_strdup_printf("Basic %s", b64);
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
  g_autoptr(GBytes) body = g_bytes_new(ics, strlen(ics));
  soup_message_set_request_body_from_bytes(msg, "text/calendar; charset=utf-8", body);
  g_autoptr(GBytes) answer = soup_session_send_and_read(session, msg, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(soup_message_get_status(msg), ==, 201);
}

static ArCalSource *
new_source(ArCalSourceKind kind, const char *url, const char *user, const char *secret,
           const char *ca)
{
  ArCalSourceSettings st = {
      .kind = kind, .url = url, .user = user, .secret = secret, .ca_file = ca};
  g_autoptr(GError) error = NULL;
  ArCalSource *s = ar_cal_source_new(&st, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  return s;
}

/* ---- CalDAV against radicale ---- */

static void
test_caldav_fetch(void)
{
  put_event("anyroom-ev1-3f8a", "Standup", JAN1 + 9 * 86400 + 36000);
  put_event("anyroom-ev2-91cd", "Review", JAN1 + 19 * 86400 + 36000);
  lab.caldav = new_source(AR_CAL_SOURCE_CALDAV, lab.url, USER, PASSWORD, lab.ca);
  g_assert_cmpstr(ar_cal_source_display(lab.caldav), ==, lab.origin);

  Result r = fetch(lab.caldav, JAN1, FEB1);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_assert_nonnull(r.objects);
  g_assert_cmpuint(r.objects->len, ==, 2);
  for (guint i = 0; i < r.objects->len; i++) {
    gsize n = 0;
    const char *d = g_bytes_get_data(r.objects->pdata[i], &n);
    g_assert_true(n > 15 && strncmp(d, "BEGIN:VCALENDAR", 15) == 0);
  }
  g_autofree char *all = joined(r.objects);
  g_assert_nonnull(strstr(all, "UID:anyroom-ev1-3f8a"));
  g_assert_nonnull(strstr(all, "UID:anyroom-ev2-91cd"));
  result_clear(&r);
}

static void
test_caldav_unchanged(void)
{
  g_assert_nonnull(lab.caldav);
  Result r = fetch(lab.caldav, JAN1, FEB1);
  g_assert_no_error(r.error);
  g_assert_null(r.objects);
  g_assert_true(r.not_modified);
  result_clear(&r);
}

static void
test_caldav_changed(void)
{
  g_assert_nonnull(lab.caldav);
  put_event("anyroom-ev3-c07e", "Planning", JAN1 + 24 * 86400 + 36000);
  Result r = fetch(lab.caldav, JAN1, FEB1);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_assert_nonnull(r.objects);
  g_assert_cmpuint(r.objects->len, ==, 3);
  g_autofree char *all = joined(r.objects);
  g_assert_nonnull(strstr(all, "UID:anyroom-ev3-c07e"));
  result_clear(&r);
}

static void
test_caldav_window(void)
{
  g_assert_nonnull(lab.caldav);
  /* Nothing changed on the server, but the window did: fetched again, and the server's
   * time-range filter leaves the 10 January event out. */
  Result r = fetch(lab.caldav, JAN15, FEB1);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_assert_nonnull(r.objects);
  g_autofree char *all = joined(r.objects);
  g_assert_null(strstr(all, "anyroom-ev1-3f8a"));
  g_assert_nonnull(strstr(all, "UID:anyroom-ev2-91cd"));
  g_assert_nonnull(strstr(all, "UID:anyroom-ev3-c07e"));
  g_assert_cmpuint(r.objects->len, ==, 2);
  result_clear(&r);

  r = fetch(lab.caldav, JAN15, FEB1);
  g_assert_no_error(r.error);
  g_assert_true(r.not_modified);
  result_clear(&r);
}

/* A second fetch while one runs is refused at once; the first completes. */
static void
test_caldav_one_at_a_time(void)
{
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_CALDAV, lab.url, USER, PASSWORD, lab.ca);
  Result a = {.source = s, .loop = g_main_loop_new(NULL, FALSE)};
  Result b = {.source = s, .loop = g_main_loop_new(NULL, FALSE)};
  ar_cal_source_fetch_async(s, JAN1, FEB1, NULL, fetched, &a);
  ar_cal_source_fetch_async(s, JAN1, FEB1, NULL, fetched, &b);
  g_main_loop_run(b.loop);
  g_assert_error(b.error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH);
  g_assert_nonnull(strstr(b.error->message, "already running"));
  g_main_loop_run(a.loop);
  g_assert_no_error(a.error);
  g_assert_nonnull(a.objects);
  g_assert_cmpuint(a.objects->len, ==, 3);
  g_main_loop_unref(a.loop);
  g_main_loop_unref(b.loop);
  result_clear(&a);
  result_clear(&b);
}

static void
test_caldav_wrong_password(void)
{
  g_autoptr(ArCalSource) s =
      new_source(AR_CAL_SOURCE_CALDAV, lab.url, USER, WRONG_PASSWORD, lab.ca);
  Result r = fetch(s, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH);
  g_assert_nonnull(strstr(r.error->message, "refused the user name or password"));
  g_assert_null(strstr(r.error->message, WRONG_PASSWORD));
  g_assert_null(r.objects);
  result_clear(&r);

  /* A bearer token radicale does not take: refused, and the token is not in the message. */
  g_autoptr(ArCalSource) t =
      new_source(AR_CAL_SOURCE_CALDAV, lab.url, NULL, "tok-" WRONG_PASSWORD, lab.ca);
  r = fetch(t, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH);
  g_assert_null(strstr(r.error->message, WRONG_PASSWORD));
  result_clear(&r);
}

static void
test_caldav_untrusted(void)
{
  /* No CA file: the system's store does not know the test CA. */
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_CALDAV, lab.url, USER, PASSWORD, NULL);
  Result r = fetch(s, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_TLS);
  g_assert_nonnull(strstr(r.error->message, "certificate is not trusted"));
  g_assert_null(strstr(r.error->message, PASSWORD));
  result_clear(&r);
}

/* ---- feeds ---- */

/* radicale's GET of the collection is the whole calendar as one .ics: a real feed server. It
 * sends an ETag but answers 200 to If-None-Match; the same text again is still "not
 * modified" (the body's hash). */
static void
test_feed_radicale(void)
{
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_FEED, lab.url, USER, PASSWORD, lab.ca);
  Result r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_assert_nonnull(r.objects);
  g_assert_cmpuint(r.objects->len, ==, 1);
  g_autofree char *all = joined(r.objects);
  g_assert_true(g_str_has_prefix(all, "BEGIN:VCALENDAR"));
  g_assert_nonnull(strstr(all, "UID:anyroom-ev1-3f8a"));
  g_assert_nonnull(strstr(all, "UID:anyroom-ev3-c07e"));
  g_assert_null(strstr(all, "anyroom-ev4-5b21"));
  result_clear(&r);

  r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_true(r.not_modified);
  g_assert_null(r.objects);
  result_clear(&r);

  put_event("anyroom-ev4-5b21", "Retro", JAN1 + 27 * 86400);
  r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_autofree char *again = joined(r.objects);
  g_assert_nonnull(strstr(again, "UID:anyroom-ev4-5b21"));
  result_clear(&r);

  /* A feed's path is its secret: not in the message of a refused fetch. */
  g_autoptr(ArCalSource) w = new_source(AR_CAL_SOURCE_FEED, lab.url, USER, WRONG_PASSWORD, lab.ca);
  r = fetch(w, 0, 0);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_AUTH);
  g_assert_null(strstr(r.error->message, "/alice/room"));
  g_assert_null(strstr(r.error->message, WRONG_PASSWORD));
  result_clear(&r);
}

/* FIXTURE: CalDAV answers radicale would not give: prefixes other than the usual ones, an
 * element with the right local name in the wrong namespace, a 404 propstat, CDATA; and a
 * multistatus that declares a DTD with an entity (refused without expanding anything). */
static void
dav_fixture(SoupServerMessage *msg, const char *path)
{
  const char *method = soup_server_message_get_method(msg);
  const char *body = NULL;
  static const char propfind[] =
      "<?xml version=\"1.0\"?>\n<A:multistatus xmlns:A=\"DAV:\" xmlns:Z=\"" NS_CS_TEST "\">"
      "<A:response><A:href>/dav/prefixes/</A:href><A:propstat><A:prop>"
      "<Z:getctag>ctag-1</Z:getctag></A:prop><A:status>HTTP/1.1 200 OK</A:status>"
      "</A:propstat></A:response></A:multistatus>";
  static const char report[] =
      "<?xml version=\"1.0\"?>\n<multistatus xmlns=\"DAV:\">"
      "<response><href>/dav/prefixes/a.ics</href><propstat><prop><getetag>\"a\"</getetag>"
      "<Q:calendar-data xmlns:Q=\"urn:ietf:params:xml:ns:caldav\">BEGIN:VCALENDAR\r\n"
      "BEGIN:VEVENT\r\nUID:dav-a\r\nSUMMARY:Tom &amp; Jerry\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
      "</Q:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>"
      "<response><href>/dav/prefixes/b.ics</href><propstat><prop>"
      "<C:calendar-data xmlns:C=\"urn:example:not-caldav\">BEGIN:VCALENDAR\r\nUID:dav-wrong-ns\r\n"
      "END:VCALENDAR</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>"
      "<response><href>/dav/prefixes/c.ics</href><propstat><prop>"
      "<calendar-data xmlns=\"urn:ietf:params:xml:ns:caldav\">BEGIN:VCALENDAR\r\nUID:dav-404\r\n"
      "END:VCALENDAR</calendar-data></prop><status>HTTP/1.1 404 Not Found</status></propstat>"
      "</response>"
      "<response><href>/dav/prefixes/d.ics</href><propstat><prop>"
      "<calendar-data xmlns=\"urn:ietf:params:xml:ns:caldav\"><![CDATA[BEGIN:VCALENDAR\r\n"
      "BEGIN:VEVENT\r\nUID:dav-d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n]]></calendar-data></prop>"
      "<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
  static const char dtd[] =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE multistatus [<!ENTITY a \"BEGIN:VCALENDAR\">]>"
      "<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><response><propstat>"
      "<prop><C:calendar-data>&a;</C:calendar-data></prop></propstat></response></multistatus>";
  static const char laughs[] =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE multistatus [<!ENTITY a \"aaaaaaaaaa\">"
      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
      "\"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
      "<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><response><propstat>"
      "<prop><C:calendar-data>&c;</C:calendar-data></prop></propstat></response></multistatus>";

  if (g_str_has_prefix(path, "/dav/many/") && g_strcmp0(method, "REPORT") == 0) {
    /* 20,001 objects (more than the source takes), each a few bytes. */
    GString *many = g_string_new("<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" "
                                 "xmlns:c=\"urn:ietf:params:xml:ns:caldav\">");
    for (int i = 0; i < 20001; i++)
      g_string_append_printf(many,
                             "<d:response><d:propstat><d:prop><c:calendar-data>BEGIN:VCALENDAR "
                             "%d</c:calendar-data></d:prop></d:propstat></d:response>",
                             i);
    g_string_append(many, "</d:multistatus>");
    soup_server_message_set_status(msg, 207, NULL);
    gsize len = many->len;
    soup_server_message_set_response(msg, "application/xml", SOUP_MEMORY_TAKE,
                                     g_string_free(many, FALSE), len);
    return;
  }
  if (g_str_has_prefix(path, "/dav/laughs/"))
    body = laughs;
  else if (g_str_has_prefix(path, "/dav/dtd/"))
    body = dtd;
  else if (g_strcmp0(method, "PROPFIND") == 0)
    body = propfind;
  else if (g_strcmp0(method, "REPORT") == 0)
    body = report;
  if (body == NULL) {
    soup_server_message_set_status(msg, 405, NULL);
    return;
  }
  soup_server_message_set_status(msg, 207, NULL);
  soup_server_message_set_response(msg, "application/xml; charset=utf-8", SOUP_MEMORY_STATIC, body,
                                   strlen(body));
}

/* FIXTURE: the feed server with ETag and 304, big bodies, redirects, a web page. */
static void
fixture_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer data)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers(msg);

  if (g_strcmp0(path, FEED_PATH "/room.ics") == 0) {
    const char *inm = soup_message_headers_get_one(req, "If-None-Match");
    g_free(lab.feed_if_none_match);
    lab.feed_if_none_match = g_strdup(inm);
    if (inm != NULL && g_strcmp0(inm, lab.feed_etag) == 0) {
      lab.feed_304++;
      soup_message_headers_replace(resp, "ETag", lab.feed_etag);
      soup_server_message_set_status(msg, 304, NULL);
      return;
    }
    lab.feed_200++;
    soup_message_headers_replace(resp, "ETag", lab.feed_etag);
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "text/calendar", SOUP_MEMORY_COPY, lab.feed_body,
                                     strlen(lab.feed_body));
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/big.ics") == 0 ||
      g_strcmp0(path, FEED_PATH "/big-chunked.ics") == 0) {
    /* 2 MiB, an iCalendar text with a long description: bigger than the test's 1 MiB cap. */
    GString *big = g_string_new("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n");
    while (big->len < 2 * 1024 * 1024)
      g_string_append(big, "X-FILL:0123456789012345678901234567890123456789012345678901234\r\n");
    g_string_append(big, "END:VEVENT\r\nEND:VCALENDAR\r\n");
    soup_server_message_set_status(msg, 200, NULL);
    if (strstr(path, "chunked") != NULL) {
      /* No Content-Length: only counting while reading can stop it. */
      soup_message_headers_set_encoding(resp, SOUP_ENCODING_CHUNKED);
      soup_message_headers_set_content_type(resp, "text/calendar", NULL);
      SoupMessageBody *body = soup_server_message_get_response_body(msg);
      for (gsize off = 0; off < big->len; off += 65536)
        soup_message_body_append(body, SOUP_MEMORY_COPY, big->str + off,
                                 MIN(65536, big->len - off));
      soup_message_body_complete(body);
    } else {
      soup_server_message_set_response(msg, "text/calendar", SOUP_MEMORY_COPY, big->str, big->len);
    }
    g_string_free(big, TRUE);
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/page.html") == 0) {
    static const char page[] = "<!doctype html><title>Sign in</title>";
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_STATIC, page, sizeof page - 1);
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/auth-echo.ics") == 0) {
    /* Records whether credentials came with the request. */
    lab.auth_seen = soup_message_headers_get_one(req, "Authorization") != NULL;
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "text/calendar", SOUP_MEMORY_COPY, lab.feed_body,
                                     strlen(lab.feed_body));
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/to-localhost.ics") == 0) {
    /* Another origin (same server, other host name; the certificate names both). */
    g_autofree char *to =
        g_strdup_printf("https://localhost:%d" FEED_PATH "/auth-echo.ics", lab.fixture_port);
    soup_server_message_set_redirect(msg, 302, to);
    return;
  }
  if (g_str_has_prefix(path, "/dav/")) {
    dav_fixture(msg, path);
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/moved.ics") == 0) {
    soup_server_message_set_redirect(msg, 302, FEED_PATH "/room.ics");
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/loop.ics") == 0) {
    soup_server_message_set_redirect(msg, 307, FEED_PATH "/loop.ics");
    return;
  }
  if (g_strcmp0(path, FEED_PATH "/to-http.ics") == 0) {
    soup_server_message_set_redirect(msg, 301, "http://127.0.0.1:9/room.ics");
    return;
  }
  soup_server_message_set_status(msg, 404, NULL);
}

static char *
fixture_url(const char *name)
{
  return g_strdup_printf("%s" FEED_PATH "/%s", lab.fixture_origin, name);
}

static void
test_feed_conditional(void)
{
  g_autofree char *url = fixture_url("room.ics");
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_FEED, url, NULL, NULL, lab.ca);
  lab.feed_200 = lab.feed_304 = 0;

  Result r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_nonnull(r.objects);
  g_assert_cmpuint(r.objects->len, ==, 1);
  g_autofree char *first = joined(r.objects);
  g_assert_nonnull(strstr(first, "UID:feed-a"));
  g_assert_null(lab.feed_if_none_match); /* nothing to compare with yet */
  result_clear(&r);

  r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_true(r.not_modified);
  g_assert_cmpstr(lab.feed_if_none_match, ==, lab.feed_etag);
  g_assert_cmpuint(lab.feed_304, ==, 1);
  g_assert_cmpuint(lab.feed_200, ==, 1);
  result_clear(&r);

  /* The feed changes: new ETag, new text. */
  g_free(lab.feed_body);
  lab.feed_body = g_strdup("\xEF\xBB\xBF\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
                           "UID:feed-b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  g_free(lab.feed_etag);
  lab.feed_etag = g_strdup("\"v2\"");
  r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_false(r.not_modified);
  g_autofree char *second = joined(r.objects);
  g_assert_nonnull(strstr(second, "UID:feed-b"));
  g_assert_cmpuint(lab.feed_200, ==, 2);
  result_clear(&r);

  /* Through a redirect (same origin). */
  g_autofree char *moved = fixture_url("moved.ics");
  g_autoptr(ArCalSource) m = new_source(AR_CAL_SOURCE_FEED, moved, NULL, NULL, lab.ca);
  r = fetch(m, 0, 0);
  g_assert_no_error(r.error);
  g_autofree char *third = joined(r.objects);
  g_assert_nonnull(strstr(third, "UID:feed-b"));
  result_clear(&r);
}

static void
expect_feed_error(const char *name, gsize max_bytes, ArCalError code, const char *words)
{
  g_autofree char *url = fixture_url(name);
  ArCalSourceSettings st = {
      .kind = AR_CAL_SOURCE_FEED, .url = url, .ca_file = lab.ca, .max_bytes = max_bytes};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArCalSource) s = ar_cal_source_new(&st, &error);
  g_assert_no_error(error);
  Result r = fetch(s, 0, 0);
  g_assert_error(r.error, AR_CAL_ERROR, (gint)code);
  g_assert_nonnull(strstr(r.error->message, words));
  g_assert_null(strstr(r.error->message, FEED_PATH));
  g_assert_null(r.objects);
  result_clear(&r);
}

static void
test_feed_too_big(void)
{
  /* Content-Length says 2 MiB: refused before reading. */
  expect_feed_error("big.ics", 1024 * 1024, AR_CAL_ERROR_TOO_BIG, "larger than 1 MiB");
  /* Chunked, no length: refused while reading. */
  expect_feed_error("big-chunked.ics", 1024 * 1024, AR_CAL_ERROR_TOO_BIG, "larger than");
  /* Under the default cap (8 MiB) the same body is taken. */
  g_autofree char *url = fixture_url("big-chunked.ics");
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_FEED, url, NULL, NULL, lab.ca);
  Result r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_cmpuint(g_bytes_get_size(r.objects->pdata[0]), >, 2 * 1024 * 1024);
  result_clear(&r);
}

static void
test_feed_not_icalendar(void)
{
  expect_feed_error("page.html", 0, AR_CAL_ERROR_PARSE, "not an iCalendar file");
  expect_feed_error("missing.ics", 0, AR_CAL_ERROR_FETCH, "HTTP 404");
  expect_feed_error("loop.ics", 0, AR_CAL_ERROR_FETCH, "redirected more than 3 times");
  expect_feed_error("to-http.ics", 0, AR_CAL_ERROR_FETCH, "away from https");
}

/* Credentials go to the configured origin only: a redirect to another host name loses them. */
static void
test_feed_redirect_origin(void)
{
  g_autofree char *echo = fixture_url("auth-echo.ics");
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_FEED, echo, USER, PASSWORD, lab.ca);
  lab.auth_seen = FALSE;
  Result r = fetch(s, 0, 0);
  g_assert_no_error(r.error);
  g_assert_true(lab.auth_seen);
  result_clear(&r);

  g_autofree char *away = fixture_url("to-localhost.ics");
  g_autoptr(ArCalSource) t = new_source(AR_CAL_SOURCE_FEED, away, USER, PASSWORD, lab.ca);
  lab.auth_seen = TRUE;
  r = fetch(t, 0, 0);
  g_assert_no_error(r.error);
  g_assert_nonnull(r.objects);
  g_assert_false(lab.auth_seen);
  result_clear(&r);
}

/* The multistatus is read by namespace URI and local name, never by prefix. */
static void
test_caldav_namespaces(void)
{
  g_autofree char *url = g_strdup_printf("%s/dav/prefixes/", lab.fixture_origin);
  g_autoptr(ArCalSource) s = new_source(AR_CAL_SOURCE_CALDAV, url, USER, PASSWORD, lab.ca);
  Result r = fetch(s, JAN1, FEB1);
  g_assert_no_error(r.error);
  g_assert_nonnull(r.objects);
  g_autofree char *all = joined(r.objects);
  g_assert_cmpuint(r.objects->len, ==, 2);
  g_assert_nonnull(strstr(all, "UID:dav-a"));
  g_assert_nonnull(strstr(all, "SUMMARY:Tom & Jerry"));
  g_assert_nonnull(strstr(all, "UID:dav-d"));
  g_assert_null(strstr(all, "dav-wrong-ns"));
  g_assert_null(strstr(all, "dav-404"));
  result_clear(&r);
  /* Same ctag, same window. */
  r = fetch(s, JAN1, FEB1);
  g_assert_no_error(r.error);
  g_assert_true(r.not_modified);
  result_clear(&r);

  g_autofree char *dtd = g_strdup_printf("%s/dav/dtd/", lab.fixture_origin);
  g_autoptr(ArCalSource) d = new_source(AR_CAL_SOURCE_CALDAV, dtd, USER, PASSWORD, lab.ca);
  r = fetch(d, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH);
  g_assert_nonnull(strstr(r.error->message, "DTD"));
  result_clear(&r);

  /* More objects than allowed. */
  g_autofree char *many = g_strdup_printf("%s/dav/many/", lab.fixture_origin);
  g_autoptr(ArCalSource) m = new_source(AR_CAL_SOURCE_CALDAV, many, USER, PASSWORD, lab.ca);
  r = fetch(m, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_TOO_BIG);
  g_assert_nonnull(strstr(r.error->message, "more than 20000 events"));
  result_clear(&r);

  /* Nested entities (a small "billion laughs"): an error, nothing expanded. */
  g_autofree char *laughs = g_strdup_printf("%s/dav/laughs/", lab.fixture_origin);
  g_autoptr(ArCalSource) l = new_source(AR_CAL_SOURCE_CALDAV, laughs, USER, PASSWORD, lab.ca);
  r = fetch(l, JAN1, FEB1);
  g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH);
  g_assert_null(r.objects);
  result_clear(&r);
}

static void
test_refused_urls(void)
{
  const char *bad[] = {"http://127.0.0.1/cal.ics", "webcal://example.com/cal.ics",
                       "ftp://example.com/cal.ics", "https://user:pw@example.com/cal.ics",
                       "not a url"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    ArCalSourceSettings st = {.kind = AR_CAL_SOURCE_FEED, .url = bad[i]};
    g_autoptr(GError) error = NULL;
    ArCalSource *s = ar_cal_source_new(&st, &error);
    g_assert_null(s);
    g_assert_error(error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH);
    g_test_message("%s: %s", bad[i], error->message);
    g_assert_null(strstr(error->message, "cal.ics"));
    g_assert_null(strstr(error->message, "pw@"));
  }
  ArCalSourceSettings st = {.kind = AR_CAL_SOURCE_FEED, .url = "http://127.0.0.1/x.ics"};
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_cal_source_new(&st, &error));
  g_assert_nonnull(strstr(error->message, "https://"));

  /* A CA file that is not one. */
  g_autofree char *notca = g_build_filename(lab.dir, "config", NULL);
  ArCalSourceSettings ca = {
      .kind = AR_CAL_SOURCE_FEED, .url = "https://127.0.0.1/x.ics", .ca_file = notca};
  g_clear_error(&error);
  g_assert_null(ar_cal_source_new(&ca, &error));
  g_assert_error(error, AR_CAL_ERROR, AR_CAL_ERROR_TLS);
}

/* FIXTURE: a server that accepts and never says a word (not even the TLS handshake). */
static gboolean
silent_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  g_ptr_array_add(data, g_object_ref(conn));
  return TRUE;
}

static void
test_silent_server(void)
{
  g_autoptr(GSocketService) service = g_socket_service_new();
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(g_object_unref);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(service), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  g_signal_connect(service, "incoming", G_CALLBACK(silent_incoming), held);
  g_socket_service_start(service);
  guint port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));

  for (int kind = 0; kind < 2; kind++) {
    g_autofree char *url = g_strdup_printf("https://127.0.0.1:%u" FEED_PATH "/room.ics", port);
    ArCalSourceSettings st = {.kind = kind == 0 ? AR_CAL_SOURCE_FEED : AR_CAL_SOURCE_CALDAV,
                              .url = url,
                              .ca_file = lab.ca,
                              .timeout_s = 3};
    g_autoptr(ArCalSource) s = ar_cal_source_new(&st, &error);
    g_assert_no_error(error);
    gint64 t0 = g_get_monotonic_time();
    Result r = fetch(s, JAN1, FEB1);
    double took = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("silent server: error after %.1f s", took);
    g_assert_error(r.error, AR_CAL_ERROR, AR_CAL_ERROR_FETCH);
    g_assert_nonnull(strstr(r.error->message, "did not answer within 3 s"));
    g_assert_null(strstr(r.error->message, FEED_PATH));
    g_assert_cmpfloat(took, >=, 2.5);
    g_assert_cmpfloat(took, <, 6.0);
    result_clear(&r);
  }
  /* Freed while its fetch waits: the fetch ends, cancelled, at once and nothing is touched
   * after the free (valgrind run: tests/valgrind.supp). */
  g_autofree char *url = g_strdup_printf("https://127.0.0.1:%u/x.ics", port);
  ArCalSourceSettings st = {.kind = AR_CAL_SOURCE_FEED, .url = url, .ca_file = lab.ca};
  ArCalSource *s = ar_cal_source_new(&st, &error);
  g_assert_no_error(error);
  Result r = {.source = s, .loop = g_main_loop_new(NULL, FALSE)};
  gint64 t0 = g_get_monotonic_time();
  ar_cal_source_fetch_async(s, 0, 0, NULL, fetched, &r);
  ar_cal_source_free(s);
  g_main_loop_run(r.loop);
  g_main_loop_unref(r.loop);
  g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
  result_clear(&r);

  g_assert_cmpuint(held->len, >=, 2);
  g_socket_service_stop(service);
}

/* ---- the lab ---- */

/* A failed assertion aborts: radicale (not our child) must not outlive the test. */
static void
on_fatal_signal(int sig)
{
  if (lab.pid > 1)
    kill(lab.pid, SIGTERM);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void
start_lab(void)
{
  const char *src = g_getenv("AR_SOURCE_DIR");
  g_autoptr(GError) error = NULL;
  lab.dir = g_dir_make_tmp("ar-cal-source-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *script =
      g_build_filename(src != NULL ? src : ".", "tests", "lab", "radicale.sh", NULL);
  const char *argv[] = {"bash", script, lab.dir, USER, PASSWORD, NULL};
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
               &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("radicale.sh failed (is radicale installed? ./build.sh deps): %s", err);
  g_auto(GStrv) words = g_strsplit(g_strstrip(out), " ", 2);
  g_assert_cmpuint(g_strv_length(words), ==, 2);
  lab.url = g_strdup(words[0]);
  lab.pid = (GPid)g_ascii_strtoll(words[1], NULL, 10);
  g_assert_cmpint(lab.pid, >, 1);
  lab.ca = g_build_filename(lab.dir, "ca.pem", NULL);
  g_autoptr(GUri) u = g_uri_parse(lab.url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error(error);
  lab.origin = g_strdup_printf("https://127.0.0.1:%d", g_uri_get_port(u));
  g_test_message("radicale %s (pid %d) in %s", lab.url, lab.pid, lab.dir);
  signal(SIGABRT, on_fatal_signal);
  signal(SIGTERM, on_fatal_signal);
  signal(SIGINT, on_fatal_signal);

  /* The fixture feed server, with the lab's certificate for 127.0.0.1. */
  g_autofree char *cert_file = g_build_filename(lab.dir, "server.pem", NULL);
  g_autofree char *key_file = g_build_filename(lab.dir, "server.key", NULL);
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_files(cert_file, key_file, &error);
  g_assert_no_error(error);
  lab.fixture = soup_server_new("tls-certificate", cert, NULL);
  soup_server_add_handler(lab.fixture, NULL, fixture_handler, NULL, NULL);
  soup_server_listen_local(lab.fixture, 0, SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY,
                           &error);
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(lab.fixture);
  lab.fixture_port = g_uri_get_port(uris->data);
  lab.fixture_origin = g_strdup_printf("https://127.0.0.1:%d", lab.fixture_port);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  lab.feed_body = g_strdup("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:feed-a\r\n"
                           "END:VEVENT\r\nEND:VCALENDAR\r\n");
  lab.feed_etag = g_strdup("\"v1\"");
}

static void
rm_rf(const char *path)
{
  GDir *d = g_dir_open(path, 0, NULL);
  if (d != NULL) {
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
      g_autofree char *p = g_build_filename(path, name, NULL);
      if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
        rm_rf(p);
      else
        g_unlink(p);
    }
    g_dir_close(d);
  }
  g_rmdir(path);
}

/* Alive and not a zombie (nobody here reaps radicale: it is not our child). */
static gboolean
running(GPid pid)
{
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents(path, &stat, NULL, NULL))
    return FALSE;
  const char *paren = strrchr(stat, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void
stop_lab(void)
{
  g_clear_pointer(&lab.caldav, ar_cal_source_free);
  if (lab.fixture != NULL) {
    soup_server_disconnect(lab.fixture);
    g_clear_object(&lab.fixture);
  }
  if (lab.pid > 1) {
    /* radicale is not our child (radicale.sh started it in the background): by its PID. */
    kill(lab.pid, SIGTERM);
    for (int i = 0; i < 50 && running(lab.pid); i++)
      g_usleep(100000);
    if (running(lab.pid))
      kill(lab.pid, SIGKILL);
  }
  if (lab.dir != NULL)
    rm_rf(lab.dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_debug_enabled(FALSE); /* GSocketClient's debug lines drown the TAP output */
  start_lab();
  g_test_add_func("/cal-source/caldav/fetch", test_caldav_fetch);
  g_test_add_func("/cal-source/caldav/unchanged", test_caldav_unchanged);
  g_test_add_func("/cal-source/caldav/changed", test_caldav_changed);
  g_test_add_func("/cal-source/caldav/window", test_caldav_window);
  g_test_add_func("/cal-source/caldav/one-at-a-time", test_caldav_one_at_a_time);
  g_test_add_func("/cal-source/caldav/wrong-password", test_caldav_wrong_password);
  g_test_add_func("/cal-source/caldav/untrusted", test_caldav_untrusted);
  g_test_add_func("/cal-source/feed/radicale", test_feed_radicale);
  g_test_add_func("/cal-source/feed/conditional", test_feed_conditional);
  g_test_add_func("/cal-source/feed/too-big", test_feed_too_big);
  g_test_add_func("/cal-source/feed/not-icalendar", test_feed_not_icalendar);
  g_test_add_func("/cal-source/feed/redirect-origin", test_feed_redirect_origin);
  g_test_add_func("/cal-source/caldav/namespaces", test_caldav_namespaces);
  g_test_add_func("/cal-source/refused-urls", test_refused_urls);
  g_test_add_func("/cal-source/silent-server", test_silent_server);
  int rc = g_test_run();
  stop_lab();
  return rc;
}
