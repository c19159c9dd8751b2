/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-decoder.c: the board's decoder preference. decodebin picks decoders by
 * GStreamer rank; a board knows better (its hardware decoder first, or a
 * software one where the hardware one is broken). The preference is applied
 * per decodebin through its autoplug-sort signal, never by changing ranks:
 * ranks are process-wide (docs/decisions.md).
 */
#include "ar-media-priv.h"

#include <string.h>

static const char *
ar_decoder_factory_name(gconstpointer factory)
{
  if (factory == NULL || !GST_IS_PLUGIN_FEATURE(factory))
    return NULL;
  return gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory));
}

static gboolean
ar_decoder_factory_is_decoder(gconstpointer factory)
{
  const char *klass = factory != NULL && GST_IS_ELEMENT_FACTORY(factory)
                          ? gst_element_factory_get_metadata((GstElementFactory *)factory,
                                                             GST_ELEMENT_METADATA_KLASS)
                          : NULL;

  return klass != NULL && strstr(klass, "Decoder") != NULL;
}

GList *
ar_decoder_sort(const GList *factories, const char *const *preference)
{
  GList *rest = g_list_copy((GList *)factories);
  GList *front = NULL; /* reversed */
  GList *at;
  guint keep = 0;

  for (gsize i = 0; preference != NULL && preference[i] != NULL; i++) {
    GList *l = rest;

    /* A repeated name finds nothing left: only its first place counts. */
    while (l != NULL) {
      GList *next = l->next;

      if (g_strcmp0(ar_decoder_factory_name(l->data), preference[i]) == 0) {
        rest = g_list_remove_link(rest, l);
        front = g_list_concat(l, front);
      }
      l = next;
    }
  }
  if (front == NULL)
    return rest;
  front = g_list_reverse(front);
  /* Where the first decoder was, never before a parser or depayloader that
   * GStreamer tries first: "avc" H.264 needs h264parse before a decoder that
   * takes byte-stream only, and a decoder put first would skip the parser. */
  for (const GList *l = factories; l != NULL && !ar_decoder_factory_is_decoder(l->data);
       l = l->next)
    if (g_list_find(front, l->data) == NULL)
      keep++;
  at = g_list_nth(rest, keep);
  if (at == NULL)
    return g_list_concat(rest, front);
  if (at == rest)
    return g_list_concat(front, rest);
  at->prev->next = NULL;
  at->prev = NULL;
  return g_list_concat(g_list_concat(rest, front), at);
}

/* GValueArray is deprecated in GLib, but it is what decodebin's signals carry. */
G_GNUC_BEGIN_IGNORE_DEPRECATIONS

/* Streaming thread: decodebin proposes @factories (not ours: static scope) for
 * @caps. Returns a new array (decodebin frees it), or NULL to keep its order. */
static GValueArray *
ar_decoder_on_autoplug_sort(GstElement *decodebin, GstPad *pad, GstCaps *caps,
                            GValueArray *factories, gpointer user_data)
{
  const char *const *preference = user_data;
  g_autoptr(GList) in = NULL;
  g_autoptr(GList) sorted = NULL;
  GValueArray *out;
  gboolean changed = FALSE;
  GType type;

  if (factories == NULL || factories->n_values < 2)
    return NULL;
  for (guint i = factories->n_values; i > 0; i--) {
    const GValue *v = g_value_array_get_nth(factories, i - 1);

    if (!G_VALUE_HOLDS_OBJECT(v))
      return NULL;
    in = g_list_prepend(in, g_value_get_object(v));
  }
  sorted = ar_decoder_sort(in, preference);
  for (GList *a = in, *b = sorted; a != NULL && b != NULL; a = a->next, b = b->next)
    changed |= a->data != b->data;
  if (!changed)
    return NULL;

  type = G_VALUE_TYPE(g_value_array_get_nth(factories, 0));
  out = g_value_array_new(factories->n_values);
  for (GList *l = sorted; l != NULL; l = l->next) {
    GValue v = G_VALUE_INIT;

    g_value_init(&v, type);
    g_value_set_object(&v, l->data);
    g_value_array_append(out, &v);
    g_value_unset(&v);
  }
  GST_DEBUG_OBJECT(decodebin, "decoder preference: %s first for %" GST_PTR_FORMAT,
                   ar_decoder_factory_name(sorted->data), caps);
  return out;
}

G_GNUC_END_IGNORE_DEPRECATIONS

static void
ar_decoder_free_preference(gpointer data, GClosure *closure)
{
  g_strfreev(data);
}

void
ar_decoder_attach(GstElement *decodebin, const char *const *preference)
{
  if (decodebin == NULL || preference == NULL || preference[0] == NULL)
    return;
  g_signal_connect_data(decodebin, "autoplug-sort", G_CALLBACK(ar_decoder_on_autoplug_sort),
                        g_strdupv((char **)preference), ar_decoder_free_preference, 0);
}

GstElement *
ar_decoder_make(const char *const *preference, const char *media_type, const char *fallback)
{
  g_autoptr(GstCaps) caps = gst_caps_new_empty_simple(media_type);

  for (gsize i = 0; preference != NULL && preference[i] != NULL; i++) {
    g_autoptr(GstElementFactory) f = gst_element_factory_find(preference[i]);
    GstElement *dec;

    if (f == NULL || !ar_decoder_factory_is_decoder(f) ||
        !gst_element_factory_can_sink_any_caps(f, caps))
      continue;
    if ((dec = gst_element_factory_create(f, NULL)) != NULL)
      return dec;
  }
  return gst_element_factory_make(fallback, NULL);
}

gboolean
ar_decoder_is_decoder(GstElement *element)
{
  return element != NULL && ar_decoder_factory_is_decoder(gst_element_get_factory(element));
}

char *
ar_decoder_find_in(GstBin *bin)
{
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  char *found = NULL;
  gboolean done = FALSE;

  if (bin == NULL)
    return NULL;
  it = gst_bin_iterate_recurse(bin);
  while (!done) {
    switch (gst_iterator_next(it, &item)) {
    case GST_ITERATOR_OK: {
      GstElement *element = g_value_get_object(&item);
      /* A decoder bin (e.g. vp8alphadecodebin) holds the real decoder: the
       * innermost one is the one that decodes. */
      if (ar_decoder_is_decoder(element) && !GST_IS_BIN(element)) {
        g_free(found);
        found = g_strdup(GST_OBJECT_NAME(gst_element_get_factory(element)));
      }
      g_value_reset(&item);
      break;
    }
    case GST_ITERATOR_RESYNC:
      g_clear_pointer(&found, g_free);
      gst_iterator_resync(it);
      break;
    default:
      done = TRUE;
      break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}
