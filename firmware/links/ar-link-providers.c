/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-providers.c: the meeting services, as data, and the one matcher.
 *
 * Each rule says: on these hosts, with these schemes, a path of this shape
 * (with these query parameters) is a meeting link of this provider; here is
 * how to build the join URL and the SIP URI from what was captured.
 *
 * hosts: space-separated
 *   "meet.google.com"   exactly this host
 *   "*.zoom.us"         zoom.us or any subdomain of it (label-aligned)
 *   "+.daily.co"        a subdomain of daily.co, not daily.co itself
 *   "!www.daily.co"     never this host (listed before the others)
 *   "=jitsi" "=pexip"   the domains an administrator configured (ArLinkPolicy)
 *   "-"                 no host at all (msteams:/l/meetup-join/...)
 * schemes: space-separated, NULL = "https". Only https and the services' own
 *   app schemes appear; http is never accepted for a web service.
 * path: "/lit/{var:class[:min-max]}/..." matched segment by segment, literals
 *   ASCII case-insensitive, a final "*" matches any rest, one trailing '/' is
 *   tolerated. Segments are percent-decoded once (RFC 3986 says %41 is A)
 *   before the class is checked, so nothing encoded can slip past a class.
 * params: "name>var[:class[:min-max]] ..."; a leading '!' makes it required.
 *   Values are decoded once as application/x-www-form-urlencoded.
 * classes: digits, meet (abc-defg-hij, canonicalized), token ([A-Za-z0-9_-]),
 *   name ([A-Za-z0-9._-], not starting with '.'), room (any text without
 *   / ? # \ . and controls: Jitsi-like room names), alias (name plus @ + ),
 *   teams (19:...@thread.xxx), pass (printable ASCII), any (any clean text).
 * join/sip templates: literal text with
 *   {var}        a captured value, percent-encoded (only unreserved kept)
 *   {?k=var}     "?k=value" or "&k=value" if var is set, else nothing
 *   {/var} {.var} "/value" or ".value" if var is set
 *   {+k=v}       a literal parameter, unless the URL built so far already has k
 *   {origin} {host} {path} {query} {fragment} {self}: the link's own parts,
 *                normalized ({self} = {origin}{path}{query}; {origin} is
 *                always https://host, the port dropped since it can only be 443)
 *   The variable "id" becomes meeting_id, "passcode" becomes passcode.
 * refuse: the link is recognized but is not a join link (start, registration,
 *   "new meeting"): AR_LINK_ERROR_UNSUPPORTED with this reason.
 * reserved: space-separated values the first captured segment may not take
 *   (a service's own pages: /pricing, /login, ...).
 */
#include "ar-link-priv.h"

#include <string.h>

typedef struct {
  const char *provider;
  const char *hosts;
  const char *schemes;
  const char *path;
  const char *params;
  const char *join;
  const char *sip;
  const char *refuse;
  const char *reserved;
} ArLinkRule;

typedef struct {
  const char *id;
  const char *name;
  ArEngine engine;
} ArLinkProviderInfo;

/* Every provider, with a name people know. Native forms (janus, whip) and SIP
 * URIs are parsed in ar-link.c; they are listed here for completeness. */
static const ArLinkProviderInfo providers[] = {
    {"teams", "Microsoft Teams", AR_ENGINE_WEB},
    {"webex", "Webex", AR_ENGINE_WEB},
    {"zoom", "Zoom", AR_ENGINE_WEB},
    {"google-meet", "Google Meet", AR_ENGINE_WEB},
    {"jitsi", "Jitsi Meet", AR_ENGINE_WEB},
    {"whereby", "Whereby", AR_ENGINE_WEB},
    {"gotomeeting", "GoTo Meeting", AR_ENGINE_WEB},
    {"gotowebinar", "GoTo Webinar", AR_ENGINE_WEB},
    {"chime", "Amazon Chime", AR_ENGINE_WEB},
    {"ringcentral", "RingCentral", AR_ENGINE_WEB},
    {"bluejeans", "BlueJeans", AR_ENGINE_WEB},
    {"vonage", "Vonage Meetings", AR_ENGINE_WEB},
    {"skype", "Skype", AR_ENGINE_WEB},
    {"slack", "Slack huddles", AR_ENGINE_WEB},
    {"discord", "Discord", AR_ENGINE_WEB},
    {"lifesize", "Lifesize", AR_ENGINE_WEB},
    {"starleaf", "StarLeaf", AR_ENGINE_WEB},
    {"dialpad", "Dialpad Meetings", AR_ENGINE_WEB},
    {"livestorm", "Livestorm", AR_ENGINE_WEB},
    {"pexip", "Pexip", AR_ENGINE_WEB},
    {"zoho-meeting", "Zoho Meeting", AR_ENGINE_WEB},
    {"tencent-meeting", "Tencent Meeting / VooV", AR_ENGINE_WEB},
    {"lark", "Lark / Feishu", AR_ENGINE_WEB},
    {"adobe-connect", "Adobe Connect", AR_ENGINE_WEB},
    {"clickmeeting", "ClickMeeting", AR_ENGINE_WEB},
    {"join-me", "join.me", AR_ENGINE_WEB},
    {"gather", "Gather", AR_ENGINE_WEB},
    {"facetime", "FaceTime", AR_ENGINE_WEB},
    {"daily", "Daily", AR_ENGINE_WEB},
    {"talky", "Talky", AR_ENGINE_WEB},
    {"avaya-spaces", "Avaya Spaces", AR_ENGINE_WEB},
    {"airmeet", "Airmeet", AR_ENGINE_WEB},
    {"on24", "ON24", AR_ENGINE_WEB},
    {"riverside", "Riverside", AR_ENGINE_WEB},
    {"streamyard", "StreamYard", AR_ENGINE_WEB},
    {"livekit", "LiveKit Meet", AR_ENGINE_WEB},
    {"kmeet", "Infomaniak kMeet", AR_ENGINE_WEB},
    {"demio", "Demio", AR_ENGINE_WEB},
    {"blackboard-collaborate", "Blackboard Collaborate", AR_ENGINE_WEB},
    {"zhumu", "Zhumu", AR_ENGINE_WEB},
    {"pumble", "Pumble", AR_ENGINE_WEB},
    {"cal-video", "Cal Video", AR_ENGINE_WEB},
    {"doxy-me", "doxy.me", AR_ENGINE_WEB},
    {"janus", "Janus", AR_ENGINE_NATIVE},
    {"whip", "WHIP", AR_ENGINE_NATIVE},
    {"whep", "WHEP", AR_ENGINE_NATIVE},
    {"anyroom", "Anyroom call link", AR_ENGINE_NATIVE},
};

#define ZOOM_JOIN_PARAMS "pwd>passcode:pass:1-256 tk>tk:pass:1-1024"
#define ZOOM_REFUSE_START "a Zoom start link is for the meeting's host; use the join link (/j/...)"
#define ZOOM_REFUSE_REGISTER                                                                       \
  "a Zoom registration link: register in a browser first, then use the join link you receive"
#define TEAMS_HOSTS "teams.microsoft.com gov.teams.microsoft.us dod.teams.microsoft.us"
#define TEAMS_JOIN "{self}{+anon=true}"
#define JITSI_RESERVED                                                                             \
  "static libs css images fonts sounds lang http-bind xmpp-websocket colibri-ws _api _unlock "     \
  "external_api"
#define MEET_NEW "this link creates a new meeting instead of joining one"

static const ArLinkRule rules[] = {
    /* ---- Microsoft Teams ---- */
    {"teams", TEAMS_HOSTS, NULL, "/l/meetup-join/{thread:teams}/{msg:token:1-64}",
     "context>ctx:any:0-4096", TEAMS_JOIN},
    {"teams", TEAMS_HOSTS, NULL, "/meet/{id:digits:9-16}", "p>passcode:pass:1-64",
     "{origin}/meet/{id}{?p=passcode}{+anon=true}"},
    {"teams", "teams.live.com", NULL, "/meet/{id:digits:9-16}", "p>passcode:pass:1-64",
     "https://teams.live.com/meet/{id}{?p=passcode}{+anon=true}"},
    {"teams", "teams.live.com", NULL, "/l/meetup-join/{thread:teams}/{msg:token:1-64}",
     "context>ctx:any:0-4096", TEAMS_JOIN},
    {"teams", "-", "msteams", "/l/meetup-join/{thread:teams}/{msg:token:1-64}",
     "context>ctx:any:0-4096", "https://teams.microsoft.com{path}{query}{+anon=true}"},
    {"teams", TEAMS_HOSTS " teams.live.com", NULL, "/l/meeting/new*", NULL, NULL, NULL, MEET_NEW},

    /* ---- Webex ---- */
    {"webex", "+.webex.com", NULL, "/meet/{id:name:1-128}", NULL, "{origin}/meet/{id}",
     "sip:{id}@{host}"},
    {"webex", "+.webex.com", NULL, "/join/{id:name:1-128}", NULL, "{origin}/join/{id}",
     "sip:{id}@{host}"},
    {"webex", "+.webex.com", NULL, "/{site:name:1-64}/j.php", "!MTID>mtid:token:1-128", "{self}"},
    {"webex", "+.webex.com", NULL, "/{site:name:1-64}/k2/j.php", "!MTID>mtid:token:1-128",
     "{self}"},
    {"webex", "+.webex.com", NULL, "/{site:name:1-64}/e.php", "!MTID>mtid:token:1-128", "{self}"},
    {"webex", "+.webex.com", NULL,
     "/wbxmjs/joinservice/sites/{site:name:1-64}/meeting/download/{hash:token:1-128}",
     "MTID>mtid:token:1-128", "{self}"},
    {"webex", "+.webex.com", NULL,
     "/webappng/sites/{site:name:1-64}/meeting/info/{hash:token:1-128}", "MTID>mtid:token:1-128",
     "{self}"},

    /* ---- Zoom: the web client lives on the link's own host, app.zoom.us for zoom.us ---- */
    {"zoom", "zoom.us www.zoom.us", NULL, "/j/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "https://app.zoom.us/wc/join/{id}{?tk=tk}{?pwd=passcode}", "sip:{id}@zoomcrc.com"},
    {"zoom", "*.zoom.us *.zoom.com", NULL, "/j/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}", "sip:{id}@zoomcrc.com"},
    {"zoom", "*.zoomgov.com", NULL, "/j/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "zoom.us www.zoom.us", NULL, "/w/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "https://app.zoom.us/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "*.zoom.us *.zoom.com *.zoomgov.com", NULL, "/w/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "*.zoom.us *.zoom.com", NULL, "/wc/join/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}", "sip:{id}@zoomcrc.com"},
    {"zoom", "*.zoom.us *.zoom.com", NULL, "/wc/{id:digits:9-11}/join", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}", "sip:{id}@zoomcrc.com"},
    {"zoom", "*.zoomgov.com", NULL, "/wc/join/{id:digits:9-11}", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "*.zoomgov.com", NULL, "/wc/{id:digits:9-11}/join", ZOOM_JOIN_PARAMS,
     "{origin}/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "*.zoom.us *.zoom.com *.zoomgov.com", NULL, "/my/{vanity:name:1-64}", NULL,
     "{origin}/my/{vanity}"},
    {"zoom", "*.zoom.us *.zoom.com *.zoomgov.com", NULL, "/s/*", NULL, NULL, NULL,
     ZOOM_REFUSE_START},
    {"zoom", "*.zoom.us *.zoom.com *.zoomgov.com", NULL, "/meeting/register/*", NULL, NULL, NULL,
     ZOOM_REFUSE_REGISTER},
    {"zoom", "*.zoom.us *.zoom.com *.zoomgov.com", NULL, "/webinar/register/*", NULL, NULL, NULL,
     ZOOM_REFUSE_REGISTER},
    {"zoom", "zoom.us *.zoom.us", "zoommtg zoomus", "/join",
     "!confno>id:digits:9-11 pwd>passcode:pass:1-256 tk>tk:pass:1-1024",
     "https://app.zoom.us/wc/join/{id}{?tk=tk}{?pwd=passcode}", "sip:{id}@zoomcrc.com"},
    {"zoom", "*.zoomgov.com", "zoommtg zoomus", "/join",
     "!confno>id:digits:9-11 pwd>passcode:pass:1-256 tk>tk:pass:1-1024",
     "https://{host}/wc/join/{id}{?tk=tk}{?pwd=passcode}"},
    {"zoom", "*.zoom.us *.zoomgov.com", "zoommtg zoomus", "/start", NULL, NULL, NULL,
     ZOOM_REFUSE_START},

    /* ---- Google Meet ---- */
    {"google-meet", "meet.google.com", NULL, "/{id:meet}", NULL, "https://meet.google.com/{id}"},
    {"google-meet", "meet.google.com", NULL, "/_meet/{id:meet}", NULL,
     "https://meet.google.com/{id}"},
    {"google-meet", "meet.google.com", NULL, "/lookup/{nick:name:1-64}", NULL,
     "https://meet.google.com/lookup/{nick}"},
    {"google-meet", "meet.google.com", NULL, "/new", NULL, NULL, NULL, MEET_NEW},
    {"google-meet", "g.co", NULL, "/meet/{nick:name:1-64}", NULL,
     "https://meet.google.com/lookup/{nick}"},
    {"google-meet", "hangouts.google.com", NULL, "/call/{call:token:1-128}", NULL,
     "https://hangouts.google.com/call/{call}"},
    {"google-meet", "stream.meet.google.com", NULL, "/stream/{stream:token:1-128}", NULL,
     "https://stream.meet.google.com/stream/{stream}"},

    /* ---- Jitsi Meet: meet.jit.si, 8x8.vc (tenant/room), administrator-configured domains ---- */
    {"jitsi", "meet.jit.si", "https org.jitsi.meet jitsi-meet", "/{id:room:1-256}",
     "jwt>jwt:pass:1-4096", "https://meet.jit.si/{id}{?jwt=jwt}", NULL, NULL, JITSI_RESERVED},
    {"jitsi", "8x8.vc", "https org.jitsi.meet jitsi-meet", "/{tenant:name:1-128}/{id:room:1-256}",
     "jwt>jwt:pass:1-4096", "https://8x8.vc/{tenant}/{id}{?jwt=jwt}", NULL, NULL, JITSI_RESERVED},
    {"jitsi", "8x8.vc", "https org.jitsi.meet jitsi-meet", "/{id:room:1-256}",
     "jwt>jwt:pass:1-4096", "https://8x8.vc/{id}{?jwt=jwt}", NULL, NULL, JITSI_RESERVED},
    {"jitsi", "=jitsi", "https org.jitsi.meet jitsi-meet", "/{id:room:1-256}",
     "jwt>jwt:pass:1-4096", "https://{host}/{id}{?jwt=jwt}", NULL, NULL, JITSI_RESERVED},
    {"jitsi", "=jitsi", "https org.jitsi.meet jitsi-meet", "/{tenant:name:1-128}/{id:room:1-256}",
     "jwt>jwt:pass:1-4096", "https://{host}/{tenant}/{id}{?jwt=jwt}", NULL, NULL, JITSI_RESERVED},

    /* ---- Pexip (administrator-configured domains): web app v1/v2/v3 ---- */
    {"pexip", "=pexip", NULL, "/webapp/m/{id:alias:1-128}", "pin>passcode:pass:1-64",
     "https://{host}/webapp/m/{id}{?pin=passcode}", "sip:{id}@{host}"},
    {"pexip", "=pexip", NULL, "/webapp3/m/{id:alias:1-128}", "pin>passcode:pass:1-64",
     "https://{host}/webapp3/m/{id}{?pin=passcode}", "sip:{id}@{host}"},
    {"pexip", "=pexip", NULL, "/webapp2/conference/{id:alias:1-128}", "pin>passcode:pass:1-64",
     "https://{host}/webapp/m/{id}{?pin=passcode}", "sip:{id}@{host}"},
    {"pexip", "=pexip", NULL, "/webapp/conference/{id:alias:1-128}", "pin>passcode:pass:1-64",
     "https://{host}/webapp/m/{id}{?pin=passcode}", "sip:{id}@{host}"},
    {"pexip", "=pexip", NULL, "/webapp/", "!conference>id:alias:1-128 pin>passcode:pass:1-64",
     "https://{host}/webapp/m/{id}{?pin=passcode}", "sip:{id}@{host}"},
    {"pexip", "=pexip", NULL, "/webapp/home", "!conference>id:alias:1-128 pin>passcode:pass:1-64",
     "https://{host}/webapp/m/{id}{?pin=passcode}", "sip:{id}@{host}"},

    /* ---- Whereby (appear.in was its old name) ---- */
    {"whereby", "whereby.com www.whereby.com", NULL, "/{id:name:1-64}", NULL,
     "https://whereby.com/{id}", NULL, NULL,
     "user org information login signup pricing blog about embed dashboard information-for-hosts "
     "products solutions"},
    {"whereby", "!www.whereby.com !docs.whereby.com !help.whereby.com +.whereby.com", NULL,
     "/{id:name:1-128}", NULL, "https://{host}/{id}"},
    {"whereby", "appear.in", NULL, "/{id:name:1-64}", NULL, "https://whereby.com/{id}"},

    /* ---- GoTo Meeting / GoTo Webinar ---- */
    {"gotomeeting",
     "gotomeeting.com global.gotomeeting.com www.gotomeeting.com app.gotomeeting.com", NULL,
     "/join/{id:digits:9-10}", NULL, "https://meet.goto.com/{id}"},
    {"gotomeeting", "app.gotomeeting.com", NULL, "/", "!meetingId>id:digits:9-10",
     "https://meet.goto.com/{id}"},
    {"gotomeeting", "meet.goto.com", NULL, "/{id:digits:9-10}", NULL, "https://meet.goto.com/{id}"},
    {"gotomeeting", "meet.goto.com", NULL, "/{room:name:1-64}", NULL,
     "https://meet.goto.com/{room}"},
    {"gotomeeting", "gotomeet.me", NULL, "/{room:name:1-64}", NULL, "https://gotomeet.me/{room}"},
    {"gotowebinar", "global.gotowebinar.com attendee.gotowebinar.com", NULL,
     "/join/{id:digits:6-20}/{attendee:digits:1-20}", NULL, "{origin}/join/{id}/{attendee}"},
    {"gotowebinar", "global.gotowebinar.com attendee.gotowebinar.com register.gotowebinar.com",
     NULL, "/register/*", NULL, NULL, NULL,
     "a GoTo Webinar registration link: register first, then use the join link you receive"},

    /* ---- Amazon Chime ---- */
    {"chime", "chime.aws", NULL, "/{id:digits:10}", NULL, "https://app.chime.aws/meetings/{id}"},
    {"chime", "app.chime.aws", NULL, "/meetings/{id:digits:10}", NULL,
     "https://app.chime.aws/meetings/{id}"},
    {"chime", "app.chime.aws", NULL, "/meetings/", "!pin>id:digits:10",
     "https://app.chime.aws/meetings/{id}"},

    /* ---- RingCentral Video (v.) and RingCentral Meetings (meetings.) ---- */
    {"ringcentral", "v.ringcentral.com", NULL, "/join/{id:digits:9-12}", "pw>passcode:pass:1-128",
     "https://v.ringcentral.com/join/{id}{?pw=passcode}"},
    {"ringcentral", "meetings.ringcentral.com", NULL, "/j/{id:digits:9-11}",
     "pwd>passcode:pass:1-256", "https://meetings.ringcentral.com/j/{id}{?pwd=passcode}"},

    /* ---- BlueJeans: /ID[/PARTICIPANT-PASSCODE] ---- */
    {"bluejeans", "*.bluejeans.com", NULL, "/{id:digits:6-14}", NULL, "https://bluejeans.com/{id}",
     "sip:{id}@sip.bluejeans.com"},
    {"bluejeans", "*.bluejeans.com", NULL, "/{id:digits:6-14}/webrtc", NULL,
     "https://bluejeans.com/{id}", "sip:{id}@sip.bluejeans.com"},
    {"bluejeans", "*.bluejeans.com", NULL, "/{id:digits:6-14}/{passcode:digits:1-12}", NULL,
     "https://bluejeans.com/{id}/{passcode}", "sip:{id}.{passcode}@sip.bluejeans.com"},

    /* ---- the others ---- */
    {"vonage", "meetings.vonage.com", NULL, "/{id:digits:9}", NULL,
     "https://meetings.vonage.com/{id}"},
    {"skype", "join.skype.com", NULL, "/{id:token:4-64}", NULL, "https://join.skype.com/{id}", NULL,
     NULL, "invite download"},
    {"skype", "join.skype.com", NULL, "/invite/{id:token:4-64}", NULL,
     "https://join.skype.com/invite/{id}"},
    {"slack", "app.slack.com", NULL, "/huddle/{team:token:9-12}/{channel:token:9-12}", NULL,
     "https://app.slack.com/huddle/{team}/{channel}"},
    {"discord", "discord.gg", NULL, "/{id:token:2-64}", NULL, "https://discord.com/invite/{id}"},
    {"discord", "discord.com www.discord.com discordapp.com ptb.discord.com canary.discord.com",
     NULL, "/invite/{id:token:2-64}", NULL, "https://discord.com/invite/{id}"},
    {"discord", "discord.com www.discord.com discordapp.com ptb.discord.com canary.discord.com",
     NULL, "/channels/{guild:digits:15-21}/{channel:digits:15-21}", NULL,
     "https://discord.com/channels/{guild}/{channel}"},
    {"lifesize", "call.lifesizecloud.com", NULL, "/{id:digits:3-12}", NULL,
     "https://call.lifesizecloud.com/{id}", "sip:{id}@lifesizecloud.com"},
    {"starleaf", "meet.starleaf.com", NULL, "/{id:digits:8-12}", NULL,
     "https://meet.starleaf.com/{id}", "sip:{id}@call.sl"},
    {"starleaf", "meet.starleaf.com", NULL, "/{id:digits:8-12}/app", NULL,
     "https://meet.starleaf.com/{id}", "sip:{id}@call.sl"},
    {"dialpad", "meetings.dialpad.com", NULL, "/room/{id:name:1-64}", NULL,
     "https://meetings.dialpad.com/room/{id}"},
    {"dialpad", "meetings.dialpad.com", NULL, "/{id:name:1-64}", NULL,
     "https://meetings.dialpad.com/{id}", NULL, NULL, "room login signup settings"},
    {"dialpad", "uberconference.com www.uberconference.com", NULL, "/{id:name:1-64}", NULL,
     "https://uberconference.com/{id}", NULL, NULL,
     "login signup pricing features about support blog room"},
    {"livestorm", "app.livestorm.co app.livestorm.com", NULL, "/p/{event:token:8-64}/live",
     "s>session:token:8-64", "{origin}/p/{event}/live{?s=session}"},
    {"livestorm", "app.livestorm.co app.livestorm.com", NULL, "/{org:name:1-64}/{event:name:1-128}",
     NULL, NULL, NULL,
     "a Livestorm event registration page: register first, then use the join link you receive",
     "p api"},
    {"zoho-meeting",
     "meeting.zoho.com meeting.zoho.eu meeting.zoho.in meeting.zoho.com.au meeting.zoho.jp", NULL,
     "/join", "!key>id:digits:6-14", "{origin}/join{?key=id}"},
    {"zoho-meeting",
     "meeting.zoho.com meeting.zoho.eu meeting.zoho.in meeting.zoho.com.au meeting.zoho.jp", NULL,
     "/meeting/join", "!key>id:digits:6-14", "{origin}/join{?key=id}"},
    {"tencent-meeting", "meeting.tencent.com voovmeeting.com www.voovmeeting.com", NULL,
     "/dm/{code:token:6-32}", NULL, "{origin}/dm/{code}"},
    {"tencent-meeting", "meeting.tencent.com voovmeeting.com www.voovmeeting.com", NULL,
     "/p/{id:digits:9-10}", NULL, "{origin}/p/{id}"},
    {"lark", "vc.larksuite.com vc.feishu.cn", NULL, "/j/{id:digits:9-12}", NULL, "{origin}/j/{id}"},
    {"adobe-connect", "!www.adobeconnect.com !helpx.adobeconnect.com +.adobeconnect.com", NULL,
     "/{room:name:1-64}", NULL, "https://{host}/{room}", NULL, NULL,
     "admin api system common content login help"},
    {"clickmeeting", "!www.clickmeeting.com !knowledge.clickmeeting.com +.clickmeeting.com", NULL,
     "/{room:name:1-128}", NULL, "https://{host}/{room}", NULL, NULL, "login panel api"},
    {"join-me", "join.me", NULL, "/{room:name:1-64}", NULL, "https://join.me/{room}", NULL, NULL,
     "app download support login pricing"},
    {"gather", "app.gather.town", NULL, "/app/{space:token:4-64}/{name:any:1-128}", NULL,
     "https://app.gather.town/app/{space}/{name}"},
    {"facetime", "facetime.apple.com", NULL, "/join", NULL,
     "https://facetime.apple.com/join{fragment}"},
    {"daily", "!www.daily.co !docs.daily.co !dashboard.daily.co +.daily.co", NULL,
     "/{room:name:1-128}", NULL, "https://{host}/{room}"},
    {"talky", "talky.io", NULL, "/{room:room:1-128}", NULL, "https://talky.io/{room}", NULL, NULL,
     "about download"},
    {"avaya-spaces", "spaces.avayacloud.com", NULL, "/spaces/{id:token:8-64}", NULL,
     "https://spaces.avayacloud.com/spaces/{id}"},
    {"airmeet", "airmeet.com www.airmeet.com", NULL, "/e/{id:token:8-64}", NULL,
     "https://www.airmeet.com/e/{id}"},
    {"on24", "event.on24.com", NULL, "/wcc/r/{id:digits:4-12}/{key:token:8-64}", NULL,
     "https://event.on24.com/wcc/r/{id}/{key}"},
    {"riverside", "riverside.fm riverside.com www.riverside.fm", NULL,
     "/studio/{studio:name:1-128}", "t>token:token:1-256", "{origin}/studio/{studio}{?t=token}"},
    {"streamyard", "streamyard.com www.streamyard.com", NULL, "/{id:token:8-13}", NULL,
     "https://streamyard.com/{id}", NULL, NULL, "resources pricing features"},
    {"streamyard", "streamyard.com www.streamyard.com", NULL, "/guest/{id:token:8-13}", NULL,
     "https://streamyard.com/{id}"},
    {"livekit", "meet.livekit.io", NULL, "/rooms/{id:room:1-128}", NULL,
     "https://meet.livekit.io/rooms/{id}{fragment}"},
    {"kmeet", "kmeet.infomaniak.com", NULL, "/{id:room:1-128}", NULL,
     "https://kmeet.infomaniak.com/{id}", NULL, NULL, JITSI_RESERVED},
    {"demio", "event.demio.com", NULL, "/ref/{id:token:4-64}", NULL,
     "https://event.demio.com/ref/{id}"},
    {"blackboard-collaborate", "us.bbcollab.com eu.bbcollab.com ca.bbcollab.com au.bbcollab.com",
     NULL, "/guest/{id:token:8-64}", NULL, "{origin}/guest/{id}"},
    {"blackboard-collaborate", "us.bbcollab.com eu.bbcollab.com ca.bbcollab.com au.bbcollab.com",
     NULL, "/collab/ui/session/guest/{id:token:8-64}", NULL,
     "{origin}/collab/ui/session/guest/{id}"},
    {"zhumu", "welink.zhumu.com zhumu.com www.zhumu.com", NULL, "/j/{id:digits:9-11}",
     "pwd>passcode:pass:1-256", "https://welink.zhumu.com/j/{id}{?pwd=passcode}"},
    {"pumble", "meet.pumble.com", NULL, "/{id:name:1-64}", NULL, "https://meet.pumble.com/{id}"},
    {"cal-video", "app.cal.com cal.com", NULL, "/video/{id:token:8-64}", NULL,
     "https://app.cal.com/video/{id}"},
    {"doxy-me", "doxy.me *.doxy.me", NULL, "/{room:name:1-64}", NULL, "https://{host}/{room}", NULL,
     NULL, "sign-in signup pricing about login"},
};

/* SIP domains (sip:ID@DOMAIN): which provider a SIP URI belongs to. */
static const struct {
  const char *hosts;
  const char *provider;
} sip_domains[] = {
    {"zoomcrc.com", "zoom"},
    {"+.webex.com", "webex"},
    {"lifesizecloud.com", "lifesize"},
    {"call.sl", "starleaf"},
    {"sip.bluejeans.com bjn.vc", "bluejeans"},
    {"=pexip", "pexip"},
};

const char *const *
ar_link_provider_ids(void)
{
  static const char *ids[G_N_ELEMENTS(providers) + 1];
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    for (gsize i = 0; i < G_N_ELEMENTS(providers); i++)
      ids[i] = providers[i].id;
    ids[G_N_ELEMENTS(providers)] = NULL;
    g_once_init_leave(&done, 1);
  }
  return ids;
}

static const ArLinkProviderInfo *
provider_info(const char *id)
{
  for (gsize i = 0; i < G_N_ELEMENTS(providers); i++)
    if (strcmp(providers[i].id, id) == 0)
      return &providers[i];
  return NULL;
}

/* ---- words of a space-separated list ---- */

typedef struct {
  const char *p;
  gsize len;
} Word;

static gboolean
next_word(const char **cursor, Word *w)
{
  const char *p = *cursor;
  while (*p == ' ')
    p++;
  if (*p == '\0')
    return FALSE;
  w->p = p;
  while (*p && *p != ' ')
    p++;
  w->len = p - w->p;
  *cursor = p;
  return TRUE;
}

static gboolean
word_is(const Word *w, const char *s)
{
  return strlen(s) == w->len && g_ascii_strncasecmp(w->p, s, w->len) == 0;
}

static gboolean
list_contains(const char *list, const char *s)
{
  Word w;
  const char *c = list;
  while (next_word(&c, &w))
    if (word_is(&w, s))
      return TRUE;
  return FALSE;
}

/* Does HOST match the configured domain PATTERN ("example.org" or "*.example.org")? */
static gboolean
configured_host_matches(const char *host, const char *pattern)
{
  if (pattern == NULL || pattern[0] == '\0')
    return FALSE;
  if (pattern[0] == '*' && pattern[1] == '.')
    return ar_host_is_or_under(host, pattern + 2);
  return g_ascii_strcasecmp(host, pattern) == 0;
}

static gboolean
host_matches(const char *hosts, const char *host, const ArLinkPolicy *policy)
{
  Word w;
  const char *c = hosts;
  char buf[256];

  while (next_word(&c, &w)) {
    if (w.len == 1 && w.p[0] == '-') {
      if (host == NULL)
        return TRUE;
      continue;
    }
    if (host == NULL)
      continue;
    if (w.len >= sizeof buf)
      continue;
    memcpy(buf, w.p, w.len);
    buf[w.len] = '\0';
    if (buf[0] == '!') {
      if (g_ascii_strcasecmp(host, buf + 1) == 0)
        return FALSE;
    } else if (buf[0] == '=') {
      const char *const *list = NULL;
      if (policy != NULL && strcmp(buf + 1, "jitsi") == 0)
        list = policy->jitsi_domains;
      else if (policy != NULL && strcmp(buf + 1, "pexip") == 0)
        list = policy->pexip_domains;
      for (; list != NULL && *list != NULL; list++)
        if (configured_host_matches(host, *list))
          return TRUE;
    } else if (buf[0] == '*' && buf[1] == '.') {
      if (ar_host_is_or_under(host, buf + 2))
        return TRUE;
    } else if (buf[0] == '+' && buf[1] == '.') {
      if (ar_host_is_or_under(host, buf + 2) && strlen(host) > strlen(buf + 2))
        return TRUE;
    } else if (g_ascii_strcasecmp(host, buf) == 0) {
      return TRUE;
    }
  }
  return FALSE;
}

/* ---- captured variables ---- */

#define MAX_VARS 8

typedef struct {
  const ArUrl *url;
  const char *names[MAX_VARS];
  gsize name_lens[MAX_VARS];
  char *values[MAX_VARS];
  guint n;
} Captures;

static void
captures_clear(Captures *c)
{
  for (guint i = 0; i < c->n; i++)
    g_free(c->values[i]);
  c->n = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Captures, captures_clear)

static const char *
captures_get(const Captures *c, const char *name, gsize len)
{
  for (guint i = 0; i < c->n; i++)
    if (c->name_lens[i] == len && strncmp(c->names[i], name, len) == 0)
      return c->values[i];
  return NULL;
}

static void
captures_set(Captures *c, const char *name, gsize len, char *value)
{
  for (guint i = 0; i < c->n; i++) {
    if (c->name_lens[i] == len && strncmp(c->names[i], name, len) == 0) {
      g_free(c->values[i]);
      c->values[i] = value;
      return;
    }
  }
  if (c->n == MAX_VARS) { /* a table bug, not input-dependent */
    g_free(value);
    return;
  }
  c->names[c->n] = name;
  c->name_lens[c->n] = len;
  c->values[c->n] = value;
  c->n++;
}

/* ---- classes ---- */

typedef struct {
  const char *name; /* var name */
  gsize name_len;
  const char *cls;
  gsize cls_len;
  guint min, max;
} Spec;

/* Parses "var:class:min-max" (LEN bytes). */
static void
parse_spec(const char *s, gsize len, Spec *spec)
{
  const char *end = s + len;
  const char *c1 = memchr(s, ':', len);
  spec->name = s;
  spec->name_len = c1 ? (gsize)(c1 - s) : len;
  spec->cls = "any";
  spec->cls_len = 3;
  spec->min = 1;
  spec->max = 256;
  if (c1 == NULL)
    return;
  const char *cs = c1 + 1;
  const char *c2 = memchr(cs, ':', end - cs);
  spec->cls = cs;
  spec->cls_len = c2 ? (gsize)(c2 - cs) : (gsize)(end - cs);
  if (c2 != NULL) {
    char *e = NULL;
    spec->min = (guint)strtoul(c2 + 1, &e, 10);
    spec->max = spec->min;
    if (e != NULL && *e == '-')
      spec->max = (guint)strtoul(e + 1, NULL, 10);
  }
}

static gboolean
cls_is(const Spec *spec, const char *name)
{
  return strlen(name) == spec->cls_len && strncmp(spec->cls, name, spec->cls_len) == 0;
}

static gboolean
all_chars(const char *s, gboolean (*ok)(guchar c))
{
  for (; *s; s++)
    if (!ok((guchar)*s))
      return FALSE;
  return TRUE;
}

static gboolean
c_digit(guchar c)
{
  return g_ascii_isdigit(c);
}

static gboolean
c_token(guchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '_';
}

static gboolean
c_name(guchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
}

static gboolean
c_alias(guchar c)
{
  return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '+';
}

static gboolean
c_pass(guchar c)
{
  return c > 0x20 && c < 0x7f;
}

/* "abc-defg-hij" or "abcdefghij" (any case) -> "abc-defg-hij". */
static char *
canon_meet(const char *v)
{
  char letters[11];
  guint n = 0;
  gsize len = strlen(v);
  if (len == 12) {
    if (v[3] != '-' || v[8] != '-')
      return NULL;
  } else if (len != 10) {
    return NULL;
  }
  for (const char *p = v; *p; p++) {
    if (*p == '-')
      continue;
    if (!g_ascii_isalpha(*p) || n == 10)
      return NULL;
    letters[n++] = g_ascii_tolower(*p);
  }
  if (n != 10)
    return NULL;
  return g_strdup_printf("%.3s-%.4s-%.3s", letters, letters + 3, letters + 7);
}

static gboolean
is_teams_thread(const char *v)
{
  /* 19:meeting_<base64ish>@thread.v2 | 19:<hex>@thread.skype | @thread.tacv2 */
  if (!g_str_has_prefix(v, "19:"))
    return FALSE;
  const char *at = strchr(v, '@');
  if (at == NULL || at == v + 3)
    return FALSE;
  for (const char *p = v + 3; p < at; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.' && *p != '=')
      return FALSE;
  return strcmp(at, "@thread.v2") == 0 || strcmp(at, "@thread.skype") == 0 ||
         strcmp(at, "@thread.tacv2") == 0;
}

/* Checks DECODED against SPEC; returns the canonical value or NULL. */
static char *
check_class(const Spec *spec, const char *decoded)
{
  glong chars = g_utf8_strlen(decoded, -1);
  if ((guint)chars < spec->min || (guint)chars > spec->max)
    return NULL;
  if (cls_is(spec, "digits"))
    return all_chars(decoded, c_digit) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "token"))
    return all_chars(decoded, c_token) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "name"))
    return (decoded[0] != '.' && all_chars(decoded, c_name)) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "alias"))
    return (decoded[0] != '.' && all_chars(decoded, c_alias)) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "pass"))
    return all_chars(decoded, c_pass) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "meet"))
    return canon_meet(decoded);
  if (cls_is(spec, "teams"))
    return is_teams_thread(decoded) ? g_strdup(decoded) : NULL;
  if (cls_is(spec, "room")) {
    /* Jitsi-like room names: any text but separators and dots. */
    if (strpbrk(decoded, "/?#\\.%") != NULL)
      return NULL;
    return g_strdup(decoded);
  }
  if (cls_is(spec, "any"))
    return g_strdup(decoded);
  return NULL;
}

/* ---- path matching ---- */

typedef enum {
  MATCH_NO,
  MATCH_YES,
} MatchResult;

static MatchResult
match_path(const char *pattern, const char *path, Captures *caps)
{
  const char *pp = pattern;
  const char *up = path;

  if (*up == '\0')
    up = "/";
  for (;;) {
    /* both at a '/' (or end) */
    if (*pp == '\0') {
      /* tolerate one trailing slash */
      return (*up == '\0' || (up[0] == '/' && up[1] == '\0')) ? MATCH_YES : MATCH_NO;
    }
    if (*pp != '/' || *up != '/')
      return MATCH_NO;
    pp++;
    up++;
    if (pp[0] == '*' && pp[1] == '\0')
      return MATCH_YES;
    const char *pe = strchr(pp, '/');
    if (pe == NULL)
      pe = pp + strlen(pp);
    const char *ue = strchr(up, '/');
    if (ue == NULL)
      ue = up + strlen(up);
    gsize plen = pe - pp, ulen = ue - up;

    if (plen > 0 && pp[0] == '{' && pp[plen - 1] == '}') {
      Spec spec;
      parse_spec(pp + 1, plen - 2, &spec);
      if (ulen == 0)
        return MATCH_NO;
      g_autofree char *dec = ar_url_decode(up, ulen, FALSE, NULL);
      if (dec == NULL)
        return MATCH_NO;
      char *val = check_class(&spec, dec);
      if (val == NULL)
        return MATCH_NO;
      captures_set(caps, spec.name, spec.name_len, val);
    } else if (plen > 0 && pp[plen - 1] == '*') {
      /* literal prefix then anything up to the next '/' (e.g. "new*") */
      if (ulen < plen - 1 || g_ascii_strncasecmp(pp, up, plen - 1) != 0)
        return MATCH_NO;
    } else {
      if (plen != ulen || g_ascii_strncasecmp(pp, up, plen) != 0)
        return MATCH_NO;
    }
    pp = pe;
    up = ue;
  }
}

/* Captures the query parameters of SPECS. FALSE + error if a parameter is
 * malformed; FALSE without error if a required one is missing (no match). */
static gboolean
match_params(const char *specs, const ArUrl *url, Captures *caps, const char *provider_name,
             GError **error)
{
  Word w;
  const char *c = specs;
  if (specs == NULL)
    return TRUE;
  while (next_word(&c, &w)) {
    gboolean required = w.p[0] == '!';
    const char *s = w.p + (required ? 1 : 0);
    gsize len = w.len - (required ? 1 : 0);
    const char *gt = memchr(s, '>', len);
    if (gt == NULL)
      continue;
    g_autofree char *pname = g_strndup(s, gt - s);
    Spec spec;
    parse_spec(gt + 1, len - (gt + 1 - s), &spec);
    g_autofree char *value = NULL;
    if (!ar_url_query_get(url, pname, &value, error)) {
      g_prefix_error(error, "%s link: ", provider_name);
      return FALSE;
    }
    if (value == NULL || value[0] == '\0') {
      if (required)
        return FALSE;
      continue;
    }
    char *canon = check_class(&spec, value);
    if (canon == NULL) {
      g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                  "%s link: the parameter \"%s\" has a malformed value", provider_name, pname);
      return FALSE;
    }
    captures_set(caps, spec.name, spec.name_len, canon);
  }
  return TRUE;
}

/* ---- templates ---- */

static void
append_origin(GString *out, const ArUrl *url)
{
  g_string_append(out, "https://");
  g_string_append(out, url->host != NULL ? url->host : "");
}

static void
append_path(GString *out, const ArUrl *url)
{
  ar_url_append_encoded(out, url->path[0] ? url->path : "/", FALSE);
}

static void
append_query(GString *out, const ArUrl *url)
{
  if (url->query != NULL && url->query[0] != '\0') {
    g_string_append_c(out, '?');
    ar_url_append_encoded(out, url->query, TRUE);
  }
}

static void
expand(GString *out, const char *tpl, const Captures *caps)
{
  const ArUrl *url = caps->url;
  for (const char *p = tpl; *p;) {
    if (*p != '{') {
      g_string_append_c(out, *p++);
      continue;
    }
    const char *close = strchr(p, '}');
    if (close == NULL) { /* table bug */
      g_string_append(out, p);
      return;
    }
    const char *in = p + 1;
    gsize len = close - in;
    p = close + 1;

    if (len == 6 && strncmp(in, "origin", 6) == 0) {
      append_origin(out, url);
    } else if (len == 4 && strncmp(in, "host", 4) == 0) {
      g_string_append(out, url->host ? url->host : "");
    } else if (len == 4 && strncmp(in, "path", 4) == 0) {
      append_path(out, url);
    } else if (len == 5 && strncmp(in, "query", 5) == 0) {
      append_query(out, url);
    } else if (len == 8 && strncmp(in, "fragment", 8) == 0) {
      if (url->fragment != NULL && url->fragment[0] != '\0') {
        g_string_append_c(out, '#');
        ar_url_append_encoded(out, url->fragment, TRUE);
      }
    } else if (len == 4 && strncmp(in, "self", 4) == 0) {
      append_origin(out, url);
      append_path(out, url);
      append_query(out, url);
    } else if (in[0] == '?' || in[0] == '+') {
      const char *eq = memchr(in, '=', len);
      if (eq == NULL)
        continue;
      g_autofree char *key = g_strndup(in + 1, eq - in - 1);
      const char *val;
      if (in[0] == '?') {
        val = captures_get(caps, eq + 1, close - eq - 1);
        if (val == NULL)
          continue;
      } else {
        /* a literal parameter, unless what was built so far already has it */
        const char *q = strchr(out->str, '?');
        g_autofree char *existing = NULL;
        GError *ignored = NULL;
        if (q != NULL && !ar_url_params_get(q + 1, key, &existing, &ignored)) {
          g_clear_error(&ignored);
          continue;
        }
        if (existing != NULL)
          continue;
        val = NULL;
      }
      g_string_append_c(out, strchr(out->str, '?') ? '&' : '?');
      g_string_append(out, key);
      g_string_append_c(out, '=');
      if (val != NULL)
        ar_url_append_param(out, val);
      else
        g_string_append_len(out, eq + 1, close - eq - 1);
    } else if (in[0] == '/' || in[0] == '.') {
      const char *val = captures_get(caps, in + 1, len - 1);
      if (val != NULL) {
        g_string_append_c(out, in[0]);
        ar_url_append_param(out, val);
      }
    } else {
      const char *val = captures_get(caps, in, len);
      if (val != NULL)
        ar_url_append_param(out, val);
    }
  }
}

static gboolean
scheme_allowed(const ArLinkRule *rule, const char *scheme)
{
  return list_contains(rule->schemes ? rule->schemes : "https", scheme);
}

ArLink *
ar_link_providers_match(const ArUrl *url, const ArLinkPolicy *policy, GError **error)
{
  const ArLinkRule *host_rule = NULL; /* a rule whose host matched */
  gboolean scheme_ok_seen = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS(rules); i++) {
    const ArLinkRule *rule = &rules[i];
    if (!host_matches(rule->hosts, url->host, policy))
      continue;
    if (host_rule == NULL)
      host_rule = rule;
    if (!scheme_allowed(rule, url->scheme))
      continue;
    scheme_ok_seen = TRUE;

    const ArLinkProviderInfo *info = provider_info(rule->provider);
    g_auto(Captures) caps = {.url = url};
    if (match_path(rule->path, url->path, &caps) != MATCH_YES)
      continue;
    if (rule->reserved != NULL && caps.n > 0 && list_contains(rule->reserved, caps.values[0]))
      continue;
    GError *local = NULL;
    if (!match_params(rule->params, url, &caps, info->name, &local)) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
      }
      continue;
    }
    /* A web service is reached on 443 only; an app scheme has no port. */
    if (url->port != -1 && !(url->port == 443 && strcmp(url->scheme, "https") == 0)) {
      g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                  "%s links do not carry a port number (:%d)", info->name, url->port);
      return NULL;
    }
    if (rule->refuse != NULL) {
      g_set_error_literal(error, AR_LINK_ERROR, AR_LINK_ERROR_UNSUPPORTED, rule->refuse);
      return NULL;
    }

    ArLink *link = ar_link_new(rule->provider, info->engine);
    GString *ju = g_string_new(NULL);
    expand(ju, rule->join, &caps);
    link->join_url = g_string_free(ju, FALSE);
    if (rule->sip != NULL) {
      GString *sip = g_string_new(NULL);
      expand(sip, rule->sip, &caps);
      link->sip_uri = g_string_free(sip, FALSE);
    }
    const char *id = captures_get(&caps, "id", 2);
    const char *pass = captures_get(&caps, "passcode", 8);
    link->meeting_id = g_strdup(id);
    link->passcode = g_strdup(pass);
    return link;
  }

  if (host_rule != NULL) {
    const ArLinkProviderInfo *info = provider_info(host_rule->provider);
    if (!scheme_ok_seen) {
      if (strcmp(url->scheme, "http") == 0)
        g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME,
                    "%s link with http://: only https:// links are accepted", info->name);
      else
        g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_SCHEME,
                    "%s link with the scheme \"%s:\", which is not accepted", info->name,
                    url->scheme);
    } else {
      g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_UNSUPPORTED,
                  "this %s link is not a meeting join link (a web page, download, help or "
                  "settings link?)",
                  info->name);
    }
  }
  return NULL;
}

gboolean
ar_link_providers_knows_host(const char *host, const ArLinkPolicy *policy)
{
  if (host == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(rules); i++)
    if (host_matches(rules[i].hosts, host, policy))
      return TRUE;
  return FALSE;
}

const char *
ar_link_provider_for_sip_domain(const char *host, const ArLinkPolicy *policy)
{
  for (gsize i = 0; i < G_N_ELEMENTS(sip_domains); i++)
    if (host_matches(sip_domains[i].hosts, host, policy))
      return sip_domains[i].provider;
  return NULL;
}

const char *
ar_link_provider_name(const char *id)
{
  const ArLinkProviderInfo *info = provider_info(id);
  return info ? info->name : id;
}
