#!/usr/bin/env bash
# ceph.sh start|stop|status|wait|admin ARGS|version — the stack's Ceph cluster, of the release
# LATCHKEY_CEPH names (16, 18 or 20; default 20). The cluster itself is ceph-cluster.sh (its
# header lists the environment); this script chooses where it runs:
#   16      the host's own packages (Debian 12), data in CEPH_DIR-16
#   18, 20  a Debian root of that release (ceph-root.sh builds it once), entered with chroot.
#           The data lives inside the root at the same absolute path as CEPH_DIR, so the paths
#           in the cluster's config mean the same thing inside the root and out.
# CEPH_DIR itself is a link to the current release's data, so logs, pid files and admin.env
# are where they always were, and a cluster of each release is kept (none is ever upgraded in
# place). CEPH_DIR.release records which release CEPH_DIR holds: stop, status, wait and admin
# act on that one, and start stops it first when another release is asked for.
#   admin ARGS  radosgw-admin of the cluster's release, with the cluster's config
#   version     the radosgw version the cluster runs (e.g. 20.2.4+ds-2)
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CEPH_DIR:?CEPH_DIR must name the data folder of this cluster}"
case "$CEPH_DIR" in /*) ;; *) CEPH_DIR=$(pwd)/$CEPH_DIR ;; esac
CEPH_DIR=${CEPH_DIR%/}
mkdir -p "$(dirname "$CEPH_DIR")"
# The real path: inside a root, a link on the way would lead somewhere else.
CEPH_DIR=$(realpath "$(dirname "$CEPH_DIR")")/$(basename "$CEPH_DIR")
record=$CEPH_DIR.release
action=${1:-}
recorded=$(cat "$record" 2>/dev/null || true)
if [ "$action" = start ]; then
  release=${LATCHKEY_CEPH:-20}
else
  release=${recorded:-${LATCHKEY_CEPH:-20}}
fi
"$here/ceph-root.sh" check "$release"
[ "$action" != version ] || exec "$here/ceph-root.sh" version "$release"

if [ "$action" = start ] && [ -n "$recorded" ] && [ "$recorded" != "$release" ]; then
  echo "ceph: stopping the Ceph $recorded cluster of $(basename "$(dirname "$CEPH_DIR")") before starting Ceph $release"
  LATCHKEY_CEPH=$recorded "$0" stop
fi

if [ "$release" = 16 ]; then
  data=$CEPH_DIR-16
else
  [ "$action" = start ] || [ -d "$("$here/ceph-root.sh" path "$release")$CEPH_DIR" ] \
    || { echo "ceph: no Ceph $release cluster in $CEPH_DIR yet" >&2; [ "$action" = stop ] && exit 0; exit 1; }
  "$here/ceph-root.sh" ensure "$release"
  root=$("$here/ceph-root.sh" path "$release")
  data=$root$CEPH_DIR
fi

if [ "$action" = start ]; then
  # A cluster from before releases were chosen is a Ceph 16 one: keep it as such.
  if [ -d "$CEPH_DIR" ] && [ ! -L "$CEPH_DIR" ]; then
    [ -e "$CEPH_DIR-16" ] || mv "$CEPH_DIR" "$CEPH_DIR-16"
    rm -rf "$CEPH_DIR"
  fi
  mkdir -p "$data"
  ln -sfn "$data" "$CEPH_DIR"
  echo "$release" >"$record"
fi

if [ "$release" = 16 ]; then
  CEPH_DIR=$CEPH_DIR exec "$here/ceph-cluster.sh" "$@"
fi
# The cluster's scripts travel with its data, so the root needs nothing of this checkout.
mkdir -p "$data/.scripts"
for f in ceph-cluster.sh ceph.conf.in; do
  cmp -s "$here/$f" "$data/.scripts/$f" || cp "$here/$f" "$data/.scripts/$f"
done
env=(HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "CEPH_DIR=$CEPH_DIR")
for v in CEPH_MON_PORT CEPH_RGW_PORT CEPH_RGW2_PORT CEPH_TIMEOUT; do
  [ -z "${!v:-}" ] || env+=("$v=${!v}")
done
exec chroot "$root" /usr/bin/env -i "${env[@]}" /bin/bash "$CEPH_DIR/.scripts/ceph-cluster.sh" "$@"
