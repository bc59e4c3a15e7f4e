# Sourced by bench/run.sh and bench/soak.sh: stack_up PROFILE installs what is missing, starts that
# profile's stack on the Ceph release LATCHKEY_CEPH names (stopped again when the calling script
# exits), exports its settings and prints the release as name=value lines.
stack_up() {
  local profile=$1
  scripts/install-deps.sh >&2
  # shellcheck disable=SC2064  # the profile is fixed now, on purpose
  trap "scripts/stack.sh stop $profile >&2" EXIT
  scripts/stack.sh start "$profile" >&2
  set -a
  # shellcheck disable=SC1090
  . ".stack/$profile/latchkey.env"
  set +a
  # Every run names the Ceph release it measured (LATCHKEY_CEPH chooses it, 20 by default).
  echo "ceph_version=$CEPH_VERSION"
  echo "ceph_release=$LATCHKEY_CEPH"
}
