#!/usr/bin/env bash
# make bench: start the bench stack (its own ports), run every benchmark, print name=value lines
# on stdout (progress on stderr), stop the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
scripts/stack.sh start bench >&2
trap 'scripts/stack.sh stop bench >&2' EXIT
set -a; . .stack/bench/latchkey.env; set +a
# As deployed: DEBUG off (it records every query), static files collected.
export PYTHONPATH=$PWD LATCHKEY_LOG_LEVEL=WARNING LATCHKEY_DEBUG=false LATCHKEY_SECURE_COOKIES=false
export LATCHKEY_SECRET_KEY="bench-$RANDOM-$RANDOM" LATCHKEY_STATIC_ROOT=$PWD/.stack/bench/static
.venv/bin/python manage.py migrate --noinput -v 0 >&2
.venv/bin/python manage.py collectstatic --noinput -v 0 >&2
.venv/bin/python bench/project_list.py
.venv/bin/python bench/key_create_ratio.py
.venv/bin/python bench/revocation.py
