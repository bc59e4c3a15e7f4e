#!/usr/bin/env bash
# idp.sh start|stop — the test OpenID provider (idp/server.js) on IDP_PORT, files in IDP_DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${IDP_DIR:?}" "${IDP_PORT:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
pidfile=$IDP_DIR/idp.pid
case "${1:-}" in
  start)
    mkdir -p "$IDP_DIR"
    if ! pid_alive "$pidfile"; then
      offset=$(stat -c %s "$IDP_DIR/idp.log" 2>/dev/null || echo 0)
      IDP_PORT=$IDP_PORT nohup node "$root/idp/server.js" >>"$IDP_DIR/idp.log" 2>&1 &
      echo $! >"$pidfile"
      # A busy machine (Ceph starting or stopping beside it) can take Node well past 20 s to load
      # oidc-provider; a process that exits (say, the port still held) fails at once instead.
      url=http://127.0.0.1:$IDP_PORT/myaccessid/.well-known/openid-configuration
      echo "idp: waiting up to ${IDP_WAIT_SECONDS:-90} s for $url"
      deadline=$((SECONDS + ${IDP_WAIT_SECONDS:-90}))
      until curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
        if ! pid_alive "$pidfile"; then
          echo "idp: node exited before serving $url: $(last_error "$IDP_DIR/idp.log" "$offset")" >&2
          tail -c +"$((offset + 1))" "$IDP_DIR/idp.log" | tail -n 20 >&2; exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
          echo "idp: $url did not answer within ${IDP_WAIT_SECONDS:-90} s; the end of $IDP_DIR/idp.log:" >&2
          tail -n 30 "$IDP_DIR/idp.log" >&2; exit 1
        fi
        sleep 0.3
      done
    fi
    echo "idp: up on http://127.0.0.1:$IDP_PORT (myaccessid, haka)" ;;
  stop) stop_pid "$pidfile" idp ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
