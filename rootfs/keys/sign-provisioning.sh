#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sign-provisioning.sh: signs a provisioning file (docs/fleet.md "Provisioning a hundred rooms").
#
#   rootfs/keys/sign-provisioning.sh ROOMS.json OUT.cms
#
# The same signature as update channel files (sign-manifest.sh does the work): the JSON, byte
# for byte, in a CMS SignedData (DER, SHA-256), made with ANYROOM_SIGNING_KEY/_CERT and checked
# against ANYROOM_KEYRING before OUT is written (signing-env.sh: the environment, else the
# development keys). A fleet with a provisioning key of its own sets those three to it; its CA
# must be in the rooms' [provision] keyrings (docs/fleet.md).
# ANYROOM_PROVISION_CHECK (optional): the path of anyroom-provision (BUILD/firmware/provision/):
# the JSON is first checked with the device's own code (format, bounds, every setting's rule),
# and not signed when a room would refuse it.
# Exit 0: written; 1: refused or failed (one line why).
set -euo pipefail
[ $# -eq 2 ] || { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ANYROOM_SIGN_KIND=provisioning exec "$(dirname "${BASH_SOURCE[0]}")/sign-manifest.sh" "$@"
