/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-recipe.c: the join recipe surface (firmware/recipes): a recipe file as
 * an administrator could upload it.
 *
 * The input is the file. It is loaded under the name "<id>.json" when it
 * names a plausible id (so that fuzzing gets past the file-name check), else
 * "fuzz.json". Besides memory errors, checks properties of what loads: every
 * selector passes the CSS sanity check; for links of every service, the join
 * URL (if any) has an origin the recipe allows, never carries the link's own
 * fragment (a '#' only if the recipe builds a fragment, with its fixed keys
 * only), and is all percent-encoded; value templates expand or fail cleanly;
 * a participants probe has elements or a count to read, and its attribute
 * names are plain names.
 */
#include "ar-recipe-priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const links[] = {
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d",
    "https://us02web.zoom.us/j/81234567890?pwd=abc#success",
    "https://acme.webex.com/meet/jdoe",
    "https://meet.google.com/abc-defg-hij",
    "https://meet.jit.si/MyRoom#config.p2p.enabled=false",
    "https://whereby.com/team-standup",
    "https://meet.goto.com/123456789",
};

static char *
guess_name(const char *data, size_t size)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (size > AR_RECIPE_MAX_FILE_SIZE || memchr(data, '\0', size) != NULL)
    return g_strdup("fuzz.json");
  /* Same nesting bound as the loader, before json-glib recurses. */
  guint depth = 0, max = 0;
  gboolean in_string = FALSE;
  for (size_t i = 0; i < size; i++) {
    if (in_string) {
      if (data[i] == '\\')
        i++;
      else if (data[i] == '"')
        in_string = FALSE;
    } else if (data[i] == '"') {
      in_string = TRUE;
    } else if (data[i] == '{' || data[i] == '[') {
      max = MAX(max, ++depth);
    } else if ((data[i] == '}' || data[i] == ']') && depth > 0) {
      depth--;
    }
  }
  if (max > 16 || !json_parser_load_from_data(parser, data, size, NULL))
    return g_strdup("fuzz.json");
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return g_strdup("fuzz.json");
  const char *id =
      json_object_get_string_member_with_default(json_node_get_object(root), "id", NULL);
  if (id == NULL || strlen(id) == 0 || strlen(id) > 32 || strchr(id, '/') != NULL)
    return g_strdup("fuzz.json");
  return g_strdup_printf("%s.json", id);
}

static void
check_join_url(const ArRecipe *r, const ArLink *link)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = ar_recipe_build_join_url(r, link, "Room \"#&=\n\xe2\x80\xae", &error);
  if (url == NULL) {
    if (error == NULL || error->message[0] == '\0')
      abort(); /* refusals always say why */
    return;
  }
  /* The link's fragment never leaks: a fragment exists only if the recipe
   * builds one, and holds only the fixed keys. */
  const char *hash = strchr(url, '#');
  if ((hash != NULL) != (r->fragment->len > 0))
    abort();
  if (hash != NULL) {
    if (strchr(hash + 1, '#') != NULL)
      abort();
    g_auto(GStrv) pairs = g_strsplit(hash + 1, "&", -1);
    for (guint i = 0; pairs[i] != NULL; i++) {
      char *eq = strchr(pairs[i], '=');
      if (eq == NULL)
        abort();
      *eq = '\0';
      if (!ar_recipe_fragment_key_allowed(pairs[i]))
        abort();
    }
  }
  for (const char *p = url; *p; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f || *p == '"' || *p == '<' || *p == '>')
      abort(); /* everything substituted is percent-encoded */
  g_autofree char *origin = ar_recipe_url_origin(url, NULL);
  if (origin == NULL || !ar_recipe_allows_origin(r, link, origin))
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  g_autofree char *name = guess_name(text, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) r = ar_recipe_new_from_data(name, text, size, &error);
  if (r == NULL) {
    if (error == NULL || error->message[0] == '\0')
      abort();
    return 0;
  }

  g_auto(GStrv) sels = ar_recipe_dup_all_selectors(r);
  for (guint i = 0; sels[i] != NULL; i++)
    if (ar_recipe_css_check(sels[i]) != NULL)
      abort();
  for (guint s = 0; s < AR_RECIPE_N_STATES; s++) {
    const ArRecipeProbe *p = ar_recipe_get_probe(r, s);
    if (p->applicable ? (p->selectors == NULL || p->texts == NULL) : p->reason == NULL)
      abort();
  }

  const ArRecipeParticipants *pp = ar_recipe_get_participants(r);
  if (pp != NULL) {
    if (pp->selectors == NULL || (pp->selectors[0] == NULL && pp->count == NULL))
      abort();
    const char *const attrs[] = {pp->name_attribute, pp->id_attribute};
    for (guint i = 0; i < G_N_ELEMENTS(attrs); i++)
      for (const char *c = attrs[i]; c != NULL && *c; c++)
        if (!g_ascii_isalnum(*c) && strchr("-_.", *c) == NULL)
          abort();
  }

  for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
    g_autoptr(ArLink) link = ar_link_parse(links[i], NULL, NULL);
    if (link != NULL)
      check_join_url(r, link);
  }
  /* A link handed over with its fragment still on. */
  ArLink raw = {.provider = (char *)"jitsi",
                .engine = AR_ENGINE_WEB,
                .join_url = (char *)"https://meet.jit.si/Room?jwt=a#config.p2p.enabled=false&x=1"};
  check_join_url(r, &raw);

  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(r, &n);
  for (guint i = 0; i < n; i++) {
    if (steps[i].action != AR_RECIPE_ACTION_FILL)
      continue;
    g_autoptr(GError) e = NULL;
    g_autofree char *v = ar_recipe_expand_value(r, &steps[i], "Room", NULL, &e);
    if (v == NULL && e == NULL)
      abort();
  }
  g_autofree char *dn = ar_recipe_display_name(r, "\x01Room\xff");
  if (dn == NULL || dn[0] == '\0' || !g_utf8_validate(dn, -1, NULL))
    abort();
  return 0;
}
