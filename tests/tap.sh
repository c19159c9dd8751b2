# shellcheck shell=bash
# TAP for the shell tests (sourced): `check NAME CMD...` runs CMD and prints "ok N NAME" or
# "not ok N NAME"; `tap_end` prints the plan and fails if any check did. $n counts the checks.
n=0
fails=0
check() {
  local name=$1
  shift
  n=$((n + 1))
  if "$@"; then echo "ok $n $name"; else
    echo "not ok $n $name"
    fails=$((fails + 1))
  fi
}
tap_end() {
  echo "1..$n"
  [ "$fails" = 0 ]
}
