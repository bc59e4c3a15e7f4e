#!/usr/bin/env bash
# make run: install what is missing, start the dev stack, and serve Latchkey on
# http://127.0.0.1:8000 with a Celery worker and beat. Ctrl-C stops the web server;
# `make stop` stops the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stack/lib.sh
t0=$SECONDS
scripts/install-deps.sh run
scripts/stack.sh start dev
set -a; . .stack/dev/latchkey.env; set +a
py=.venv/bin/python
$py manage.py migrate --noinput -v 0
$py manage.py collectstatic --noinput -v 0
$py manage.py demo_projects
dir=.stack/dev
if ! pid_alive $dir/celery-worker.pid; then
  nohup .venv/bin/celery -A portal worker --concurrency 2 -l INFO >>$dir/celery-worker.log 2>&1 &
  echo $! >$dir/celery-worker.pid
fi
if ! pid_alive $dir/celery-beat.pid; then
  nohup .venv/bin/celery -A portal beat -l INFO -s $dir/celerybeat-schedule >>$dir/celery-beat.log 2>&1 &
  echo $! >$dir/celery-beat.pid
fi
echo "Latchkey: http://127.0.0.1:8000  (ready in $((SECONDS - t0)) s; demo accounts in README.md; logs in $dir/)"
exec $py manage.py runserver 127.0.0.1:8000
