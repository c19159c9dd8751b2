/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-links.c: the meeting-link surface (anyroomctl url-info / find-links).
 *
 * Byte 0 selects: bit 0 clear = one link (ar_link_parse + url-info JSON),
 * set = an invitation (ar_link_find_all + find-links JSON); bit 1 = allow IDN.
 * The rest is the input. Besides memory errors, checks one property: the
 * join URL of a recognized web or SIP link is itself recognized as the same
 * provider with the same join URL (normalization is a fixpoint).
 */
#include "ar-link.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const jitsi_domains[] = {"meet.example.org", "*.jitsi.example.net", NULL};
static const char *const pexip_domains[] = {"video.example.com", NULL};

static void
check_fixpoint(const ArLink *link, const ArLinkPolicy *policy)
{
  if (link->engine == AR_ENGINE_NATIVE)
    return; /* ws://, http://: an endpoint, not a link form */
  g_autoptr(GError) error = NULL;
  g_autoptr(ArLink) again = ar_link_parse(link->join_url, policy, &error);
  if (again == NULL || strcmp(again->provider, link->provider) != 0 ||
      strcmp(again->join_url, link->join_url) != 0) {
    g_printerr("fixpoint broken: %s -> %s\n", link->join_url,
               again ? again->join_url : error->message);
    abort();
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  ArLinkPolicy policy = {
      .jitsi_domains = jitsi_domains,
      .pexip_domains = pexip_domains,
      .allow_idn = (data[0] & 2) != 0,
  };
  const char *text = (const char *)data + 1;
  gsize len = size - 1;

  if ((data[0] & 1) == 0) {
    g_autofree char *s = g_strndup(text, len); /* url-info takes a C string */
    g_autoptr(GError) error = NULL;
    g_autoptr(ArLink) link = ar_link_parse(s, &policy, &error);
    if (link != NULL) {
      g_autofree char *json = ar_link_to_json(link);
      if (json == NULL || json[0] != '{')
        abort();
      check_fixpoint(link, &policy);
    } else if (error == NULL || error->message == NULL || error->message[0] == '\0') {
      abort(); /* refusals always say why */
    }
    gboolean ok = FALSE;
    g_autofree char *info = ar_link_url_info_json(s, &policy, &ok);
    if (info == NULL || info[0] != '{' || ok != (link != NULL))
      abort();
  } else {
    g_autoptr(GPtrArray) links = ar_link_find_all(text, len, &policy);
    for (guint i = 0; i < links->len; i++)
      check_fixpoint(g_ptr_array_index(links, i), &policy);
    g_autofree char *json = ar_link_find_links_json(text, len, &policy);
    if (json == NULL || json[0] != '[')
      abort();
  }
  return 0;
}
