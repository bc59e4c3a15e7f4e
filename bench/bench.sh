#!/usr/bin/env bash
# make bench: start the bench stack (its own ports), run every benchmark, print name=value lines
# on stdout (progress on stderr), stop the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
scripts/stack.sh start bench >&2
trap 'scripts/stack.sh stop bench >&2' EXIT
set -a; . .stack/bench/latchkey.env; set +a
export PYTHONPATH=$PWD LATCHKEY_LOG_LEVEL=WARNING
.venv/bin/python manage.py migrate --noinput -v 0 >&2
.venv/bin/python bench/key_create_ratio.py
.venv/bin/python bench/revocation.py
