#!/usr/bin/env bash
# Installs what the tests need, starts it on loopback, runs every test, and stops what it started.
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter X      passes extra arguments to dotnet test
#   scripts/test.sh --fast          only the tests marked [Trait("Category", "Fast")], which need none of the parts:
#                                   nothing installed, nothing started (extra arguments go to dotnet test as well)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# dotnet test with the arguments, its output kept, then one closing line any CI reads: "N passed, N failed".
run_tests() {
  log "dotnet test $*"
  cd "$ROOT"
  set +e
  dotnet test RelayFunctions.sln --logger "console;verbosity=normal" "$@" 2>&1 | tee "$STATE/test-output.log"
  local status=${PIPESTATUS[0]}
  set -e
  count() { sed -n "s/^ *$1: *\([0-9][0-9]*\) *\r\{0,1\}$/\1/p" "$STATE/test-output.log" | awk '{s+=$1} END {print s+0}'; }
  echo "$(count Passed) passed, $(count Failed) failed"
  return "$status"
}

if [ "${1:-}" = "--fast" ]; then
  shift
  status=0
  run_tests --filter "Category=Fast" "$@" || status=$?
  exit "$status"
fi

cleanup() { stop_pidfile "$STATE/azurite-test.pid"; stop_pidfile "$STATE/knot-test.pid"; stop_dovecot test; stop_postfix test; }
trap cleanup EXIT

install_node_packages
cd "$ROOT"
log "dotnet format --verify-no-changes (the rules are in .editorconfig)"
dotnet format RelayFunctions.sln --verify-no-changes
bash "$ROOT/scripts/check-infra.sh"
install_debian_packages
install_postfix
# Ports of their own, so a local run (scripts/run-local.sh, 10000-10002) can stay up beside the tests.
start_azurite test 10100 10101 10102 --inMemoryPersistence
export RELAY_TEST_STORAGE; RELAY_TEST_STORAGE=$(azurite_connection_string 10100 10101 10102)
start_knot test 10153 helpers.test
export RELAY_TEST_DNS=127.0.0.1:10153 RELAY_TEST_DNS_ZONE=helpers.test
# The relay: a private Postfix on loopback and its Dovecot (SMTP AUTH), configured from relay-agent/deploy.
# Listeners: 25 → 10125, 2525 → 10126, 11923 → 10127, 61235 → 10128, 80 → 10129, 587 → 10130, 465 → 10131,
# the submission filter's re-injection (127.0.0.1:10025) → 10132; its policy service (127.0.0.1:10040) → 10133.
export RELAY_TEST_POSTFIX_DIR; RELAY_TEST_POSTFIX_DIR=$(start_postfix test 10125)
start_dovecot test
export RELAY_TEST_POSTFIX_PORT=10125 RELAY_TEST_POSTFIX_SUBMISSION_PORT=10130 RELAY_TEST_POSTFIX_SMTPS_PORT=10131
export RELAY_TEST_POSTFIX_OTHER_PORTS="2525=10126,11923=10127,61235=10128,80=10129"

status=0
run_tests "$@" || status=$?
exit "$status"
