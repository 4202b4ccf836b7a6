#!/usr/bin/env bash
# Runs the app standalone on this machine: http://127.0.0.1:7071/api (ASPNETCORE_URLS to change it).
#   scripts/run-local.sh            against Azurite (installed and started here, data kept in .azurite/; another
#                                   AZURITE_PORT keeps its own, .azurite-PORT/)
#   scripts/run-local.sh --sample   also creates the sample account 'demo' with a domain
#   scripts/run-local.sh --fresh    first deletes the local data (.azurite/), if no Azurite is using it
# Every setting you export wins: AzureWebJobsStorage (or the __serviceUri settings) pointing elsewhere means no
# Azurite is started, ASPNETCORE_ENVIRONMENT and ASPNETCORE_URLS are used as they are. AZURITE_PORT (10000) moves the
# local Azurite to AZURITE_PORT..+2. CORS origins: Cors__AllowedOrigins__0 (…__1, …) from your environment, else from
# local.settings.json's Values. Ctrl-C stops the app, and the Azurite this run started (never one it found running).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fresh=""
while [ $# -gt 0 ]; do
  case $1 in
    --sample) export Sample__Seed=true; shift ;;
    --fresh) fresh=yes; shift ;;
    *) break ;;
  esac
done
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:7071}
blob=${AZURITE_PORT:-10000}
local_storage=""
if [ -z "${AzureWebJobsStorage:-}" ] && [ -z "${AzureWebJobsStorage__blobServiceUri:-}" ]; then
  local_storage=yes
  if [ "$blob" = 10000 ]; then export AzureWebJobsStorage=UseDevelopmentStorage=true; else
    export AzureWebJobsStorage="$(azurite_connection_string "$blob" $((blob + 1)) $((blob + 2)))"; fi
elif [ "${AzureWebJobsStorage:-}" = "UseDevelopmentStorage=true" ]; then
  local_storage=yes; blob=10000
fi
# Each Azurite port has a data folder of its own, so --fresh on one never deletes what another Azurite uses.
data="$ROOT/.azurite"; [ "$blob" = 10000 ] || data="$ROOT/.azurite-$blob"

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# holder PORT: "node, pid 123" for the process listening on PORT, when ss can tell.
holder() {
  local users; users=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1)
  [ -n "$users" ] && echo "$users" | sed -E 's/users:\(\("([^"]*)",pid=([0-9]*)/\1, pid \2/'
  # Nothing to name (ss missing, or the listener is another user's): an empty answer, not a failure under set -e.
  return 0
}

# Before anything is installed or started: a second run of this script (or anything else) on the app's port would
# only crash after the build, so say what is in the way and stop.
url=${ASPNETCORE_URLS%%;*}
url=${url/0.0.0.0/127.0.0.1}; url=${url/\*/127.0.0.1}; url=${url/+/127.0.0.1}; url=${url/localhost/127.0.0.1}; url=${url/\[::\]/127.0.0.1}
hostport=${url#*://}; hostport=${hostport%%/*}
port=${hostport##*:}; [ "$port" != "$hostport" ] || port=80
if listening "$port"; then
  who=$(holder "$port")
  log "cannot start: $hostport is already in use${who:+ by $who} (another scripts/run-local.sh?); stop that, or choose another address: ASPNETCORE_URLS=http://127.0.0.1:$((port + 1)) $0"
  exit 1
fi

if [ -n "$fresh" ]; then
  if [ -z "$local_storage" ]; then
    log "cannot start afresh: --fresh deletes the local Azurite's data (${data#"$ROOT"/}/), but AzureWebJobsStorage points elsewhere"
    exit 1
  fi
  if listening "$blob"; then
    who=$(holder "$blob")
    log "cannot start afresh: an Azurite${who:+ ($who)} listens on 127.0.0.1:$blob and may be using ${data#"$ROOT"/}/; stop it first (${data#"$ROOT"/}/ left as it is)"
    exit 1
  fi
  rm -rf "$data"
  log "deleted ${data#"$ROOT"/}/ (the local Azurite's data): starting afresh"
fi

app="" azurite="" npm_job="" jwt_job=""
cleanup() {
  [ -n "$app" ] && kill -TERM "$app" 2>/dev/null && wait_for_exit "$app" 10
  for job in $npm_job $jwt_job; do kill "$job" 2>/dev/null || true; done
  # Only the Azurite this run started: one it found listening belongs to someone else (an earlier run).
  [ -n "$azurite" ] && stop_pidfile "$STATE/azurite-local-$blob.pid"
  return 0
}
trap cleanup EXIT

cd "$ROOT"
# The slow parts run side by side: the npm install of Azurite, the signing key's creation, the build.
use_azurite=""
if [ -n "$local_storage" ]; then
  if listening "$blob"; then
    who=$(holder "$blob")
    log "Azurite already listens on 127.0.0.1:$blob${who:+ ($who)}; using it (this run will not stop it)"
  else
    use_azurite=yes
    install_node_packages --omit=dev &
    npm_job=$!
  fi
else
  log "using the storage in AzureWebJobsStorage${AzureWebJobsStorage__blobServiceUri:+ (service URIs)}; no Azurite started"
fi

if [ "$ASPNETCORE_ENVIRONMENT" = "Development" ]; then
  # Tokens from `dotnet user-jwts` are signed with a key in your user secrets; the app reads it once, at start. The
  # secrets file says whether it is there (asking `dotnet user-jwts key` costs seconds at every start).
  secrets_id=$(sed -n 's:.*<UserSecretsId>\(.*\)</UserSecretsId>.*:\1:p' functions/RelayFunctions.csproj)
  if ! grep -qs '"Authentication:Schemes:Bearer:SigningKeys"' "$HOME/.microsoft/usersecrets/$secrets_id/secrets.json"; then
    log "creating the signing key for local tokens (dotnet user-jwts)"
    dotnet user-jwts key --project functions --reset --force >/dev/null &
    jwt_job=$!
  fi
fi

# The build, unless the last one is newer than every source of the app (a no-op build still costs seconds).
dll=functions/bin/Debug/net10.0/RelayFunctions.dll
if [ -f "$dll" ] && [ -z "$(find functions shared Directory.Build.props Directory.Packages.props global.json host.json \
    \( -path functions/bin -o -path functions/obj -o -path shared/bin -o -path shared/obj \) -prune -o -type f -newer "$dll" -print -quit)" ]; then
  log "the app is up to date (built $(date -r "$dll" '+%F %T'))"
else
  log "building the app"
  dotnet build functions --nologo -v quiet -clp:NoSummary
fi
if [ -n "$jwt_job" ]; then wait "$jwt_job"; jwt_job=""; fi
if [ -n "$npm_job" ]; then wait "$npm_job"; npm_job=""; fi
if [ -n "$use_azurite" ]; then
  # Ours from the moment it is started: stopped on the way out even if its ports never open.
  azurite=yes
  start_azurite "local-$blob" "$blob" $((blob + 1)) $((blob + 2)) "$data"
fi

# CORS: the origins you exported win; without any, those of local.settings.json (the Functions host's local file).
if [ -z "$(compgen -e | grep '^Cors__AllowedOrigins__' || true)" ] && [ -f local.settings.json ]; then
  while IFS='=' read -r name value; do
    [ -n "$value" ] && export "$name=$value" && log "CORS: $name=$value (from local.settings.json)"
  done < <(node -e 'const v=require("./local.settings.json").Values||{};for(const[k,x]of Object.entries(v))if(/^Cors__AllowedOrigins__\d+$/.test(k))console.log(k+"="+x)')
fi

# Run the built app itself (no launch profile, nothing between it and the signals below), from its project
# folder so that its appsettings are found.
(cd functions && exec dotnet bin/Debug/net10.0/RelayFunctions.dll "$@") &
app=$!
# A background job does not get the terminal's Ctrl-C (bash starts it with SIGINT ignored): pass it on as SIGTERM,
# which .NET treats as a request to stop gracefully.
trap 'kill -TERM "$app" 2>/dev/null' INT TERM

(
  for _ in $(seq 600); do
    kill -0 "$app" 2>/dev/null || exit 0
    if curl -sf -o /dev/null "$url/api/health"; then
      log "ready: $url/api (reference: $url/api/reference)"
      if [ "$ASPNETCORE_ENVIRONMENT" = "Development" ]; then
        log "tokens for it (run from $ROOT):"
        log "  OPS=\$(dotnet user-jwts create --project functions --audience relayfunctions-local --name ops --role operator -o token)"
        if [ "${Sample__Seed:-}" = "true" ]; then
          log "  DEMO=\$(dotnet user-jwts create --project functions --audience relayfunctions-local --name dana --claim account=demo -o token)"
        else
          log "  ACME=\$(dotnet user-jwts create --project functions --audience relayfunctions-local --name alice --claim account=acme -o token)"
        fi
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
