#!/usr/bin/env bash
# make run: install what is missing, start the dev stack, and serve Latchkey on
# http://127.0.0.1:8000 with a Celery worker and beat. Ctrl-C stops the web server;
# `make stop` stops the rest. LATCHKEY_CEPH=16|18|20 chooses the Ceph release (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stack/lib.sh
t0=$SECONDS
scripts/install-deps.sh run
scripts/stack.sh start dev
# The stack's settings, except those exported before make run (they win: README, "make run").
load_env .stack/dev/latchkey.env
py=.venv/bin/python
$py manage.py migrate --noinput -v 0
$py manage.py collectstatic --noinput -v 0
$py manage.py demo_projects
dir=.stack/dev
# The worker and beat expire keys: without them Latchkey breaks its one promise, so make run
# stops, saying why, if either fails to start or stops later.
CELERY_DIR=$dir scripts/stack/celery.sh start
echo "Latchkey: http://127.0.0.1:8000 on Ceph $CEPH_VERSION  (ready in $((SECONDS - t0)) s; demo accounts in README.md; logs in $dir/)"
CELERY_DIR=$dir scripts/stack/celery.sh watch $$ &
exec $py manage.py runserver 127.0.0.1:8000
