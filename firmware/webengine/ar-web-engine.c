/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-call-priv.h"

static const ArProviderClass web_call_class;

/* ---- the provider ---- */

static ArProvider *
web_call_create(const ArLink *link, gpointer class_data, const char *display_name,
                const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  ArWebEngine *e = class_data;
  ArRecipe *recipe = ar_recipe_set_lookup(e->recipes, link, FALSE);
  if (!recipe) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no join recipe for %s meetings",
                link->provider ? link->provider : "these");
    return NULL;
  }
  g_autofree char *display = ar_recipe_display_name(recipe, display_name);
  char *url = ar_recipe_build_join_url(recipe, link, display, error);
  if (!url)
    return NULL;
  WebCall *c = g_new0(WebCall, 1);
  /* A board declared slower (browser-answer-timeout) gets every page deadline
   * stretched (ar_browser_pace): the whole join's minimum too, or the call
   * would fail before the stretched steps could (qemu: the browser's first
   * answer 150 s after launch, the page loaded 70 s later). */
  c->klass = web_call_class;
  c->klass.min_join_timeout_s = ar_web_min_join_timeout_s(e->answer_timeout_ms);
  c->parent.klass = &c->klass;
  c->engine = e;
  g_atomic_int_inc(&e->refs);
  c->recipe = ar_recipe_ref(recipe);
  c->link = ar_link_copy(link);
  c->room_name = g_strdup(display_name);
  c->display = g_steal_pointer(&display);
  c->join_url = url;
  c->cb = *cb;
  c->user_data = user_data;
  c->tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  c->participants = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
  c->last_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c->mic_muted = ar_media_engine_get_microphone_muted(e->media);
  c->camera_enabled = ar_media_engine_get_camera_enabled(e->media);
  g_message("web: joining with the %s recipe", ar_recipe_get_id(recipe));
  return &c->parent;
}

static void
web_call_collect_tracks(ArProvider *p, GPtrArray *out)
{
  WebCall *c = (WebCall *)p;
  for (guint i = 0; i < c->tracks->len; i++) {
    const ArTrackInfo *t = c->tracks->pdata[i];
    ArTrackInfo *copy = g_new0(ArTrackInfo, 1);
    copy->source = g_strdup(t->source);
    copy->path = g_strdup(t->path);
    copy->stats = t->stats;
    g_ptr_array_add(out, copy);
  }
}

static void
web_call_collect_participants(ArProvider *p, GPtrArray *out)
{
  WebCall *c = (WebCall *)p;
  for (guint i = 0; i < c->participants->len; i++) {
    const ArParticipant *x = c->participants->pdata[i];
    ArParticipant *copy = g_new0(ArParticipant, 1);
    copy->id = g_strdup(x->id);
    copy->display = g_strdup(x->display);
    g_ptr_array_add(out, copy);
  }
}

static void
web_call_free(ArProvider *p)
{
  WebCall *c = (WebCall *)p;
  if (!c)
    return;
  ar_web_call_stop_timers(c);
  /* Kills a live browser (no callback) and removes its profile. */
  g_clear_pointer(&c->browser, ar_browser_free);
  ar_web_call_release_media(c);
  g_clear_error(&c->end_error);
  ar_recipe_unref(c->recipe);
  ar_link_free(c->link);
  g_free(c->room_name);
  g_free(c->display);
  g_free(c->join_url);
  g_free(c->attention);
  g_ptr_array_unref(c->tracks);
  g_ptr_array_unref(c->participants);
  g_hash_table_unref(c->last_bytes);
  ar_web_engine_unref(c->engine);
  g_free(c);
}

static const ArProviderClass web_call_class = {
    .create = web_call_create,
    .join = ar_web_call_join,
    .leave = ar_web_call_leave,
    .collect_tracks = web_call_collect_tracks,
    .collect_participants = web_call_collect_participants,
    .set_controls = ar_web_call_set_controls,
    .free = web_call_free,
    .min_join_timeout_s = AR_WEB_MIN_JOIN_TIMEOUT_S,
};

guint
ar_web_min_join_timeout_s(guint answer_timeout_ms)
{
  return AR_WEB_MIN_JOIN_TIMEOUT_S * ar_browser_pace_for(answer_timeout_ms);
}

/* ---- the engine ---- */

ArWebEngine *
ar_web_engine_new(const ArConfig *config, ArMediaEngine *media, const ArWebEngineOptions *o,
                  GError **error)
{
  ArWebEngine *e = g_new0(ArWebEngine, 1);
  e->refs = 1;
  e->config = config;
  e->media = media;
  g_autoptr(GPtrArray) problems = NULL;
  e->recipes = ar_recipe_set_load(o->recipes_dir, o->admin_recipes_dir, &problems);
  for (guint i = 0; problems && i < problems->len; i++)
    g_warning("web: a join recipe was refused: %s", ((GError *)problems->pdata[i])->message);
  e->recipes_dir = g_strdup(o->recipes_dir);
  e->admin_recipes_dir = g_strdup(o->admin_recipes_dir);
  e->chromium = g_strdup(o->chromium);
  e->headless = o->headless;
  e->wayland_display = g_strdup(o->wayland_display);
  e->extra_flags = g_strdupv((char **)o->extra_flags);
  e->blocked = g_strdupv((char **)o->blocked);
  e->state_dir = g_strdup(o->state_dir);
  e->room_email = g_strdup(o->room_email);
  e->bridge = o->bridge;
  e->answer_timeout_ms = o->answer_timeout_ms;
  e->start_timeout_ms = o->start_timeout_ms;
  e->admin_port = o->admin_port;
  e->runtime_dir = g_strdup(o->runtime_dir);
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  g_autofree char *list = g_strjoinv(", ", ids);
  g_message("web: join recipes: %s", list);
  return e;
}

void
ar_web_engine_unref(ArWebEngine *e)
{
  if (!e || !g_atomic_int_dec_and_test(&e->refs))
    return;
  ar_recipe_set_free(e->recipes);
  g_free(e->recipes_dir);
  g_free(e->admin_recipes_dir);
  g_free(e->chromium);
  g_free(e->wayland_display);
  g_strfreev(e->extra_flags);
  g_strfreev(e->blocked);
  g_free(e->state_dir);
  g_free(e->room_email);
  g_free(e->runtime_dir);
  g_free(e);
}

char **
ar_web_engine_dup_recipe_ids(ArWebEngine *e)
{
  return ar_recipe_set_dup_ids(e->recipes);
}

static ArLink *
engine_parse_link(gpointer data, const char *text, const GError *why)
{
  ArWebEngine *e = data;
  /* Only links the link module does not know: an administrator's own app. */
  return ar_recipe_set_parse_app_link(e->recipes, text, NULL);
}

static const ArEngineClass engine_class = {
    .parse_link = engine_parse_link,
};

static void
add_provider(ArWebEngine *e, ArProviderRegistry *registry, const char *id)
{
  if (ar_provider_registry_lookup(registry, AR_ENGINE_WEB, id))
    return;
  g_atomic_int_inc(&e->refs);
  ar_provider_registry_add(registry, AR_ENGINE_WEB, id, &web_call_class, e,
                           (GDestroyNotify)ar_web_engine_unref);
}

static void
add_recipe_providers(ArWebEngine *e, ArProviderRegistry *registry)
{
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  for (guint i = 0; ids[i]; i++) {
    ArRecipe *r = ar_recipe_set_lookup_id(e->recipes, ids[i]);
    const char *const *providers = ar_recipe_get_providers(r);
    for (guint j = 0; providers && providers[j]; j++)
      add_provider(e, registry, providers[j]);
    /* An administrator's app: its links are parsed by the engine with the
     * recipe's id as provider. */
    const char *const *hosts = ar_recipe_get_hosts(r);
    if (hosts && hosts[0])
      add_provider(e, registry, ids[i]);
  }
}

void
ar_web_engine_register(ArWebEngine *e, ArProviderRegistry *registry)
{
  if (e->registered)
    return;
  e->registered = TRUE;
  g_atomic_int_inc(&e->refs);
  ar_provider_registry_add_engine(registry, AR_ENGINE_WEB, &engine_class, e,
                                  (GDestroyNotify)ar_web_engine_unref);
  add_recipe_providers(e, registry);
}

guint
ar_web_engine_reload_recipes(ArWebEngine *e, ArProviderRegistry *registry)
{
  g_autoptr(GPtrArray) problems = NULL;
  ArRecipeSet *set = ar_recipe_set_load(e->recipes_dir, e->admin_recipes_dir, &problems);
  for (guint i = 0; i < problems->len; i++)
    g_warning("web: a join recipe was refused: %s", ((GError *)problems->pdata[i])->message);
  /* A call holds a reference to its own recipe: it keeps it. */
  ar_recipe_set_free(e->recipes);
  e->recipes = set;
  if (registry && e->registered)
    add_recipe_providers(e, registry);
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  g_autofree char *list = g_strjoinv(", ", ids);
  g_message("web: join recipes reloaded: %s", list);
  return problems->len;
}
