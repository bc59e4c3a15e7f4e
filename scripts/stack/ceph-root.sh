#!/usr/bin/env bash
# ceph-root.sh ensure|path|version|check|remove RELEASE — the Debian root a Ceph release runs in.
#
# Ceph 16 is the host's own (Debian 12). Ceph 18 (Reef) comes from Debian trixie and Ceph 20
# (Tentacle) from Debian forky, or sid when forky lacks it. Their binaries need their own libc,
# so each runs in a debootstrap root of its own suite, built once, reused by every checkout and
# stack of this machine, and rebuilt when the archive's radosgw version changes (looked up at
# most once a day, and only while no daemon runs in the root).
#
#   ensure RELEASE   build the root if missing, stale or half-built; mount /proc in it
#   path RELEASE     print where the root lives (built or not)
#   version RELEASE  print the radosgw version installed in the root
#   check RELEASE    fail unless RELEASE is one this script supports (a clear message)
#   remove RELEASE   unmount and delete the root
#
# A root is built in ROOT.partial and renamed into place only once every step succeeded, so a
# download that fails halfway leaves nothing a later run trusts. Needs root (debootstrap,
# chroot, mount). LATCHKEY_CEPH_ROOTS moves the roots (default /var/cache/latchkey).
set -Eeuo pipefail

action=${1:-}; release=${2:-}
roots=${LATCHKEY_CEPH_ROOTS:-/var/cache/latchkey}
mirror=${LATCHKEY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Packages the stack scripts use inside the root, beside Ceph's own.
packages=(ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl procps util-linux python3 ca-certificates)

say() { echo "ceph-root: $*" >&2; }
die() { echo "ceph-root: ERROR: $*" >&2; exit 1; }

check() {
  case "$release" in
    16 | 18 | 20) ;;
    *) die "LATCHKEY_CEPH='$release' is not a supported Ceph release: choose 16 (Pacific, the host's Debian 12), 18 (Reef, from Debian trixie) or 20 (Tentacle, from Debian forky)" ;;
  esac
}

# The suites that may carry RELEASE, first choice first.
suites() { case "$release" in 18) echo trixie ;; 20) echo "forky sid" ;; esac; }

root_path() { echo "$roots/ceph-$release"; }

# unmount_all ROOT: every mount below ROOT, deepest first.
unmount_all() {
  local r=$1 m
  for m in $(awk -v r="$r/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

# in_use ROOT: a process runs with ROOT as its root directory (a daemon of some stack).
in_use() {
  local r=$1 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && return 0
  done
  return 1
}

# delete ROOT: never crosses into a mounted file system, whatever was left mounted.
delete() {
  [ -d "$1" ] || return 0
  unmount_all "$1"
  if awk -v r="$1/" 'index($2, r) == 1' /proc/mounts | grep -q .; then
    die "cannot unmount everything below $1; not deleting it"
  fi
  rm -rf --one-file-system "$1"
}

in_root() {
  chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive /bin/bash -c "$2"
}

mount_proc() {
  mountpoint -q "$1/proc" || mount -t proc proc "$1/proc"
}

# candidate ROOT: "SUITE VERSION" of the newest radosgw of this release the root's archives offer.
candidate() {
  in_root "$1" 'apt-cache madison radosgw' | awk -v want="$release." -v order="$(suites)" '
    BEGIN { n = split(order, s, " "); for (i = 1; i <= n; i++) rank[s[i]] = i }
    { v = $3; src = $6; sub(/\/.*/, "", src) }
    index(v, want) == 1 && src in rank && (best == "" || rank[src] < rank[bestsrc]) { best = v; bestsrc = src }
    END { if (best != "") print bestsrc, best }'
}

build() {
  local final=$1 tmp=$1.partial log first suite version t0=$SECONDS
  mkdir -p "$roots"
  log=$roots/ceph-$release.build.log
  : >"$log"
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$log" 2>&1 || die "could not install debootstrap (see $log)"
  }
  delete "$tmp"
  read -r first _ <<<"$(suites)"
  local script=()
  [ -f "/usr/share/debootstrap/scripts/$first" ] || script=(/usr/share/debootstrap/scripts/sid)
  say "building the Ceph $release root from Debian $first in $final (about 2 minutes, 1 GB; log: $log)"
  debootstrap --variant=minbase "$first" "$tmp" "$mirror" "${script[@]}" >>"$log" 2>&1 \
    || { delete "$tmp"; die "debootstrap of Debian $first failed (see $log); nothing was kept"; }
  # The machine's registry settings (validity checks, index targets) and certificate authorities.
  cp -a /etc/apt/apt.conf.d/99* "$tmp/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
  if [ -d /usr/local/share/ca-certificates ]; then
    mkdir -p "$tmp/usr/local/share/ca-certificates"
    cp -a /usr/local/share/ca-certificates/. "$tmp/usr/local/share/ca-certificates/"
  fi
  for suite in $(suites); do
    [ "$suite" = "$first" ] || echo "deb $mirror $suite main" >"$tmp/etc/apt/sources.list.d/$suite.list"
  done
  # No init in a chroot: packages must not try to start their services.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod +x "$tmp/usr/sbin/policy-rc.d"
  mount_proc "$tmp"
  in_root "$tmp" 'apt-get update -qq' >>"$log" 2>&1 || { delete "$tmp"; die "apt-get update failed in the Debian $first root (see $log)"; }
  read -r suite version <<<"$(candidate "$tmp")"
  [ -n "${version:-}" ] || { delete "$tmp"; die "no Debian suite of $(suites) offers radosgw $release.x any more; nothing was kept"; }
  say "installing Ceph $version from Debian $suite"
  local pins=() p
  for p in ceph-mon ceph-osd radosgw ceph-common; do pins+=("$p=$version"); done
  in_root "$tmp" "apt-get install -y -qq --no-install-recommends -t $suite ${pins[*]} ${packages[*]:4} && apt-get clean" >>"$log" 2>&1 \
    || { delete "$tmp"; die "installing Ceph $version from Debian $suite failed (see $log); nothing was kept"; }
  in_root "$tmp" 'update-ca-certificates' >>"$log" 2>&1 || true
  local got
  got=$(in_root "$tmp" "dpkg-query -W -f='\${Version}' radosgw") || got=
  [ "$got" = "$version" ] || { delete "$tmp"; die "radosgw $version did not install (found '$got'; see $log)"; }
  echo "$version" >"$tmp/.latchkey-ceph-version"
  date +%s >"$tmp/.latchkey-checked"
  unmount_all "$tmp"
  delete "$final"
  mv "$tmp" "$final"
  say "Ceph $version ready in $final ($((SECONDS - t0)) s)"
}

# stale ROOT: the archive now offers another version (looked up once a day).
stale() {
  local r=$1 now last suite version
  now=$(date +%s)
  last=$(cat "$r/.latchkey-checked" 2>/dev/null || echo 0)
  [ $((now - last)) -ge 86400 ] || return 1
  in_root "$r" 'apt-get update -qq' >/dev/null 2>&1 || { say "could not reach the archive to look for a newer Ceph $release; keeping $(cat "$r/.latchkey-ceph-version")"; return 1; }
  date +%s >"$r/.latchkey-checked"
  read -r suite version <<<"$(candidate "$r")"
  [ -n "${version:-}" ] && [ "$version" != "$(cat "$r/.latchkey-ceph-version")" ] || return 1
  say "Debian $suite now has radosgw $version (the root has $(cat "$r/.latchkey-ceph-version"))"
}

ensure() {
  local r
  r=$(root_path)
  [ "$(id -u)" -eq 0 ] || die "Ceph $release runs in a Debian root (debootstrap, chroot): run as root"
  mkdir -p "$roots"
  exec 8>"$roots/.ceph-$release.lock"
  flock -w 900 8 || die "another build of the Ceph $release root holds $roots/.ceph-$release.lock"
  if [ ! -s "$r/.latchkey-ceph-version" ]; then
    build "$r"
  else
    mount_proc "$r"
    if stale "$r"; then
      if in_use "$r"; then
        say "not rebuilding now: daemons run in $r"
      else
        build "$r"
      fi
    fi
  fi
  mount_proc "$r"
}

check
case "$action" in
  check) ;;
  path) root_path ;;
  version)
    if [ "$release" = 16 ]; then dpkg-query -W -f='${Version}\n' radosgw; else cat "$(root_path)/.latchkey-ceph-version"; fi ;;
  ensure) [ "$release" = 16 ] || ensure ;;
  remove)
    [ "$release" = 16 ] && exit 0
    in_use "$(root_path)" && die "daemons still run in $(root_path); stop their stacks first"
    delete "$(root_path)"; delete "$(root_path).partial" ;;
  *) echo "usage: $0 ensure|path|version|check|remove 16|18|20" >&2; exit 2 ;;
esac
