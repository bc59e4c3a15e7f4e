#!/usr/bin/env bash
# celery.sh start|check|watch PID|stop — the Celery worker and beat that expire keys.
#
#   start      start whichever of them is not running, detached (their own session: Ctrl-C on
#              make run does not reach them, and no parent leaves them as zombies), then wait
#              until a worker has completed an expiry sweep that beat sent. Fails, naming the log
#              line that killed it, when either stops.
#   check      both are running (exit 1 naming the one that is not, and why)
#   watch PID  check every few seconds while PID runs; when one stops, say so and stop PID
#   stop       stop both
# CELERY_DIR holds the pid files and logs; VENV (default .venv) the virtualenv to run them from.
# The environment must hold the stack's settings (latchkey.env).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${CELERY_DIR:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}
wait_s=${CELERY_WAIT_SECONDS:-120}
ROLES=(worker beat)

args_of() {
  case "$1" in
    worker) echo "worker --concurrency ${CELERY_CONCURRENCY:-2} -l INFO" ;;
    beat) echo "beat -l INFO -s $CELERY_DIR/celerybeat-schedule" ;;
  esac
}

# dead ROLE OFFSET: say that ROLE is not running and what its log says killed it.
dead() {
  local log=$CELERY_DIR/celery-$1.log
  echo "celery-$1: NOT RUNNING; keys will not be removed from Ceph at their expiry." >&2
  echo "celery-$1: $(last_error "$log" "${2:-0}")" >&2
  echo "celery-$1: the end of $log:" >&2
  tail -c +"$((${2:-0} + 1))" "$log" 2>/dev/null | tail -n 15 | sed 's/^/    /' >&2
}

check() {
  local role ok=0
  for role in "${ROLES[@]}"; do
    pid_alive "$CELERY_DIR/celery-$role.pid" && continue
    dead "$role" "$(cat "$CELERY_DIR/celery-$role.offset" 2>/dev/null || echo 0)"
    ok=1
  done
  return $ok
}

# settings_digest: what the worker and beat were started with (every LATCHKEY_ and CEPH_ variable).
settings_digest() { env | grep -E '^(LATCHKEY_|CEPH_|PROMETHEUS_)' | sort | sha256sum | cut -d' ' -f1; }

start() {
  mkdir -p "$CELERY_DIR"
  local role started=0 log offset deadline digest
  local worker_log=$CELERY_DIR/celery-worker.log
  local from; from=$(stat -c %s "$worker_log" 2>/dev/null || echo 0)
  digest=$(settings_digest)
  # A worker and beat from an earlier start with other settings (another Ceph release, a provider
  # switched to local JWT checks) would go on with the old ones: they are restarted.
  if [ "$(cat "$CELERY_DIR/celery.settings" 2>/dev/null)" != "$digest" ]; then
    for role in "${ROLES[@]}"; do
      pid_alive "$CELERY_DIR/celery-$role.pid" || continue
      echo "celery-$role: its settings changed since it started; restarting it"
      stop_pid "$CELERY_DIR/celery-$role.pid" "celery-$role"
    done
  fi
  echo "$digest" >"$CELERY_DIR/celery.settings"
  for role in "${ROLES[@]}"; do
    pid_alive "$CELERY_DIR/celery-$role.pid" && continue
    log=$CELERY_DIR/celery-$role.log
    offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
    echo "$offset" >"$CELERY_DIR/celery-$role.offset"
    # shellcheck disable=SC2046  # the arguments are words
    (cd "$root" && exec setsid "$venv/bin/celery" -A portal $(args_of "$role") >>"$log" 2>&1 </dev/null) &
    echo $! >"$CELERY_DIR/celery-$role.pid"
    started=1
  done
  if [ $started = 0 ]; then
    echo "celery: worker and beat already running"
    return 0
  fi
  # Beat sends a sweep as it starts; a worker's "succeeded" line for it proves Redis, the
  # database, Ceph and both processes work together.
  echo "celery: waiting up to ${wait_s} s for the worker to complete the first expiry sweep"
  deadline=$((SECONDS + wait_s))
  until tail -c +"$((from + 1))" "$worker_log" 2>/dev/null | grep -q 'keys.tasks.keys_sweep_task\[.*\] succeeded'; do
    check || return 1
    if [ $SECONDS -ge $deadline ]; then
      echo "celery: no expiry sweep completed within ${wait_s} s; see $CELERY_DIR/celery-*.log" >&2
      echo "celery: the worker's last error: $(tail -c +"$((from + 1))" "$worker_log" | grep -E 'ERROR|Error' | tail -n 1)" >&2
      return 1
    fi
    sleep 0.5
  done
  sleep 2  # a process that dies on its first task, not at import, shows now
  check || return 1
  echo "celery: worker and beat up; first expiry sweep completed"
}

case "${1:-}" in
  start) start ;;
  check) check ;;
  watch)
    target=${2:?watch needs the pid to stop}
    while kill -0 "$target" 2>/dev/null; do
      if ! check; then
        echo "make run: stopping the web server, since expiry is not enforced without both" >&2
        # runserver's reloader serves from a child: stop that too (this watcher is a child as well).
        for child in $(pgrep -P "$target" || true); do [ "$child" = $$ ] || kill -TERM "$child" 2>/dev/null || true; done
        kill -TERM "$target" 2>/dev/null || true
        exit 1
      fi
      sleep 3
    done ;;
  stop) for role in "${ROLES[@]}"; do stop_pid "$CELERY_DIR/celery-$role.pid" "celery-$role"; done ;;
  *) echo "usage: $0 start|check|watch PID|stop" >&2; exit 2 ;;
esac
