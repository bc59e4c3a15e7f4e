#!/usr/bin/env bash
# redis.sh start|stop — a Redis of our own on REDIS_PORT with its files in REDIS_DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${REDIS_DIR:?}" "${REDIS_PORT:?}"
pidfile=$REDIS_DIR/redis.pid
case "${1:-}" in
  start)
    mkdir -p "$REDIS_DIR"
    if ! pid_alive "$pidfile"; then
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$pidfile" \
        --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no
      wait_for 10 redis redis-cli -p "$REDIS_PORT" ping
    fi
    echo "redis: up on 127.0.0.1:$REDIS_PORT" ;;
  stop) stop_pid "$pidfile" redis ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
