#!/usr/bin/env bash
# make bench: start the bench stack (its own ports), run the benchmarks, print name=value lines
# on stdout (progress on stderr), stop the stack.
#   bench/run.sh                      every benchmark
#   bench/run.sh key_create           only bench/key_create.py (BENCH_N=100 calls each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
modules=("$@")
# web first: its memory_mb_stack is the stack at rest, before the others fill the memstore OSD.
[ ${#modules[@]} -gt 0 ] || modules=(web project_list usage_chart key_create revocation burst policy_sync upstream recheck scale)
for module in "${modules[@]}"; do
  [ -f "bench/$module.py" ] || { echo "no benchmark bench/$module.py" >&2; exit 2; }
done
# shellcheck source=bench/stack_up.sh
. bench/stack_up.sh
stack_up bench
# As deployed: DEBUG off (with it on Django records every query), static files collected.
export PYTHONPATH=$PWD LATCHKEY_LOG_LEVEL=WARNING LATCHKEY_DEBUG=false LATCHKEY_SECURE_COOKIES=false LATCHKEY_SSL_REDIRECT=false
LATCHKEY_SECRET_KEY="bench-$(head -c 18 /dev/urandom | base64)"
export LATCHKEY_SECRET_KEY LATCHKEY_STATIC_ROOT=$PWD/.stack/bench/static
# Where the bench stack's PostgreSQL keeps its data (bench/web.py counts its memory).
BENCH_PG_DIR=${TMPDIR:-/tmp}/latchkey-pg-$(printf '%s' "$PWD" | sha1sum | cut -c1-8)-bench
export BENCH_PG_DIR
.venv/bin/python manage.py migrate --noinput -v 0 >&2
.venv/bin/python manage.py collectstatic --noinput -v 0 >&2
for module in "${modules[@]}"; do
  echo "bench: $module" >&2
  .venv/bin/python "bench/$module.py"
done
