/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-provision-priv.h: what the provisioning sources share (ar-provision-apply.c). */
#pragma once

#include "ar-provision.h"

G_BEGIN_DECLS

/* The file a DHCP URL was fetched into, in the state dir, and the source's
 * name beside it ("dhcp:https://HOST/"): ar-provision-dhcp.c writes them,
 * the next start takes them as the "dhcp" source. */
#define AR_PROVISION_DHCP_FILE "provision-dhcp.cms"
#define AR_PROVISION_DHCP_SOURCE_FILE "provision-dhcp.source"

/* Sets @error (AR_PROVISION_ERROR, @code) and returns FALSE. */
gboolean ar_provision_set_error(GError **error, ArProvisionError code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* A regular file of 1 to @max bytes, read without following a link. */
gboolean ar_provision_read_bounded(const char *path, gsize max, char **data, gsize *len,
                                   GError **error);

/* The PEM files of @paths (missing ones skipped) as one keyring. */
ArChannelKeyring *ar_provision_load_keyrings(const char *const *paths,
                                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* @start's keyrings: its own, else [provision] keyrings, else [update] keyring. */
ArChannelKeyring *ar_provision_start_keyring(const ArProvisionStart *start,
                                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* An audit entry: actor "provisioning", client @source. */
void ar_provision_audit(const char *state_dir, const char *event, const char *source,
                        gboolean trusted, const char *detail);

/* TRUE if the room may take a file: never provisioned (no record), and not
 * set up by hand (no admin password, tokens or saved settings, unless a start
 * was cut short while a file was applied). FALSE: @error says why
 * (AR_PROVISION_ERROR_APPLIED). */
gboolean ar_provision_room_is_new(const char *state_dir, GError **error);

/* The "dhcp" source's name for the file fetched before this start (its
 * AR_PROVISION_DHCP_SOURCE_FILE), "dhcp" if that is missing or odd. */
char *ar_provision_dhcp_cached_source(const char *state_dir);

G_END_DECLS
