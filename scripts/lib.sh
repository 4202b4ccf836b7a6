#!/usr/bin/env bash
# Shared helpers of the project's scripts: install the parts and start them on loopback.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.artifacts"
mkdir -p "$STATE"

log() { printf '==> %s\n' "$*" >&2; }

# Azurite from the pinned package.json / package-lock.json.
install_node_packages() {
  if [ ! -x "$ROOT/node_modules/.bin/azurite" ]; then
    log "npm ci (Azurite)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

wait_for_port() { # host port seconds
  local host=$1 port=$2 deadline=$((SECONDS + ${3:-30}))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { log "nothing listens on $host:$port"; return 1; }
    sleep 0.2
  done
}

# start_azurite NAME BLOBPORT QUEUEPORT TABLEPORT [--inMemoryPersistence | location]
start_azurite() {
  local name=$1 blob=$2 queue=$3 table=$4 store=${5:-}
  local args=(--silent --disableTelemetry --skipApiVersionCheck --loose
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1
    --blobPort "$blob" --queuePort "$queue" --tablePort "$table")
  if [ "$store" = "--inMemoryPersistence" ]; then args+=(--inMemoryPersistence); else
    mkdir -p "$store"; args+=(--location "$store" --debug "$store/debug.log"); fi
  log "starting Azurite ($name) on 127.0.0.1:$blob/$queue/$table"
  "$ROOT/node_modules/.bin/azurite" "${args[@]}" >"$STATE/azurite-$name.log" 2>&1 &
  echo $! >"$STATE/azurite-$name.pid"
  wait_for_port 127.0.0.1 "$blob" 60 && wait_for_port 127.0.0.1 "$queue" 30 && wait_for_port 127.0.0.1 "$table" 30
}

stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

azurite_connection_string() { # blob queue table
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$2/devstoreaccount1;TableEndpoint=http://127.0.0.1:$3/devstoreaccount1;"
}
