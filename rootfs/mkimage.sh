#!/usr/bin/env bash
# Anyroom device image and RAUC bundle builder (Debian 13 trixie, mmdebstrap, no loop devices).
#   rootfs/mkimage.sh image BOARD [--dev]   -> $OUT/disk.img   (bootable disk: ESP, root A, root B, data)
#   rootfs/mkimage.sh bundle BOARD [--dev]  -> $OUT/anyroom-BOARD-VERSION.raucb (verity, zstd squashfs)
#   rootfs/mkimage.sh slot BOARD [--dev]    -> $OUT/rootfs.ext4 (the root slot image only)
# OUT is $AR_BUILD_DIR/image/BOARD[-dev]. --dev adds a root shell on the serial console and
# changes the RAUC compatible to BOARD-dev (a production device refuses dev bundles).
# Environment:
#   AR_BUILD_DIR       build folder (default ./build)
#   AR_IMAGE_CACHE     cache of build chroots and rootfs trees (default $AR_BUILD_DIR/image-cache)
#   AR_MIRROR          Debian mirror (default: the one apt uses on this machine, else deb.debian.org)
#   AR_IMAGE_VERSION   bundle/image version (default: project version + UTC timestamp)
#   ANYROOM_SIGNING_KEY, ANYROOM_SIGNING_CERT, ANYROOM_KEYRING
#                      production signing key/cert and the keyring put into the image (all three
#                      or none); none: development keys (rootfs/keys/signing-env.sh, never committed)
#   AR_IMAGE_HOOK      a script run as `HOOK ROOTFS_DIR` before the slot is made (tests use it to
#                      make a deliberately broken image)
set -euo pipefail
TOP="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${AR_BUILD_DIR:-$TOP/build}"
CACHE="${AR_IMAGE_CACHE:-$BUILD/image-cache}"
SUITE=trixie

log() { printf '==> [image] %s\n' "$*" >&2; }
die() {
  printf 'mkimage: %s\n' "$*" >&2
  exit 1
}

# ini_get FILE GROUP KEY: one value of a GKeyFile (board.conf), empty if absent.
ini_get() {
  awk -v g="[$2]" -v k="$3" '
    /^[[:space:]]*#/ { next }
    /^\[/ { in_g = ($0 == g); next }
    in_g { i = index($0, "="); if (i && substr($0, 1, i - 1) == k) { print substr($0, i + 1); exit } }
  ' "$1"
}

mirror() {
  if [ -n "${AR_MIRROR:-}" ]; then
    echo "$AR_MIRROR"
    return
  fi
  local m
  m=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* \
    2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  echo "${m:-http://deb.debian.org/debian}"
}

list_pkgs() { grep -vE '^[[:space:]]*(#|$)' "$1" | xargs; }

# cached_tree NAME KEYTEXT CMD...: runs CMD with $TREE set to a fresh folder unless a tree for
# the same key exists; prints the tree's path. The key is a sha256 of KEYTEXT.
tree_key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
# tree_cached NAME KEYTEXT: true if cached_tree would find the tree.
tree_cached() { [ -f "$CACHE/$1-$(tree_key "$2")/.complete" ]; }
cached_tree() {
  local name=$1 keytext=$2
  shift 2
  local key
  key=$(tree_key "$keytext")
  local dir="$CACHE/$name-$key"
  if [ -f "$dir/.complete" ]; then
    log "$name: cached ($dir)"
  else
    log "$name: building ($dir)"
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$CACHE"
    TREE="$dir.tmp" "$@"
    touch "$dir.tmp/.complete"
    mv "$dir.tmp" "$dir"
    # Older trees of the same name are stale: keep the cache bounded.
    find "$CACHE" -maxdepth 1 -name "$name-*" ! -name "$name-$key" ! -name '*.tmp' \
      -exec rm -rf {} + 2>/dev/null || true
  fi
  echo "$dir"
}

# ---- the trixie build chroot and anyroomd built in it ----

make_build_chroot() {
  nice -n 10 mmdebstrap --variant=apt --arch="$ARCH" \
    --include="$(list_pkgs "$TOP/rootfs/packages-build.list" | tr ' ' ,)" \
    "$SUITE" "$TREE" "$(mirror)" >&2
}

with_mounts() { # ROOT CMD...: /proc, /sys and /dev for a chroot, always unmounted
  local root=$1
  shift
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  local rc=0
  "$@" || rc=$?
  umount -R "$root/dev" 2>/dev/null || umount -l "$root/dev"
  umount -R "$root/sys" 2>/dev/null || umount -l "$root/sys"
  umount "$root/proc" 2>/dev/null || umount -l "$root/proc"
  return $rc
}

build_chroot_key() { echo "$SUITE $ARCH $(list_pkgs "$TOP/rootfs/packages-build.list")"; }

build_anyroomd() { # -> $STAGE: anyroomd/anyroomctl installed under a DESTDIR
  local chroot key
  chroot=$(cached_tree "build-chroot-$ARCH" "$(build_chroot_key)" make_build_chroot)
  # Only the files git knows (plus uncommitted changes to them): no build folders. The build is
  # reused while those sources (not the image's own files or docs) are unchanged.
  local files
  files=$(cd "$TOP" && git ls-files --cached --others --exclude-standard |
    grep -vE '^(tests/lab/node_modules|rootfs|docs)/|\.md$')
  key=$(cd "$TOP" && printf '%s\n' "$files" | xargs -d '\n' sha256sum | sha256sum | cut -c1-16)
  STAGE="$chroot/stage"
  if [ -f "$STAGE/.key" ] && [ "$(cat "$STAGE/.key")" = "$key" ]; then
    log "anyroomd for trixie: cached (sources unchanged)"
    return
  fi
  rm -rf "$chroot/src" "$STAGE"
  mkdir -p "$chroot/src" "$STAGE"
  (cd "$TOP" && printf '%s\n' "$files" | tar -T - -cf -) | tar -C "$chroot/src" -xf -
  log "building anyroomd against trixie's libraries (in $chroot)"
  with_mounts "$chroot" chroot "$chroot" /bin/sh -ec '
    cd /src
    meson setup /tmp/b --prefix=/usr --buildtype=release -Dwerror=false >/dev/null
    nice -n 10 ninja -C /tmp/b firmware/anyroomd firmware/anyroomctl >/dev/null
    install -D -m 0755 /tmp/b/firmware/anyroomd /stage/usr/bin/anyroomd
    install -D -m 0755 /tmp/b/firmware/anyroomctl /stage/usr/bin/anyroomctl
    rm -rf /tmp/b /src' >&2
  echo "$key" >"$STAGE/.key"
}

# ---- the rootfs tree (packages only; cached by package list) ----

make_rootfs_base() {
  local extra
  extra=$(ini_get "$BOARD_CONF" image packages | tr ';' ' ')
  # non-free-firmware: boards' GPU/codec firmware (e.g. i915 GuC/HuC for Intel's encoder).
  nice -n 10 mmdebstrap --variant=apt --arch="$ARCH" --components=main,non-free-firmware \
    --include="$(echo $(list_pkgs "$TOP/rootfs/packages-image.list") $KERNEL $extra | tr ' ' ,)" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='chroot "$1" apt-get clean' \
    "$SUITE" "$TREE" "$(mirror)" >&2
}

# ---- signing keys ----

find_keys() {
  # rootfs/keys/signing-env.sh (docs/update.md, "Signing keys"): ANYROOM_SIGNING_KEY/_CERT and
  # ANYROOM_KEYRING from the environment (production), else the development keys it makes.
  [ -n "${CERT:-}" ] && return
  # shellcheck source=keys/signing-env.sh
  source "$TOP/rootfs/keys/signing-env.sh" >&2 || die "no signing keys (rootfs/keys/signing-env.sh)"
  CERT=$ANYROOM_SIGNING_CERT KEY=$ANYROOM_SIGNING_KEY KEYRING=$ANYROOM_KEYRING
  [ "${ANYROOM_SIGNING_DEV:-1}" = 1 ] && log "signing with the DEVELOPMENT keys (rootfs/keys/dev)"
  return 0
}

# ---- the room display (ui-kiosk/kiosk): launcher, unit, Chromium policy ----

# install_kiosk ROOTFS: the kiosk launcher as ui-kiosk/kiosk/README.md describes it, fitted to
# the image: anyroomd serves on 443 (the policy's allowlist follows), its state dir is
# /data/anyroom/state (reached as /var/lib/anyroom through a tmpfiles link), and the unit starts
# when a DRM device appears (udev), so a board without a screen runs no browser.
install_kiosk() {
  local r=$1 k="$TOP/ui-kiosk/kiosk"
  install -D -m 0755 "$k/anyroom-kiosk" "$r/usr/lib/anyroom/anyroom-kiosk"
  install -D -m 0644 "$k/anyroom-kiosk.service" "$r/usr/lib/systemd/system/anyroom-kiosk.service"
  mkdir -p "$r/etc/chromium/policies/managed"
  sed 's|"https://127.0.0.1:8443"|"https://127.0.0.1:443"|' "$k/chromium-policy.json" \
    >"$r/etc/chromium/policies/managed/anyroom-kiosk.json"
  grep -q '"https://127.0.0.1:443"' "$r/etc/chromium/policies/managed/anyroom-kiosk.json" ||
    die "the kiosk policy has no allowlist entry to fit"
  mkdir -p "$r/etc/systemd/system/anyroom-kiosk.service.d" "$r/usr/lib/udev/rules.d"
  local gpu
  gpu=$(ini_get "$BOARD_CONF" display kiosk-gpu)
  case "${gpu:-on}" in on | off) ;; *) die "$BOARD_CONF: display.kiosk-gpu is on or off, not '$gpu'" ;; esac
  cat >"$r/etc/systemd/system/anyroom-kiosk.service.d/image.conf" <<EOF
# The image's anyroomd serves HTTPS on 443; the board's [display] kiosk-gpu (rootfs/mkimage.sh).
[Service]
Environment=ANYROOM_KIOSK_URL=https://127.0.0.1:443
Environment=ANYROOM_KIOSK_GPU=${gpu:-on}
EOF
  cat >"$r/usr/lib/udev/rules.d/70-anyroom-kiosk.rules" <<'EOF'
# A screen (a DRM card) starts the room display; without one no browser runs.
SUBSYSTEM=="drm", KERNEL=="card[0-9]*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="anyroom-kiosk.service"
EOF
}

# ---- the slot: rootfs tree + anyroomd + overlay -> ext4 ----

make_slot() {
  local base work prefetch=""
  # With an empty cache the two mmdebstraps (mostly downloads and dpkg) run side by side.
  if ! tree_cached "build-chroot-$ARCH" "$(build_chroot_key)"; then
    cached_tree "build-chroot-$ARCH" "$(build_chroot_key)" make_build_chroot >/dev/null &
    prefetch=$!
  fi
  base=$(cached_tree "rootfs-$BOARD" \
    "$SUITE $ARCH $KERNEL $(list_pkgs "$TOP/rootfs/packages-image.list") $(ini_get "$BOARD_CONF" image packages)" \
    make_rootfs_base)
  if [ -n "$prefetch" ]; then
    wait "$prefetch" || die "the build chroot could not be made"
  fi
  build_anyroomd
  find_keys
  work="$OUT/rootfs"
  rm -rf "$work"
  mkdir -p "$OUT"
  log "assembling the root filesystem"
  cp -a "$base" "$work"
  rm -f "$work/.complete"
  cp -a "$STAGE/." "$work/"
  rm -f "$work/.key"
  mkdir -p "$work/usr/share/anyroom/board/$BOARD" "$work/usr/share/anyroom/ui"
  cp "$BOARD_CONF" "$work/usr/share/anyroom/board/$BOARD/board.conf"
  cp -a "$TOP/ui-kiosk/." "$work/usr/share/anyroom/ui/"
  rm -f "$work/usr/share/anyroom/ui/README.md"
  # The web engine's join recipes (docs/recipes.md); an administrator's own go to /data/anyroom/recipes.
  mkdir -p "$work/usr/share/anyroom/recipes"
  cp "$TOP"/firmware/recipes/data/*.json "$work/usr/share/anyroom/recipes/"
  cp -a "$TOP/rootfs/overlay/." "$work/"
  install_kiosk "$work"
  mkdir -p "$work/etc/rauc"
  # Public certificates, read by RAUC and by anyroomd (user anyroom: channel files and
  # provisioning files chain to it), whatever mode the signer's file had.
  install -m 0644 "$KEYRING" "$work/etc/rauc/keyring.pem"
  local disk efi_mib slot_mib
  disk=$(ini_get "$BOARD_CONF" image disk)
  local sep=""
  case "$disk" in *[0-9]) sep=p ;; esac
  sed -e "s|@COMPATIBLE@|$COMPATIBLE|" -e "s|@BOOTLOADER@|$(ini_get "$BOARD_CONF" rauc bootloader)|" \
    -e "s|@SLOT_A@|$disk${sep}2|" -e "s|@SLOT_B@|$disk${sep}3|" \
    "$TOP/rootfs/rauc/system.conf.in" >"$work/etc/rauc/system.conf"
  cat >"$work/etc/fstab" <<EOF
# The root slot is mounted read-only (kernel command line 'ro'); state lives on /data.
# Both wait up to 5 minutes for their disk (systemd's default is 90 s, then an emergency shell
# that a kiosk with a locked root cannot use): a slow SD card or a loaded machine's guest is late,
# not broken.
PARTLABEL=efi   /boot/efi  vfat  umask=0077,noatime,sync,x-systemd.device-timeout=5min  0 0
PARTLABEL=data  /data      ext4  noatime,nosuid,nodev,data=journal,errors=remount-ro,x-systemd.device-timeout=5min  0 2
# hidepid: a process sees only its own user's processes (the room display's Chromium has the
# kiosk secret on its command line).
proc            /proc      proc  nosuid,nodev,noexec,hidepid=invisible  0 0
tmpfs           /tmp       tmpfs mode=1777,nosuid,nodev  0 0
tmpfs           /var/tmp   tmpfs mode=1777,nosuid,nodev  0 0
tmpfs           /var/lib   tmpfs mode=0755  0 0
tmpfs           /var/cache tmpfs mode=0755  0 0
/data/log       /var/log   none  bind,x-systemd.requires-mounts-for=/data  0 0
EOF
  # /var/lib is a tmpfs (packages' state is not needed at run time); dpkg's and the few folders
  # services expect are recreated by systemd-tmpfiles (overlay/usr/lib/tmpfiles.d/anyroom.conf).
  echo "anyroom" >"$work/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tanyroom\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$work/etc/hosts"
  : >"$work/etc/machine-id"
  local modules
  modules=$(ini_get "$BOARD_CONF" image modules | tr ';' '\n' | sed '/^$/d')
  mkdir -p "$work/etc/modules-load.d" "$work/etc/anyroom" "$work/boot/efi" "$work/data"
  printf '%s\n' $modules >"$work/etc/modules-load.d/anyroom-board.conf"
  # Web calls show their meeting browser on the room display: a second client of the kiosk's
  # cage (its socket is group anyroom-display, of which anyroomd is a member; ui-kiosk/kiosk).
  # A screen without 3D (the board's [display] kiosk-gpu=off) renders it in software too.
  local web_flags=""
  [ "$(ini_get "$BOARD_CONF" display kiosk-gpu)" = off ] && web_flags="browser-flags=--disable-gpu"
  cat >"$work/etc/anyroom/anyroom.conf" <<EOF
# Built into the image (read-only). Settings made in the admin UI live on /data.
[device]
board=$BOARD
[admin]
listen=0.0.0.0:443
[web]
wayland-display=/run/anyroom-kiosk/wayland-0
$web_flags
[provision]
# Zero-touch provisioning (docs/fleet.md): the data partition's file, else a USB stick's
# (usr/lib/anyroom/usb-provision copies it), else the https URL of DHCP option 224; signed by
# the update key's chain or by a CA the data partition was given (make_data,
# AR_PROVISION_KEYRING). The DHCP URL's server: the system's CAs, or the data partition's
# AR_PROVISION_CA.
sources=/data/anyroom/provision.cms;/run/anyroom-usb/anyroom-provision.cms;dhcp
keyrings=/etc/rauc/keyring.pem;/data/anyroom/provision-keyring.pem
dhcp-ca=/data/anyroom/provision-ca.pem
EOF
  echo "$VERSION" >"$work/etc/anyroom/version"
  printf 'ANYROOM_BOARD=%s\nANYROOM_VERSION=%s\nANYROOM_VARIANT=%s\n' "$BOARD" "$VERSION" \
    "$VARIANT" >"$work/etc/anyroom/image.env"
  with_mounts "$work" chroot "$work" /bin/sh -ec '
    # No password login at all: root is locked; there is no other login account.
    passwd -l root >/dev/null
    # anyroom-display: who may draw on the room display (the kiosk'"'"'s cage socket): anyroomd,
    # for the meeting browser of web calls.
    getent group render >/dev/null || groupadd --system render
    getent group anyroom-display >/dev/null || groupadd --system anyroom-display
    id anyroom >/dev/null 2>&1 || useradd --system --home-dir /data/anyroom --no-create-home \
      --shell /usr/sbin/nologin --groups video,audio,render,anyroom-display anyroom
    # The room display (ui-kiosk/kiosk): its own user, no access to anyroomd'"'"'s state.
    id anyroom-kiosk >/dev/null 2>&1 || useradd --system --home-dir /run/anyroom-kiosk \
      --no-create-home --shell /usr/sbin/nologin --groups video,render,input anyroom-kiosk
    systemctl enable systemd-networkd systemd-resolved systemd-timesyncd avahi-daemon \
      anyroomd.service anyroom-health.service anyroom-machine-id.service >/dev/null 2>&1
    # A room without a network must still boot quickly: nothing waits for network-online.
    systemctl mask getty@tty1.service serial-getty@ttyS0.service apt-daily.timer \
      systemd-networkd-wait-online.service \
      apt-daily-upgrade.timer e2scrub_reap.service >/dev/null 2>&1 || true
    ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf' >&2
  if [ "$VARIANT" = dev ]; then
    # Development only: a root shell on the serial console (the tests drive the guest through
    # it). trixie's image has no /bin/login at all, so this is a plain shell service.
    install -m 0644 "$TOP/rootfs/dev/anyroom-dev-shell.service" "$work/etc/systemd/system/"
    ln -sf ../anyroom-dev-shell.service \
      "$work/etc/systemd/system/multi-user.target.wants/anyroom-dev-shell.service"
  fi
  if [ -n "${AR_IMAGE_HOOK:-}" ]; then
    log "running image hook $AR_IMAGE_HOOK"
    "$AR_IMAGE_HOOK" "$work"
  fi
  # The kernel and initrd the bootloader loads from this slot.
  ln -sf "$(cd "$work/boot" && ls vmlinuz-* | sort -V | tail -n1)" "$work/boot/vmlinuz"
  ln -sf "$(cd "$work/boot" && ls initrd.img-* | sort -V | tail -n1)" "$work/boot/initrd.img"
  rm -rf "$work/var/lib/apt/lists/"* "$work/var/cache/apt/"*.bin
  local used mib
  used=$(du -sm "$work" | cut -f1)
  mib=$((used + used / 8 + 64))
  slot_mib=$(ini_get "$BOARD_CONF" rauc slot-size-mib)
  [ "$mib" -le "$slot_mib" ] || die "rootfs needs ${mib} MiB, the slot has ${slot_mib} MiB"
  rm -f "$OUT/rootfs.ext4"
  log "making rootfs.ext4 (${mib} MiB; rootfs ${used} MiB)"
  mkfs.ext4 -q -F -L rootfs -E root_owner=0:0 -d "$work" "$OUT/rootfs.ext4" "${mib}M" >&2  # mke2fs says "Creating regular file" even with -q
  rm -rf "$work"
}

# ---- the EFI system partition: GRUB and its environment (RAUC's grub backend) ----

make_efi() {
  local mib=$1 f="$OUT/efi.vfat"
  local tmp="$OUT/efi.tmp"
  rm -rf "$tmp" "$f"
  mkdir -p "$tmp"
  local console tty extra=""
  console=$(ini_get "$BOARD_CONF" image console)
  tty=${console%%,*}
  # systemd asks a serial console for its size (ANSI DSR) and waits for an answer a serial line
  # without a terminal never gives: say the size up front.
  case "$tty" in ttyS* | ttyAMA*) extra="systemd.tty.rows.$tty=24 systemd.tty.columns.$tty=80" ;; esac
  sed -e "s|@CONSOLE@|$console $extra|" \
    -e "s|@DISK@|$(ini_get "$BOARD_CONF" image disk)|" \
    "$TOP/rootfs/grub/grub.cfg.in" >"$tmp/grub.cfg"
  cat >"$tmp/embed.cfg" <<'EOF'
search --no-floppy --set=root --file /EFI/anyroom/grub.cfg
configfile ($root)/EFI/anyroom/grub.cfg
EOF
  grub-mkstandalone -O x86_64-efi -o "$tmp/BOOTX64.EFI" \
    --modules="part_gpt fat ext2 normal linux loadenv test echo search search_fs_file configfile regexp sleep" \
    --locales= --themes= --fonts= "boot/grub/grub.cfg=$tmp/embed.cfg"
  # RAUC's grub backend: ORDER lists slots by priority; x_OK marks a bootable slot; x_TRY counts
  # boots not yet confirmed good (grub.cfg gives up on a slot after 3).
  grub-editenv "$tmp/grubenv" create
  grub-editenv "$tmp/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
  mkfs.vfat -n EFI -C "$f" $((mib * 1024)) >/dev/null
  export MTOOLS_SKIP_CHECK=1
  mmd -i "$f" ::/EFI ::/EFI/BOOT ::/EFI/anyroom
  mcopy -i "$f" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
  mcopy -i "$f" "$tmp/grub.cfg" "$tmp/grubenv" ::/EFI/anyroom/
  rm -rf "$tmp"
}

# The data partition. AR_PROVISION_FILE: a signed provisioning file the room applies at its
# first start (/data/anyroom/provision.cms); AR_PROVISION_KEYRING: the PEM CA that signs a
# fleet's provisioning files when it is not the update key's; AR_PROVISION_CA: the PEM CA of
# the https server a DHCP option 224 points to, when the system's CAs do not know it
# (docs/fleet.md).
make_data() {
  local mib=$1 tmp="$OUT/data.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp/anyroom/state" "$tmp/log/journal" "$tmp/rauc"
  if [ -n "${AR_PROVISION_FILE:-}" ]; then
    install -m 0644 "$AR_PROVISION_FILE" "$tmp/anyroom/provision.cms"
    log "data partition: provisioning file $AR_PROVISION_FILE"
  fi
  if [ -n "${AR_PROVISION_KEYRING:-}" ]; then
    install -m 0644 "$AR_PROVISION_KEYRING" "$tmp/anyroom/provision-keyring.pem"
  fi
  if [ -n "${AR_PROVISION_CA:-}" ]; then
    install -m 0644 "$AR_PROVISION_CA" "$tmp/anyroom/provision-ca.pem"
  fi
  rm -f "$OUT/data.ext4"
  mkfs.ext4 -q -F -L data -E root_owner=0:0 -d "$tmp" "$OUT/data.ext4" "${mib}M" >&2
  rm -rf "$tmp"
}

# ---- the disk: GPT from partition files (sfdisk on a plain file, dd; no loop devices) ----

make_disk() {
  local efi_mib slot_mib data_mib
  efi_mib=$(ini_get "$BOARD_CONF" rauc efi-size-mib)
  slot_mib=$(ini_get "$BOARD_CONF" rauc slot-size-mib)
  data_mib=$(ini_get "$BOARD_CONF" rauc data-size-mib)
  make_slot
  make_efi "$efi_mib"
  make_data "$data_mib"
  local img="$OUT/disk.img" total=$((1 + efi_mib + 2 * slot_mib + data_mib + 1))
  rm -f "$img"
  truncate -s "${total}M" "$img"
  sfdisk -q "$img" <<EOF
label: gpt
start=1MiB, size=${efi_mib}MiB, type=uefi, name=efi
size=${slot_mib}MiB, type=linux, name=rootfs-a
size=${slot_mib}MiB, type=linux, name=rootfs-b
size=${data_mib}MiB, type=linux, name=data
EOF
  local start=1
  dd if="$OUT/efi.vfat" of="$img" bs=1M seek=$start conv=notrunc,sparse status=none
  start=$((start + efi_mib))
  dd if="$OUT/rootfs.ext4" of="$img" bs=1M seek=$start conv=notrunc,sparse status=none
  start=$((start + 2 * slot_mib))
  dd if="$OUT/data.ext4" of="$img" bs=1M seek=$start conv=notrunc,sparse status=none
  rm -f "$OUT/efi.vfat" "$OUT/data.ext4"
  log "disk image: $img ($(du -h "$img" | cut -f1) used of ${total} MiB)"
}

make_bundle() {
  [ -f "$OUT/rootfs.ext4" ] && [ -z "${AR_REBUILD_SLOT:-}" ] || make_slot
  find_keys
  local dir="$OUT/bundle.tmp" name="anyroom-$BOARD-$VERSION.raucb"
  rm -rf "$dir" "$OUT/$name"
  mkdir -p "$dir"
  ln "$OUT/rootfs.ext4" "$dir/rootfs.ext4" 2>/dev/null || cp "$OUT/rootfs.ext4" "$dir/"
  cat >"$dir/manifest.raucm" <<EOF
[update]
compatible=$COMPATIBLE
version=$VERSION
description=Anyroom $VERSION for $BOARD ($VARIANT)

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
EOF
  rauc bundle --cert="$CERT" --key="$KEY" --mksquashfs-args="-comp zstd -Xcompression-level 6" \
    "$dir" "$OUT/$name" >&2
  rm -rf "$dir"
  ln -sf "$name" "$OUT/bundle.raucb"
  log "bundle: $OUT/$name ($(du -h "$OUT/$name" | cut -f1))"
}

main() {
  local cmd=${1:-} board=${2:-}
  [ -n "$cmd" ] && [ -n "$board" ] || {
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
  }
  shift 2
  VARIANT=release
  for a in "$@"; do
    case "$a" in
      --dev) VARIANT=dev ;;
      *) die "unknown option $a" ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "image builds need root (mmdebstrap, chroot)"
  BOARD=$board
  BOARD_CONF="$TOP/board/$BOARD/board.conf"
  [ -r "$BOARD_CONF" ] || die "no board profile $BOARD_CONF"
  [ "$(ini_get "$BOARD_CONF" image boot)" = grub-efi ] ||
    die "board $BOARD boots with '$(ini_get "$BOARD_CONF" image boot)': only grub-efi boards can be built here"
  ARCH=$(ini_get "$BOARD_CONF" image arch)
  [ "$ARCH" = "$(dpkg --print-architecture)" ] || die "board $BOARD is $ARCH; this build host cannot run its chroot"
  KERNEL=$(ini_get "$BOARD_CONF" image kernel)
  COMPATIBLE=$(ini_get "$BOARD_CONF" rauc compatible)
  OUT="$BUILD/image/$BOARD"
  if [ "$VARIANT" = dev ]; then
    COMPATIBLE="$COMPATIBLE-dev"
    OUT="$OUT-dev"
  fi
  local pv
  pv=$(sed -n "s/^  version: '\(.*\)',/\1/p" "$TOP/meson.build" | head -n1)
  VERSION=${AR_IMAGE_VERSION:-$pv.$(date -u +%Y%m%d%H%M%S)}
  mkdir -p "$OUT"
  case "$cmd" in
    image) make_disk ;;
    slot) make_slot ;;
    bundle) AR_REBUILD_SLOT=1 make_bundle ;;
    *) die "unknown command $cmd" ;;
  esac
}

main "$@"
exit $?
