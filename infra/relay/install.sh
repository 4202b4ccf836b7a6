#!/bin/sh
# Installs a relay from the package this script is in (scripts/package-relay-agent.sh builds it): the relay agent,
# and Postfix, Dovecot and nftables configured from deploy/, which is relay-agent/deploy/ of the repository:
#   deploy/postfix/main.cf.relay, master.cf.relay  appended to /etc/postfix/main.cf and master.cf (MAPS is the map folder)
#   deploy/dovecot/…                               copied into /etc/dovecot/ (conf.d/*.conf is included by Debian's dovecot.conf)
#   deploy/nftables/*.nft                          copied into /etc/nftables.d/ and included by /etc/nftables.conf
#   deploy/relay-agent.service                     the systemd unit
# Idempotent: rerunning it with a newer package replaces what an earlier run wrote, and nothing else.
#   RELAY_ROOT=dir        install under dir instead of / (the tests do)
#   RELAY_NO_SERVICES=1   leave systemd, Postfix, Dovecot and nftables running as they are
#   RELAY_HOSTNAME=name   Postfix's myhostname (the public name the relays send as)
set -eu
package=$(cd "$(dirname "$0")" && pwd)
root=${RELAY_ROOT:-}
maps=/var/lib/relay-agent/maps
begin="# BEGIN relay-agent/deploy"
end="# END relay-agent/deploy"

log() { echo "relay install: $*" >&2; }

# Replaces this script's block in a configuration file with the fragment, MAPS filled in.
managed_block() { # file fragment
  mkdir -p "$(dirname "$1")"
  touch "$1"
  sed -i "\|^$begin|,\|^$end|d" "$1"
  {
    echo "$begin/${2#"$package"/deploy/} (written by install.sh: edits here are replaced)"
    sed "s|MAPS|$maps|g" "$2"
    echo "$end"
  } >>"$1"
}

log "agent into /opt/relay-agent"
mkdir -p "$root/opt/relay-agent"
cp -a "$package/relay-agent/." "$root/opt/relay-agent/"
install -D -m 644 "$package/deploy/relay-agent.service" "$root/etc/systemd/system/relay-agent.service"
if [ ! -f "$root/etc/relay-agent/environment" ]; then
  install -D -m 600 "$package/deploy/environment.sample" "$root/etc/relay-agent/environment"
fi

log "Postfix from deploy/postfix"
managed_block "$root/etc/postfix/main.cf" "$package/deploy/postfix/main.cf.relay"
managed_block "$root/etc/postfix/master.cf" "$package/deploy/postfix/master.cf.relay"
postconf -c "$root/etc/postfix" -e "compatibility_level = 3.6"
if [ -n "${RELAY_HOSTNAME:-}" ]; then
  postconf -c "$root/etc/postfix" -e "myhostname = $RELAY_HOSTNAME"
fi
mkdir -p "$root$maps"
for table in relay_domains relay_recipients transport; do
  if [ ! -f "$root$maps/$table.lmdb" ]; then
    [ -f "$root$maps/$table" ] || : >"$root$maps/$table"
    postmap -c "$root/etc/postfix" "lmdb:$root$maps/$table"
  fi
done

if [ -d "$package/deploy/dovecot" ]; then
  log "Dovecot from deploy/dovecot"
  mkdir -p "$root/etc/dovecot"
  cp -R "$package/deploy/dovecot/." "$root/etc/dovecot/"
else
  log "no deploy/dovecot in this package: Dovecot keeps Debian's configuration"
fi

rules=$(find "$package/deploy/nftables" -maxdepth 1 -name '*.nft' 2>/dev/null | sort)
if [ -n "$rules" ]; then
  log "egress rules from deploy/nftables"
  mkdir -p "$root/etc/nftables.d"
  for rule in $rules; do
    install -m 644 "$rule" "$root/etc/nftables.d/"
  done
  include='include "/etc/nftables.d/*.nft"'
  touch "$root/etc/nftables.conf"
  grep -qxF "$include" "$root/etc/nftables.conf" || echo "$include" >>"$root/etc/nftables.conf"
else
  log "no deploy/nftables/*.nft (relay-agent/deploy/nftables/relay-egress.nft) in this package: no egress rules installed"
fi

if [ "${RELAY_NO_SERVICES:-}" = 1 ]; then
  exit 0
fi
systemctl daemon-reload
if [ -n "$rules" ]; then
  systemctl enable nftables
  systemctl restart nftables
fi
systemctl enable postfix dovecot relay-agent
systemctl restart postfix dovecot relay-agent
log "done"
