/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-links-providers.c: every meeting service, with real-looking links.
 * One GTest path per case: /links/<provider>/<case>.
 */
#include "test-links.h"

#include <string.h>

typedef struct {
  const char *path;
  const char *link;
  const char *provider;
  ArEngine engine;
  const char *meeting_id;
  const char *passcode;
  const char *join_url;
  const char *sip_uri;
} OkCase;

typedef struct {
  const char *path;
  const char *link;
  int code;
} BadCase;

#define W AR_ENGINE_WEB
#define S AR_ENGINE_SIP

static const char *const jitsi_domains[] = {"meet.example.org", "*.jitsi.example.net", NULL};
static const char *const pexip_domains[] = {"video.example.com", NULL};
static const ArLinkPolicy policy = {
    .jitsi_domains = jitsi_domains,
    .pexip_domains = pexip_domains,
};

#define TEAMS_THREAD "19%3ameeting_NzI0ZGQ5NjAtYjk0Ni00NGVmLWE1MzItYmE3ZTY4ZjQyNjIz%40thread.v2"
#define TEAMS_CTX                                                                                  \
  "context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22"            \
  "3c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d"
#define TEAMS_URL "https://teams.microsoft.com/l/meetup-join/" TEAMS_THREAD "/0?" TEAMS_CTX

static const OkCase ok_cases[] = {
    /* Microsoft Teams */
    {"/links/teams/meetup-join", TEAMS_URL, "teams", W, NULL, NULL, TEAMS_URL "&anon=true", NULL},
    {"/links/teams/meetup-join-anon-kept", TEAMS_URL "&anon=true", "teams", W, NULL, NULL,
     TEAMS_URL "&anon=true", NULL},
    {"/links/teams/meetup-join-unencoded",
     "https://teams.microsoft.com/l/meetup-join/19:meeting_YmQ2@thread.v2/0?context=%7b%7d",
     "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/19:meeting_YmQ2@thread.v2/"
     "0?context=%7b%7d&anon=true",
     NULL},
    {"/links/teams/meetup-join-thread-skype",
     "https://teams.microsoft.com/l/meetup-join/"
     "19%3a900876baa3134907b0dcb41a0d220e31%40thread.skype/"
     "1501527539926?tenantId=dcd219dd-bc68-4b9b-bf0b-4a33a796be35",
     "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/"
     "19%3a900876baa3134907b0dcb41a0d220e31%40thread.skype/"
     "1501527539926?tenantId=dcd219dd-bc68-4b9b-bf0b-4a33a796be35&anon=true",
     NULL},
    {"/links/teams/meet-id-passcode", "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf12",
     "teams", W, "2345678901234", "AbCdEf12",
     "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf12&anon=true", NULL},
    {"/links/teams/live-meet", "https://teams.live.com/meet/9312345678901?p=QwErTy", "teams", W,
     "9312345678901", "QwErTy", "https://teams.live.com/meet/9312345678901?p=QwErTy&anon=true",
     NULL},
    {"/links/teams/gcc-high",
     "https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_abc123%40thread.v2/"
     "0?context=%7b%7d",
     "teams", W, NULL, NULL,
     "https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_abc123%40thread.v2/0?context=%7b%7d"
     "&anon=true",
     NULL},
    {"/links/teams/dod", "https://dod.teams.microsoft.us/meet/2345678901234", "teams", W,
     "2345678901234", NULL, "https://dod.teams.microsoft.us/meet/2345678901234?anon=true", NULL},
    {"/links/teams/app-scheme",
     "msteams:/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d", "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d"
     "&anon=true",
     NULL},
    {"/links/teams/hash-route",
     "https://teams.microsoft.com/_#/l/meetup-join/19:meeting_abc@thread.v2/0?context=%7b%7d",
     "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/19:meeting_abc@thread.v2/"
     "0?context=%7b%7d&anon=true",
     NULL},
    {"/links/teams/v2-route",
     "https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/19:meeting_abc@thread.v2/0",
     "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/19:meeting_abc@thread.v2/0?anon=true", NULL},
    {"/links/teams/launcher",
     "https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3A"
     "meeting_abc%40thread.v2%2F0%3Fcontext%3D%257b%257d%26anon%3Dtrue&type=meetup-join&deeplinkId="
     "x&directDl=true&msLaunch=true&enableMobilePage=true&suppressPrompt=true",
     "teams", W, NULL, NULL,
     "https://teams.microsoft.com/l/meetup-join/19:meeting_abc@thread.v2/"
     "0?context=%7b%7d&anon=true",
     NULL},
    {"/links/teams/explicit-443", "https://teams.microsoft.com:443/meet/2345678901234", "teams", W,
     "2345678901234", NULL, "https://teams.microsoft.com/meet/2345678901234?anon=true", NULL},

    /* Webex */
    {"/links/webex/personal-room", "https://acme.webex.com/meet/jdoe", "webex", W, "jdoe", NULL,
     "https://acme.webex.com/meet/jdoe", "sip:jdoe@acme.webex.com"},
    {"/links/webex/personal-room-join", "https://acme.webex.com/join/jane.doe", "webex", W,
     "jane.doe", NULL, "https://acme.webex.com/join/jane.doe", "sip:jane.doe@acme.webex.com"},
    {"/links/webex/j-php-mtid",
     "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c", "webex", W, NULL,
     NULL, "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c", NULL},
    {"/links/webex/joinservice",
     "https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/"
     "1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d?siteurl=acme&MTID=m2e0b4c7a3f5d6e8b",
     "webex", W, NULL, NULL,
     "https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/"
     "1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d?siteurl=acme&MTID=m2e0b4c7a3f5d6e8b",
     NULL},
    {"/links/webex/sip", "sip:jdoe@acme.webex.com", "webex", S, "jdoe", NULL,
     "sip:jdoe@acme.webex.com", "sip:jdoe@acme.webex.com"},

    /* Zoom */
    {"/links/zoom/j-pwd", "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09",
     "zoom", W, "81234567890", "Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09",
     "https://us02web.zoom.us/wc/join/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09",
     "sip:81234567890@zoomcrc.com"},
    {"/links/zoom/j-plain", "https://zoom.us/j/123456789", "zoom", W, "123456789", NULL,
     "https://app.zoom.us/wc/join/123456789", "sip:123456789@zoomcrc.com"},
    {"/links/zoom/j-fragment", "https://zoom.us/j/1234567890#success", "zoom", W, "1234567890",
     NULL, "https://app.zoom.us/wc/join/1234567890", "sip:1234567890@zoomcrc.com"},
    {"/links/zoom/vanity", "https://acme.zoom.us/j/98765432101?pwd=abc.1", "zoom", W, "98765432101",
     "abc.1", "https://acme.zoom.us/wc/join/98765432101?pwd=abc.1", "sip:98765432101@zoomcrc.com"},
    {"/links/zoom/j-registrant", "https://us06web.zoom.us/j/81234567890?tk=AbC.dEf-1&pwd=xYz",
     "zoom", W, "81234567890", "xYz",
     "https://us06web.zoom.us/wc/join/81234567890?tk=AbC.dEf-1&pwd=xYz",
     "sip:81234567890@zoomcrc.com"},
    {"/links/zoom/my", "https://zoom.us/my/jane.doe", "zoom", W, NULL, NULL,
     "https://zoom.us/my/jane.doe", NULL},
    {"/links/zoom/webinar-w", "https://us06web.zoom.us/w/81122233344?tk=AbC-dEf.123&pwd=xYz",
     "zoom", W, "81122233344", "xYz",
     "https://us06web.zoom.us/wc/join/81122233344?tk=AbC-dEf.123&pwd=xYz", NULL},
    {"/links/zoom/wc-join", "https://app.zoom.us/wc/join/81234567890?pwd=abc", "zoom", W,
     "81234567890", "abc", "https://app.zoom.us/wc/join/81234567890?pwd=abc",
     "sip:81234567890@zoomcrc.com"},
    {"/links/zoom/zoomgov", "https://acme.zoomgov.com/j/1612345678?pwd=Q2Fs", "zoom", W,
     "1612345678", "Q2Fs", "https://acme.zoomgov.com/wc/join/1612345678?pwd=Q2Fs", NULL},
    {"/links/zoom/zoommtg", "zoommtg://zoom.us/join?action=join&confno=81234567890&pwd=abc", "zoom",
     W, "81234567890", "abc", "https://app.zoom.us/wc/join/81234567890?pwd=abc",
     "sip:81234567890@zoomcrc.com"},
    {"/links/zoom/zoomus", "zoomus://us02web.zoom.us/join?confno=123456789", "zoom", W, "123456789",
     NULL, "https://app.zoom.us/wc/join/123456789", "sip:123456789@zoomcrc.com"},
    {"/links/zoom/sip", "sip:81234567890@zoomcrc.com", "zoom", S, "81234567890", NULL,
     "sip:81234567890@zoomcrc.com", "sip:81234567890@zoomcrc.com"},
    {"/links/zoom/trailing-dot-host", "https://zoom.us./j/123456789", "zoom", W, "123456789", NULL,
     "https://app.zoom.us/wc/join/123456789", "sip:123456789@zoomcrc.com"},
    {"/links/zoom/uppercase-host", "HTTPS://US02WEB.ZOOM.US/j/123456789", "zoom", W, "123456789",
     NULL, "https://us02web.zoom.us/wc/join/123456789", "sip:123456789@zoomcrc.com"},

    /* Google Meet */
    {"/links/google-meet/code", "https://meet.google.com/abc-defg-hij", "google-meet", W,
     "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/google-meet/params-dropped", "https://meet.google.com/abc-defg-hij?authuser=1&hs=122",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/google-meet/no-dashes", "https://meet.google.com/ABCDEFGHIJ", "google-meet", W,
     "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/google-meet/lookup", "https://meet.google.com/lookup/teamsync", "google-meet", W, NULL,
     NULL, "https://meet.google.com/lookup/teamsync", NULL},
    {"/links/google-meet/g-co", "https://g.co/meet/standup", "google-meet", W, NULL, NULL,
     "https://meet.google.com/lookup/standup", NULL},

    /* Jitsi */
    {"/links/jitsi/meet-jit-si", "https://meet.jit.si/WeeklyPlanningSync", "jitsi", W,
     "WeeklyPlanningSync", NULL, "https://meet.jit.si/WeeklyPlanningSync", NULL},
    {"/links/jitsi/unicode-room", "https://meet.jit.si/R%C3%A9union%20hebdo", "jitsi", W,
     "R\xc3\xa9union hebdo", NULL, "https://meet.jit.si/R%C3%A9union%20hebdo", NULL},
    {"/links/jitsi/fragment-config-dropped",
     "https://meet.jit.si/MyRoom#config.startWithAudioMuted=true&config.p2p.enabled=false", "jitsi",
     W, "MyRoom", NULL, "https://meet.jit.si/MyRoom", NULL},
    {"/links/jitsi/8x8-tenant", "https://8x8.vc/vpaas-magic-cookie-1fc542a3/SampleAppRoom", "jitsi",
     W, "SampleAppRoom", NULL, "https://8x8.vc/vpaas-magic-cookie-1fc542a3/SampleAppRoom", NULL},
    {"/links/jitsi/jwt",
     "https://meet.jit.si/MyRoom?jwt=eyJhbGciOiJSUzI1NiJ9.eyJyb29tIjoiKiJ9.c2ln", "jitsi", W,
     "MyRoom", NULL, "https://meet.jit.si/MyRoom?jwt=eyJhbGciOiJSUzI1NiJ9.eyJyb29tIjoiKiJ9.c2ln",
     NULL},
    {"/links/jitsi/self-hosted", "https://meet.example.org/board-meeting", "jitsi", W,
     "board-meeting", NULL, "https://meet.example.org/board-meeting", NULL},
    {"/links/jitsi/self-hosted-wildcard", "https://video.jitsi.example.net/tenant/room42", "jitsi",
     W, "room42", NULL, "https://video.jitsi.example.net/tenant/room42", NULL},
    {"/links/jitsi/app-scheme", "org.jitsi.meet://meet.jit.si/MyRoom", "jitsi", W, "MyRoom", NULL,
     "https://meet.jit.si/MyRoom", NULL},

    /* Whereby */
    {"/links/whereby/room", "https://whereby.com/team-standup", "whereby", W, "team-standup", NULL,
     "https://whereby.com/team-standup", NULL},
    {"/links/whereby/subdomain", "https://acme.whereby.com/support-room-3f1a2b", "whereby", W,
     "support-room-3f1a2b", NULL, "https://acme.whereby.com/support-room-3f1a2b", NULL},
    {"/links/whereby/appear-in", "https://appear.in/oldroom", "whereby", W, "oldroom", NULL,
     "https://whereby.com/oldroom", NULL},

    /* GoTo */
    {"/links/gotomeeting/global-join", "https://global.gotomeeting.com/join/123456789",
     "gotomeeting", W, "123456789", NULL, "https://meet.goto.com/123456789", NULL},
    {"/links/gotomeeting/meet-goto", "https://meet.goto.com/987654321", "gotomeeting", W,
     "987654321", NULL, "https://meet.goto.com/987654321", NULL},
    {"/links/gotomeeting/app-meetingid", "https://app.gotomeeting.com/?meetingId=123456789",
     "gotomeeting", W, "123456789", NULL, "https://meet.goto.com/123456789", NULL},
    {"/links/gotomeeting/personal-room", "https://gotomeet.me/JaneDoe", "gotomeeting", W, NULL,
     NULL, "https://gotomeet.me/JaneDoe", NULL},
    {"/links/gotowebinar/join", "https://global.gotowebinar.com/join/1234567890123456789/987654321",
     "gotowebinar", W, "1234567890123456789", NULL,
     "https://global.gotowebinar.com/join/1234567890123456789/987654321", NULL},

    /* Amazon Chime */
    {"/links/chime/short", "https://chime.aws/1234567890", "chime", W, "1234567890", NULL,
     "https://app.chime.aws/meetings/1234567890", NULL},
    {"/links/chime/app-pin", "https://app.chime.aws/meetings/?pin=1234567890", "chime", W,
     "1234567890", NULL, "https://app.chime.aws/meetings/1234567890", NULL},

    /* RingCentral */
    {"/links/ringcentral/video", "https://v.ringcentral.com/join/123456789?pw=a1b2c3d4",
     "ringcentral", W, "123456789", "a1b2c3d4",
     "https://v.ringcentral.com/join/123456789?pw=a1b2c3d4", NULL},
    {"/links/ringcentral/meetings", "https://meetings.ringcentral.com/j/1481234567", "ringcentral",
     W, "1481234567", NULL, "https://meetings.ringcentral.com/j/1481234567", NULL},

    /* BlueJeans */
    {"/links/bluejeans/id", "https://bluejeans.com/123456789", "bluejeans", W, "123456789", NULL,
     "https://bluejeans.com/123456789", "sip:123456789@sip.bluejeans.com"},
    {"/links/bluejeans/id-passcode", "https://bluejeans.com/123456789/4321", "bluejeans", W,
     "123456789", "4321", "https://bluejeans.com/123456789/4321",
     "sip:123456789.4321@sip.bluejeans.com"},
    {"/links/bluejeans/sip", "sip:123456789.4321@sip.bluejeans.com", "bluejeans", S, "123456789",
     "4321", "sip:123456789.4321@sip.bluejeans.com", "sip:123456789.4321@sip.bluejeans.com"},

    /* the others */
    {"/links/vonage/meeting", "https://meetings.vonage.com/123456789", "vonage", W, "123456789",
     NULL, "https://meetings.vonage.com/123456789", NULL},
    {"/links/skype/meet-now", "https://join.skype.com/aBcDeFgHiJkL", "skype", W, "aBcDeFgHiJkL",
     NULL, "https://join.skype.com/aBcDeFgHiJkL", NULL},
    {"/links/slack/huddle", "https://app.slack.com/huddle/T01ABCDEF/C02GHIJKL", "slack", W, NULL,
     NULL, "https://app.slack.com/huddle/T01ABCDEF/C02GHIJKL", NULL},
    {"/links/discord/invite", "https://discord.gg/aBc123X", "discord", W, "aBc123X", NULL,
     "https://discord.com/invite/aBc123X", NULL},
    {"/links/discord/channel", "https://discord.com/channels/123456789012345678/234567890123456789",
     "discord", W, NULL, NULL, "https://discord.com/channels/123456789012345678/234567890123456789",
     NULL},
    {"/links/lifesize/extension", "https://call.lifesizecloud.com/1234567", "lifesize", W,
     "1234567", NULL, "https://call.lifesizecloud.com/1234567", "sip:1234567@lifesizecloud.com"},
    {"/links/starleaf/meeting", "https://meet.starleaf.com/4012345678", "starleaf", W, "4012345678",
     NULL, "https://meet.starleaf.com/4012345678", "sip:4012345678@call.sl"},
    {"/links/dialpad/room", "https://meetings.dialpad.com/room/acme-sales", "dialpad", W,
     "acme-sales", NULL, "https://meetings.dialpad.com/room/acme-sales", NULL},
    {"/links/dialpad/uberconference", "https://uberconference.com/janedoe", "dialpad", W, "janedoe",
     NULL, "https://uberconference.com/janedoe", NULL},
    {"/links/livestorm/live",
     "https://app.livestorm.co/p/5b0c6d34-1a2b-4c3d-8e9f-0a1b2c3d4e5f/live?s=8f7e6d5c-4b3a-2910",
     "livestorm", W, NULL, NULL,
     "https://app.livestorm.co/p/5b0c6d34-1a2b-4c3d-8e9f-0a1b2c3d4e5f/live?s=8f7e6d5c-4b3a-2910",
     NULL},
    {"/links/pexip/webapp-m", "https://video.example.com/webapp/m/meet.alice?pin=1234", "pexip", W,
     "meet.alice", "1234", "https://video.example.com/webapp/m/meet.alice?pin=1234",
     "sip:meet.alice@video.example.com"},
    {"/links/pexip/legacy-conference",
     "https://video.example.com/webapp/?conference=vmr42&pin=9876", "pexip", W, "vmr42", "9876",
     "https://video.example.com/webapp/m/vmr42?pin=9876", "sip:vmr42@video.example.com"},
    {"/links/pexip/sip", "sip:vmr42@video.example.com", "pexip", S, "vmr42", NULL,
     "sip:vmr42@video.example.com", "sip:vmr42@video.example.com"},
    {"/links/zoho-meeting/join", "https://meeting.zoho.eu/join?key=1032505512", "zoho-meeting", W,
     "1032505512", NULL, "https://meeting.zoho.eu/join?key=1032505512", NULL},
    {"/links/tencent-meeting/dm", "https://meeting.tencent.com/dm/aBcD1234eFgH", "tencent-meeting",
     W, NULL, NULL, "https://meeting.tencent.com/dm/aBcD1234eFgH", NULL},
    {"/links/tencent-meeting/voov", "https://voovmeeting.com/p/1234567890", "tencent-meeting", W,
     "1234567890", NULL, "https://voovmeeting.com/p/1234567890", NULL},
    {"/links/lark/larksuite", "https://vc.larksuite.com/j/123456789", "lark", W, "123456789", NULL,
     "https://vc.larksuite.com/j/123456789", NULL},
    {"/links/lark/feishu", "https://vc.feishu.cn/j/987654321", "lark", W, "987654321", NULL,
     "https://vc.feishu.cn/j/987654321", NULL},
    {"/links/adobe-connect/room", "https://meet71234567.adobeconnect.com/quarterly-review",
     "adobe-connect", W, NULL, NULL, "https://meet71234567.adobeconnect.com/quarterly-review",
     NULL},
    {"/links/clickmeeting/room", "https://acme.clickmeeting.com/product-demo", "clickmeeting", W,
     NULL, NULL, "https://acme.clickmeeting.com/product-demo", NULL},
    {"/links/join-me/room", "https://join.me/janedoe", "join-me", W, NULL, NULL,
     "https://join.me/janedoe", NULL},
    {"/links/gather/space", "https://app.gather.town/app/AbCd1234EfGh/Acme%20Office", "gather", W,
     NULL, NULL, "https://app.gather.town/app/AbCd1234EfGh/Acme%20Office", NULL},
    {"/links/facetime/join",
     "https://facetime.apple.com/join#v=1&p=AeXn5AKuEe2v3wJCrBEAAA&k=abcDEF", "facetime", W, NULL,
     NULL, "https://facetime.apple.com/join#v=1&p=AeXn5AKuEe2v3wJCrBEAAA&k=abcDEF", NULL},
    {"/links/daily/room", "https://acme.daily.co/hello-world", "daily", W, NULL, NULL,
     "https://acme.daily.co/hello-world", NULL},
    {"/links/talky/room", "https://talky.io/teamsync", "talky", W, NULL, NULL,
     "https://talky.io/teamsync", NULL},
    {"/links/avaya-spaces/space", "https://spaces.avayacloud.com/spaces/5f1e2d3c4b5a69788796a5b4",
     "avaya-spaces", W, "5f1e2d3c4b5a69788796a5b4", NULL,
     "https://spaces.avayacloud.com/spaces/5f1e2d3c4b5a69788796a5b4", NULL},
    {"/links/airmeet/event", "https://www.airmeet.com/e/3c1b9f70-1d2e-11ef-9a2b-0f1e2d3c4b5a",
     "airmeet", W, "3c1b9f70-1d2e-11ef-9a2b-0f1e2d3c4b5a", NULL,
     "https://www.airmeet.com/e/3c1b9f70-1d2e-11ef-9a2b-0f1e2d3c4b5a", NULL},
    {"/links/on24/event", "https://event.on24.com/wcc/r/4123456/0A1B2C3D4E5F60718293A4B5C6D7E8F9",
     "on24", W, "4123456", NULL,
     "https://event.on24.com/wcc/r/4123456/0A1B2C3D4E5F60718293A4B5C6D7E8F9", NULL},
    {"/links/riverside/studio", "https://riverside.fm/studio/the-acme-podcast?t=8b2f1c",
     "riverside", W, NULL, NULL, "https://riverside.fm/studio/the-acme-podcast?t=8b2f1c", NULL},
    {"/links/streamyard/guest", "https://streamyard.com/ab12cd34ef", "streamyard", W, "ab12cd34ef",
     NULL, "https://streamyard.com/ab12cd34ef", NULL},
    {"/links/livekit/room", "https://meet.livekit.io/rooms/team-sync#e2ee-passphrase", "livekit", W,
     "team-sync", NULL, "https://meet.livekit.io/rooms/team-sync#e2ee-passphrase", NULL},
    {"/links/kmeet/room", "https://kmeet.infomaniak.com/abcdefghij", "kmeet", W, "abcdefghij", NULL,
     "https://kmeet.infomaniak.com/abcdefghij", NULL},
    {"/links/demio/ref", "https://event.demio.com/ref/AbCdEfGh1234", "demio", W, "AbCdEfGh1234",
     NULL, "https://event.demio.com/ref/AbCdEfGh1234", NULL},
    {"/links/blackboard-collaborate/guest",
     "https://us.bbcollab.com/guest/0f1e2d3c4b5a69788796a5b4c3d2e1f0", "blackboard-collaborate", W,
     "0f1e2d3c4b5a69788796a5b4c3d2e1f0", NULL,
     "https://us.bbcollab.com/guest/0f1e2d3c4b5a69788796a5b4c3d2e1f0", NULL},
    {"/links/zhumu/j", "https://welink.zhumu.com/j/123456789?pwd=aBc123", "zhumu", W, "123456789",
     "aBc123", "https://welink.zhumu.com/j/123456789?pwd=aBc123", NULL},
    {"/links/pumble/room", "https://meet.pumble.com/abc-defg-hij", "pumble", W, "abc-defg-hij",
     NULL, "https://meet.pumble.com/abc-defg-hij", NULL},
    {"/links/cal-video/room", "https://app.cal.com/video/aBcDeFgH1234iJkL", "cal-video", W,
     "aBcDeFgH1234iJkL", NULL, "https://app.cal.com/video/aBcDeFgH1234iJkL", NULL},
    {"/links/doxy-me/room", "https://doxy.me/drsmith", "doxy-me", W, NULL, NULL,
     "https://doxy.me/drsmith", NULL},

    /* mail-scanner wrappers */
    {"/links/wrappers/safelinks",
     "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fus02web.zoom.us%2Fj%2F"
     "81234567890%3Fpwd%3DabC&data=05%7C02%7Cjane%40acme.com%7C1a2b%7C0%7C0%7C638&sdata=Xy%3D&"
     "reserved=0",
     "zoom", W, "81234567890", "abC", "https://us02web.zoom.us/wc/join/81234567890?pwd=abC",
     "sip:81234567890@zoomcrc.com"},
    {"/links/wrappers/safelinks-gcc",
     "https://gcc02.safelinks.protection.office365.us/?url=https%3A%2F%2Fmeet.google.com%2F"
     "abc-defg-hij&data=x",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/wrappers/proofpoint-v2",
     "https://urldefense.proofpoint.com/v2/"
     "url?u=https-3A__zoom.us_j_123456789-3Fpwd-3Dabc&d=DwMFaQ&"
     "c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=x&m=y&s=z&e=",
     "zoom", W, "123456789", "abc", "https://app.zoom.us/wc/join/123456789?pwd=abc",
     "sip:123456789@zoomcrc.com"},
    {"/links/wrappers/proofpoint-v3",
     "https://urldefense.com/v3/__https://meet.google.com/abc-defg-hij__;!!ACWV5N9M2RV99hQ!abc$",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/wrappers/proofpoint-v3-star",
     "https://urldefense.com/v3/__https://zoom.us/j/123456789*pwd=abc__;Pw!!ACWV5N9M2RV99hQ!x$",
     "zoom", W, "123456789", "abc", "https://app.zoom.us/wc/join/123456789?pwd=abc",
     "sip:123456789@zoomcrc.com"},
    {"/links/wrappers/google-calendar",
     "https://www.google.com/url?q=https://meet.google.com/abc-defg-hij&sa=D&source=calendar&usd=2",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/wrappers/barracuda",
     "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fmeet.jit.si%2fStandup&c=E,1,abc&typo=1",
     "jitsi", W, "Standup", NULL, "https://meet.jit.si/Standup", NULL},
    {"/links/wrappers/trendmicro",
     "https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=https%3a%2f%2fzoom.us%2fj%2f"
     "123456789&umid=abc&auth=def",
     "zoom", W, "123456789", NULL, "https://app.zoom.us/wc/join/123456789",
     "sip:123456789@zoomcrc.com"},
    {"/links/wrappers/sophos",
     "https://eu-central-1.protection.sophos.com?d=zoom.us&u=aHR0cHM6Ly96b29tLnVzL2ovMTIzNDU2Nzg5&"
     "i=abc&t=def&h=ghi",
     "zoom", W, "123456789", NULL, "https://app.zoom.us/wc/join/123456789",
     "sip:123456789@zoomcrc.com"},
    {"/links/wrappers/cisco",
     "https://secure-web.cisco.com/1AbCdEf-GhIjK/https%3A%2F%2Fmeet.google.com%2Fabc-defg-hij",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
    {"/links/wrappers/nested",
     "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3D"
     "https%3A%2F%2Fmeet.google.com%2Fabc-defg-hij%26sa%3DD&data=x",
     "google-meet", W, "abc-defg-hij", NULL, "https://meet.google.com/abc-defg-hij", NULL},
};

static const BadCase bad_cases[] = {
    /* lookalikes and tricks */
    {"/links/hostile/suffix-lookalike",
     "https://teams.microsoft.com.evil.example/l/meetup-join/x/0", AR_LINK_ERROR_HOST},
    {"/links/hostile/prefix-lookalike", "https://evilzoom.us/j/123456789", AR_LINK_ERROR_HOST},
    {"/links/hostile/userinfo-zoom", "https://zoom.us@evil.example/j/123456789",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/userinfo-password", "https://zoom.us:443@evil.example/j/123456789",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/idn-homograph", "https://meet.g\xd0\xbe\xd0\xbegle.com/abc-defg-hij",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/punycode", "https://meet.xn--ggle-55da.com/abc-defg-hij", AR_LINK_ERROR_HOST},
    {"/links/hostile/http", "http://zoom.us/j/123456789", AR_LINK_ERROR_SCHEME},
    {"/links/hostile/wrong-port", "https://zoom.us:8443/j/123456789", AR_LINK_ERROR_INVALID},
    {"/links/hostile/port-on-app-scheme", "zoommtg://zoom.us:99/join?confno=123456789",
     AR_LINK_ERROR_INVALID},
    {"/links/hostile/encoded-host", "https://zoom%2eus/j/123456789", AR_LINK_ERROR_HOST},
    {"/links/hostile/wrapper-to-evil",
     "https://nam12.safelinks.protection.outlook.com/"
     "?url=https%3A%2F%2Fevil.example%2Fj%2F1&data=x",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/wrapper-to-lookalike",
     "https://www.google.com/url?q=https://zoom.us.evil.example/j/123456789", AR_LINK_ERROR_HOST},
    {"/links/hostile/wrapper-to-userinfo",
     "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us%40evil.example%2Fj",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/wrapper-to-javascript",
     "https://nam12.safelinks.protection.outlook.com/?url=javascript%3Aalert(1)",
     AR_LINK_ERROR_SCHEME},
    {"/links/hostile/wrapper-loop",
     "https://www.google.com/url?q=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%253A%252F%252F"
     "www.google.com%252Furl%253Fq%253Dhttps%25253A%25252F%25252Fwww.google.com%25252Furl%25253Fq"
     "%25253Dhttps%2525253A%2525252F%2525252Fzoom.us%2525252Fj%2525252F123456789",
     AR_LINK_ERROR_INVALID},
    {"/links/hostile/mimecast", "https://protect-eu.mimecast.com/s/AbCdEfGh?domain=zoom.us",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/hostile/teams-launcher-absolute",
     "https://teams.microsoft.com/dl/launcher/launcher.html?url=https%3A%2F%2Fevil.example",
     AR_LINK_ERROR_INVALID},
    {"/links/hostile/teams-launcher-protocol-relative",
     "https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F%2Fevil.example%2F",
     AR_LINK_ERROR_INVALID},
    {"/links/hostile/double-param", "https://zoom.us/j/123456789?pwd=a&pwd=b",
     AR_LINK_ERROR_INVALID},
    {"/links/hostile/encoded-slash-room", "https://meet.jit.si/..%2Fconfig.js",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/hostile/jitsi-reserved", "https://meet.jit.si/static", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/hostile/unconfigured-pexip", "https://pexip.example.net/webapp/m/alice",
     AR_LINK_ERROR_HOST},
    {"/links/hostile/unknown-sip", "sip:alice@evil.example", AR_LINK_ERROR_HOST},
    {"/links/hostile/sip-ip", "sip:123@10.0.0.1", AR_LINK_ERROR_HOST},
    /* known services, not join links */
    {"/links/zoom/start-refused", "https://zoom.us/s/123456789?zak=abc", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/zoom/register-refused", "https://us02web.zoom.us/meeting/register/tZ0kc-abc",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/zoom/find-number-refused", "https://us02web.zoom.us/u/kbAbCdEf",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/zoom/short-id", "https://zoom.us/j/12345", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/zoom/zoommtg-without-confno", "zoommtg://zoom.us/join?action=join",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/teams/meeting-options-refused",
     "https://teams.microsoft.com/meetingOptions/?organizerId=abc&tenantId=def&threadId=19_meeting",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/teams/new-meeting-refused", "https://teams.microsoft.com/l/meeting/new?subject=x",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/teams/bad-thread", "https://teams.microsoft.com/l/meetup-join/20%3aabc%40evil/0",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/teams/help-refused", "https://aka.ms/JoinTeamsMeeting", AR_LINK_ERROR_HOST},
    {"/links/webex/help-refused", "https://help.webex.com/en-us/article/nqzqmaeb",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/webex/site-home-refused", "https://acme.webex.com/acme/", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/google-meet/new-refused", "https://meet.google.com/new", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/google-meet/bad-code", "https://meet.google.com/abc-defg-hi",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/google-meet/support-refused", "https://support.google.com/a/users/answer/9282720",
     AR_LINK_ERROR_HOST},
    {"/links/whereby/pricing-refused", "https://whereby.com/pricing", AR_LINK_ERROR_UNSUPPORTED},
    {"/links/gotowebinar/register-refused", "https://attendee.gotowebinar.com/register/123456789",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/livestorm/registration-refused", "https://app.livestorm.co/acme/product-launch",
     AR_LINK_ERROR_UNSUPPORTED},
    {"/links/clickmeeting/www-refused", "https://www.clickmeeting.com/pricing", AR_LINK_ERROR_HOST},
};

static const OkCase *
find_ok(const char *path)
{
  for (gsize i = 0; i < G_N_ELEMENTS(ok_cases); i++)
    if (strcmp(ok_cases[i].path, path) == 0)
      return &ok_cases[i];
  return NULL;
}

static void
run_ok(gconstpointer data)
{
  const OkCase *c = data;
  check_link(c->link, &policy, c->provider, c->engine, c->meeting_id, c->passcode, c->join_url,
             c->sip_uri);
  /* The join URL of a web link is itself a link of the same provider. */
  if (c->engine == AR_ENGINE_WEB) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ArLink) again = ar_link_parse(c->join_url, &policy, &error);
    g_assert_no_error(error);
    if (again != NULL)
      g_assert_cmpstr(again->provider, ==, c->provider);
  }
}

static void
run_bad(gconstpointer data)
{
  const BadCase *c = data;
  check_refused(c->link, &policy, c->code);
}

/* Every provider id has at least one test above (janus/whip/whep/anyroom in test-links.c). */
static void
test_all_covered(void)
{
  const char *const *ids = ar_link_provider_ids();
  guint n = 0;
  for (; ids[n] != NULL; n++) {
    const char *id = ids[n];
    if (strcmp(id, "janus") == 0 || strcmp(id, "whip") == 0 || strcmp(id, "whep") == 0 ||
        strcmp(id, "anyroom") == 0 || strcmp(id, "sip") == 0)
      continue;
    gboolean seen = FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(ok_cases) && !seen; i++)
      seen = strcmp(ok_cases[i].provider, id) == 0;
    if (!seen)
      g_test_message("provider without a test: %s", id);
    g_assert_true(seen);
  }
  g_assert_cmpuint(n, >=, 40);
}

static void
test_idn_allowed(void)
{
  /* An administrator allows IDN: a Jitsi domain in Unicode, configured in punycode. */
  static const char *const jd[] = {"xn--bcher-kva.example", NULL};
  ArLinkPolicy p = {.jitsi_domains = jd, .allow_idn = TRUE};
  check_link("https://b\xc3\xbc"
             "cher.example/lesekreis",
             &p, "jitsi", AR_ENGINE_WEB, "lesekreis", NULL,
             "https://xn--bcher-kva.example/lesekreis", NULL);
  check_link("https://xn--bcher-kva.example/lesekreis", &p, "jitsi", AR_ENGINE_WEB, "lesekreis",
             NULL, "https://xn--bcher-kva.example/lesekreis", NULL);
  /* still exact: a homograph of a built-in host is an unknown host */
  check_refused("https://z\xd0\xbe\xd0\xbem.us/j/123456789", &p, AR_LINK_ERROR_HOST);
  /* without the policy: refused */
  check_refused("https://xn--bcher-kva.example/lesekreis", NULL, AR_LINK_ERROR_HOST);
}

static void
test_no_policy(void)
{
  check_refused("https://meet.example.org/board-meeting", NULL, AR_LINK_ERROR_HOST);
  check_link("https://meet.jit.si/Room", NULL, "jitsi", AR_ENGINE_WEB, "Room", NULL,
             "https://meet.jit.si/Room", NULL);
}

void
test_links_add_provider_tests(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(ok_cases); i++) {
    g_assert_true(find_ok(ok_cases[i].path) == &ok_cases[i]); /* unique paths */
    g_test_add_data_func(ok_cases[i].path, &ok_cases[i], run_ok);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++)
    g_test_add_data_func(bad_cases[i].path, &bad_cases[i], run_bad);
  g_test_add_func("/links/providers/all-covered", test_all_covered);
  g_test_add_func("/links/providers/idn-allowed", test_idn_allowed);
  g_test_add_func("/links/providers/no-policy", test_no_policy);
}
