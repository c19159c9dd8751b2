/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-channel.h: update channels (docs/fleet.md "Update channels").
 *
 * A channel (stable, preview, or any name) is one signed file on a static
 * HTTPS origin or CDN: a JSON manifest of releases, per-board bundles and a
 * staged rollout, wrapped in a CMS SignedData made with the same key and
 * certificate chain as the RAUC bundles, so the device's RAUC keyring verifies
 * it (docs/decisions.md "Update channels: ...").
 *
 * This module is pure: it is given the file's bytes, the keyring's PEM, the
 * time and what was accepted before, and does no I/O. Every input is untrusted:
 * bounded, never asserted on; errors are one line.
 */
#pragma once

#include <glib.h>

#include "ar-update.h"

G_BEGIN_DECLS

#define AR_CHANNEL_ERROR (ar_channel_error_quark())
GQuark ar_channel_error_quark(void);

typedef enum {
  AR_CHANNEL_ERROR_KEYRING,   /* the keyring PEM holds no usable certificate */
  AR_CHANNEL_ERROR_UNSIGNED,  /* not a CMS SignedData, or no content in it */
  AR_CHANNEL_ERROR_SIGNATURE, /* bad signature, tampered, untrusted signer */
  AR_CHANNEL_ERROR_INVALID,   /* the manifest breaks the format or a bound */
  AR_CHANNEL_ERROR_CHANNEL,   /* another channel's manifest */
  AR_CHANNEL_ERROR_EXPIRED,   /* expired, or issued in the future */
  AR_CHANNEL_ERROR_REPLAY,    /* older than (or different at) the last serial seen */
  AR_CHANNEL_ERROR_NO_BUNDLE, /* nothing in it for this board */
  AR_CHANNEL_ERROR_BAD_INPUT, /* the caller's own arguments (machine ID, version) */
} ArChannelError;

/* Bounds (docs/fleet.md lists them). */
#define AR_CHANNEL_MAX_FILE (256 * 1024) /* the signed file and the JSON in it */
#define AR_CHANNEL_MAX_DEPTH 8
#define AR_CHANNEL_MAX_RELEASES 64
#define AR_CHANNEL_MAX_BUNDLES 64 /* boards per release */
#define AR_CHANNEL_MAX_NAME 64    /* channel name */
#define AR_CHANNEL_MAX_COMPATIBLE 128
#define AR_CHANNEL_MAX_BUNDLE_SIZE (G_GUINT64_CONSTANT(64) << 30) /* 64 GiB */
#define AR_CHANNEL_MAX_SERIAL G_GINT64_CONSTANT(9007199254740991) /* 2^53 - 1 */
#define AR_CHANNEL_CLOCK_SKEW_S 600 /* how far in the future "issued" may be */

typedef struct {
  char *compatible;
  char *url;
  guint64 size;
  char sha256[65]; /* lower-case hex */
} ArChannelBundle;

typedef struct {
  char *version; /* as written (the rollout hash uses it as written) */
  ArVersion parsed;
  GPtrArray *bundles;     /* ArChannelBundle*, in the file's order */
  gint64 rollout_start;   /* unix seconds */
  double percent_start;   /* 0..100 */
  double percent_per_day; /* 0..100 */
  gboolean paused;
} ArChannelRelease;

typedef struct {
  char *channel;
  gint64 serial;
  gint64 issued, expires; /* unix seconds */
  GPtrArray *releases;    /* ArChannelRelease*, in the file's order */
  char digest[65];        /* SHA-256 of the manifest's JSON bytes, hex */
  gboolean unchanged;     /* same serial and digest as the last accepted one */
} ArChannelManifest;

void ar_channel_manifest_free(ArChannelManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArChannelManifest, ar_channel_manifest_free)

/* The trusted CA certificates (RAUC's keyring file: PEM, one or more). */
typedef struct _ArChannelKeyring ArChannelKeyring;
ArChannelKeyring *ar_channel_keyring_new(const char *pem, gsize len,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_channel_keyring_free(ArChannelKeyring *keyring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArChannelKeyring, ar_channel_keyring_free)

/* What a signed file is called in errors, and its bound. */
typedef struct {
  const char *file;    /* "channel file" */
  const char *content; /* "manifest" */
  const char *signer;  /* how to sign it: "rootfs/keys/sign-manifest.sh" */
  gsize max;           /* the largest signed file (and content) */
} ArSignedKind;

/* The one check of every signed file the device reads (channel manifests,
 * provisioning files: docs/decisions.md): @data must be a DER CMS SignedData
 * with its content inside, signed by a certificate that chains to @keyring at
 * time @now (validity, S/MIME signing purpose, as RAUC checks bundles).
 * Returns the signed content, or NULL: AR_CHANNEL_ERROR_INVALID (size),
 * _UNSIGNED or _SIGNATURE, the message naming @kind's file. */
GBytes *ar_signed_verify(const guint8 *data, gsize len, const ArSignedKind *kind,
                         const ArChannelKeyring *keyring, gint64 now,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Verifies @data (@len bytes: a DER CMS SignedData with the manifest inside)
 * against @keyring at time @now (certificate validity, chain to the keyring,
 * purpose S/MIME signing as RAUC checks by default) and returns the signed
 * content (the manifest's JSON bytes), or NULL: AR_CHANNEL_ERROR_UNSIGNED or
 * _SIGNATURE. Nothing of the content is read before it is verified. */
GBytes *ar_channel_verify(const guint8 *data, gsize len, const ArChannelKeyring *keyring,
                          gint64 now, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Parses the manifest's JSON (format 1) with every bound and rule of the
 * format; no signature, time, channel or serial check. Unknown members are
 * refused (a typo in "paused" must not go unnoticed). */
ArChannelManifest *ar_channel_parse(const char *json, gsize len,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* What the device accepted last; the caller persists it. serial 0: none. */
typedef struct {
  gint64 serial;
  char digest[65]; /* "" when unknown */
} ArChannelSeen;

typedef struct {
  const char *channel;    /* the channel this device follows */
  const char *compatible; /* this board's RAUC compatible */
  gint64 now;             /* unix seconds */
  ArChannelSeen last;     /* the last accepted manifest */
} ArChannelCheck;

/* The whole check of a downloaded channel file: ar_channel_verify, then
 * ar_channel_parse, then: the channel is @check->channel; issued at most
 * AR_CHANNEL_CLOCK_SKEW_S after now; not expired; the serial is above the
 * last one, or equal with the same digest (then ->unchanged is TRUE: the
 * same manifest polled again); at least one bundle for @check->compatible.
 * Persist ->serial and ->digest after it returned a manifest. */
ArChannelManifest *ar_channel_load(const guint8 *data, gsize len, const ArChannelKeyring *keyring,
                                   const ArChannelCheck *check,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The share of machines a release's rollout includes at @now, 0..100: 0
 * before its start or while paused, else min(100, percent_start +
 * percent_per_day x days since start). Never decreases while not paused. */
double ar_channel_rollout_share(const ArChannelRelease *release, gint64 now);

/* This machine's place in a release's rollout, in [0, 100): the first 8
 * bytes of SHA-256("anyroom-rollout\0" machine_id "\0" version) / 2^64 x 100.
 * Stable for a machine and a release; another release orders rooms anew. */
double ar_channel_rollout_place(const char *machine_id, const char *version);

typedef enum {
  AR_CHANNEL_UP_TO_DATE, /* no release newer than the running one for this board */
  AR_CHANNEL_INSTALL,    /* ->release and ->bundle: install it */
  AR_CHANNEL_WAITING,    /* newer releases exist; the rollout has not reached us (or paused) */
} ArChannelVerdict;

typedef struct {
  ArChannelVerdict verdict;
  const ArChannelRelease *release; /* INSTALL: the chosen one; WAITING: the newest waiting */
  const ArChannelBundle *bundle;   /* INSTALL/WAITING: its bundle for this board */
  double place;                    /* this machine's place in that release, 0..100 */
  double share;                    /* that release's share now, 0..100 */
} ArChannelChoice;

/* Picks the newest release that is newer than @running_version, has a
 * bundle for @compatible and whose rollout includes @machine_id at @now
 * (place < share). Never a downgrade or the same version. Pointers in
 * @choice point into @manifest. FALSE (AR_CHANNEL_ERROR_BAD_INPUT, @choice
 * untouched) only for a bad machine ID or running version. */
gboolean ar_channel_choose(const ArChannelManifest *manifest, const char *compatible,
                           const char *machine_id, gint64 now, const char *running_version,
                           ArChannelChoice *choice, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
