#!/bin/sh
# Installs (or upgrades to) the relay package in Blob storage: downloads it with the VM's managed identity and runs
# the install.sh inside it. cloud-init runs it at first boot; run it again (e.g. `az vmss run-command invoke`) after
# uploading a new package.
set -eu
# Written by cloud-init: RELAY_PACKAGE_URL, RELAY_CLIENT_ID, RELAY_HOSTNAME.
# shellcheck source=/dev/null
. /etc/relay-agent/deployment

token() {
  curl -fsS -H Metadata:true \
    "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com%2F&client_id=$RELAY_CLIENT_ID" |
    sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# At first boot the package may not be there yet: azd uploads it after provisioning, when the VMs already exist.
tries=0
until t=$(token) && [ -n "$t" ] &&
  curl -fsS -o "$work/relay.tar.gz" -H "Authorization: Bearer $t" -H "x-ms-version: 2021-08-06" "$RELAY_PACKAGE_URL"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 180 ]; then
    echo "relay-update: no package at $RELAY_PACKAGE_URL after an hour" >&2
    exit 1
  fi
  sleep 20
done
tar -xzf "$work/relay.tar.gz" -C "$work"
RELAY_HOSTNAME="$RELAY_HOSTNAME" "$work/install.sh"
