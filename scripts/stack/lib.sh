# Shared helpers for the stack scripts (sourced, not run).

# pid_alive FILE: the process recorded in FILE is running. A zombie (exited, not yet reaped by
# its parent) answers kill -0 but is dead: its state in /proc/PID/stat, after the name, is Z.
pid_alive() {
  local pid state
  [ -f "$1" ] && pid=$(cat "$1") && kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# stop_pid FILE NAME: TERM the recorded process, KILL it after 10 s, forget it.
stop_pid() {
  local file=$1 name=$2 pid
  if pid_alive "$file"; then
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$file" || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "$name: stopped"
  fi
  rm -f "$file"
}

# last_error LOG [OFFSET]: the line of LOG (from byte OFFSET on) that says why a process died:
# the last line of its last Python traceback; without one, it was killed from outside.
last_error() {
  local lines
  lines=$(tail -c +"$((${2:-0} + 1))" "$1" 2>/dev/null | grep -v '^[[:space:]]*$') || true
  printf '%s\n' "$lines" | grep -E '^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception|Exit|Interrupt)\b' | tail -n 1 | grep . \
    || echo "no error in its log (killed by a signal or out of memory?); its last line: $(printf '%s\n' "$lines" | tail -n 1)"
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

# load_env FILE: export the settings FILE names (NAME=value lines, as stack.sh writes them),
# except those the caller has already exported: what an operator sets wins over the generated
# file. A NAME_FILE exported counts as NAME set (the setting comes from that file instead).
load_env() {
  local line name
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    name=${line%%=*}
    case "$name" in *[!A-Za-z0-9_]* | '') continue ;; esac
    if [ -n "${!name+x}" ] || { [ "${name%_FILE}" = "$name" ] && [ -n "$(eval "echo \${${name}_FILE+x}")" ]; }; then
      continue
    fi
    eval "export $line"
  done <"$1"
}
