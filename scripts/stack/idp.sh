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
      IDP_PORT=$IDP_PORT nohup node "$root/idp/server.js" >>"$IDP_DIR/idp.log" 2>&1 &
      echo $! >"$pidfile"
      wait_for 20 idp curl -fsS "http://127.0.0.1:$IDP_PORT/myaccessid/.well-known/openid-configuration" \
        || { tail -n 30 "$IDP_DIR/idp.log" >&2; exit 1; }
    fi
    echo "idp: up on http://127.0.0.1:$IDP_PORT (myaccessid, haka)" ;;
  stop) stop_pid "$pidfile" idp ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
