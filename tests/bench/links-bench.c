/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * links-bench.c: meeting-link throughput.
 *
 *   links-bench [--seconds S] [--json]
 *
 * "links parsed/s": ar_link_parse() over a fixed mix of real-looking links
 * (recognized, wrapped and refused ones), one link per call.
 * "invitations scanned/s": ar_link_find_all() over a fixed mix of
 * invitations (Teams HTML, Zoom text, Google Calendar, a SafeLinks-wrapped
 * Webex mail, a quoted-printable e-mail), one invitation per call.
 * Each measure runs for S seconds (default 1) of wall time, single thread.
 */
#include "ar-link.h"

#include <stdio.h>
#include <string.h>

static const char *const links[] = {
    "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09",
    "https://teams.microsoft.com/l/meetup-join/"
    "19%3ameeting_NzI0ZGQ5NjAtYjk0Ni00NGVmLWE1MzItYmE3ZTY4"
    "ZjQyNjIz%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22"
    "Oid%22%3a%223c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d",
    "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf12",
    "https://meet.google.com/abc-defg-hij",
    "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c",
    "https://meet.jit.si/WeeklyPlanningSync",
    "https://whereby.com/team-standup",
    "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fus02web.zoom.us%2Fj%2F"
    "81234567890%3Fpwd%3DabC&data=05%7C02%7Cjane%40acme.com%7C1a2b%7C0%7C0%7C638&sdata=Xy%3D&"
    "reserved=0",
    "janus+ws://10.97.0.1:8188/?room=1234&pin=42&display=Room%204",
    "sip:81234567890@zoomcrc.com",
    "https://call.lifesizecloud.com/1234567",
    "https://discord.gg/aBc123X",
    "https://zoom.us@evil.example/j/123456789",
    "https://teams.microsoft.com.evil.example/l/meetup-join/x/0",
    "https://help.webex.com/en-us/article/nqzqmaeb",
    "http://zoom.us/j/123456789",
};

#define TEAMS_JOIN                                                                                 \
  "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZDk4YTc2NjUtMmQ2Zi00OGFkLWFlYjYtMDk2"    \
  "NjY1ZmEzMmU1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22"   \
  "%2c%22Oid%22%3a%223c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d"

static const char *const invitations[] = {
    /* Teams, HTML */
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
    "href=\"https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=123456789\">"
    "Find a local number</a></div>"
    "<div>For organizers: <a "
    "href=\"https://teams.microsoft.com/meetingOptions/?organizerId=3c0e&amp;"
    "tenantId=72f9&amp;threadId=19_meeting_ZDk4@thread.v2&amp;messageId=0&amp;language=en-US\">"
    "Meeting options</a> | <a href=\"https://dialin.teams.microsoft.com/usp/pstnconferencing\">"
    "Reset dial-in PIN</a></div>"
    "<div><a href=\"https://aka.ms/JoinTeamsMeeting\">Learn more</a></div></div></body></html>",
    /* Zoom, text */
    "Jane Doe is inviting you to a scheduled Zoom meeting.\r\n\r\n"
    "Topic: Quarterly review\r\nTime: Mar 3, 2025 10:00 AM Pacific Time (US and Canada)\r\n\r\n"
    "Join Zoom Meeting\r\n"
    "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09\r\n\r\n"
    "Meeting ID: 812 3456 7890\r\nPasscode: 123456\r\n\r\n---\r\n\r\n"
    "One tap mobile\r\n+16699006833,,81234567890#,,,,*123456# US (San Jose)\r\n\r\n"
    "Dial by your location\r\n+1 669 900 6833 US (San Jose)\r\n"
    "Find your local number: https://us02web.zoom.us/u/kbAbCdEfGh\r\n\r\n"
    "Join by SIP\r\n81234567890@zoomcrc.com\r\n\r\n"
    "Join by H.323\r\n162.255.37.11 (US West)\r\n",
    /* Google Calendar */
    "Weekly sync\nJoin with Google Meet: https://meet.google.com/abc-defg-hij\n"
    "Or dial: (US) +1 505-555-0123 PIN: 123456789#\n"
    "More phone numbers: https://tel.meet/abc-defg-hij?pin=1234567890123\n"
    "Learn more about Meet at: https://support.google.com/a/users/answer/9282720\n"
    "Invitation from Google Calendar: https://www.google.com/calendar/\n"
    "You are receiving this email because you are an attendee of the event.\n",
    /* SafeLinks-wrapped Webex, HTML */
    "<p>Hello,</p><p>Join: <a "
    "href=\"https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F"
    "%2Facme.webex.com%2Facme%2Fj.php%3FMTID%3Dm2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c&amp;data=05%7C02"
    "%7C%7Cabc%7C0%7C0%7C638&amp;sdata=AbC%3D&amp;reserved=0\" originalsrc=\"https://acme.webex."
    "com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c\">Join meeting</a></p>"
    "<p>Meeting number: 2630 123 4567</p><p>Password: Abc123</p>"
    "<p>Join by video system: Dial 26301234567@acme.webex.com</p>"
    "<p><a href=\"https://help.webex.com/en-us/article/nqzqmaeb\">Help</a></p>",
    /* raw e-mail, quoted-printable */
    "From: Jane <jane@acme.example>\r\nSubject: Sync\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=\"utf-8\"\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "<p>Hi all,</p><a "
    "href=3D\"https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v"
    "2/0?cont=\r\next=3D%7b%7d\">Join the meeting now</a>\r\n<p>See you!</p>\r\n",
};

static double
run_links(double seconds, guint64 *count)
{
  gint64 start = g_get_monotonic_time();
  gint64 deadline = start + (gint64)(seconds * G_USEC_PER_SEC);
  guint64 n = 0;
  gint64 now;
  do {
    for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
      ArLink *l = ar_link_parse(links[i], NULL, NULL);
      ar_link_free(l);
    }
    n += G_N_ELEMENTS(links);
    now = g_get_monotonic_time();
  } while (now < deadline);
  *count = n;
  return (double)(now - start) / G_USEC_PER_SEC;
}

static double
run_invitations(double seconds, guint64 *count, gsize *bytes)
{
  gsize lens[G_N_ELEMENTS(invitations)];
  for (gsize i = 0; i < G_N_ELEMENTS(invitations); i++)
    lens[i] = strlen(invitations[i]);
  gint64 start = g_get_monotonic_time();
  gint64 deadline = start + (gint64)(seconds * G_USEC_PER_SEC);
  guint64 n = 0;
  gsize b = 0;
  gint64 now;
  do {
    for (gsize i = 0; i < G_N_ELEMENTS(invitations); i++) {
      GPtrArray *found = ar_link_find_all(invitations[i], lens[i], NULL);
      if (found->len == 0)
        g_error("links-bench: invitation %" G_GSIZE_FORMAT " has no link", i);
      g_ptr_array_unref(found);
      b += lens[i];
    }
    n += G_N_ELEMENTS(invitations);
    now = g_get_monotonic_time();
  } while (now < deadline);
  *count = n;
  *bytes = b;
  return (double)(now - start) / G_USEC_PER_SEC;
}

int
main(int argc, char **argv)
{
  double seconds = 1.0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds per measure (default 1)", "S"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL},
      {NULL},
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- meeting-link throughput");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || seconds <= 0 || seconds > 600) {
    fprintf(stderr, "links-bench: %s\n", error ? error->message : "bad --seconds");
    return 2;
  }

  guint64 nl = 0, ni = 0;
  gsize bytes = 0;
  double tl = run_links(seconds, &nl);
  double ti = run_invitations(seconds, &ni, &bytes);
  double lps = nl / tl, ips = ni / ti, mbs = bytes / ti / 1e6;

  if (json)
    printf("{\"links_parsed_per_s\": %.0f, \"invitations_scanned_per_s\": %.0f, "
           "\"invitation_mb_per_s\": %.1f}\n",
           lps, ips, mbs);
  else
    printf("links parsed/s          %12.0f\ninvitations scanned/s   %12.0f   (%.1f MB/s)\n", lps,
           ips, mbs);
  return 0;
}
