# Shared helpers for the stack scripts (sourced, not run).

# pid_alive FILE: the process recorded in FILE is running.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid FILE NAME: TERM the recorded process, KILL it after 10 s, forget it.
stop_pid() {
  local file=$1 name=$2 pid
  if pid_alive "$file"; then
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "$name: stopped"
  fi
  rm -f "$file"
}

# wait_for TIMEOUT_S DESCRIPTION COMMAND...: retry COMMAND until it succeeds.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "$what: not ready after ${timeout}s" >&2; return 1; fi
    sleep 0.2
  done
}
