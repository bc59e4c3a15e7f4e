#!/usr/bin/env bash
# Installs what Latchkey needs on a fresh Debian 12 machine. Idempotent: a second run is quick.
#   install-deps.sh run   what `make run` needs: Ceph, Redis, a virtualenv with requirements.txt,
#                         the CLI, the test IdP's npm packages
#   install-deps.sh       all of that and what the tests and benchmarks add: PostgreSQL, Chromium,
#                         rclone, s3cmd, docker-compose, requirements-dev.txt, s3fs, axe-core
# `make run` installs only the first set, so a newcomer's first start downloads no browser.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
case "$mode" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

APT_PACKAGES=(
  redis-server                            # Celery broker
  openssl                                 # the stack's signing key for Latchkey's own OpenID provider
)
# Ceph 16 is the host's own; 18 and 20 run in Debian roots that debootstrap builds
# (scripts/stack/ceph-root.sh). make test proves all three.
release=${LATCHKEY_CEPH:-20}
if [ "$mode" = test ] || [ "$release" = 16 ]; then
  APT_PACKAGES+=(ceph-mon ceph-osd radosgw ceph-common)  # single-node Ceph: monitor, memstore OSD, gateway
fi
if [ "$mode" = test ] || [ "$release" != 16 ]; then
  APT_PACKAGES+=(debootstrap)
fi
if [ "$mode" = test ]; then
  APT_PACKAGES+=(
    postgresql                            # the database of the test and bench runs
    chromium fonts-dejavu-core            # headless browser tests (Playwright drives it)
    rclone s3cmd                          # the real clients that prove the generated configs
    docker-compose                        # validates docker-compose.yml (no Docker engine needed)
  )
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Debian's packages start system services (postgresql, redis) on their default ports; we run
  # our own instances on other ports in .stack/, so the system ones are harmless but unneeded.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# One marker per requirements file: after a test install, `run` finds its own marker current too.
req=requirements.txt; [ "$mode" = run ] || req=requirements-dev.txt
if [ ! -f ".venv/.$req.sha" ] || ! sha256sum -c --status ".venv/.$req.sha" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  sha256sum requirements.txt > .venv/.requirements.txt.sha
  [ "$req" = requirements.txt ] || sha256sum requirements.txt requirements-dev.txt > ".venv/.$req.sha"
fi

# The CLI, installed the way users install it (pip, from the repository), when its code changes.
cli_sum=$(cat cli/pyproject.toml cli/latchkey_cli/*.py | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.cli.sha 2>/dev/null)" != "$cli_sum" ] || [ ! -x .venv/bin/latchkey ]; then
  .venv/bin/pip install -q --disable-pip-version-check --no-deps ./cli
  rm -rf cli/build cli/*.egg-info
  echo "$cli_sum" > .venv/.cli.sha
fi

if [ ! -f idp/node_modules/.package-lock.json ] || [ idp/package-lock.json -nt idp/node_modules/.package-lock.json ]; then
  (cd idp && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ "$mode" = run ]; then
  echo "install-deps: ok (run)"
  exit 0
fi

# s3fs pins an older botocore than requirements.txt: its own virtualenv, used by the config tests.
if [ ! -x .venv-s3fs/bin/python ]; then
  "$PY" -m venv .venv-s3fs
fi
if [ ! -f .venv-s3fs/.requirements.sha ] || ! sha256sum -c --status .venv-s3fs/.requirements.sha 2>/dev/null; then
  .venv-s3fs/bin/pip install -q --disable-pip-version-check -r requirements-s3fs.txt
  sha256sum requirements-s3fs.txt > .venv-s3fs/.requirements.sha
fi

if [ ! -f tests/a11y/node_modules/.package-lock.json ] || [ tests/a11y/package-lock.json -nt tests/a11y/node_modules/.package-lock.json ]; then
  (cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error)  # axe-core for the browser tests
fi
echo "install-deps: ok"
