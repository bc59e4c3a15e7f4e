#!/usr/bin/env bash
# make first-hour: a newcomer's first start, measured on a fresh Debian 12 (a debootstrap root).
#
# The fresh root gets only what every new machine of this kind already has (Python 3.11 with pip
# and venv, gcc, git, make, Node.js and npm, and the machine's registry settings), then a clone of
# this repository. The clock starts at the README's run command, `make run`, which installs every
# Debian, PyPI and npm package itself, and stops when the demo user alice, logged in through the
# test IdP in Chromium, holds a key that lists her project's buckets in Ceph through boto3.
# Prints first_hour_ready_s (make run serving pages) and first_hour_s (the working key).
# Needs root (chroot, mounts) and the dev stack's ports free; takes 5-10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "first-hour: run as root (debootstrap, chroot)" >&2; exit 2; }
for port in 8000 17100 17179 17180 17190; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "first-hour: port $port is in use; run 'make stop' first" >&2; exit 2
  fi
done
scripts/install-deps.sh >&2  # the host side: Playwright, Chromium and boto3 drive the measurement
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2

root=${LATCHKEY_FRESH_ROOT:-/var/tmp/latchkey-fresh}
log=$PWD/.stack/first-hour.log
mkdir -p .stack
: >"$log"
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 "${MACHINE_ENV[@]}" /bin/bash -c "$1"; }
# The environment every session of this machine kind has for its registries: pip settings and the
# certificate bundles (the registries are reached through a proxy with its own CA).
MACHINE_ENV=()
while IFS= read -r var; do MACHINE_ENV+=("$var"); done < <(env | grep -E '^(PIP_|NPM_CONFIG_|NODE_EXTRA_CA_CERTS=|SSL_CERT_|REQUESTS_CA_BUNDLE=|CURL_CA_BUNDLE=)' || true)
# The Ceph release make run starts there (its default, 20, unless LATCHKEY_CEPH names another).
[ -z "${LATCHKEY_CEPH:-}" ] || MACHINE_ENV+=("LATCHKEY_CEPH=$LATCHKEY_CEPH")

cleanup() {
  if [ -d "$root/root/latchkey" ]; then
    in_root 'cd /root/latchkey && make stop' >>"$log" 2>&1 || true
  fi
  [ -z "${run_pid:-}" ] || kill "$run_pid" 2>/dev/null || true
  # Whatever still runs inside the root (runserver's child, Celery) holds the mounts.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "$pid" 2>/dev/null || true
  done
  sleep 1
  # Everything mounted below the root, deepest first: the Ceph root that make run built inside
  # it has its own /proc.
  for m in $(awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  [ "${LATCHKEY_KEEP_FRESH_ROOT:-0}" = 1 ] || rm -rf --one-file-system "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "first-hour: building a fresh Debian 12 root in $root (not timed)" >&2
rm -rf --one-file-system "$root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >>"$log" 2>&1
# The machine's registry settings, as a new machine of this kind has them.
cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/"
[ ! -s /etc/apt/sources.list.d/debian.sources ] || : >"$root/etc/apt/sources.list"
cp -a /etc/apt/apt.conf.d/99* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
for f in /etc/pip.conf /root/.config/pip/pip.conf /root/.npmrc /etc/npmrc /etc/resolv.conf; do
  [ -f "$f" ] || continue
  mkdir -p "$root$(dirname "$f")"; cp -L "$f" "$root$f"
done
# No init in a chroot: packages must not try to start their system services.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"; mount --rbind /sys "$root/sys"; mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
[ ! -d /opt ] || { mkdir -p "$root/opt"; mount --bind -o ro /opt "$root/opt"; }
in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-venv python3-pip python3-dev gcc git make ca-certificates procps iproute2 curl' >>"$log" 2>&1
# The machine's own certificate authorities: its registries are reached through them.
if [ -d /usr/local/share/ca-certificates ]; then
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  in_root 'update-ca-certificates' >>"$log" 2>&1
fi
# Node.js and npm as the machine has them (newer than Debian's Node.js 18).
node_files=()
for f in usr/bin/node usr/bin/npm usr/bin/npx usr/bin/corepack usr/lib/node_modules usr/include/node; do
  [ ! -e "/$f" ] || node_files+=("$f")
done
if [ -e /usr/bin/node ]; then
  tar -C / -cf - "${node_files[@]}" | tar -C "$root" -xf -
else
  in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm' >>"$log" 2>&1
fi
in_root 'rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/*'  # nothing of the project cached
git clone -q "$PWD" "$root/root/latchkey"
git -C "$root/root/latchkey" log --oneline -1 >&2

echo "first-hour: make run in the fresh root (timed)" >&2
t0=$(date +%s.%N)
in_root 'cd /root/latchkey && exec make run' >>"$log" 2>&1 &
run_pid=$!
.venv/bin/python bench/first_hour.py "$t0" "$run_pid" "$root/root/latchkey" "$log"
