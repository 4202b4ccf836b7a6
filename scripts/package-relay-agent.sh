#!/usr/bin/env bash
# Builds the relay package the relay VMs install (infra/relay/relay-update.sh downloads it, install.sh inside it runs):
#   relay-agent/   the relay agent, self-contained for linux-x64 (the VMs need no .NET)
#   deploy/        relay-agent/deploy/ exactly as it is in the repository: Postfix, Dovecot, nftables, systemd
#   install.sh     infra/relay/install.sh
#   scripts/package-relay-agent.sh [OUTPUT.tar.gz]    (default .artifacts/relay-agent-linux-x64.tar.gz)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=${1:-$ROOT/.artifacts/relay-agent-linux-x64.tar.gz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet publish "$ROOT/relay-agent" -c Release -r linux-x64 --self-contained -o "$work/relay-agent" --nologo --verbosity quiet >&2
cp -R "$ROOT/relay-agent/deploy" "$work/deploy"
install -m 755 "$ROOT/infra/relay/install.sh" "$work/install.sh"
mkdir -p "$(dirname "$out")"
tar -czf "$out" -C "$work" --owner=0 --group=0 relay-agent deploy install.sh
echo "$out"
