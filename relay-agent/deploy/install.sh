#!/usr/bin/env bash
# Installs a relay VM's mail side from this folder (Debian 12, as root): Postfix (main.cf and master.cf from
# postfix/*.relay), the auth-only Dovecot (dovecot/dovecot.conf.relay), empty relay-map tables, the egress rules
# (nftables/relay-egress.nft), and the relay agent's systemd unit and environment file. Safe to run again: every
# setting is replaced in place, never appended twice, and existing tables and environment are kept.
#
#   install.sh [--agent DIR]                 install on this machine; DIR holds a published relay agent
#                                            (dotnet publish relay-agent -r linux-x64 --self-contained -o DIR)
#   install.sh --root DIR [--no-packages]    write every file under DIR instead of / (nothing is installed, started
#                                            or loaded); how the tests check this script
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="" PACKAGES=yes AGENT=""
while [ $# -gt 0 ]; do
  case $1 in
    --root) ROOT=$(realpath -m "$2"); PACKAGES=no; shift 2 ;;
    --no-packages) PACKAGES=no; shift ;;
    --agent) AGENT=$(realpath "$2"); shift 2 ;;
    *) echo "usage: $0 [--agent DIR] | --root DIR" >&2; exit 2 ;;
  esac
done
LIVE=$([ -z "$ROOT" ] && echo yes || echo no)
# The paths the configuration names (as on the VM), and where this run writes them.
MAPS=/var/lib/relay-agent/maps
at() { echo "$ROOT$1"; }
log() { printf '==> %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }

if [ "$PACKAGES" = yes ]; then
  log "apt-get install postfix postfix-cdb postfix-lmdb postfix-pcre dovecot-core nftables ssl-cert"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postfix postfix-cdb postfix-lmdb postfix-pcre dovecot-core nftables ssl-cert >/dev/null
fi

# --- Postfix -------------------------------------------------------------------------------------------------------
POSTFIX=$(at /etc/postfix)
mkdir -p "$POSTFIX"
if [ ! -f "$POSTFIX/main.cf" ]; then
  # Debian's "No configuration" leaves no main.cf: start from Debian's own.
  cp /usr/share/postfix/main.cf.debian "$POSTFIX/main.cf"
  postconf -c "$POSTFIX" -e "myhostname = $(hostname -f 2>/dev/null || hostname)"
fi
[ -f "$POSTFIX/master.cf" ] || cp /usr/share/postfix/master.cf.dist "$POSTFIX/master.cf"
# master.cf first: main.cf names its services (relayfilter_destination_recipient_limit), which postconf checks.
log "Postfix: master.cf services from postfix/master.cf.relay (replacing Debian's smtp inet)"
BEGIN="# BEGIN relay-agent/deploy/postfix/master.cf.relay" END="# END relay-agent/deploy/postfix/master.cf.relay"
sed -i "\|^$BEGIN\$|,\|^$END\$|d" "$POSTFIX/master.cf"
# Debian's own listeners, and ours if an older install appended them without the markers.
mapfile -t services < <(awk '/^[^#[:space:]]/ { print $1 "/" $2 }' "$HERE/postfix/master.cf.relay")
for service in smtp/inet submission/inet smtps/inet "${services[@]}"; do
  postconf -c "$POSTFIX" -M "$service" >/dev/null 2>&1 && postconf -c "$POSTFIX" -MX "$service"
done
{ echo "$BEGIN"; sed "s|MAPS|$MAPS|g" "$HERE/postfix/master.cf.relay"; echo "$END"; } >>"$POSTFIX/master.cf"
log "Postfix: main.cf settings from postfix/main.cf.relay"
parsed=$(mktemp -d); trap 'rm -rf "$parsed"' EXIT
sed "s|MAPS|$MAPS|g" "$HERE/postfix/main.cf.relay" >"$parsed/main.cf"; sed "s|MAPS|$MAPS|g" "$HERE/postfix/master.cf.relay" >"$parsed/master.cf"
# postconf -n joins continuation lines: one "name = value" a line, each set in place (-c itself shows up as an
# explicit config_directory, which is not one of ours).
mapfile -t settings < <(postconf -c "$parsed" -n | grep -v '^config_directory =')
postconf -c "$POSTFIX" -e "${settings[@]}"
# Postfix's log (maillog_file), which the agent follows for failed AUTHs: rotated weekly.
mkdir -p "$(at /etc/cron.weekly)"
printf '#!/bin/sh\n# relay-agent/deploy/install.sh: rotate maillog_file (/var/log/postfix.log).\nexec /usr/sbin/postfix logrotate >/dev/null 2>&1\n' >"$(at /etc/cron.weekly/postfix-logrotate)"
chmod 755 "$(at /etc/cron.weekly/postfix-logrotate)"
# The submission filter and the BCC bounce service run as relayfilter: never root, never Postfix's own user.
if [ "$LIVE" = yes ] && ! id relayfilter >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin relayfilter
fi
mkdir -p "$(at /var/lib/relay-agent/bounces)"
chmod 700 "$(at /var/lib/relay-agent/bounces)"
[ "$LIVE" = yes ] && chown relayfilter "$(at /var/lib/relay-agent/bounces)"

# --- The relay map's tables (the agent replaces them; Postfix and Dovecot need them to exist) -------------------
log "maps: $MAPS"
mkdir -p "$(at "$MAPS")"
chmod 755 "$(at /var/lib/relay-agent)" "$(at "$MAPS")"
# The map's tables are lmdb (the agent changes them in place); an upgrade from cdb builds them from the source files
# the agent left beside the cdb tables, so Postfix never meets an empty map. blocked (the agent's own) stays cdb.
for table in relay_domains relay_recipients transport message_size_limits sender_logins sasl_access; do
  [ -f "$(at "$MAPS/$table").lmdb" ] && continue
  [ -f "$(at "$MAPS/$table")" ] || : >"$(at "$MAPS/$table")"
  postmap -c "$POSTFIX" "lmdb:$(at "$MAPS/$table")"
done
if [ ! -f "$(at "$MAPS/blocked").cdb" ]; then
  : >"$(at "$MAPS/blocked")"; postmap -c "$POSTFIX" "cdb:$(at "$MAPS/blocked")"
fi
[ -f "$(at "$MAPS/sender_logins_sub.pcre")" ] || : >"$(at "$MAPS/sender_logins_sub.pcre")"
[ -f "$(at "$MAPS/passwd")" ] || : >"$(at "$MAPS/passwd")"
# Hashes: root and Dovecot only (the agent writes every later passwd the same way).
chmod 640 "$(at "$MAPS/passwd")"
chown root:dovecot "$(at "$MAPS/passwd")"

# --- Dovecot: auth only, the whole dovecot.conf ----------------------------------------------------------------------
DOVECOT=$(at /etc/dovecot)
mkdir -p "$DOVECOT"
log "Dovecot: dovecot.conf from dovecot/dovecot.conf.relay"
if [ -f "$DOVECOT/dovecot.conf" ] && ! grep -q '^protocols = none' "$DOVECOT/dovecot.conf" && [ ! -f "$DOVECOT/dovecot.conf.debian" ]; then
  mv "$DOVECOT/dovecot.conf" "$DOVECOT/dovecot.conf.debian"
fi
sed "s|MAPS|$MAPS|g" "$HERE/dovecot/dovecot.conf.relay" >"$DOVECOT/dovecot.conf"
doveconf -c "$DOVECOT/dovecot.conf" -n >/dev/null

# --- Egress rules ---------------------------------------------------------------------------------------------------
log "nftables: /etc/nftables.d/relay-egress.nft"
mkdir -p "$(at /etc/nftables.d)"
cp "$HERE/nftables/relay-egress.nft" "$(at /etc/nftables.d/relay-egress.nft)"
NFTCONF=$(at /etc/nftables.conf)
[ -f "$NFTCONF" ] || printf '#!/usr/sbin/nft -f\nflush ruleset\n' >"$NFTCONF"
grep -q '^include "/etc/nftables.d/\*.nft"' "$NFTCONF" || echo 'include "/etc/nftables.d/*.nft"' >>"$NFTCONF"

# --- The agent ------------------------------------------------------------------------------------------------------
log "relay agent: systemd unit and /etc/relay-agent/environment"
mkdir -p "$(at /etc/systemd/system)" "$(at /etc/relay-agent)"
cp "$HERE/relay-agent.service" "$(at /etc/systemd/system/relay-agent.service)"
[ -f "$(at /etc/relay-agent/environment)" ] || cp "$HERE/environment.sample" "$(at /etc/relay-agent/environment)"
if [ -n "$AGENT" ]; then
  mkdir -p "$(at /opt/relay-agent)"
  cp -r "$AGENT"/. "$(at /opt/relay-agent)/"
fi

postconf -c "$POSTFIX" -n >/dev/null
if [ "$LIVE" = yes ]; then
  nft -f /etc/nftables.d/relay-egress.nft
  systemctl enable nftables >/dev/null 2>&1 || true
  systemctl daemon-reload
  systemctl enable --now dovecot postfix
  systemctl restart dovecot
  postfix reload
  if [ -x /opt/relay-agent/relay-agent ]; then
    systemctl enable --now relay-agent
  else
    log "no agent in /opt/relay-agent yet: run again with --agent DIR"
  fi
  log "edit /etc/relay-agent/environment, replace the snakeoil certificate (smtpd_tls_cert_file/key_file), then: systemctl restart relay-agent"
fi
