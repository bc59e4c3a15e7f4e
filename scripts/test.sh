#!/usr/bin/env bash
# make test: install what is missing, start the test stack (real Ceph, PostgreSQL, Redis,
# IdP), lint, run every test, stop the stack. LATCHKEY_KEEP_STACK=1 keeps it running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/stack.sh start test
[ "${LATCHKEY_KEEP_STACK:-0}" = 1 ] || trap 'scripts/stack.sh stop test' EXIT
set -a; . .stack/test/latchkey.env; set +a
# Live-server and race tests use threads; fresh connections let the test database be dropped.
export LATCHKEY_DATABASE_CONN_MAX_AGE=0
.venv/bin/python manage.py collectstatic --noinput -v 0
make lint  # ruff, the formatter, mypy and the import layers (import-linter)
.venv/bin/python -m pytest "$@"
