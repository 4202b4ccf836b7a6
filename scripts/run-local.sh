#!/usr/bin/env bash
# Runs the app standalone against Azurite (installed and started here, data kept in .azurite/).
#   scripts/run-local.sh            serves http://127.0.0.1:7071/api
#   scripts/run-local.sh --sample   also creates the sample account 'acme' with a domain
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup() { stop_pidfile "$STATE/azurite-local.pid"; }
trap cleanup EXIT

install_node_packages
if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  log "Azurite already listens on 127.0.0.1:10000; using it"
else
  start_azurite local 10000 10001 10002 "$ROOT/.azurite"
fi

export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
export AzureWebJobsStorage=${AzureWebJobsStorage:-UseDevelopmentStorage=true}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:7071}
cd "$ROOT"
if [ "${1:-}" = "--sample" ]; then export Sample__Seed=true; shift; fi
dotnet run --project functions -- "$@"
