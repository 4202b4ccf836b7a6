#!/usr/bin/env bash
# The IP helper benchmark: seeds N helpers (default 10k then 100k) in Azurite and their names in Knot,
# runs a tick and drains the check queue with the standalone runner, and prints the figures beside the floors.
#   scripts/bench.sh                        BENCH_SIZES=10000,100000 BENCH_DUE=1000
#   BENCH_PARTS=submission scripts/bench.sh what the submission filter and policy add to a message (BENCH_SUBMISSIONS=100)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup() { stop_pidfile "$STATE/azurite-bench.pid"; stop_pidfile "$STATE/knot-bench.pid"; stop_dovecot bench; stop_postfix bench; }
trap cleanup EXIT

install_node_packages
install_debian_packages
sizes=${BENCH_SIZES:-10000,100000}
max=$(echo "$sizes" | tr ',' '\n' | sort -n | tail -1)

zones="$STATE/bench-zones"
rm -rf "$zones"; mkdir -p "$zones"
log "generating $max names in bench.test"
{
  printf '$ORIGIN bench.test.\n$TTL 3600\n@ SOA ns admin 1 3600 600 86400 1\n@ NS ns\nns A 127.0.0.1\n'
  awk -v n="$max" 'BEGIN { for (i = 0; i < n; i++) printf "h%d A 11.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
} >"$zones/bench.test.zone"

start_azurite bench 10200 10201 10202 --inMemoryPersistence
KNOT_ZONES="$zones" start_knot bench 10253 bench.test

export BENCH_STORAGE; BENCH_STORAGE=$(azurite_connection_string 10200 10201 10202)
# The submission part (BENCH_PARTS=submission): a private Postfix + Dovecot on 127.0.0.1:10260-10268, as the tests' relay.
if [[ ",${BENCH_PARTS:-}," == *",submission,"* ]]; then
  install_postfix
  export BENCH_RELAY_DIR; BENCH_RELAY_DIR=$(start_postfix bench 10260)
  start_dovecot bench
  dotnet publish "$ROOT/relay-agent" -c Release -o "$BENCH_RELAY_DIR/agent-bin" --nologo --verbosity quiet
fi
export BENCH_DNS=127.0.0.1:10253 BENCH_ZONE=bench.test BENCH_SIZES="$sizes"
cd "$ROOT"
dotnet run -c Release --project bench/RelayFunctions.Bench
