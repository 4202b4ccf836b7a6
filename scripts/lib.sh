#!/usr/bin/env bash
# Shared helpers of the project's scripts: install the parts and start them on loopback.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.artifacts"
mkdir -p "$STATE"

log() { printf '==> %s\n' "$*" >&2; }

# The pinned package.json / package-lock.json. `install_node_packages` installs everything (the tests: Azurite, the SMTP
# test server, the OpenAPI linter and client generator); `install_node_packages --omit=dev` only what running the app
# needs (Azurite and the SMTP server: its "dependencies"). Each is done again when package-lock.json is newer than it.
install_node_packages() {
  local omit=${1:-} all="$ROOT/node_modules/.relayfunctions-all" runtime="$ROOT/node_modules/.relayfunctions-runtime"
  if [ -f "$all" ] && [ ! "$ROOT/package-lock.json" -nt "$all" ]; then return 0; fi
  if [ "$omit" = "--omit=dev" ]; then
    if [ -f "$runtime" ] && [ ! "$ROOT/package-lock.json" -nt "$runtime" ]; then return 0; fi
    log "npm ci --omit=dev (Azurite)"
    (cd "$ROOT" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) && touch "$runtime"
  else
    log "npm ci (Azurite, the SMTP test server, the OpenAPI linter and client generator)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) && touch "$all"
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
  # In a session of its own: a Ctrl-C meant for the script must not stop storage before the app is done with it.
  setsid "$ROOT/node_modules/.bin/azurite" "${args[@]}" >"$STATE/azurite-$name.log" 2>&1 &
  echo $! >"$STATE/azurite-$name.pid"
  wait_for_port 127.0.0.1 "$blob" 60 && wait_for_port 127.0.0.1 "$queue" 30 && wait_for_port 127.0.0.1 "$table" 30
}

# wait_for_exit PID SECONDS: waits until the process is gone; false if it is still there after SECONDS.
wait_for_exit() {
  local pid=$1 tenths=$(($2 * 10))
  for _ in $(seq "$tenths"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null
}

stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  wait_for_exit "$pid" 5 || kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

azurite_connection_string() { # blob queue table
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$2/devstoreaccount1;TableEndpoint=http://127.0.0.1:$3/devstoreaccount1;"
}

# Debian packages the tests need (Knot DNS for real lookups, ICU, nftables); installed once, as root.
install_debian_packages() {
  local missing=() icu=""
  command -v knotd >/dev/null || missing+=(knot)
  command -v knsupdate >/dev/null || missing+=(knot-dnsutils)
  # The relay's egress rules are loaded into a network namespace of the tests' own.
  command -v nft >/dev/null || missing+=(nftables)
  command -v ip >/dev/null || missing+=(iproute2)
  # ICU: IDNA (UTS #46) and confusable skeletons (UTS #39) for domain names; its package name carries its version.
  ldconfig -p | grep -q 'libicui18n\.so\.[0-9]' || icu=yes
  [ ${#missing[@]} -eq 0 ] && [ -z "$icu" ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  [ -n "$icu" ] && missing+=("$(apt-cache search --names-only '^libicu[0-9]+$' | sort -V | tail -1 | cut -d' ' -f1)")
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package enables a system knotd on port 53; the tests run their own on loopback.
  $sudo systemctl disable --now knot >/dev/null 2>&1 || true
}

# start_knot NAME PORT ZONE...: an authoritative Knot DNS on 127.0.0.1:PORT serving each ZONE (empty but for
# SOA/NS), with dynamic updates (knsupdate) allowed from 127.0.0.1.
start_knot() {
  local name=$1 port=$2; shift 2
  local dir="$STATE/knot-$name"
  rm -rf "$dir"; mkdir -p "$dir/run" "$dir/db" "$dir/zones"
  {
    echo "server:"
    echo "    listen: 127.0.0.1@$port"
    echo "    rundir: $dir/run"
    echo "    user: $(id -un):$(id -gn)"
    echo "database:"
    echo "    storage: $dir/db"
    echo "log:"
    echo "  - target: stderr"
    echo "    any: warning"
    echo "acl:"
    echo "  - id: local_update"
    echo "    address: 127.0.0.1"
    echo "    action: update"
    echo "template:"
    echo "  - id: default"
    echo "    storage: $dir/zones"
    echo "    zonefile-sync: -1"
    echo "    journal-content: none"
    echo "    acl: local_update"
    echo "zone:"
    for zone in "$@"; do echo "  - domain: $zone"; done
  } >"$dir/knot.conf"
  # Prepared zone files (the benchmark's 100k names) are copied in; others start empty.
  if [ -n "${KNOT_ZONES:-}" ]; then cp "$KNOT_ZONES"/*.zone "$dir/zones/"; fi
  for zone in "$@"; do
    [ -f "$dir/zones/$zone.zone" ] || printf '$ORIGIN %s.\n$TTL 60\n@ SOA ns admin 1 3600 600 86400 1\n@ NS ns\nns A 127.0.0.1\n' "$zone" >"$dir/zones/$zone.zone"
  done
  log "starting Knot DNS ($name) on 127.0.0.1:$port for $*"
  /usr/sbin/knotd -c "$dir/knot.conf" >"$STATE/knot-$name.log" 2>&1 &
  echo $! >"$STATE/knot-$name.pid"
  local deadline=$((SECONDS + 30))
  until kdig +short +time=1 +retry=0 -p "$port" @127.0.0.1 "$1" SOA >/dev/null 2>&1 && [ -n "$(kdig +short +time=1 -p "$port" @127.0.0.1 "$1" SOA)" ]; do
    [ $SECONDS -lt $deadline ] || { log "Knot did not answer"; cat "$STATE/knot-$name.log" >&2; return 1; }
    sleep 0.2
  done
}

# Postfix (cdb, lmdb and pcre tables) and Dovecot (SMTP AUTH for the outbound accounts), as on a relay VM.
install_postfix() {
  command -v postmap >/dev/null && [ -f /usr/lib/postfix/postfix-cdb.so ] && [ -f /usr/lib/postfix/postfix-lmdb.so ] && [ -f /usr/lib/postfix/postfix-pcre.so ] \
    && command -v dovecot >/dev/null && command -v openssl >/dev/null && return 0
  log "apt-get install postfix postfix-cdb postfix-lmdb postfix-pcre dovecot-core openssl"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postfix postfix-cdb postfix-lmdb postfix-pcre dovecot-core openssl >/dev/null
  # The tests run private instances on loopback; the system's own must not run.
  $sudo systemctl disable --now postfix dovecot >/dev/null 2>&1 || true
}

# start_postfix NAME PORT: a private Postfix instance on loopback, configured from relay-agent/deploy/postfix/*.relay
# with short retry times for tests, a self-signed certificate (tls/cert.pem) and no delivery off the machine
# (default_transport = discard:; the relayed domains still follow their transport entries). Each listener of
# master.cf.relay gets a loopback port of its own, its -o options untouched:
#   smtp (25) PORT, 2525 PORT+1, 11923 PORT+2, 61235 PORT+3, 80 PORT+4, submission (587) PORT+5, smtps (465) PORT+6,
#   the filter's re-injection listener (127.0.0.1:10025) PORT+7, the policy service PORT+8
# (written to ports in the instance's folder). The pipe services (submission filter, BCC bounces) run the relay agent
# the tests copy to agent/relay-agent (tests/.../Relay.cs) as user nobody, with the instance's maps and bounces folders. Its files live in /tmp/relayfunctions-postfix/NAME: Postfix's own user
# must reach them, which a checkout inside a private (0700) folder would not allow. start_dovecot NAME adds SMTP AUTH.
POSTFIX_ROOT=/tmp/relayfunctions-postfix
RELAY_LISTENERS=(smtp 2525 11923 61235 80 submission smtps 127.0.0.1:10025)
start_postfix() {
  local name=$1 port=$2 dir="$POSTFIX_ROOT/$1"
  mkdir -p "$POSTFIX_ROOT"; chmod 755 "$POSTFIX_ROOT"
  [ -f "$dir/main.cf" ] && postfix -c "$dir" stop >/dev/null 2>&1 || true
  rm -rf "$dir"; mkdir -p "$dir/maps" "$dir/data" "$dir/queue" "$dir/tls" "$dir/agent" "$dir/bounces"
  chmod 777 "$dir/bounces"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=relay.test" \
    -addext "subjectAltName=DNS:relay.test,IP:127.0.0.1" -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null
  # The policy service (the relay agent's; in the tests, Relay.cs hosts one) listens on PORT+8.
  sed -e "s|MAPS|$dir/maps|g" -e "s|inet:127.0.0.1:10040|inet:127.0.0.1:$((port + 8))|g" \
    -e '/^\(maillog_file\|minimal_backoff_time\|maximal_backoff_time\|queue_run_delay\|smtpd_tls_cert_file\|smtpd_tls_key_file\) *=/d' \
    "$ROOT/relay-agent/deploy/postfix/main.cf.relay" >"$dir/main.cf"
  cat >>"$dir/main.cf" <<CONF

# The private test instance.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
myhostname = relay.test
mynetworks = 127.0.0.1/32
maillog_file = /dev/stdout
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
default_transport = discard:
minimal_backoff_time = 10s
maximal_backoff_time = 20s
queue_run_delay = 10s
smtp_connect_timeout = 5s
CONF
  cat >"$dir/master.cf" <<CONF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
  # The relay's listeners and hold transport, as production has them, but on loopback ports and without chroot.
  : >"$dir/ports"
  local map="" i=0 listener
  for listener in "${RELAY_LISTENERS[@]}"; do
    map+="$listener=127.0.0.1:$((port + i)) "; echo "$listener $((port + i))" >>"$dir/ports"; i=$((i + 1))
  done
  echo "policy $((port + 8))" >>"$dir/ports"
  awk -v map="$map" '
    BEGIN { n = split(map, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); to[kv[1]] = kv[2] } }
    /^#/ || /^[ \t]*$/ { next }
    /^[ \t]/ { print; next }
    $2 == "inet" { if (!($1 in to)) { print "master.cf.relay: no test port for " $1 > "/dev/stderr"; exit 1 }; $1 = to[$1] }
    { $5 = "n"; print }
  ' "$ROOT/relay-agent/deploy/postfix/master.cf.relay" | sed -e "s|MAPS|$dir/maps|g" -e "s|/var/lib/relay-agent/bounces|$dir/bounces|g" \
    -e "s|/opt/relay-agent/relay-agent|$dir/agent/relay-agent|g" -e "s|user=relayfilter|user=nobody|g" \
    -e "s|--reinject 127.0.0.1:10025|--reinject 127.0.0.1:$((port + 7))|g" >>"$dir/master.cf"
  for table in relay_domains relay_recipients transport message_size_limits sender_logins sasl_access; do
    : >"$dir/maps/$table"; postmap -c "$dir" "lmdb:$dir/maps/$table"
  done
  : >"$dir/maps/blocked"; postmap -c "$dir" "cdb:$dir/maps/blocked"
  : >"$dir/maps/sender_logins_sub.pcre"
  : >"$dir/maps/passwd"; chmod 640 "$dir/maps/passwd"; chgrp dovecot "$dir/maps/passwd" 2>/dev/null || true
  chown postfix "$dir/data"
  postfix -c "$dir" check >/dev/null 2>&1 || true
  postfix -c "$dir" set-permissions >/dev/null 2>&1 || true
  log "starting Postfix ($name) on 127.0.0.1:$port-$((port + ${#RELAY_LISTENERS[@]} - 1))"
  # In the foreground, logging to stdout: no syslog daemon is needed.
  postfix -c "$dir" start-fg >"$STATE/postfix-$name.log" 2>&1 &
  for i in $(seq 0 $((${#RELAY_LISTENERS[@]} - 1))); do wait_for_port 127.0.0.1 $((port + i)) 30; done
  echo "$dir" >"$STATE/postfix-$name.dir"
  echo "$dir"
}

# start_dovecot NAME: Dovecot for the private Postfix NAME, from relay-agent/deploy/dovecot/dovecot.conf.relay: its
# passwd-file in the instance's maps, its auth listener in the instance's queue (private/auth), its runtime files in
# the instance's folder, its log in .artifacts/dovecot-NAME.log.
start_dovecot() {
  local name=$1 dir="$POSTFIX_ROOT/$1"
  stop_dovecot "$name"
  mkdir -p "$dir/dovecot/run" "$dir/dovecot/state"
  sed -e "s|MAPS|$dir/maps|g" -e "s|/var/spool/postfix/|$dir/queue/|g" \
    "$ROOT/relay-agent/deploy/dovecot/dovecot.conf.relay" >"$dir/dovecot/dovecot.conf"
  cat >>"$dir/dovecot/dovecot.conf" <<CONF

# The private test instance. A refused AUTH is answered at once instead of after 2 s (production keeps the delay,
# a brake on password guessing), so the tests' many refusals stay quick.
auth_failure_delay = 0
instance_name = relay-$name
base_dir = $dir/dovecot/run
state_dir = $dir/dovecot/state
log_path = $STATE/dovecot-$name.log
CONF
  log "starting Dovecot ($name): $dir/queue/private/auth"
  : >"$STATE/dovecot-$name.log"
  # Its own stdio closed: a caller reading this function's output (Relay.cs) must see it end.
  dovecot -c "$dir/dovecot/dovecot.conf" </dev/null >>"$STATE/dovecot-$name.log" 2>&1 || { cat "$STATE/dovecot-$name.log" >&2; return 1; }
  local deadline=$((SECONDS + 30))
  until [ -S "$dir/queue/private/auth" ]; do
    [ $SECONDS -lt $deadline ] || { log "Dovecot did not open its auth socket"; cat "$STATE/dovecot-$name.log" >&2; return 1; }
    sleep 0.1
  done
}

stop_dovecot() {
  local conf="$POSTFIX_ROOT/$1/dovecot/dovecot.conf" pidfile="$POSTFIX_ROOT/$1/dovecot/run/master.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  dovecot -c "$conf" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  wait_for_exit "$pid" 5 || kill -9 "$pid" 2>/dev/null || true
}

stop_postfix() {
  local file="$STATE/postfix-$1.dir"
  [ -f "$file" ] || return 0
  postfix -c "$(cat "$file")" stop >/dev/null 2>&1 || true
  rm -f "$file"
}
