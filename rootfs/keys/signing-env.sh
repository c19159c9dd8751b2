# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# signing-env.sh: `source rootfs/keys/signing-env.sh` exports the bundle-signing material:
#   ANYROOM_SIGNING_KEY    key for `rauc bundle --key`   (PEM path or PKCS#11 URL)
#   ANYROOM_SIGNING_CERT   cert for `rauc bundle --cert` (PEM path or PKCS#11 URL)
#   ANYROOM_KEYRING        CA the device trusts (installed as the image's RAUC keyring)
#   ANYROOM_SIGNING_DEV    1 when these are the development keys, else 0
#
# Production: set all three beforehand (CI secrets, an HSM URL...); they are used as they are.
# Setting only some of them is an error (a half-production build would be a trap).
# None set: the development keys in rootfs/keys/dev/ (made by gen-dev-keys.sh on first use).

_ar_keys_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_ar_set=0
for _v in ANYROOM_SIGNING_KEY ANYROOM_SIGNING_CERT ANYROOM_KEYRING; do
  [ -n "${!_v:-}" ] && _ar_set=$((_ar_set + 1))
done
if [ "$_ar_set" = 3 ]; then
  if [ ! -r "$ANYROOM_KEYRING" ]; then
    echo "signing-env: ANYROOM_KEYRING=$ANYROOM_KEYRING is not a readable file" >&2
    return 1 2>/dev/null || exit 1
  fi
  export ANYROOM_SIGNING_KEY ANYROOM_SIGNING_CERT ANYROOM_KEYRING
  export ANYROOM_SIGNING_DEV=0
elif [ "$_ar_set" = 0 ]; then
  "$_ar_keys_dir/gen-dev-keys.sh" || { return 1 2>/dev/null || exit 1; }
  export ANYROOM_SIGNING_KEY="$_ar_keys_dir/dev/signing.key.pem"
  export ANYROOM_SIGNING_CERT="$_ar_keys_dir/dev/signing.cert.pem"
  export ANYROOM_KEYRING="$_ar_keys_dir/dev/keyring.pem"
  export ANYROOM_SIGNING_DEV=1
  echo "signing-env: using DEVELOPMENT keys from $_ar_keys_dir/dev (not for shipping)" >&2
else
  echo "signing-env: set all of ANYROOM_SIGNING_KEY, ANYROOM_SIGNING_CERT, ANYROOM_KEYRING, or none" >&2
  return 1 2>/dev/null || exit 1
fi
unset _ar_keys_dir _ar_set _v
