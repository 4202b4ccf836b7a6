#!/usr/bin/env bash
# Runs the app standalone on this machine: http://127.0.0.1:7071/api (ASPNETCORE_URLS to change it).
#   scripts/run-local.sh            against Azurite (installed and started here, data kept in .azurite/)
#   scripts/run-local.sh --sample   also creates the sample account 'demo' with a domain
# Every setting you export wins: AzureWebJobsStorage (or the __serviceUri settings) pointing elsewhere means no
# Azurite is started, ASPNETCORE_ENVIRONMENT and ASPNETCORE_URLS are used as they are. Ctrl-C stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = "--sample" ]; then export Sample__Seed=true; shift; fi
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:7071}
if [ -z "${AzureWebJobsStorage:-}" ] && [ -z "${AzureWebJobsStorage__blobServiceUri:-}" ]; then
  export AzureWebJobsStorage=UseDevelopmentStorage=true
fi

app=""
cleanup() {
  [ -n "$app" ] && kill -TERM "$app" 2>/dev/null && wait_for_exit "$app" 10
  stop_pidfile "$STATE/azurite-local.pid"
}
trap cleanup EXIT

if [ "${AzureWebJobsStorage:-}" = "UseDevelopmentStorage=true" ]; then
  install_node_packages
  if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
    log "Azurite already listens on 127.0.0.1:10000; using it"
  else
    start_azurite local 10000 10001 10002 "$ROOT/.azurite"
  fi
else
  log "using the storage in AzureWebJobsStorage${AzureWebJobsStorage__blobServiceUri:+ (service URIs)}; no Azurite started"
fi

cd "$ROOT"
if [ "$ASPNETCORE_ENVIRONMENT" = "Development" ]; then
  # Tokens from `dotnet user-jwts` are signed with a key in your user secrets; the app reads it once, at start.
  if dotnet user-jwts key --project functions | grep -q "was not found"; then
    log "creating the signing key for local tokens (dotnet user-jwts)"
    dotnet user-jwts key --project functions --reset --force >/dev/null
  fi
fi

log "building the app"
dotnet build functions --nologo -v quiet -clp:NoSummary
# Run the built app itself (no launch profile, nothing between it and the signals below), from its project
# folder so that its appsettings are found.
(cd functions && exec dotnet bin/Debug/net10.0/RelayFunctions.dll "$@") &
app=$!
# A background job does not get the terminal's Ctrl-C (bash starts it with SIGINT ignored): pass it on as SIGTERM,
# which .NET treats as a request to stop gracefully.
trap 'kill -TERM "$app" 2>/dev/null' INT TERM

url=${ASPNETCORE_URLS%%;*}
url=${url/0.0.0.0/127.0.0.1}
(
  for _ in $(seq 600); do
    kill -0 "$app" 2>/dev/null || exit 0
    if curl -sf -o /dev/null "$url/api/health"; then
      log "ready: $url/api (reference: $url/api/reference)"
      if [ "$ASPNETCORE_ENVIRONMENT" = "Development" ]; then
        log "tokens for it (run from $ROOT):"
        log "  OPS=\$(dotnet user-jwts create --project functions --audience relayfunctions-local --name ops --role operator -o token)"
        log "  ACME=\$(dotnet user-jwts create --project functions --audience relayfunctions-local --name alice --claim account=acme -o token)"
      fi
      exit 0
    fi
    sleep 0.5
  done
) &

# Wait for the app; a signal interrupts `wait`, so wait again until it has really stopped.
status=0
while kill -0 "$app" 2>/dev/null; do
  wait "$app"; status=$?
done
app=""
exit "$status"
