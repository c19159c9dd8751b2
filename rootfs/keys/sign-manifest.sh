#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sign-manifest.sh: signs an update channel manifest (docs/fleet.md "Update channels").
#
#   rootfs/keys/sign-manifest.sh MANIFEST.json OUT.manifest
#
# Wraps the JSON, byte for byte, in a CMS SignedData (DER, SHA-256, the content inside: one
# file to publish) made with the key and certificate that sign the RAUC bundles
# (signing-env.sh: ANYROOM_SIGNING_KEY/_CERT from the environment, or the development keys),
# then verifies the result against ANYROOM_KEYRING as the device will (chain to the keyring,
# S/MIME signing purpose, as RAUC checks bundles), and only then writes OUT.manifest.
# ANYROOM_SIGNING_CHAIN (optional): a PEM file of intermediate certificates to include, as
# `rauc bundle --intermediate`. A key given as a PKCS#11 URL goes through OpenSSL's pkcs11
# engine (libengine-pkcs11-openssl).
# ANYROOM_CHANNEL_CHECK (optional): the path of anyroom-channel-check (built in
# BUILD/firmware/update/): the JSON is first checked against the format's rules with the
# device's own code, and not signed when a room would refuse it. Without it the content is
# not checked here (the device checks format, bounds, times, serial: docs/fleet.md).
# Exit 0: written; 1: refused or failed (one line why).
# rootfs/keys/sign-provisioning.sh signs provisioning files with this same script
# (ANYROOM_SIGN_KIND=provisioning: 128 KiB, checked by ANYROOM_PROVISION_CHECK).
set -euo pipefail

[ $# -eq 2 ] || { sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
in="$1"
out="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kind="${ANYROOM_SIGN_KIND:-manifest}"
case "$kind" in
manifest)
  # The device takes at most 256 KiB for the signed file; the signature adds about 1-3 KiB.
  max=253952 check=(${ANYROOM_CHANNEL_CHECK:+"$ANYROOM_CHANNEL_CHECK"})
  check_hint="ANYROOM_CHANNEL_CHECK to anyroom-channel-check" ;;
provisioning)
  # At most 128 KiB signed (firmware/provision/ar-provision.h).
  max=126976 check=(${ANYROOM_PROVISION_CHECK:+"$ANYROOM_PROVISION_CHECK" check})
  check_hint="ANYROOM_PROVISION_CHECK to anyroom-provision" ;;
*) echo "sign-manifest: ANYROOM_SIGN_KIND=$kind: manifest or provisioning" >&2; exit 2 ;;
esac
die() { echo "sign-$kind: $*" >&2; exit 1; }

[ -r "$in" ] || die "cannot read $in"
size=$(stat -c %s "$in")
if [ "$size" -eq 0 ] || [ "$size" -gt "$max" ]; then
  die "$in must be 1 to $((max / 1024)) KiB (it is $size bytes)"
fi
[ "$(head -c 1 "$in")" = "{" ] || die "$in does not start with '{' (a JSON object)"

if [ ${#check[@]} -gt 0 ]; then
  verdict="$("${check[@]}" "$in" 2>&1)" || die "not signed: $(printf '%s' "$verdict" | head -n 1)"
else
  echo "sign-$kind: the format is not checked (set $check_hint)" >&2
fi

# shellcheck source=rootfs/keys/signing-env.sh
. "$here/signing-env.sh" || die "no signing keys"

key_args=(-inkey "$ANYROOM_SIGNING_KEY")
case "$ANYROOM_SIGNING_KEY" in
pkcs11:*) key_args=(-engine pkcs11 -keyform engine -inkey "$ANYROOM_SIGNING_KEY") ;;
esac
chain_args=()
if [ -n "${ANYROOM_SIGNING_CHAIN:-}" ]; then
  chain_args=(-certfile "$ANYROOM_SIGNING_CHAIN")
fi

tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# -binary: the bytes as they are (no MIME canonical line endings); -nodetach: the manifest is
# inside the signed file; -nosmimecap: nothing the device does not read.
openssl cms -sign -binary -nodetach -nosmimecap -md sha256 -outform DER \
  -in "$in" -signer "$ANYROOM_SIGNING_CERT" "${key_args[@]}" "${chain_args[@]}" -out "$tmp" ||
  die "openssl cms -sign failed"
openssl cms -verify -binary -inform DER -in "$tmp" -CAfile "$ANYROOM_KEYRING" -out "$tmp.content" \
  2>/dev/null || { rm -f "$tmp.content"; die "the signed $kind does not verify against $ANYROOM_KEYRING"; }
cmp -s "$in" "$tmp.content" || { rm -f "$tmp.content"; die "the signed content differs from $in"; }
rm -f "$tmp.content"
chmod 644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "sign-$kind: $out ($(stat -c %s "$out") bytes, signed by" \
  "$(openssl x509 -in "$ANYROOM_SIGNING_CERT" -noout -subject 2>/dev/null | sed 's/^subject=//'))" >&2
