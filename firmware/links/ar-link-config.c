/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-link-config.c: the [links] section of anyroom.conf -> ArLinkPolicy.
 *
 *   [links]
 *   jitsi-domains=meet.example.org;*.jitsi.example.net
 *   pexip-domains=video.example.com
 *   allow-idn=false
 *
 * A domain is a host name (at least two labels) or "*.domain" for the domain
 * and all its subdomains. Unicode domains are stored in punycode and need
 * allow-idn=true (links to them are refused otherwise). Unknown keys are
 * refused, like the rest of the configuration.
 */
#include "ar-link-priv.h"

#include <string.h>

#define AR_LINK_CONFIG_MAX_DOMAINS 64

struct _ArLinkConfig {
  ArLinkPolicy policy;
  GStrv jitsi;
  GStrv pexip;
};

void
ar_link_config_free(ArLinkConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev(config->jitsi);
  g_strfreev(config->pexip);
  g_free(config);
}

const ArLinkPolicy *
ar_link_config_get_policy(const ArLinkConfig *config)
{
  return config != NULL ? &config->policy : NULL;
}

static char *
normalize_domain(const char *group, const char *key, const char *raw, gboolean allow_idn,
                 GError **error)
{
  g_autofree char *s = g_strstrip(g_strdup(raw));
  gboolean wildcard = g_str_has_prefix(s, "*.");
  const char *name = wildcard ? s + 2 : s;
  gboolean is_ip = FALSE;
  ArLinkPolicy p = {.allow_idn = TRUE};
  g_autoptr(GError) local = NULL;

  g_autofree char *host = ar_url_normalize_host(name, strlen(name), &p, &is_ip, &local);
  if (host == NULL || is_ip || strchr(host, '.') == NULL) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                "[%s] %s: \"%s\" is not a domain name (example.org or *.example.org)", group, key,
                raw);
    return NULL;
  }
  if (!allow_idn && (strstr(host, "xn--") != NULL)) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID,
                "[%s] %s: \"%s\" is an international domain name; set allow-idn=true to use it",
                group, key, raw);
    return NULL;
  }
  return wildcard ? g_strconcat("*.", host, NULL) : g_steal_pointer(&host);
}

static GStrv
load_domains(GKeyFile *kf, const char *group, const char *key, gboolean allow_idn, GError **error)
{
  gsize n = 0;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) raw = g_key_file_get_string_list(kf, group, key, &n, &local);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

  if (raw == NULL) {
    if (g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
        g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND)) {
      g_ptr_array_add(out, NULL);
      return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
    }
    g_propagate_prefixed_error(error, g_steal_pointer(&local), "[%s] %s: ", group, key);
    return NULL;
  }
  if (n > AR_LINK_CONFIG_MAX_DOMAINS) {
    g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID, "[%s] %s: more than %d domains", group,
                key, AR_LINK_CONFIG_MAX_DOMAINS);
    return NULL;
  }
  for (gsize i = 0; i < n; i++) {
    if (raw[i][0] == '\0')
      continue;
    char *d = normalize_domain(group, key, raw[i], allow_idn, error);
    if (d == NULL)
      return NULL;
    g_ptr_array_add(out, d);
  }
  g_ptr_array_add(out, NULL);
  return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

ArLinkConfig *
ar_link_config_new_from_keyfile(GKeyFile *kf, const char *group, GError **error)
{
  static const char *const known[] = {"jitsi-domains", "pexip-domains", "allow-idn", NULL};
  g_autoptr(ArLinkConfig) config = g_new0(ArLinkConfig, 1);
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail(kf != NULL, NULL);
  if (group == NULL)
    group = "links";

  if (g_key_file_has_group(kf, group)) {
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    for (char **k = keys; k != NULL && *k != NULL; k++) {
      if (!g_strv_contains(known, *k)) {
        g_set_error(error, AR_LINK_ERROR, AR_LINK_ERROR_INVALID, "[%s] %s: unknown key", group, *k);
        return NULL;
      }
    }
    config->policy.allow_idn = g_key_file_get_boolean(kf, group, "allow-idn", &local);
    if (local != NULL) {
      if (!g_error_matches(local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "[%s] allow-idn: ", group);
        return NULL;
      }
      g_clear_error(&local);
      config->policy.allow_idn = FALSE;
    }
  }
  config->jitsi = load_domains(kf, group, "jitsi-domains", config->policy.allow_idn, error);
  if (config->jitsi == NULL)
    return NULL;
  config->pexip = load_domains(kf, group, "pexip-domains", config->policy.allow_idn, error);
  if (config->pexip == NULL)
    return NULL;
  config->policy.jitsi_domains = (const char *const *)config->jitsi;
  config->policy.pexip_domains = (const char *const *)config->pexip;
  return g_steal_pointer(&config);
}
