#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# gen-dev-keys.sh: a DEVELOPMENT signing CA and bundle-signing certificate for RAUC.
#
#   rootfs/keys/gen-dev-keys.sh [OUTDIR]       (default: rootfs/keys/dev, git-ignored)
#   rootfs/keys/gen-dev-keys.sh --force [OUTDIR]   make new ones even if they exist
#
# Writes into OUTDIR (folder 0700, keys 0600):
#   ca.key.pem  ca.cert.pem    the development CA (10 years)
#   signing.key.pem            the bundle-signing key
#   signing.cert.pem           its certificate, issued by the CA (no extendedKeyUsage:
#                              RAUC refuses codeSigning unless the device config allows it)
#   keyring.pem                what the device trusts: the CA certificate ([keyring] path=)
#
# These keys are for development only and are never committed (rootfs/keys/.gitignore).
# A production build takes its key, certificate and keyring from the environment:
#   ANYROOM_SIGNING_KEY   ANYROOM_SIGNING_CERT   ANYROOM_KEYRING
# (a PEM file or, for key and cert, a PKCS#11 URL as `rauc bundle --key/--cert` accept).
# `source rootfs/keys/signing-env.sh` sets those three from the environment or, when none
# is set, from the development keys (made on first use). docs/update.md tells the whole story.
#
# Idempotent: existing keys are kept (exit 0, prints where they are) unless --force.
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then
  force=1
  shift
fi
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/dev}"

if [ -f "$out/signing.key.pem" ] && [ -f "$out/signing.cert.pem" ] && [ -f "$out/keyring.pem" ] &&
  [ "$force" = 0 ]; then
  echo "development keys already in $out (use --force for new ones)" >&2
  exit 0
fi

command -v openssl >/dev/null || {
  echo "gen-dev-keys: openssl is not installed (./build.sh deps)" >&2
  exit 1
}

umask 077
mkdir -p "$out"
chmod 700 "$out"
tmp="$(mktemp -d "$out/.gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
O = Anyroom development
CN = Anyroom development CA
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_signing ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

# ECDSA P-256: small signatures, fast, supported by RAUC's CMS verification (OpenSSL).
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key.pem" 2>/dev/null
openssl req -new -x509 -config "$tmp/openssl.cnf" -extensions v3_ca -key "$tmp/ca.key.pem" \
  -days 3650 -sha256 -out "$tmp/ca.cert.pem"

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/signing.key.pem" 2>/dev/null
openssl req -new -key "$tmp/signing.key.pem" -sha256 \
  -subj "/O=Anyroom development/CN=Anyroom development bundle signing" -out "$tmp/signing.csr"
openssl x509 -req -in "$tmp/signing.csr" -CA "$tmp/ca.cert.pem" -CAkey "$tmp/ca.key.pem" \
  -set_serial "0x$(openssl rand -hex 8)" -days 1825 -sha256 \
  -extfile "$tmp/openssl.cnf" -extensions v3_signing -out "$tmp/signing.cert.pem" 2>/dev/null
cp "$tmp/ca.cert.pem" "$tmp/keyring.pem"

openssl verify -CAfile "$tmp/keyring.pem" "$tmp/signing.cert.pem" >/dev/null

for f in ca.key.pem ca.cert.pem signing.key.pem signing.cert.pem keyring.pem; do
  mv -f "$tmp/$f" "$out/$f"
done
chmod 600 "$out"/*.pem
echo "development keys written to $out (never commit them; production: ANYROOM_SIGNING_KEY," \
  "ANYROOM_SIGNING_CERT, ANYROOM_KEYRING)" >&2
