#!/usr/bin/env bash
# make soak: start the soak stack (22xxx ports, its own two radosgw gateways, PostgreSQL, Redis),
# migrate, run bench/soak.py (SOAK_MINUTES, default 10), stop the stack. name=value lines on
# stdout, progress and violations on stderr; exits 1 if the soak found a violation.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/stack_up.sh
. bench/stack_up.sh
stack_up soak
export PYTHONPATH=$PWD SOAK_PROFILE=soak
.venv/bin/python manage.py migrate --noinput -v 0 >&2
.venv/bin/python bench/soak.py
