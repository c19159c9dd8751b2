/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-links-find.c: finding the meeting links in invitations.
 */
#include "test-links.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Finds the links in TEXT and checks their join URLs, best first. */
static void
check_found(const char *text, const ArLinkPolicy *policy, const char *const *expected)
{
  g_autoptr(GPtrArray) links = ar_link_find_all(text, strlen(text), policy);
  guint n = 0;
  while (expected[n] != NULL)
    n++;
  for (guint i = 0; i < links->len; i++) {
    ArLink *l = g_ptr_array_index(links, i);
    g_test_message("found %u: %s %s", i, l->provider, l->join_url);
  }
  g_assert_cmpuint(links->len, ==, n);
  for (guint i = 0; i < MIN(n, links->len); i++) {
    ArLink *l = g_ptr_array_index(links, i);
    g_assert_cmpstr(l->join_url, ==, expected[i]);
  }
}

#define TEAMS_JOIN                                                                                 \
  "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZDk4YTc2NjUtMmQ2Zi00OGFkLWFlYjYtMDk2"    \
  "NjY1ZmEzMmU1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22"   \
  "%2c%22Oid%22%3a%223c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d"

static void
test_teams_html(void)
{
  const char *html =
      "<html><body><div style=\"width:100%\"><span style=\"white-space:nowrap;color:#5F5F5F\">"
      "________________________________________________________________________________</span>"
      "<div style=\"margin-bottom:24px\"><span style=\"font-size:24px;font-weight:700\">Microsoft "
      "Teams <span>Need help?</span></span> <a href=\"https://aka.ms/JoinTeamsMeeting?omkt=en-US\" "
      "style=\"font-size:14px\">Need help?</a></div>"
      "<div><a class=\"me-email-headline\" href=\"" TEAMS_JOIN
      "\" target=\"_blank\" rel=\"noreferrer "
      "noopener\" style=\"font-size:20px;font-weight:600;text-decoration:underline;color:#4B53BC\">"
      "Join the meeting now</a></div>"
      "<div><span>Meeting ID: </span><span>234 567 890 123 4</span></div>"
      "<div><span>Passcode: </span><span>Ab3cD4</span></div>"
      "<div><b>Dial in by phone</b><br><a href=\"tel:+14255550100,,123456789#\">+1 425-555-0100,,"
      "123456789#</a> United States, Seattle<br>"
      "<a "
      "href=\"https://dialin.teams.microsoft.com/"
      "8551f4c1-bea3-441a-8738-69aa517a91c5?id=123456789\">"
      "Find a local number</a></div>"
      "<div>For organizers: <a "
      "href=\"https://teams.microsoft.com/meetingOptions/?organizerId=3c0e&amp;"
      "tenantId=72f9&amp;threadId=19_meeting_ZDk4@thread.v2&amp;messageId=0&amp;language=en-US\">"
      "Meeting options</a> | <a href=\"https://dialin.teams.microsoft.com/usp/pstnconferencing\">"
      "Reset dial-in PIN</a></div>"
      "<div><a href=\"https://aka.ms/JoinTeamsMeeting\">Learn more</a></div></div></body></html>";
  const char *expected[] = {TEAMS_JOIN "&anon=true", NULL};
  check_found(html, NULL, expected);
}

static void
test_zoom_text(void)
{
  const char *text =
      "Jane Doe is inviting you to a scheduled Zoom meeting.\r\n\r\n"
      "Topic: Quarterly review\r\nTime: Mar 3, 2025 10:00 AM Pacific Time (US and Canada)\r\n\r\n"
      "Join Zoom Meeting\r\n"
      "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09\r\n\r\n"
      "Meeting ID: 812 3456 7890\r\nPasscode: 123456\r\n\r\n---\r\n\r\n"
      "One tap mobile\r\n+16699006833,,81234567890#,,,,*123456# US (San Jose)\r\n\r\n"
      "Dial by your location\r\n+1 669 900 6833 US (San Jose)\r\n"
      "Find your local number: https://us02web.zoom.us/u/kbAbCdEfGh\r\n\r\n"
      "Join by SIP\r\n81234567890@zoomcrc.com\r\n\r\n"
      "Join by H.323\r\n162.255.37.11 (US West)\r\n";
  const char *expected[] = {
      "https://us02web.zoom.us/wc/join/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09", NULL};
  check_found(text, NULL, expected);
}

static void
test_google_calendar(void)
{
  const char *text = "Weekly sync\nJoin with Google Meet: https://meet.google.com/abc-defg-hij\n"
                     "Or dial: (US) +1 505-555-0123 PIN: 123456789#\n"
                     "More phone numbers: https://tel.meet/abc-defg-hij?pin=1234567890123\n"
                     "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\n"
                     "Invitation from Google Calendar: https://www.google.com/calendar/\n";
  const char *expected[] = {"https://meet.google.com/abc-defg-hij", NULL};
  check_found(text, NULL, expected);
}

static void
test_google_calendar_redirect(void)
{
  /* Calendar descriptions wrap links in google.com/url?q= (HTML-escaped) */
  const char *html = "<a href=\"https://www.google.com/url?q=https://us02web.zoom.us/j/81234567890"
                     "?pwd%3Dabc&amp;sa=D&amp;source=calendar&amp;usd=2&amp;usg=AOvVaw1\">"
                     "https://us02web.zoom.us/j/81234567890?pwd=abc</a>";
  const char *expected[] = {"https://us02web.zoom.us/wc/join/81234567890?pwd=abc", NULL};
  check_found(html, NULL, expected);
}

static void
test_safelinks_html(void)
{
  const char *html =
      "<p>Join: <a href=\"https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2F"
      "acme.webex.com%2Facme%2Fj.php%3FMTID%3Dm2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c&amp;data=05%7C02"
      "%7C%7Cabc%7C0%7C0%7C638&amp;sdata=AbC%3D&amp;reserved=0\" originalsrc=\"https://acme.webex."
      "com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c\">Join meeting</a></p>"
      "<p>Wrapped elsewhere: <a href=\"https://nam12.safelinks.protection.outlook.com/?url=https%3A"
      "%2F%2Fevil.example%2Fzoom&amp;data=x\">Zoom</a></p>"
      "<p><a href=\"https://help.webex.com/en-us/article/nqzqmaeb\">Help</a></p>";
  const char *expected[] = {
      "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c", NULL};
  check_found(html, NULL, expected);
}

static void
test_punctuation(void)
{
  const char *text =
      "Link: <https://meet.google.com/abc-defg-hij>. Or (https://zoom.us/j/123456789). "
      "Also \"https://meet.jit.si/Standup\", and https://8x8.vc/acme/Room1!\n"
      "Markdown: [room](https://whereby.com/team-room) and 'https://talky.io/xyz';";
  const char *expected[] = {"https://meet.google.com/abc-defg-hij",
                            "https://app.zoom.us/wc/join/123456789",
                            "https://meet.jit.si/Standup",
                            "https://8x8.vc/acme/Room1",
                            "https://whereby.com/team-room",
                            "https://talky.io/xyz",
                            NULL};
  check_found(text, NULL, expected);
}

static void
test_ranking(void)
{
  /* a "join" context ranks first; help and "meeting options" contexts rank lower,
   * even when they come first; an app-scheme form ranks below the https forms;
   * a SIP address last. */
  const char *text = "sip:81234567890@zoomcrc.com\n"
                     "Meeting options: https://acme.zoom.us/j/99988877766\n"
                     "Open in the app: zoommtg://zoom.us/join?confno=12312312312\n"
                     "Join the meeting: https://us02web.zoom.us/j/81234567890?pwd=abc\n"
                     "Need help? https://zoom.us/j/11122233344\n";
  const char *expected[] = {"https://us02web.zoom.us/wc/join/81234567890?pwd=abc",
                            "https://app.zoom.us/wc/join/11122233344",
                            "https://acme.zoom.us/wc/join/99988877766",
                            "https://app.zoom.us/wc/join/12312312312",
                            "sip:81234567890@zoomcrc.com",
                            NULL};
  check_found(text, NULL, expected);
}

static void
test_duplicates(void)
{
  const char *html = "<a href=\"https://meet.google.com/abc-defg-hij\">https://meet.google.com/"
                     "abc-defg-hij</a> meet.google.com/abc-defg-hij https://meet.google.com/"
                     "ABCDEFGHIJ?authuser=0";
  const char *expected[] = {"https://meet.google.com/abc-defg-hij", NULL};
  check_found(html, NULL, expected);
}

static void
test_schemeless(void)
{
  const char *text = "Join at meet.google.com/abc-defg-hij or zoom.us/j/123456789 (not "
                     "example.com/j/1, not evil.example/meet.google.com/abc-defg-hij)";
  const char *expected[] = {"https://meet.google.com/abc-defg-hij",
                            "https://app.zoom.us/wc/join/123456789", NULL};
  check_found(text, NULL, expected);
}

static void
test_quoted_printable(void)
{
  const char *eml =
      "From: Jane <jane@acme.example>\r\nSubject: Sync\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/html; charset=\"utf-8\"\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<a "
      "href=3D\"https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?cont=\r\n"
      "ext=3D%7b%7d\">Join the meeting now</a>\r\n";
  const char *expected[] = {
      "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d"
      "&anon=true",
      NULL};
  check_found(eml, NULL, expected);
}

static void
test_janus_and_policy(void)
{
  static const char *const jd[] = {"meet.example.org", NULL};
  ArLinkPolicy p = {.jitsi_domains = jd};
  const char *text = "Room link: janus+ws://10.97.0.1:8188/?room=1234&pin=42\n"
                     "Self-hosted: https://meet.example.org/standup\n";
  const char *expected[] = {"ws://10.97.0.1:8188/", "https://meet.example.org/standup", NULL};
  check_found(text, &p, expected);
  const char *expected_none[] = {"ws://10.97.0.1:8188/", NULL};
  check_found(text, NULL, expected_none);
}

static void
test_nothing(void)
{
  const char *none[] = {NULL};
  check_found("", NULL, none);
  check_found("no links here, just text: http://example.com https://evil.example/j/1", NULL, none);
  check_found("https://", NULL, none);
  check_found("://::://", NULL, none);
  check_found("http://zoom.us/j/123456789", NULL, none); /* http is refused, not upgraded */
  g_autoptr(GPtrArray) l = ar_link_find_all(NULL, 0, NULL);
  g_assert_cmpuint(l->len, ==, 0);
}

static void
test_binary(void)
{
  guchar buf[4096];
  guint32 x = 12345;
  for (gsize i = 0; i < sizeof buf; i++) {
    x = x * 1103515245 + 12345;
    buf[i] = (guchar)(x >> 16);
  }
  memcpy(buf + 100, "https://meet.google.com/abc-defg-hij", 36);
  buf[99] = ' ';
  buf[136] = ' ';
  g_autoptr(GPtrArray) l = ar_link_find_all((const char *)buf, sizeof buf, NULL);
  g_assert_cmpuint(l->len, ==, 1);
}

static void
test_limits(void)
{
  /* a large invitation with many links: bounded results, no blow-up */
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 2000; i++)
    g_string_append_printf(s, "https://meet.jit.si/Room%d\n", i);
  g_autoptr(GPtrArray) l = ar_link_find_all(s->str, s->len, NULL);
  g_assert_cmpuint(l->len, >, 0);
  g_assert_cmpuint(l->len, <=, 32);
  g_assert_cmpstr(((ArLink *)g_ptr_array_index(l, 0))->meeting_id, ==, "Room0");
  g_string_free(s, TRUE);

  /* one huge token */
  GString *t = g_string_new("https://meet.jit.si/");
  while (t->len < 2 * 1024 * 1024)
    g_string_append(t, "aaaaaaaaaaaaaaaa");
  g_autoptr(GPtrArray) l2 = ar_link_find_all(t->str, t->len, NULL);
  g_assert_cmpuint(l2->len, ==, 0);
  g_string_free(t, TRUE);
}

static void
test_json(void)
{
  const char *text = "Join: https://meet.google.com/abc-defg-hij and https://zoom.us/j/123456789";
  g_autofree char *json = ar_link_find_links_json(text, strlen(text), NULL);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
  JsonArray *a = json_node_get_array(json_parser_get_root(parser));
  g_assert_cmpuint(json_array_get_length(a), ==, 2);
  JsonObject *o = json_array_get_object_element(a, 0);
  g_assert_true(json_object_get_boolean_member(o, "ok"));
  g_assert_cmpstr(json_object_get_string_member(o, "provider"), ==, "google-meet");
  g_autofree char *empty = ar_link_find_links_json("", 0, NULL);
  g_assert_cmpstr(empty, ==, "[]");
}

void
test_links_add_find_tests(void)
{
  g_test_add_func("/links/find/teams-html", test_teams_html);
  g_test_add_func("/links/find/zoom-text", test_zoom_text);
  g_test_add_func("/links/find/google-calendar", test_google_calendar);
  g_test_add_func("/links/find/google-calendar-redirect", test_google_calendar_redirect);
  g_test_add_func("/links/find/safelinks-html", test_safelinks_html);
  g_test_add_func("/links/find/punctuation", test_punctuation);
  g_test_add_func("/links/find/ranking", test_ranking);
  g_test_add_func("/links/find/duplicates", test_duplicates);
  g_test_add_func("/links/find/schemeless", test_schemeless);
  g_test_add_func("/links/find/quoted-printable", test_quoted_printable);
  g_test_add_func("/links/find/janus-and-policy", test_janus_and_policy);
  g_test_add_func("/links/find/nothing", test_nothing);
  g_test_add_func("/links/find/binary", test_binary);
  g_test_add_func("/links/find/limits", test_limits);
  g_test_add_func("/links/find/json", test_json);
}
