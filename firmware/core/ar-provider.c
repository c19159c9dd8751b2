/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-provider.h"

#include <gio/gio.h>

typedef struct {
  ArEngine engine;
  char *id;
  const ArProviderClass *klass;
  gpointer class_data;
  GDestroyNotify class_data_free;
} Entry;

typedef struct {
  ArEngine engine;
  const ArEngineClass *klass;
  gpointer data;
  GDestroyNotify data_free;
} EngineEntry;

struct _ArProviderRegistry {
  GArray *entries; /* Entry */
  GArray *engines; /* EngineEntry */
};

static void
engine_entry_clear(EngineEntry *e)
{
  if (e->data_free)
    e->data_free(e->data);
}

static void
entry_clear(Entry *e)
{
  g_free(e->id);
  if (e->class_data_free)
    e->class_data_free(e->class_data);
}

ArProviderRegistry *
ar_provider_registry_new(void)
{
  ArProviderRegistry *r = g_new0(ArProviderRegistry, 1);
  r->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
  g_array_set_clear_func(r->entries, (GDestroyNotify)entry_clear);
  r->engines = g_array_new(FALSE, TRUE, sizeof(EngineEntry));
  g_array_set_clear_func(r->engines, (GDestroyNotify)engine_entry_clear);
  return r;
}

void
ar_provider_registry_free(ArProviderRegistry *registry)
{
  if (!registry)
    return;
  g_array_unref(registry->entries);
  g_array_unref(registry->engines);
  g_free(registry);
}

static const Entry *
find(const ArProviderRegistry *registry, ArEngine engine, const char *id)
{
  for (guint i = 0; id && i < registry->entries->len; i++) {
    const Entry *e = &g_array_index(registry->entries, Entry, i);
    if (e->engine == engine && g_str_equal(e->id, id))
      return e;
  }
  return NULL;
}

void
ar_provider_registry_add(ArProviderRegistry *registry, ArEngine engine, const char *id,
                         const ArProviderClass *klass, gpointer class_data,
                         GDestroyNotify class_data_free)
{
  g_return_if_fail(registry != NULL);
  g_return_if_fail(id != NULL && *id);
  g_return_if_fail(klass != NULL && klass->create != NULL);
  if (find(registry, engine, id)) {
    g_critical("providers: %s/%s is registered already", ar_engine_to_string(engine), id);
    if (class_data_free)
      class_data_free(class_data);
    return;
  }
  Entry e = {.engine = engine,
             .id = g_strdup(id),
             .klass = klass,
             .class_data = class_data,
             .class_data_free = class_data_free};
  g_array_append_val(registry->entries, e);
  g_debug("providers: %s/%s registered", ar_engine_to_string(engine), id);
}

const ArProviderClass *
ar_provider_registry_lookup(const ArProviderRegistry *registry, ArEngine engine, const char *id)
{
  const Entry *e = registry ? find(registry, engine, id) : NULL;
  return e ? e->klass : NULL;
}

void
ar_provider_registry_add_engine(ArProviderRegistry *registry, ArEngine engine,
                                const ArEngineClass *klass, gpointer engine_data,
                                GDestroyNotify engine_data_free)
{
  g_return_if_fail(registry != NULL && klass != NULL);
  for (guint i = 0; i < registry->engines->len; i++) {
    if (g_array_index(registry->engines, EngineEntry, i).engine == engine) {
      g_critical("providers: the %s engine is registered already", ar_engine_to_string(engine));
      if (engine_data_free)
        engine_data_free(engine_data);
      return;
    }
  }
  EngineEntry e = {
      .engine = engine, .klass = klass, .data = engine_data, .data_free = engine_data_free};
  g_array_append_val(registry->engines, e);
}

gboolean
ar_provider_registry_reload_network(ArProviderRegistry *registry, GError **error)
{
  for (guint i = 0; registry && i < registry->engines->len; i++) {
    const EngineEntry *e = &g_array_index(registry->engines, EngineEntry, i);
    if (e->klass->reload_network && !e->klass->reload_network(e->data, error))
      return FALSE;
  }
  return TRUE;
}

ArLink *
ar_provider_registry_parse_link(const ArProviderRegistry *registry, const char *text,
                                const ArLinkPolicy *policy, GError **error)
{
  g_autoptr(GError) why = NULL;
  ArLink *link = ar_link_parse(text, policy, &why);
  if (link)
    return link;
  for (guint i = 0; registry && i < registry->engines->len; i++) {
    const EngineEntry *e = &g_array_index(registry->engines, EngineEntry, i);
    if (e->klass->parse_link && (link = e->klass->parse_link(e->data, text, why)) != NULL)
      return link;
  }
  g_propagate_error(error, g_steal_pointer(&why));
  return NULL;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

ArProvider *
ar_provider_registry_create(const ArProviderRegistry *registry, const ArLink *link,
                            const char *display_name, const ArProviderCallbacks *cb,
                            gpointer user_data, GError **error)
{
  const Entry *e = registry ? find(registry, link->engine, link->provider) : NULL;
  if (!e) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no provider for %s links of %s",
                ar_engine_to_string(link->engine), link->provider ? link->provider : "(none)");
    return NULL;
  }
  return e->klass->create(link, e->class_data, display_name, cb, user_data, error);
}

char **
ar_provider_registry_list(const ArProviderRegistry *registry)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new();
  for (guint i = 0; registry && i < registry->entries->len; i++) {
    const Entry *e = &g_array_index(registry->entries, Entry, i);
    g_ptr_array_add(out, g_strdup_printf("%s/%s", ar_engine_to_string(e->engine), e->id));
  }
  g_ptr_array_sort(out, compare_strings);
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

void
ar_participant_free(ArParticipant *p)
{
  if (!p)
    return;
  g_free(p->id);
  g_free(p->display);
  g_free(p);
}

const char *
ar_track_event_kind_to_string(ArTrackEventKind what)
{
  return what == AR_TRACK_EVENT_FIRST_VIDEO_FRAME ? "first-video-frame" : "first-audio";
}

void
ar_track_info_free(ArTrackInfo *t)
{
  if (!t)
    return;
  g_free(t->source);
  g_free(t->path);
  g_free(t);
}
