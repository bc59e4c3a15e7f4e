#!/usr/bin/env bash
# stack.sh start|stop|status dev|test|bench|soak — the local services Latchkey runs against.
#
# dev  : Ceph, Redis, the test IdP (SQLite for Django). Used by `make run`.
# test : the same on other ports plus PostgreSQL. Used by `make test`.
# bench: like test, on its own ports. Used by `make bench`.
# soak : like test, on its own ports. Used by `make soak`, whose fault injector stops its services.
# LATCHKEY_CEPH chooses the Ceph release (16, 18 or 20; default 20; scripts/stack/ceph.sh).
# LATCHKEY_STACK_BASE moves a profile's ports (a second checkout's stacks beside this one's).
# Both can run at once. Every process is recorded in .stack/<profile>/ and only those are
# stopped. The settings Django needs are written to .stack/<profile>/latchkey.env.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
action=${1:-}; profile=${2:-dev}
case "$profile" in
  dev)  base=17000 ;;
  test) base=27000 ;;
  bench) base=12000 ;;  # all bases below 32768, Linux's ephemeral range: a client socket could hold the port
  soak) base=22000 ;;
  *) echo "usage: $0 start|stop|status dev|test|bench|soak" >&2; exit 2 ;;
esac
base=${LATCHKEY_STACK_BASE:-$base}
dir=$root/.stack/$profile
# PostgreSQL runs as the postgres user, which may not be able to enter the checkout.
pg_dir=${TMPDIR:-/tmp}/latchkey-pg-$(printf '%s' "$root" | sha1sum | cut -c1-8)-$profile

export CEPH_DIR=$dir/ceph CEPH_MON_PORT=$((base + 100)) CEPH_RGW_PORT=$((base + 180))
# Test and bench run two gateways on one cluster, as sites do behind one name; dev runs one.
[ "$profile" = dev ] || export CEPH_RGW2_PORT=$((base + 181))
export REDIS_DIR=$dir/redis REDIS_PORT=$((base + 179))
export IDP_DIR=$dir/idp IDP_PORT=$((base + 190))
export PG_DIR=$pg_dir PG_PORT=$((base + 132))

write_env() {
  # shellcheck disable=SC1091
  . "$CEPH_DIR/admin.env"
  local idp=http://127.0.0.1:$IDP_PORT
  local db="sqlite:///$dir/latchkey.sqlite3" region
  # The region clients must use is the zonegroup's api_name; the admin API does not tell it.
  region=$(scripts/stack/ceph.sh admin zonegroup get | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["api_name"])')
  [ "$profile" = dev ] || db="postgres://postgres@127.0.0.1:$PG_PORT/latchkey"
  umask 077
  # The signing key of Latchkey's own OpenID provider (the CLI's device login); kept per stack.
  [ -s "$dir/oidc-key.pem" ] || openssl genrsa -out "$dir/oidc-key.pem" 2048 2>/dev/null
  # New projects go into RGW accounts where the cluster has them (19 and later; an exported
  # LATCHKEY_STORAGE_MODEL=tenant keeps them in tenants there), into tenants before, whatever an
  # earlier release's settings still exported say.
  local model=tenant
  [ "$(cat "$CEPH_DIR.release")" -lt 19 ] || model=${LATCHKEY_STORAGE_MODEL:-account}
  cat >"$dir/latchkey.env" <<ENV
LATCHKEY_DEBUG=true
LATCHKEY_SECURE_COOKIES=false
LATCHKEY_DATABASE_URL=$db
LATCHKEY_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
LATCHKEY_RGW_ADMIN_URL=$RGW_ENDPOINT
LATCHKEY_RGW_ADMIN_ACCESS_KEY=$RGW_ADMIN_ACCESS_KEY
LATCHKEY_RGW_ADMIN_SECRET_KEY=$RGW_ADMIN_SECRET_KEY
LATCHKEY_S3_ENDPOINT=$RGW_ENDPOINT
${CEPH_RGW2_PORT:+LATCHKEY_S3_ENDPOINTS=gateway-a=$RGW_ENDPOINT,gateway-b=http://127.0.0.1:$CEPH_RGW2_PORT}
LATCHKEY_S3_REGION=$region
LATCHKEY_STORAGE_MODEL=$model
LATCHKEY_OIDC_PROVIDERS='[{"id":"myaccessid","name":"MyAccessID (test)","issuer":"$idp/myaccessid","client_id":"latchkey","client_secret":"latchkey-test-secret","entitlement_prefixes":["urn:geant:myaccessid.org:group:latchkey:"],"api_clients":["latchkey-cli"],"api_audience":"urn:latchkey:api","api_jwt_local":true},{"id":"haka","name":"HAKA (test)","issuer":"$idp/haka","client_id":"latchkey","client_secret":"latchkey-test-secret","entitlement_prefixes":["urn:geant:haka.fi:group:latchkey:"],"projects":["462000010-462000019"]}]'
LATCHKEY_IDP_URL=$idp
LATCHKEY_OIDC_PRIVATE_KEY_FILE=$dir/oidc-key.pem
# Not a Django setting: the release the stack's Ceph runs, for tests that assert what it does.
CEPH_VERSION=$(scripts/stack/ceph.sh version)
# The release this stack runs, so that whatever restarts it from these settings keeps it.
LATCHKEY_CEPH=$(cat "$CEPH_DIR.release")
ENV
}

case "$action" in
  start)
    mkdir -p "$dir"
    scripts/stack/redis.sh start
    scripts/stack/idp.sh start
    [ "$profile" = dev ] || scripts/stack/postgres.sh start
    scripts/stack/ceph.sh start
    write_env
    echo "stack $profile: up with Ceph $(scripts/stack/ceph.sh version); settings in $dir/latchkey.env, logs in $dir/*/"
    ;;
  stop)
    CELERY_DIR=$dir scripts/stack/celery.sh stop
    scripts/stack/ceph.sh stop || true
    scripts/stack/idp.sh stop
    scripts/stack/redis.sh stop
    scripts/stack/postgres.sh stop
    ;;
  status)
    scripts/stack/ceph.sh status || true
    ;;
  *) echo "usage: $0 start|stop|status dev|test|bench|soak" >&2; exit 2 ;;
esac
