# Sourced by bench/run.sh and bench/soak.sh: stack_up PROFILE installs what is missing, starts that
# profile's stack (stopped again when the calling script exits) and exports its settings.
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
}
