#!/bin/sh
# AR_IMAGE_HOOK for the rollback test: an image whose anyroomd never becomes healthy
# (its built-in config has a key anyroomd refuses, so it exits at every start).
set -e
printf '[device]\nboard=qemu-x86_64\nno-such-key=1\n' >"$1/etc/anyroom/anyroom.conf"
