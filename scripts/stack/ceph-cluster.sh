#!/usr/bin/env bash
# ceph-cluster.sh start|stop|status|wait|admin ARGS — a one-node Ceph cluster (one monitor, one
# in-memory OSD, one radosgw) that gives Latchkey an S3 and admin-ops endpoint on
# 127.0.0.1:$CEPH_RGW_PORT. Run it through scripts/stack/ceph.sh, which chooses the release and
# runs this script in that release's Debian root, with the root's own binaries.
#
# Environment:
#   CEPH_DIR       (required) this cluster's folder: config, keyrings, mon store, OSD dump,
#                  pid files, admin sockets and logs all live here.
#   CEPH_MON_PORT  (start) monitor port; the OSD binds in CEPH_MON_PORT+1 .. +20.
#   CEPH_RGW_PORT  (start, wait) S3 / admin API port.
#   CEPH_RGW2_PORT (optional) a second radosgw on the same cluster, on this port: what a site
#                  runs behind one name, where a key removed through one gateway must be refused
#                  by the other (they rely on Ceph's cache notifications).
#   CEPH_TIMEOUT   (optional) seconds to wait for the S3 endpoint, default 90.
#
# Nothing is read from or written to /etc/ceph, /var/lib/ceph or /var/run/ceph, and only the
# processes recorded in CEPH_DIR/run are ever signalled, so a dev and a test cluster can run
# side by side. After `start`, CEPH_DIR/admin.env holds the admin-ops credentials
# (RGW_ADMIN_ACCESS_KEY, RGW_ADMIN_SECRET_KEY, RGW_ENDPOINT).
#
# The OSD keeps objects in memory (memstore). A clean `stop` lets it dump them into CEPH_DIR/osd
# and the next `start` reloads them; after a crash or kill -9 the dump is stale, so `start`
# rebuilds the whole cluster instead (object data and non-admin users are gone, the admin user
# comes back with the keys from admin.env).
set -Eeuo pipefail

: "${CEPH_DIR:?CEPH_DIR must name the data folder of this cluster}"
# Daemons record absolute paths in their config; a relative CEPH_DIR would break `ceph -c`.
case "$CEPH_DIR" in /*) ;; *) CEPH_DIR=$(pwd)/$CEPH_DIR ;; esac
CEPH_DIR=${CEPH_DIR%/}

conf=$CEPH_DIR/ceph.conf
run=$CEPH_DIR/run
logs=$CEPH_DIR/log
admin_env=$CEPH_DIR/admin.env
boot_log=$logs/bootstrap.log
# Present once every bootstrap step has succeeded; a half-built cluster is rebuilt from scratch.
bootstrapped=$CEPH_DIR/bootstrapped
# Present while CEPH_DIR/osd holds a current dump of the memstore (after mkfs or a clean stop).
osd_saved=$CEPH_DIR/osd.saved
osd_id=0
rgw_name=client.rgw.latchkey
rgw2_name=client.rgw.latchkey-b
rgw2_port=${CEPH_RGW2_PORT:-}
admin_uid=latchkey-admin
admin_caps='users=*;buckets=*;metadata=*;usage=*;zone=*'
# RGW accounts (Ceph 19 and later): the admin user makes projects' accounts and writes their IAM
# users' policies. Older releases refuse these cap types ("unable to add caps").
case "$(radosgw --version 2>/dev/null)" in
  "ceph version 1"[0-8].*) ;;
  *) admin_caps="$admin_caps;accounts=*;user-policy=*" ;;
esac
timeout=${CEPH_TIMEOUT:-90}
# The system python has what we need for JSON; a pyenv/venv python on PATH may not.
py=/usr/bin/python3

say() { echo "ceph: $*"; }
# set -e alone would end the script without a word.
trap 'echo "ceph: ERROR: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

# die MESSAGE [LOG]: report, show the end of the log that explains it, fail.
die() {
  echo "ceph: ERROR: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "ceph: last 30 lines of $2:" >&2
    tail -n 30 "$2" >&2
  fi
  exit 1
}

# Per daemon: its pid file, program and log file.
pidfile() { case $1 in mon) echo "$run/mon.a.pid" ;; osd) echo "$run/osd.$osd_id.pid" ;; rgw) echo "$run/$rgw_name.pid" ;; rgw2) echo "$run/$rgw2_name.pid" ;; esac; }
program() { case $1 in mon) echo /usr/bin/ceph-mon ;; osd) echo /usr/bin/ceph-osd ;; rgw | rgw2) echo /usr/bin/radosgw ;; esac; }
logfile() { case $1 in mon) echo "$logs/mon.a.log" ;; osd) echo "$logs/osd.$osd_id.log" ;; rgw) echo "$logs/$rgw_name.log" ;; rgw2) echo "$logs/$rgw2_name.log" ;; esac; }

# alive PID: the process exists and has not exited. An exited daemon stays a zombie until
# init reaps it, which some container inits only do every second or two.
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# pid_of DAEMON: print the recorded pid if that process is alive, is the expected program and
# was started with this cluster's config (a recycled pid, or another cluster's daemon, is not ours).
pid_of() {
  local file pid exe
  file=$(pidfile "$1")
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # After a package upgrade the running binary shows as "... (deleted)".
  case "$exe" in "$(program "$1")" | "$(program "$1") (deleted)") ;; *) return 1 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $conf " || return 1
  echo "$pid"
}
running() { pid_of "$1" >/dev/null; }

ceph_() { ceph -c "$conf" --connect-timeout 15 "$@"; }
rgw_admin() { radosgw-admin -c "$conf" --client-mount-timeout=15 "$@"; }

# launch DAEMON ARGS...: start a daemon (it forks itself) and wait for its pid file. Returns
# non-zero if it does not come up, so the caller can choose between rebuilding and failing.
launch() {
  local d=$1 i log size; shift
  log=$(logfile "$d")
  # memstore writes a listing of every object into the OSD log at each load and save, so
  # logs of a long-lived dev cluster would only grow; keep one previous generation.
  size=$(stat -c %s "$log" 2>/dev/null || echo 0)
  [ "$size" -lt 50000000 ] || mv -f "$log" "$log.old"
  rm -f "$(pidfile "$d")"
  # fd 9 is our lock; a daemon that inherited it would hold the lock for its whole life.
  "$(program "$d")" -c "$conf" "$@" 9>&- >>"$log" 2>&1 || return 1
  for i in $(seq 1 100); do
    running "$d" && return 0
    # No pid file 2 s after the parent returned: the child died during start-up.
    [ "$i" -gt 20 ] && [ ! -s "$(pidfile "$d")" ] && break
    sleep 0.1
  done
  return 1
}

# stop_daemon DAEMON GRACE_S: TERM the recorded process, KILL it after GRACE_S (at once if 0).
# Status: 0 it exited on TERM (for the OSD: its memstore dump is complete), 1 it had to be
# killed, 2 it was not running.
stop_daemon() {
  local d=$1 grace=$2 pid i status=0
  if ! pid=$(pid_of "$d"); then
    rm -f "$(pidfile "$d")"
    return 2
  fi
  if [ "$grace" -gt 0 ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 $((grace * 10))); do
      alive "$pid" || break
      sleep 0.1
    done
  fi
  if alive "$pid"; then
    [ "$grace" -gt 0 ] && say "$d (pid $pid) ignored TERM for ${grace}s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    # Bounded: a process stuck in the kernel can outlive KILL for a while.
    for i in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    status=1
  fi
  rm -f "$(pidfile "$d")"
  say "$d stopped (pid $pid)"
  return $status
}

# stop_all [GRACE_S]: radosgw, OSD, monitor, in that order (each needs the next one to shut
# down cleanly).
stop_all() {
  local grace=${1:-10} st=0
  # radosgw has nothing to save (the OSD holds every object), and radosgw 20 takes 9-19 s to
  # exit on TERM ("dedup background: shutdown waiting"): 2 s, then KILL.
  local gw=$((grace < 2 ? grace : 2))
  stop_daemon rgw2 "$gw" || true
  stop_daemon rgw "$gw" || true
  # Saving the memstore can take a moment with a few hundred MB in it.
  stop_daemon osd $((grace * 3)) || st=$?
  case $st in
    0) touch "$osd_saved" ;;
    1) rm -f "$osd_saved" ;;
    # Not running: whatever the marker says about the dump is still true.
  esac
  stop_daemon mon "$grace" || true
}

write_conf() {
  local fsid tmp
  fsid=$(cat "$CEPH_DIR/fsid")
  tmp=$(mktemp "$CEPH_DIR/.ceph.conf.XXXXXX")
  chmod 644 "$tmp"
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  # The template's @NAMES@ are filled in now; $run_dir, $name etc. are Ceph's own metavariables.
  sed -e "s|@FSID@|$fsid|g" -e "s|@MON_PORT@|$CEPH_MON_PORT|g" -e "s|@RGW_PORT@|$CEPH_RGW_PORT|g" \
    -e "s|@PORT_MIN@|$((CEPH_MON_PORT + 1))|g" -e "s|@PORT_MAX@|$((CEPH_MON_PORT + 20))|g" \
    -e "s|@CEPH_DIR@|$CEPH_DIR|g" -e "s|@RUN@|$run|g" -e "s|@LOGS@|$logs|g" -e "s|@RGW_NAME@|$rgw_name|g" \
    -e "s|@RGW2_NAME@|$rgw2_name|g" -e "s|@RGW2_PORT@|${rgw2_port:-0}|g" \
    "$here/ceph.conf.in" >"$tmp"
  if cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$conf"
  fi
}

# ensure_admin_env: the admin-ops credentials, generated once and kept across rebuilds.
ensure_admin_env() {
  local access secret endpoint=http://127.0.0.1:$CEPH_RGW_PORT tmp
  if [ -f "$admin_env" ]; then
    access=$(sed -n 's/^RGW_ADMIN_ACCESS_KEY=//p' "$admin_env")
    secret=$(sed -n 's/^RGW_ADMIN_SECRET_KEY=//p' "$admin_env")
  fi
  if [ -z "${access:-}" ] || [ -z "${secret:-}" ]; then
    access=$("$py" -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)))')
    secret=$("$py" -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40)))')
  fi
  tmp=$(mktemp "$CEPH_DIR/.admin.env.XXXXXX")
  chmod 600 "$tmp"
  printf 'RGW_ADMIN_ACCESS_KEY=%s\nRGW_ADMIN_SECRET_KEY=%s\nRGW_ENDPOINT=%s\n' "$access" "$secret" "$endpoint" >"$tmp"
  if cmp -s "$tmp" "$admin_env"; then rm -f "$tmp"; else mv "$tmp" "$admin_env"; fi
  chmod 600 "$admin_env"
  RGW_ADMIN_ACCESS_KEY=$access RGW_ADMIN_SECRET_KEY=$secret
}

# wait_mon: until the monitor has formed its (single-member) quorum.
wait_mon() {
  local deadline=$((SECONDS + 30))
  until ceph --admin-daemon "$run/mon.a.asok" mon_status 2>/dev/null | grep -q '"state": "leader"'; do
    running mon || die "monitor exited" "$(logfile mon)"
    [ $SECONDS -lt $deadline ] || die "monitor not in quorum after 30s" "$(logfile mon)"
    sleep 0.2
  done
}

# osd_status: the OSD's own view, "STATE NUM_PGS" (e.g. "active 56").
osd_status() {
  ceph --admin-daemon "$run/osd.$osd_id.asok" status 2>/dev/null \
    | "$py" -c 'import json, sys; s = json.load(sys.stdin); print(s["state"], s["num_pgs"])'
}

# wait_osd: until the OSD has booted (the OSD itself says "active"; the monitor may still list
# an OSD that was killed as up). Fails without dying so the caller can rebuild instead.
wait_osd() {
  local deadline=$((SECONDS + 60)) st
  while :; do
    running osd || return 1
    st=$(osd_status || true)
    [ "${st%% *}" = active ] && return 0
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# osd_has_all_pgs: every PG the monitor knows about is on the OSD. A memstore that was reloaded
# from a stale or missing dump lacks them, and rgw would then hang on its pools forever.
osd_has_all_pgs() {
  local want have i
  want=$(ceph_ osd pool ls detail -f json | "$py" -c 'import json, sys; print(sum(p["pg_num"] for p in json.load(sys.stdin)))') || return 1
  # PGs of a pool created just before a restart may take a moment to be instantiated.
  for i in 1 2 3 4 5 6 7 8 9 10; do
    have=$(osd_status | cut -d' ' -f2) || return 1
    [ -n "$have" ] || return 1
    [ "$have" -ge "$want" ] && return 0
    [ "$i" = 10 ] || sleep 0.5
  done
  say "the OSD has $have of $want placement groups"
  return 1
}

# step WHAT COMMAND...: one bootstrap command; its output goes to bootstrap.log.
step() {
  local what=$1; shift
  echo "+ $*" >>"$boot_log"
  "$@" >>"$boot_log" 2>&1 || die "bootstrap step failed: $what" "$boot_log"
}

# bootstrap: a brand-new cluster in CEPH_DIR; ends with the monitor and the OSD running.
# Anything left of a previous one (except admin.env and the logs) is removed first.
bootstrap() {
  # Everything is about to be deleted, so there is nothing to shut down gracefully; a radosgw
  # whose OSD has gone would otherwise hang in TERM until it is killed.
  stop_all 0
  rm -rf "$CEPH_DIR/mon" "$CEPH_DIR/osd" "$CEPH_DIR/rgw" "$CEPH_DIR/crash" "$run" \
    "$CEPH_DIR/keyring" "$CEPH_DIR/monmap" "$bootstrapped" "$osd_saved"
  mkdir -p "$CEPH_DIR/mon" "$CEPH_DIR/osd" "$CEPH_DIR/rgw" "$CEPH_DIR/crash" "$run" "$logs"
  uuidgen >"$CEPH_DIR/fsid"
  write_conf
  local fsid osd_uuid id old_umask host=latchkey keyring=$CEPH_DIR/keyring
  fsid=$(cat "$CEPH_DIR/fsid")
  say "creating cluster $fsid in $CEPH_DIR"

  old_umask=$(umask)
  umask 077
  step "keyring" ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *'
  step "keyring" ceph-authtool "$keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *'
  umask "$old_umask"
  step "monmap" monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$CEPH_MON_PORT]" "$CEPH_DIR/monmap"
  step "monitor mkfs" ceph-mon -c "$conf" --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$keyring"
  launch mon -i a || die "monitor failed to start" "$(logfile mon)"
  wait_mon

  osd_uuid=$(uuidgen)
  id=$(ceph_ osd create "$osd_uuid" 2>>"$boot_log") || die "ceph osd create failed" "$boot_log"
  [ "$id" = "$osd_id" ] || die "new cluster gave OSD id '$id', expected $osd_id"
  step "OSD key" ceph_ auth get-or-create "osd.$osd_id" mon 'allow profile osd' osd 'allow *' \
    mgr 'allow profile osd' -o "$CEPH_DIR/osd/keyring"
  step "OSD mkfs" ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" --no-mon-config
  step "CRUSH host" ceph_ osd crush add-bucket "$host" host
  step "CRUSH host" ceph_ osd crush move "$host" root=default
  step "CRUSH OSD" ceph_ osd crush add "osd.$osd_id" 1.0 "host=$host"
  step "rgw key" ceph_ auth get-or-create "$rgw_name" mon 'allow rw' osd 'allow rwx' \
    -o "$CEPH_DIR/rgw/keyring"
  chmod 600 "$CEPH_DIR/osd/keyring" "$CEPH_DIR/rgw/keyring"

  launch osd -i "$osd_id" || die "OSD failed to start" "$(logfile osd)"
  wait_osd || die "OSD of the new cluster did not boot" "$(logfile osd)"
  touch "$bootstrapped"
}

rebuild() {
  say "rebuilding the cluster: buckets, objects and users are lost; the admin user comes back"
  bootstrap
}

# wait_s3 FAIL_IF_RGW_DIES [DAEMON PORT]: until an anonymous GET / lists (no) buckets.
wait_s3() {
  local d=${2:-rgw} port=${3:-$CEPH_RGW_PORT}
  local url=http://127.0.0.1:$port/ deadline=$((SECONDS + timeout))
  until curl -fsS -m 3 "$url" 2>/dev/null | grep -q ListAllMyBucketsResult; do
    if [ "$1" = yes ] && ! running "$d"; then die "radosgw exited" "$(logfile "$d")"; fi
    [ $SECONDS -lt $deadline ] || die "S3 endpoint $url not answering after ${timeout}s (logs: $logs/)" "$(logfile "$d")"
    sleep 0.3
  done
}

# ensure_admin_user: the admin-ops user with the keys from admin.env; only changes what differs.
ensure_admin_user() {
  local info state err=$logs/radosgw-admin.log
  if ! info=$(rgw_admin user info --uid="$admin_uid" 2>/dev/null); then
    rgw_admin user create --uid="$admin_uid" --display-name="Latchkey admin" --system \
      --caps="$admin_caps" --access-key="$RGW_ADMIN_ACCESS_KEY" --secret-key="$RGW_ADMIN_SECRET_KEY" \
      >/dev/null 2>"$err" || die "could not create $admin_uid" "$err"
    say "created admin-ops user $admin_uid"
    return
  fi
  # Prints what is missing: "key", "system", and/or the caps that differ.
  state=$(AK=$RGW_ADMIN_ACCESS_KEY SK=$RGW_ADMIN_SECRET_KEY CAPS=$admin_caps "$py" -c '
import json, os, sys
u = json.load(sys.stdin)
out = []
if not any(k["access_key"] == os.environ["AK"] and k["secret_key"] == os.environ["SK"] and k["user"] == u["user_id"] for k in u["keys"]):
    out.append("key")
if u.get("system") not in ("true", True):
    out.append("system")
have = {c["type"]: c["perm"] for c in u["caps"]}
want = dict(c.split("=") for c in os.environ["CAPS"].split(";"))
if any(have.get(t) != p for t, p in want.items()):
    out.append("caps")
print(" ".join(out))' <<<"$info")
  [ -z "$state" ] && return 0
  say "repairing admin-ops user $admin_uid ($state)"
  case " $state " in *" key "*)
    rgw_admin key create --uid="$admin_uid" --key-type=s3 --access-key="$RGW_ADMIN_ACCESS_KEY" \
      --secret-key="$RGW_ADMIN_SECRET_KEY" >/dev/null 2>"$err" || die "could not add the admin key" "$err" ;;
  esac
  case " $state " in *" system "*)
    rgw_admin user modify --uid="$admin_uid" --system >/dev/null 2>"$err" \
      || die "could not make $admin_uid a system user" "$err" ;;
  esac
  case " $state " in *" caps "*)
    rgw_admin caps add --uid="$admin_uid" --caps="$admin_caps" >/dev/null 2>"$err" \
      || die "could not set the caps of $admin_uid" "$err" ;;
  esac
}

start() {
  : "${CEPH_MON_PORT:?CEPH_MON_PORT must be set}" "${CEPH_RGW_PORT:?CEPH_RGW_PORT must be set}"
  local t0=$SECONDS
  mkdir -p "$CEPH_DIR" "$run" "$logs"
  exec 9>"$CEPH_DIR/.lock"
  flock -w 180 9 || die "another start/stop holds $CEPH_DIR/.lock"
  ensure_admin_env

  if [ ! -f "$bootstrapped" ]; then
    bootstrap
  elif ! running osd && [ ! -f "$osd_saved" ]; then
    say "the OSD was not stopped cleanly, so the objects it held in memory are gone"
    rebuild
  else
    write_conf
    if ! running mon; then
      say "starting monitor"
      launch mon -i a || die "monitor failed to start" "$(logfile mon)"
    fi
    wait_mon
    if ! running osd; then
      # From the moment the OSD runs, its memory moves ahead of the dump on disk.
      rm -f "$osd_saved"
      say "starting OSD"
      if ! { launch osd -i "$osd_id" && wait_osd && osd_has_all_pgs; }; then
        say "the OSD could not use its saved data (see $(logfile osd))"
        rebuild
      fi
    fi
  fi

  if ! running rgw; then
    say "starting radosgw"
    launch rgw -n "$rgw_name" || die "radosgw failed to start" "$(logfile rgw)"
  fi
  wait_s3 yes
  ensure_admin_user
  if [ -n "$rgw2_port" ]; then
    if ! running rgw2; then
      # Its own cephx identity (made once per cluster; a rebuild removes the rgw folder).
      [ -s "$CEPH_DIR/rgw/keyring-b" ] || ceph_ auth get-or-create "$rgw2_name" mon 'allow rw' osd 'allow rwx' \
        -o "$CEPH_DIR/rgw/keyring-b" 2>>"$boot_log" || die "could not make the second gateway's key" "$boot_log"
      chmod 600 "$CEPH_DIR/rgw/keyring-b"
      mkdir -p "$CEPH_DIR/rgw-b"
      say "starting the second radosgw"
      launch rgw2 -n "$rgw2_name" || die "the second radosgw failed to start" "$(logfile rgw2)"
    fi
    wait_s3 yes rgw2 "$rgw2_port"
  fi
  say "up in $((SECONDS - t0))s: S3 and admin API on http://127.0.0.1:$CEPH_RGW_PORT${rgw2_port:+ and http://127.0.0.1:$rgw2_port} (credentials in $admin_env)"
}

stop() {
  [ -d "$CEPH_DIR" ] || return 0
  exec 9>"$CEPH_DIR/.lock"
  flock -w 180 9 || die "another start/stop holds $CEPH_DIR/.lock"
  stop_all
}

status() {
  local d pid all=0
  for d in mon osd rgw ${rgw2_port:+rgw2}; do
    if pid=$(pid_of "$d"); then
      echo "ceph: $d running (pid $pid)"
    else
      echo "ceph: $d stopped"
      all=1
    fi
  done
  exit "$all"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  admin) shift; rgw_admin "$@" ;;
  wait)
    : "${CEPH_RGW_PORT:?CEPH_RGW_PORT must be set}"
    wait_s3 no
    say "S3 endpoint http://127.0.0.1:$CEPH_RGW_PORT answers"
    ;;
  *) echo "usage: $0 start|stop|status|wait|admin ARGS  (env: CEPH_DIR, CEPH_MON_PORT, CEPH_RGW_PORT)" >&2; exit 2 ;;
esac
