#!/usr/bin/env bash
# make soak: start the soak stack (22xxx ports, its own two radosgw gateways, PostgreSQL, Redis),
# migrate, run bench/soak.py (SOAK_MINUTES, default 10), stop the stack. name=value lines on
# stdout, progress and violations on stderr; exits 1 if the soak found a violation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
trap 'scripts/stack.sh stop soak >&2' EXIT
scripts/stack.sh start soak >&2
set -a
# shellcheck disable=SC1091
. .stack/soak/latchkey.env
set +a
export PYTHONPATH=$PWD SOAK_PROFILE=soak
.venv/bin/python manage.py migrate --noinput -v 0 >&2
.venv/bin/python bench/soak.py
