#!/usr/bin/env bash
# Cold start of the run command: for each revision (default HEAD), a new clone with an empty HOME (empty npm and NuGet
# caches, no user secrets, no node_modules) runs scripts/run-local.sh; printed: seconds to the first 200 from
# /api/health, then the same for a second start with nothing changed. Needs 127.0.0.1:7071 and 10000-10002 free.
#   scripts/bench-coldstart.sh                 this checkout's HEAD
#   scripts/bench-coldstart.sh edae134 HEAD    before and after, back to back
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

until_healthy() { # PID: seconds until /api/health answers 200
  local pid=$1 start; start=$(date +%s.%N)
  until curl -sf -o /dev/null http://127.0.0.1:7071/api/health; do
    kill -0 "$pid" 2>/dev/null || { echo "run-local.sh exited" >&2; return 1; }
    sleep 0.2
  done
  awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }'
}

stop() { kill -TERM -- "-$1" 2>/dev/null || true; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; }

for rev in "${@:-HEAD}"; do
  dir=$(mktemp -d /tmp/coldstart-XXXX)
  git clone -q "$repo" "$dir/app" && git -C "$dir/app" checkout -q "$(git -C "$repo" rev-parse "$rev")"
  mkdir "$dir/home"
  cd "$dir/app"
  HOME="$dir/home" setsid bash scripts/run-local.sh >"$dir/first.log" 2>&1 &
  pid=$!; first=$(until_healthy "$pid"); stop "$pid"
  HOME="$dir/home" setsid bash scripts/run-local.sh >"$dir/second.log" 2>&1 &
  pid=$!; second=$(until_healthy "$pid"); stop "$pid"
  printf 'cold start %s: first start %.1f s, second start (nothing changed) %.1f s\n' "$rev" "$first" "$second"
  cd /; rm -rf "$dir"
done
