/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-recipes.c: join recipes (firmware/recipes): every shipped recipe and
 * the test lab's administrator recipe load and cover every state; join URLs
 * for real link shapes (tests/unit/links) are right and never carry the
 * link's fragment; administrator folders add and override; broken files are
 * refused with an error naming the file and the field.
 */
#include "ar-recipe-priv.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const shipped_ids[] = {
    "generic", "google-meet", "jitsi", "teams", "webex", "whereby", "zoom", NULL,
};

static const char *const jitsi_domains[] = {"meet.example.org", NULL};
static const ArLinkPolicy policy = {.jitsi_domains = jitsi_domains};

static ArRecipeSet *
shipped_set(void)
{
  g_autoptr(GPtrArray) problems = NULL;
  ArRecipeSet *set = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, NULL, &problems);
  for (guint i = 0; i < problems->len; i++)
    g_printerr("%s\n", ((GError *)g_ptr_array_index(problems, i))->message);
  g_assert_cmpuint(problems->len, ==, 0);
  return set;
}

static ArRecipe *
lab_recipe(void)
{
  g_autoptr(GError) error = NULL;
  ArRecipe *r = ar_recipe_new_from_file(AR_LAB_RECIPES_DIR "/janus-videoroom.json", &error);
  g_assert_no_error(error);
  return r;
}

/* ---- every shipped recipe ---- */

static void
test_shipped_load(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(set);
  g_assert_cmpstrv(ids, shipped_ids);
  for (guint i = 0; ids[i] != NULL; i++)
    g_assert_false(ar_recipe_set_is_admin(set, ids[i]));
  g_assert_true(g_str_equal(ar_recipe_default_dir(), AR_SOURCE_RECIPES_DIR) ||
                g_getenv("ANYROOM_RECIPES_DIR") != NULL);
}

static void
check_coverage(const ArRecipe *r)
{
  g_test_message("recipe %s", ar_recipe_get_id(r));
  g_assert_nonnull(ar_recipe_get_sources(r)[0]);
  for (guint s = 0; s < AR_RECIPE_N_STATES; s++) {
    const ArRecipeProbe *p = ar_recipe_get_probe(r, s);
    if (!p->applicable) {
      g_assert_nonnull(p->reason);
      g_assert_cmpuint(strlen(p->reason), >, 3);
      continue;
    }
    g_assert_true(p->selectors[0] != NULL || p->texts[0] != NULL || p->script != NULL);
    if (ar_recipe_state_is_failure(s))
      g_assert_nonnull(p->message);
  }
  /* Something must tell that the room is in the call, unless a person does it all. */
  g_assert_true(ar_recipe_get_probe(r, AR_RECIPE_STATE_IN_CALL)->applicable ||
                ar_recipe_needs_attention_at_once(r));
  for (guint c = 0; c < AR_RECIPE_N_CONTROLS; c++) {
    const ArRecipeControlSpec *cs = ar_recipe_get_control(r, c);
    g_assert_true(cs->applicable ? cs->step != NULL : cs->reason != NULL);
  }
}

static void
test_shipped_coverage(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  for (guint i = 0; shipped_ids[i] != NULL; i++)
    check_coverage(ar_recipe_set_lookup_id(set, shipped_ids[i]));
  g_autoptr(ArRecipe) lab = lab_recipe();
  check_coverage(lab);
}

static void
test_shipped_providers(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  const char *services[] = {"teams", "zoom", "webex", "google-meet", "jitsi", "whereby"};
  for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
    ArLink link = {.provider = (char *)services[i],
                   .engine = AR_ENGINE_WEB,
                   .join_url = (char *)"https://unknown.example/"};
    ArRecipe *r = ar_recipe_set_lookup(set, &link, FALSE);
    g_assert_nonnull(r);
    g_assert_cmpstr(ar_recipe_get_id(r), ==, services[i]);
    g_assert_false(ar_recipe_needs_attention_at_once(r));
  }
  /* A web service without a recipe falls back to the generic one, if asked. */
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) goto_link = ar_link_parse("https://meet.goto.com/123456789", &policy, &error);
  g_assert_no_error(error);
  g_assert_null(ar_recipe_set_lookup(set, goto_link, FALSE));
  ArRecipe *generic = ar_recipe_set_lookup(set, goto_link, TRUE);
  g_assert_cmpstr(ar_recipe_get_id(generic), ==, "generic");
  g_assert_true(ar_recipe_needs_attention_at_once(generic));
  g_autofree char *url = ar_recipe_build_join_url(generic, goto_link, "Room", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(url, ==, goto_link->join_url);
  /* Native links have no recipe. */
  g_autoptr(ArLink) janus = ar_link_parse("janus+ws://127.0.0.1:8188?room=1234", &policy, &error);
  g_assert_no_error(error);
  g_assert_null(ar_recipe_set_lookup(set, janus, TRUE));
}

/* Every selector the loader sees is also what the Chromium check sees. */
static void
test_shipped_selectors(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  for (guint i = 0; shipped_ids[i] != NULL; i++) {
    g_auto(GStrv) sels = ar_recipe_dup_all_selectors(ar_recipe_set_lookup_id(set, shipped_ids[i]));
    for (guint j = 0; sels[j] != NULL; j++)
      g_assert_null(ar_recipe_css_check(sels[j]));
  }
}

/* ---- join URLs ---- */

typedef struct {
  const char *path;
  const char *link;
  const char *name;
  const char *expected;
} UrlCase;

#define TEAMS_THREAD "19%3ameeting_NzI0ZGQ5NjAtYjk0Ni00NGVmLWE1MzItYmE3ZTY4ZjQyNjIz%40thread.v2"
/* Escapes come back upper-case (RFC 3986 2.1: equivalent). */
#define TEAMS_THREAD_OUT "19%3Ameeting_NzI0ZGQ5NjAtYjk0Ni00NGVmLWE1MzItYmE3ZTY4ZjQyNjIz%40thread.v2"
#define TEAMS_CTX                                                                                  \
  "context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22"            \
  "3c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7d"
#define TEAMS_CTX_OUT                                                                              \
  "context=%7B%22Tid%22%3A%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2C%22Oid%22%3A%22"            \
  "3c0e4e6b-3b4a-4c1e-9a7e-2f2b1a0d9e11%22%7D"
#define JITSI_FRAGMENT(name)                                                                       \
  "#config.prejoinConfig.enabled=false&config.prejoinPageEnabled=false"                            \
  "&config.startWithAudioMuted=false&config.startWithVideoMuted=false"                             \
  "&config.disableDeepLinking=true&config.defaultLanguage=%22en%22"                                \
  "&userInfo.displayName=%22" name "%22"

static const UrlCase url_cases[] = {
    {"/recipes/join-url/teams/meetup-join",
     "https://teams.microsoft.com/l/meetup-join/" TEAMS_THREAD "/0?" TEAMS_CTX "#frag", "Room 1",
     "https://teams.microsoft.com/l/meetup-join/" TEAMS_THREAD_OUT "/0?" TEAMS_CTX_OUT
     "&anon=true"},
    {"/recipes/join-url/teams/meet-id", "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf12",
     "Room", "https://teams.microsoft.com/meet/2345678901234?p=AbCdEf12&anon=true"},
    {"/recipes/join-url/teams/live", "https://teams.live.com/meet/9312345678901?p=QwErTy", "Room",
     "https://teams.live.com/meet/9312345678901?p=QwErTy&anon=true"},
    {"/recipes/join-url/zoom/j-pwd",
     "https://us02web.zoom.us/j/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09#success", "Room",
     "https://us02web.zoom.us/wc/join/81234567890?pwd=Z1BxbUZ1c0dNa2xXbnpnL3Q1Zz09"},
    {"/recipes/join-url/zoom/plain", "https://zoom.us/j/123456789", "Room",
     "https://app.zoom.us/wc/join/123456789"},
    {"/recipes/join-url/zoom/registrant",
     "https://us06web.zoom.us/j/81234567890?tk=AbC.dEf-1&pwd=xYz", "Room",
     "https://us06web.zoom.us/wc/join/81234567890?tk=AbC.dEf-1&pwd=xYz"},
    {"/recipes/join-url/webex/personal-room", "https://acme.webex.com/meet/jdoe", "Room",
     "https://acme.webex.com/meet/jdoe"},
    {"/recipes/join-url/webex/j-php",
     "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c#x", "Room",
     "https://acme.webex.com/acme/j.php?MTID=m2e0b4c7a3f5d6e8b9a0c1d2e3f4a5b6c"},
    {"/recipes/join-url/google-meet/code", "https://meet.google.com/abc-defg-hij?authuser=1",
     "Room", "https://meet.google.com/abc-defg-hij?hl=en"},
    {"/recipes/join-url/google-meet/lookup", "https://meet.google.com/lookup/teamsync", "Room",
     "https://meet.google.com/lookup/teamsync?hl=en"},
    {"/recipes/join-url/jitsi/meet-jit-si", "https://meet.jit.si/WeeklyPlanningSync", "Board Room",
     "https://meet.jit.si/WeeklyPlanningSync" JITSI_FRAGMENT("Board%20Room")},
    {"/recipes/join-url/jitsi/unicode-room", "https://meet.jit.si/R%C3%A9union%20hebdo",
     "Salle \xc3\xa9t\xc3\xa9",
     "https://meet.jit.si/R%C3%A9union%20hebdo" JITSI_FRAGMENT("Salle%20%C3%A9t%C3%A9")},
    {"/recipes/join-url/jitsi/8x8-jwt",
     "https://8x8.vc/vpaas-magic-cookie-1fc542a3/SampleAppRoom?jwt=eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
     "Room",
     "https://8x8.vc/vpaas-magic-cookie-1fc542a3/"
     "SampleAppRoom?jwt=eyJhbGciOiJSUzI1NiJ9.e30.c2ln" JITSI_FRAGMENT("Room")},
    {"/recipes/join-url/jitsi/self-hosted", "https://meet.example.org/board-meeting", "Room",
     "https://meet.example.org/board-meeting" JITSI_FRAGMENT("Room")},
    {"/recipes/join-url/jitsi/quotes-in-name", "https://meet.jit.si/MyRoom", "R\"&#=oom\\\n<x>",
     "https://meet.jit.si/MyRoom" JITSI_FRAGMENT("R%5C%22%26%23%3Doom%5C%5C%20%3Cx%3E")},
    {"/recipes/join-url/whereby/room", "https://whereby.com/team-standup", "Room 4 & co",
     "https://whereby.com/team-standup?displayName=Room%204%20%26%20co&skipMediaPermissionPrompt"
     "&precallReview=off&lang=en"},
    {"/recipes/join-url/whereby/subdomain", "https://acme.whereby.com/support-room-3f1a2b", NULL,
     "https://acme.whereby.com/support-room-3f1a2b?displayName=Meeting%20room"
     "&skipMediaPermissionPrompt&precallReview=off&lang=en"},
};

static void
test_join_url(gconstpointer data)
{
  const UrlCase *tc = data;
  g_autoptr(ArRecipeSet) set = shipped_set();
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse(tc->link, &policy, &error);
  g_assert_no_error(error);
  ArRecipe *r = ar_recipe_set_lookup(set, link, FALSE);
  g_assert_nonnull(r);
  g_autofree char *url = ar_recipe_build_join_url(r, link, tc->name, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(url, ==, tc->expected);
  /* The link's own fragment never reaches the URL. */
  const char *frag = strchr(tc->link, '#');
  if (frag != NULL)
    g_assert_null(strstr(url, frag));
}

/* A link's fragment can set Jitsi's config: it is never used, even when a
 * caller hands over a join URL that still has one. */
static void
test_jitsi_hostile_fragment(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  ArRecipe *jitsi = ar_recipe_set_lookup_id(set, "jitsi");
  g_autoptr(GError) error = NULL;
  const char *hostile = "https://meet.jit.si/MyRoom#config.p2p.enabled=false&"
                        "config.startWithAudioMuted=true&interfaceConfig.X=%22%3Cscript%3E%22&"
                        "userInfo.displayName=%22Evil%22";
  g_autoptr(ArLink) parsed = ar_link_parse(hostile, &policy, &error);
  g_assert_no_error(error);
  g_autofree char *a = ar_recipe_build_join_url(jitsi, parsed, "Room", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(a, ==, "https://meet.jit.si/MyRoom" JITSI_FRAGMENT("Room"));

  ArLink raw = {.provider = (char *)"jitsi", .engine = AR_ENGINE_WEB, .join_url = (char *)hostile};
  g_autofree char *b = ar_recipe_build_join_url(jitsi, &raw, "Room", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(b, ==, a);
  g_assert_null(strstr(b, "p2p"));
  g_assert_null(strstr(b, "Evil"));
  g_assert_null(strstr(b, "interfaceConfig"));
  g_assert_cmpuint(g_strv_length((char *[]){strchr(b, '#'), NULL}), ==, 1);
  g_assert_null(strchr(strchr(b, '#') + 1, '#'));
}

static void
test_join_url_refused(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  g_autoptr(GError) error = NULL;
  /* A link whose host is not one of the recipe's origins. */
  g_autoptr(ArLink) zoom = ar_link_parse("https://zoom.us/j/123456789", &policy, &error);
  g_assert_no_error(error);
  g_autofree char *url =
      ar_recipe_build_join_url(ar_recipe_set_lookup_id(set, "teams"), zoom, "Room", &error);
  g_assert_null(url);
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
  g_assert_nonnull(strstr(error->message, "teams.json"));
  g_assert_nonnull(strstr(error->message, "https://app.zoom.us"));
  g_clear_error(&error);
  /* A lookalike handed over without the link module. */
  ArLink fake = {.provider = (char *)"teams",
                 .engine = AR_ENGINE_WEB,
                 .join_url = (char *)"https://teams.microsoft.com.evil.example/l/meetup-join/x"};
  g_assert_null(
      ar_recipe_build_join_url(ar_recipe_set_lookup_id(set, "teams"), &fake, "R", &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
  g_clear_error(&error);
  /* Userinfo, and a native link. */
  fake.join_url = (char *)"https://x@teams.microsoft.com/l/meetup-join/x";
  g_assert_null(
      ar_recipe_build_join_url(ar_recipe_set_lookup_id(set, "teams"), &fake, "R", &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
  g_clear_error(&error);
  fake.engine = AR_ENGINE_NATIVE;
  fake.join_url = (char *)"https://teams.microsoft.com/l/meetup-join/x";
  g_assert_null(
      ar_recipe_build_join_url(ar_recipe_set_lookup_id(set, "teams"), &fake, "R", &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
}

static void
test_display_name(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  g_autoptr(ArRecipe) lab = lab_recipe();
  ArRecipe *teams = ar_recipe_set_lookup_id(set, "teams");
  struct {
    ArRecipe *r;
    const char *in, *out;
  } cases[] = {
      {teams, "Board Room 3", "Board Room 3"},
      {teams, "  Board\t\tRoom  ", "Board Room"},
      {teams, "A\x01\x1b[31mB\xe2\x80\xae", "A[31mB"}, /* controls and bidi overrides dropped */
      {teams, "", "Meeting room"},
      {teams, NULL, "Meeting room"},
      {teams, "\xff\xfe", "Meeting room"},                            /* not UTF-8 */
      {teams, "Salle e\xcc\x81t\xc3\xa9", "Salle \xc3\xa9t\xc3\xa9"}, /* NFC */
      {lab, "Board Room 3!", "BoardRoom3"},
      {lab, "\xc3\xa9\xc3\xa9", "MeetingRoom"},
      {teams, "0123456789012345678901234567890123456789012345678901234567890123456789",
       "0123456789012345678901234567890123456789012345678901234567890123"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = ar_recipe_display_name(cases[i].r, cases[i].in);
    g_assert_cmpstr(out, ==, cases[i].out);
  }
}

static void
test_expand_value(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  ArRecipe *webex = ar_recipe_set_lookup_id(set, "webex");
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(webex, &n);
  const ArRecipeStep *name = NULL, *email = NULL;
  for (guint i = 0; i < n; i++) {
    if (steps[i].action != AR_RECIPE_ACTION_FILL)
      continue;
    if (strstr(steps[i].value, "display-name") != NULL)
      name = &steps[i];
    else
      email = &steps[i];
  }
  g_assert_nonnull(name);
  g_assert_nonnull(email);
  g_assert_true(email->optional);
  g_assert_cmpstr(email->frame, ==, "#unified-webclient-iframe");
  g_autoptr(GError) error = NULL;
  g_autofree char *v = ar_recipe_expand_value(webex, name, "Board\nRoom", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(v, ==, "Board Room");
  g_autofree char *e = ar_recipe_expand_value(webex, email, "Room", "room@example.org", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(e, ==, "room@example.org");
  g_assert_null(ar_recipe_expand_value(webex, email, "Room", NULL, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
}

/* ---- administrator folders ---- */

static char *
make_dir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("ar-recipes-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static void
remove_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(p, text, -1, &error);
  g_assert_no_error(error);
}

static char *
read_source(const char *path)
{
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}

static char *
replace_once(const char *text, const char *from, const char *to)
{
  const char *at = strstr(text, from);
  g_assert_nonnull(at);
  return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

static void
test_admin_override(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *zoom = read_source(AR_SOURCE_RECIPES_DIR "/zoom.json");
  g_autofree char *mine = replace_once(zoom, "\"name\": \"Zoom\"", "\"name\": \"Zoom (ours)\"");
  write_file(dir, "zoom.json", mine);
  g_autofree char *lab = read_source(AR_LAB_RECIPES_DIR "/janus-videoroom.json");
  write_file(dir, "janus-videoroom.json", lab);
  write_file(dir, "README.txt", "not a recipe");

  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(ArRecipeSet) set = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, dir, &problems);
  g_assert_cmpuint(problems->len, ==, 0);
  g_assert_cmpstr(ar_recipe_get_name(ar_recipe_set_lookup_id(set, "zoom")), ==, "Zoom (ours)");
  g_assert_true(ar_recipe_set_is_admin(set, "zoom"));
  g_assert_true(ar_recipe_set_is_admin(set, "janus-videoroom"));
  g_assert_false(ar_recipe_set_is_admin(set, "teams"));
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(set);
  g_assert_cmpuint(g_strv_length(ids), ==, g_strv_length((char **)shipped_ids) + 1);

  /* A zoom link now finds the administrator's recipe. */
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse("https://zoom.us/j/123456789", &policy, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ar_recipe_get_name(ar_recipe_set_lookup(set, link, TRUE)), ==, "Zoom (ours)");

  /* A missing administrator folder is no problem. */
  g_autofree char *gone = g_build_filename(dir, "nope", NULL);
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(ArRecipeSet) set2 = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, gone, &none);
  g_assert_cmpuint(none->len, ==, 0);
  remove_dir(dir);
}

static void
test_admin_bad_file(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *lab = read_source(AR_LAB_RECIPES_DIR "/janus-videoroom.json");
  write_file(dir, "janus-videoroom.json", lab);
  g_autofree char *teams = read_source(AR_SOURCE_RECIPES_DIR "/teams.json");
  g_autofree char *bad = replace_once(teams, "[data-tid=\\\"toggle-video\\\"]", "[data-tid=");
  write_file(dir, "teams.json", bad);

  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(ArRecipeSet) set = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, dir, &problems);
  g_assert_cmpuint(problems->len, ==, 1);
  const GError *e = g_ptr_array_index(problems, 0);
  g_assert_error(e, AR_RECIPE_ERROR, AR_RECIPE_ERROR_INVALID);
  g_assert_cmpstr(e->message, ==, "teams.json: steps[3].selectors[0]: unclosed '['");
  /* The refused file does not replace the shipped recipe; the good one loads. */
  g_assert_false(ar_recipe_set_is_admin(set, "teams"));
  g_assert_nonnull(ar_recipe_set_lookup_id(set, "teams"));
  g_assert_true(ar_recipe_set_is_admin(set, "janus-videoroom"));
  remove_dir(dir);
}

/* The example in docs/recipes.md ("How to add one") is a recipe that loads. */
static void
test_docs_example(void)
{
  g_autofree char *doc = read_source(AR_DOCS_DIR "/recipes.md");
  const char *start = strstr(doc, "```json\n");
  g_assert_nonnull(start);
  start += 8;
  const char *end = strstr(start, "```");
  g_assert_nonnull(end);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) r =
      ar_recipe_new_from_data("janus-videoroom.json", start, end - start, &error);
  g_assert_no_error(error);
  check_coverage(r);
  g_assert_cmpstr(ar_recipe_get_hosts(r)[0], ==, "127.0.0.1");
}

static void
test_admin_app_link(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *lab = read_source(AR_LAB_RECIPES_DIR "/janus-videoroom.json");
  write_file(dir, "janus-videoroom.json", lab);
  g_autoptr(ArRecipeSet) set = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, dir, NULL);
  g_autoptr(GError) error = NULL;

  g_autoptr(ArLink) link = ar_recipe_set_parse_app_link(
      set, "http://127.0.0.1:8000/videoroomtest.html?room=1234&x=1#config.x=1", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(link->provider, ==, "janus-videoroom");
  g_assert_cmpint(link->engine, ==, AR_ENGINE_WEB);
  g_assert_cmpstr(link->join_url, ==, "http://127.0.0.1:8000/videoroomtest.html?room=1234&x=1");
  ArRecipe *r = ar_recipe_set_lookup(set, link, TRUE);
  g_assert_cmpstr(ar_recipe_get_id(r), ==, "janus-videoroom");
  g_autofree char *url = ar_recipe_build_join_url(r, link, "Board Room 3", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(url, ==, "http://127.0.0.1:8000/videoroomtest.html?room=1234");
  g_assert_true(ar_recipe_allows_origin(r, link, "http://127.0.0.1:8000"));
  g_assert_false(ar_recipe_allows_origin(r, link, "http://127.0.0.1:8001"));

  const char *refused[] = {
      "http://10.0.0.1/videoroomtest.html",
      "https://evil.example/videoroomtest.html",
      "http://user@127.0.0.1:8000/x",
      "ftp://127.0.0.1/x",
      "http://127.0.0.1.evil.example/x",
      "http://127.0.0.1:8000/a b",
      "javascript:alert(1)",
      "",
  };
  for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ArLink) l = ar_recipe_set_parse_app_link(set, refused[i], &e);
    g_assert_null(l);
    g_assert_error(e, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
  }
  /* Shipped recipes serve no hosts: without the administrator's folder, nothing. */
  g_autoptr(ArRecipeSet) plain = shipped_set();
  g_autoptr(ArLink) none =
      ar_recipe_set_parse_app_link(plain, "http://127.0.0.1:8000/videoroomtest.html", &error);
  g_assert_null(none);
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK);
  remove_dir(dir);
}

/* ---- broken files ---- */

#define MINIMAL                                                                                    \
  "{\"format\": 1, \"id\": \"t\", \"name\": \"T\", \"sources\": [\"https://example.org/src\"],\n"  \
  " \"serves\": {\"providers\": [\"jitsi\"]}, \"origins\": [\"{link}\"],\n"                        \
  " \"join-url\": {\"base\": \"{origin}{path}\"},\n"                                               \
  " \"steps\": [{\"action\": \"click\", \"selectors\": [\"#join\"]}],\n"                           \
  " \"probes\": {\"captcha\": {\"not-applicable\": \"none\"},"                                     \
  " \"sign-in-required\": {\"not-applicable\": \"none\"},"                                         \
  " \"denied\": {\"texts\": [\"denied\"], \"message\": \"The host denied the request\"},"          \
  " \"removed\": {\"not-applicable\": \"none\"}, \"ended\": {\"not-applicable\": \"none\"},"       \
  " \"error\": {\"not-applicable\": \"none\"}, \"in-call\": {\"selectors\": [\"#call\"]},"         \
  " \"lobby\": {\"not-applicable\": \"none\"}, \"pre-join\": {\"selectors\": [\"#join\"]}},\n"     \
  " \"controls\": {\"mute\": {\"not-applicable\": \"n\"}, \"unmute\": {\"not-applicable\": "       \
  "\"n\"},"                                                                                        \
  " \"camera-off\": {\"not-applicable\": \"n\"}, \"camera-on\": {\"not-applicable\": \"n\"}},\n"   \
  " \"leave\": []}"

#define STEP "{\"action\": \"click\", \"selectors\": [\"#join\"]}"

typedef struct {
  const char *path;
  const char *from; /* replaced in MINIMAL (NULL: TO is the whole file) */
  const char *to;
  const char *error; /* expected message start */
} BadCase;

static const BadCase bad_cases[] = {
    {"/recipes/invalid/format", "\"format\": 1", "\"format\": 2",
     "t.json: format: format 2 is not known"},
    {"/recipes/invalid/id-file-name", "\"id\": \"t\"", "\"id\": \"x\"",
     "t.json: id: \"x\" does not match the file name (t.json)"},
    {"/recipes/invalid/unknown-key", "\"name\": \"T\"", "\"name\": \"T\", \"colour\": \"red\"",
     "t.json: colour: unknown key"},
    {"/recipes/invalid/missing-key", "\"leave\": []", "\"notes\": \"x\"", "t.json: leave: missing"},
    {"/recipes/invalid/selector-bracket", "[\"#join\"]}],", "[\"#join[\"]}],",
     "t.json: steps[0].selectors[0]: unclosed '['"},
    {"/recipes/invalid/selector-playwright", "[\"#join\"]}],",
     "[\"button:has-text(\\\"Join\\\")\"]}],",
     "t.json: steps[0].selectors[0]: Playwright/jQuery syntax, not CSS"},
    {"/recipes/invalid/selector-xpath", "[\"#join\"]}],", "[\"//button\"]}],",
     "t.json: steps[0].selectors[0]: XPath is not CSS"},
    {"/recipes/invalid/selector-braces", "[\"#join\"]}],", "[\"#join{}\"]}],",
     "t.json: steps[0].selectors[0]: braces are not part of a selector"},
    {"/recipes/invalid/selector-quote", "[\"#join\"]}],", "[\"a[title='x]\"]}],",
     "t.json: steps[0].selectors[0]: unterminated string"},
    {"/recipes/invalid/selector-paren", "[\"#join\"]}],", "[\"a:not(.x\"]}],",
     "t.json: steps[0].selectors[0]: unclosed '('"},
    {"/recipes/invalid/selector-empty", "[\"#join\"]}],", "[\"  \"]}],",
     "t.json: steps[0].selectors[0]: empty selector"},
    {"/recipes/invalid/selector-control", "[\"#join\"]}],", "[\"#jo\\u0001in\"]}],",
     "t.json: steps[0].selectors[0]: control character"},
    {"/recipes/invalid/selector-comma", "[\"#join\"]}],", "[\"#join,\"]}],",
     "t.json: steps[0].selectors[0]: selector ends with a combinator or ','"},
    {"/recipes/invalid/too-many-selectors", "[\"#join\"]}],",
     "[\"#a\",\"#b\",\"#c\",\"#d\",\"#e\",\"#f\",\"#g\",\"#h\",\"#i\"]}],",
     "t.json: steps[0].selectors: too many items (9, at most 8)"},
    {"/recipes/invalid/missing-probe", "\"lobby\": {\"not-applicable\": \"none\"}, ", "",
     "t.json: probes.lobby: missing (give a probe, or \"not-applicable\": reason)"},
    {"/recipes/invalid/unknown-state", "\"lobby\": {", "\"waiting\": {}, \"lobby\": {",
     "t.json: probes.waiting: unknown key"},
    {"/recipes/invalid/failure-without-message",
     "\"texts\": [\"denied\"], \"message\": \"The host denied the request\"",
     "\"texts\": [\"denied\"]", "t.json: probes.denied.message: missing"},
    {"/recipes/invalid/empty-probe", "\"in-call\": {\"selectors\": [\"#call\"]}", "\"in-call\": {}",
     "t.json: probes.in-call: give selectors, texts or a script"},
    {"/recipes/invalid/in-call-not-applicable", "\"in-call\": {\"selectors\": [\"#call\"]}",
     "\"in-call\": {\"not-applicable\": \"x\"}",
     "t.json: probes.in-call: only a recipe that hands the page to a person"},
    {"/recipes/invalid/not-applicable-and-probe", "\"lobby\": {\"not-applicable\": \"none\"}",
     "\"lobby\": {\"not-applicable\": \"none\", \"selectors\": [\"#x\"]}",
     "t.json: probes.lobby.selectors: a state marked not-applicable has no probe"},
    {"/recipes/invalid/text-control", "\"texts\": [\"denied\"]", "\"texts\": [\"den\\u0007ied\"]",
     "t.json: probes.denied.texts[0]: control character"},
    {"/recipes/invalid/message-too-long", "\"message\": \"The host denied the request\"",
     "\"message\": \"" /* 201 bytes */
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxx\"",
     "t.json: probes.denied.message: too long (201 bytes, at most 200)"},
    {"/recipes/invalid/provider", "[\"jitsi\"]", "[\"skype2\"]",
     "t.json: serves.providers[0]: \"skype2\" is not a provider id of the link module"},
    {"/recipes/invalid/serves-two", "{\"providers\": [\"jitsi\"]}",
     "{\"providers\": [\"jitsi\"], \"fallback\": true}",
     "t.json: serves: give exactly one of providers, hosts or fallback"},
    {"/recipes/invalid/host-not-in-origins",
     "{\"providers\": [\"jitsi\"]}, \"origins\": [\"{link}\"]",
     "{\"hosts\": [\"meet.example.org\"]}, \"origins\": [\"https://other.example.org\"]",
     "t.json: serves.hosts[0]: \"meet.example.org\" is not among the origins"},
    {"/recipes/invalid/host-pattern", "{\"providers\": [\"jitsi\"]}",
     "{\"hosts\": [\"Meet.Example\"]}",
     "t.json: serves.hosts[0]: \"Meet.Example\" is not a lower-case host name"},
    {"/recipes/invalid/origin-http", "[\"{link}\"]", "[\"http://example.org\"]",
     "t.json: origins[0]: \"http://example.org\": http:// only for loopback addresses"},
    {"/recipes/invalid/origin-path", "[\"{link}\"]", "[\"https://example.org/x\"]",
     "t.json: origins[0]: \"https://example.org/x\" is not https://host[:port]"},
    {"/recipes/invalid/origin-scheme", "[\"{link}\"]", "[\"javascript:x\"]",
     "t.json: origins[0]: \"javascript:x\" is not https://host[:port]"},
    {"/recipes/invalid/base-placeholder", "{origin}{path}", "{origin}{secret}",
     "t.json: join-url.base: unknown placeholder {secret}"},
    {"/recipes/invalid/base-fragment", "{origin}{path}", "{origin}{path}#x",
     "t.json: join-url.base: no '?' or '#' here"},
    {"/recipes/invalid/base-origin", "{origin}{path}", "javascript:{path}",
     "t.json: join-url.base: must start with {origin} or https://"},
    {"/recipes/invalid/fragment-key", "\"base\": \"{origin}{path}\"",
     "\"base\": \"{origin}{path}\", \"fragment\": {\"config.p2p.enabled\": false}",
     "t.json: join-url.fragment.config.p2p.enabled: not one of the fixed fragment keys"},
    {"/recipes/invalid/fragment-value", "\"base\": \"{origin}{path}\"",
     "\"base\": \"{origin}{path}\", \"fragment\": {\"config.startWithAudioMuted\": [1]}",
     "t.json: join-url.fragment.config.startWithAudioMuted: must be true/false"},
    {"/recipes/invalid/query-twice", "\"base\": \"{origin}{path}\"",
     "\"base\": \"{origin}{path}\", \"keep-query\": [\"jwt\"], \"query\": {\"jwt\": \"x\"}",
     "t.json: join-url.query.jwt: also in keep-query"},
    {"/recipes/invalid/query-name", "\"base\": \"{origin}{path}\"",
     "\"base\": \"{origin}{path}\", \"query\": {\"a&b\": \"x\"}",
     "t.json: join-url.query.a&b: \"a&b\" is not a parameter name"},
    {"/recipes/invalid/timeout", STEP,
     "{\"action\": \"click\", \"selectors\": [\"#join\"], \"timeout-ms\": 999999}",
     "t.json: steps[0].timeout-ms: 999999 is out of range (100..120000)"},
    {"/recipes/invalid/timeout-type", STEP,
     "{\"action\": \"click\", \"selectors\": [\"#join\"], \"timeout-ms\": \"5s\"}",
     "t.json: steps[0].timeout-ms: must be a whole number, not a string"},
    {"/recipes/invalid/key-for-other-action", STEP,
     "{\"action\": \"click\", \"selectors\": [\"#join\"], \"value\": \"x\"}",
     "t.json: steps[0].value: not used by action click"},
    {"/recipes/invalid/action", STEP, "{\"action\": \"hover\", \"selectors\": [\"#join\"]}",
     "t.json: steps[0].action: \"hover\" is not an action"},
    {"/recipes/invalid/click-without-selectors", STEP, "{\"action\": \"click\"}",
     "t.json: steps[0].selectors: missing (action click needs an element)"},
    {"/recipes/invalid/toggle-without-state", STEP,
     "{\"action\": \"toggle\", \"selectors\": [\"#mic\"], \"want\": \"on\"}",
     "t.json: steps[0].state: missing"},
    {"/recipes/invalid/toggle-want", STEP,
     "{\"action\": \"toggle\", \"selectors\": [\"#mic\"], \"want\": \"maybe\","
     " \"state\": {\"attribute\": \"aria-pressed\", \"on\": [\"true\"], \"off\": [\"false\"]}}",
     "t.json: steps[0].want: \"maybe\" is not \"on\" or \"off\""},
    {"/recipes/invalid/toggle-state-key", STEP,
     "{\"action\": \"toggle\", \"selectors\": [\"#mic\"], \"want\": \"on\","
     " \"state\": {\"attribute\": \"aria-pressed\", \"on\": [\"true\"]}}",
     "t.json: steps[0].state.off: missing"},
    {"/recipes/invalid/fill-placeholder", STEP,
     "{\"action\": \"fill\", \"selectors\": [\"#name\"], \"value\": \"{password}\"}",
     "t.json: steps[0].value: unknown placeholder {password}"},
    {"/recipes/invalid/fill-typing", STEP,
     "{\"action\": \"fill\", \"selectors\": [\"#name\"], \"value\": \"{display-name}\","
     " \"typing\": \"paste\"}",
     "t.json: steps[0].typing: \"paste\" is not \"keys\" or \"set\""},
    {"/recipes/invalid/press-key", STEP, "{\"action\": \"press\", \"key\": \"F12\"}",
     "t.json: steps[0].key: \"F12\" is not one of Enter, Escape, Tab, Space"},
    {"/recipes/invalid/script-missing", STEP, "{\"action\": \"script\"}",
     "t.json: steps[0].script: missing"},
    {"/recipes/invalid/frame", STEP,
     "{\"action\": \"click\", \"selectors\": [\"#join\"], \"frame\": \"iframe[\"}",
     "t.json: steps[0].frame: unclosed '['"},
    {"/recipes/invalid/control-wait", "\"mute\": {\"not-applicable\": \"n\"}",
     "\"mute\": {\"action\": \"wait-for\", \"selectors\": [\"#m\"]}",
     "t.json: controls.mute.action: a control clicks, toggles, presses a key or runs a script"},
    {"/recipes/invalid/control-missing", "\"mute\": {\"not-applicable\": \"n\"}, ", "",
     "t.json: controls.mute: missing"},
    {"/recipes/invalid/leave-type", "\"leave\": []", "\"leave\": {}",
     "t.json: leave: must be a list, not an object"},
    {"/recipes/invalid/sources-empty", "[\"https://example.org/src\"]", "[]",
     "t.json: sources: must not be empty"},
    {"/recipes/invalid/source-text", "[\"https://example.org/src\"]", "[\"a friend\"]",
     "t.json: sources[0]: cite a URL"},
    {"/recipes/invalid/display-name", "\"leave\": []",
     "\"leave\": [], \"display-name\": {\"max-length\": 0}",
     "t.json: display-name.max-length: 0 is out of range (1..128)"},
    {"/recipes/invalid/duplicate-key", STEP,
     "{\"action\": \"click\", \"selectors\": [\"#join\"], \"selectors\": [\"#x\"]}",
     "t.json: key \"selectors\" given twice in one object"},
    {"/recipes/invalid/duplicate-top-key", "\"name\": \"T\"", "\"name\": \"T\", \"name\": \"U\"",
     "t.json: key \"name\" given twice in one object"},
    {"/recipes/invalid/not-json", NULL, "{\"format\": 1,", "t.json: not JSON"},
    {"/recipes/invalid/not-object", NULL, "[1, 2]", "t.json: must be an object, not a list"},
    {"/recipes/invalid/empty", NULL, "", "t.json: empty file"},
    {"/recipes/invalid/deep", NULL,
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
     "t.json: nested deeper than 16 levels"},
    /* The participants probe. */
    {"/recipes/invalid/participants/type", "\"leave\": []", "\"leave\": [], \"participants\": []",
     "t.json: participants: must be an object, not a list"},
    {"/recipes/invalid/participants/empty", "\"leave\": []", "\"leave\": [], \"participants\": {}",
     "t.json: participants: give selectors (one element per participant) or a count"},
    {"/recipes/invalid/participants/unknown-key", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": [\".p\"], \"script\": \"1\"}",
     "t.json: participants.script: unknown key"},
    {"/recipes/invalid/participants/selector", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": [\".p[\"]}",
     "t.json: participants.selectors[0]: unclosed '['"},
    {"/recipes/invalid/participants/name", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": [\".p\"], \"name\": "
     "\"span:has-text(\\\"x\\\")\"}",
     "t.json: participants.name: Playwright/jQuery syntax, not CSS"},
    {"/recipes/invalid/participants/self", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": [\".p\"], \"self\": \"//me\"}",
     "t.json: participants.self: XPath is not CSS"},
    {"/recipes/invalid/participants/count-type", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"count\": 5}",
     "t.json: participants.count: must be a string, not a number"},
    {"/recipes/invalid/participants/attribute", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": [\".p\"], \"name-attribute\": \"on click\"}",
     "t.json: participants.name-attribute: \"on click\" is not a parameter name"},
    {"/recipes/invalid/participants/includes-self", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"count\": \"#n\", \"count-includes-self\": \"yes\"}",
     "t.json: participants.count-includes-self: must be true or false"},
    {"/recipes/invalid/participants/name-without-selectors", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"count\": \"#n\", \"name\": \".n\"}",
     "t.json: participants.name: needs selectors"},
    {"/recipes/invalid/participants/too-many-selectors", "\"leave\": []",
     "\"leave\": [], \"participants\": {\"selectors\": "
     "[\"#a\",\"#b\",\"#c\",\"#d\",\"#e\",\"#f\",\"#g\",\"#h\",\"#i\"]}",
     "t.json: participants.selectors: too many items (9, at most 8)"},
};

static void
test_bad(gconstpointer data)
{
  const BadCase *tc = data;
  g_autofree char *text =
      tc->from != NULL ? replace_once(MINIMAL, tc->from, tc->to) : g_strdup(tc->to);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) r = ar_recipe_new_from_data("t.json", text, strlen(text), &error);
  g_assert_null(r);
  g_assert_nonnull(error);
  g_assert_true(error->domain == AR_RECIPE_ERROR);
  if (!g_str_has_prefix(error->message, tc->error))
    g_error("got \"%s\", want \"%s...\"", error->message, tc->error);
}

static void
test_minimal_ok(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) r = ar_recipe_new_from_data("t.json", MINIMAL, strlen(MINIMAL), &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ar_recipe_get_id(r), ==, "t");
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(r, &n);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpint(steps[0].action, ==, AR_RECIPE_ACTION_CLICK);
  g_assert_cmpuint(steps[0].timeout_ms, ==, AR_RECIPE_DEFAULT_TIMEOUT_MS);
  g_assert_false(steps[0].optional);
  (void)ar_recipe_get_leave(r, &n);
  g_assert_cmpuint(n, ==, 0);
}

static void
test_participants_ok(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) none = ar_recipe_new_from_data("t.json", MINIMAL, strlen(MINIMAL), &error);
  g_assert_no_error(error);
  g_assert_null(ar_recipe_get_participants(none));

  g_autofree char *text =
      replace_once(MINIMAL, "\"leave\": []",
                   "\"leave\": [], \"participants\": {\"selectors\": [\"[data-pid]\", \".tile\"], "
                   "\"name\": \"span.name\", \"name-attribute\": \"aria-label\", \"id-attribute\": "
                   "\"data-pid\", \"self\": \"[data-self]\", \"count\": \"#people .n\", "
                   "\"count-includes-self\": false, \"note\": \"x\"}");
  g_autoptr(ArRecipe) r = ar_recipe_new_from_data("t.json", text, strlen(text), &error);
  g_assert_no_error(error);
  const ArRecipeParticipants *pp = ar_recipe_get_participants(r);
  g_assert_nonnull(pp);
  g_assert_cmpstr(pp->selectors[0], ==, "[data-pid]");
  g_assert_cmpstr(pp->selectors[1], ==, ".tile");
  g_assert_null(pp->selectors[2]);
  g_assert_null(pp->frame);
  g_assert_cmpstr(pp->name, ==, "span.name");
  g_assert_cmpstr(pp->name_attribute, ==, "aria-label");
  g_assert_cmpstr(pp->id_attribute, ==, "data-pid");
  g_assert_cmpstr(pp->self, ==, "[data-self]");
  g_assert_cmpstr(pp->count, ==, "#people .n");
  g_assert_false(pp->count_includes_self);
  /* Its selectors are among the recipe's (the Chromium check sees them). */
  g_auto(GStrv) all = ar_recipe_dup_all_selectors(r);
  g_assert_true(g_strv_contains((const char *const *)all, "span.name"));
  g_assert_true(g_strv_contains((const char *const *)all, "[data-self]"));
  g_assert_true(g_strv_contains((const char *const *)all, "#people .n"));

  /* A count alone; the count includes the room unless told otherwise. */
  g_autofree char *count_only = replace_once(
      MINIMAL, "\"leave\": []", "\"leave\": [], \"participants\": {\"count\": \"#n\"}");
  g_autoptr(ArRecipe) c = ar_recipe_new_from_data("t.json", count_only, strlen(count_only), &error);
  g_assert_no_error(error);
  g_assert_nonnull(ar_recipe_get_participants(c)->selectors);
  g_assert_null(ar_recipe_get_participants(c)->selectors[0]);
  g_assert_true(ar_recipe_get_participants(c)->count_includes_self);

  /* The lab recipes read the pages' lists. */
  g_autoptr(ArRecipe) lab = lab_recipe();
  g_assert_nonnull(ar_recipe_get_participants(lab));
}

static void
test_file_limits(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill(AR_RECIPE_MAX_FILE_SIZE + 1, ' ');
  g_assert_null(ar_recipe_new_from_data("t.json", big, strlen(big), &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_TOO_LARGE);
  g_assert_true(g_str_has_prefix(error->message, "t.json: too large"));
  g_clear_error(&error);

  g_assert_null(ar_recipe_new_from_data("t.txt", MINIMAL, strlen(MINIMAL), &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(ar_recipe_new_from_data("t.json", "{\"a\":\0}", 7, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_INVALID);
  g_clear_error(&error);

  /* A file bigger than the bound on disk, and one that is missing. */
  g_autofree char *dir = make_dir();
  write_file(dir, "t.json", big);
  g_autofree char *path = g_build_filename(dir, "t.json", NULL);
  g_assert_null(ar_recipe_new_from_file(path, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_TOO_LARGE);
  g_clear_error(&error);
  g_unlink(path);
  g_assert_null(ar_recipe_new_from_file(path, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO);
  g_assert_true(g_str_has_prefix(error->message, "t.json: cannot open"));
  g_clear_error(&error);
  /* A FIFO (nobody writes to it) is refused at once, not waited on. */
  g_assert_cmpint(mkfifo(path, 0600), ==, 0);
  g_assert_null(ar_recipe_new_from_file(path, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO);
  g_assert_cmpstr(error->message, ==, "t.json: not a regular file");
  g_clear_error(&error);
  g_unlink(path);
  /* A symbolic link is not followed. */
  g_autofree char *target = g_build_filename(dir, "target", NULL);
  write_file(dir, "target", MINIMAL);
  g_assert_cmpint(symlink(target, path), ==, 0);
  g_assert_null(ar_recipe_new_from_file(path, &error));
  g_assert_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO);
  remove_dir(dir);
}

static void
test_css(void)
{
  const char *good[] = {
      "#start",
      "[data-tid=\"prejoin-join-button\"]",
      "button[aria-label*=\"Leave\" i]",
      "#registernow:not(.hide) #username",
      "a[title='x]y']",
      "div > span + em ~ b",
      "a\\{b",
      "[data-testid=\"prejoin.screen\"] input",
      "button:has(svg)",
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++)
    g_assert_null(ar_recipe_css_check(good[i]));
  const char *bad[] = {
      "",
      "   ",
      "a[",
      "a]",
      "a(",
      "a)",
      "a{",
      "a;b",
      "'x",
      "a\\",
      "text=Join",
      "//div",
      "a >",
      "a,",
      ",a",
      "a >> b",
      "div:contains(x)",
      "a\tb",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_nonnull(ar_recipe_css_check(bad[i]));
  g_autofree char *longer = g_strnfill(AR_RECIPE_MAX_SELECTOR_LEN + 1, 'a');
  g_assert_nonnull(ar_recipe_css_check(longer));
}

static void
test_toggle_state(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  g_autoptr(ArRecipe) lab = lab_recipe();
  const ArRecipeStep *mute = ar_recipe_get_control(lab, AR_RECIPE_CONTROL_MUTE)->step;
  const ArRecipeStep *unmute = ar_recipe_get_control(lab, AR_RECIPE_CONTROL_UNMUTE)->step;
  g_assert_cmpint(ar_recipe_toggle_state(mute, "Mute"), ==, AR_RECIPE_TOGGLE_ON);
  g_assert_cmpint(ar_recipe_toggle_state(mute, " unmute "), ==, AR_RECIPE_TOGGLE_OFF);
  g_assert_cmpint(ar_recipe_toggle_state(mute, "Muted?"), ==, AR_RECIPE_TOGGLE_ON);
  g_assert_cmpint(ar_recipe_toggle_state(mute, "Publish"), ==, AR_RECIPE_TOGGLE_UNKNOWN);
  g_assert_cmpint(ar_recipe_toggle_state(mute, NULL), ==, AR_RECIPE_TOGGLE_UNKNOWN);
  g_assert_true(ar_recipe_toggle_needs_click(mute, "Mute"));
  g_assert_false(ar_recipe_toggle_needs_click(mute, "Unmute"));
  g_assert_false(ar_recipe_toggle_needs_click(unmute, "Mute"));
  g_assert_true(ar_recipe_toggle_needs_click(unmute, "Unmute"));
  g_assert_false(ar_recipe_toggle_needs_click(unmute, "???"));

  /* Teams' pre-join switches: aria-checked. */
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(ar_recipe_set_lookup_id(set, "teams"), &n);
  const ArRecipeStep *mic = NULL;
  for (guint i = 0; i < n && mic == NULL; i++)
    if (steps[i].action == AR_RECIPE_ACTION_TOGGLE)
      mic = &steps[i];
  g_assert_nonnull(mic);
  g_assert_cmpstr(mic->state_attribute, ==, "aria-checked");
  g_assert_true(mic->want_on);
  g_assert_true(ar_recipe_toggle_needs_click(mic, "false"));
  g_assert_false(ar_recipe_toggle_needs_click(mic, "true"));
  g_assert_false(ar_recipe_toggle_needs_click(mic, NULL));
  /* A click step is no toggle. */
  g_assert_cmpint(ar_recipe_toggle_state(&steps[0], "true"), ==, AR_RECIPE_TOGGLE_UNKNOWN);
}

static void
test_origins(void)
{
  g_autoptr(ArRecipeSet) set = shipped_set();
  ArRecipe *zoom = ar_recipe_set_lookup_id(set, "zoom");
  g_assert_true(ar_recipe_allows_origin(zoom, NULL, "https://app.zoom.us"));
  g_assert_true(ar_recipe_allows_origin(zoom, NULL, "https://us02web.zoom.us"));
  g_assert_true(ar_recipe_allows_origin(zoom, NULL, "https://zoom.us"));
  g_assert_false(ar_recipe_allows_origin(zoom, NULL, "https://evilzoom.us"));
  g_assert_false(ar_recipe_allows_origin(zoom, NULL, "http://app.zoom.us"));
  g_assert_false(ar_recipe_allows_origin(zoom, NULL, "https://app.zoom.us:8443"));
  ArRecipe *jitsi = ar_recipe_set_lookup_id(set, "jitsi");
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) link = ar_link_parse("https://meet.example.org/room", &policy, &error);
  g_assert_no_error(error);
  g_assert_true(ar_recipe_allows_origin(jitsi, link, "https://meet.example.org"));
  g_assert_false(ar_recipe_allows_origin(jitsi, NULL, "https://meet.example.org"));
  g_assert_true(ar_recipe_host_matches("*.example.org", "example.org"));
  g_assert_true(ar_recipe_host_matches("*.example.org", "a.b.example.org"));
  g_assert_false(ar_recipe_host_matches("*.example.org", "badexample.org"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/recipes/shipped/load", test_shipped_load);
  g_test_add_func("/recipes/shipped/states-covered", test_shipped_coverage);
  g_test_add_func("/recipes/shipped/providers", test_shipped_providers);
  g_test_add_func("/recipes/shipped/selectors", test_shipped_selectors);
  for (guint i = 0; i < G_N_ELEMENTS(url_cases); i++)
    g_test_add_data_func(url_cases[i].path, &url_cases[i], test_join_url);
  g_test_add_func("/recipes/join-url/jitsi/hostile-fragment", test_jitsi_hostile_fragment);
  g_test_add_func("/recipes/join-url/refused", test_join_url_refused);
  g_test_add_func("/recipes/display-name", test_display_name);
  g_test_add_func("/recipes/expand-value", test_expand_value);
  g_test_add_func("/recipes/origins", test_origins);
  g_test_add_func("/recipes/toggle-state", test_toggle_state);
  g_test_add_func("/recipes/admin/override", test_admin_override);
  g_test_add_func("/recipes/admin/bad-file", test_admin_bad_file);
  g_test_add_func("/recipes/admin/app-link", test_admin_app_link);
  g_test_add_func("/recipes/docs-example", test_docs_example);
  g_test_add_func("/recipes/minimal", test_minimal_ok);
  g_test_add_func("/recipes/file-limits", test_file_limits);
  g_test_add_func("/recipes/participants", test_participants_ok);
  g_test_add_func("/recipes/css", test_css);
  for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++)
    g_test_add_data_func(bad_cases[i].path, &bad_cases[i], test_bad);
  return g_test_run();
}
