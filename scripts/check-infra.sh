#!/usr/bin/env bash
# Builds and lints every Bicep template in infra/ with the Bicep CLI from NuGet (Azure.Bicep.CommandLine.linux-x64,
# restored by infra/tools/bicep-cli.csproj), offline. Any error or warning fails it: the rules are infra/bicepconfig.json.
# Then ShellCheck (from Debian) on the scripts that run on the relays and in azd's hooks, and the relays' cloud-init,
# rendered with sample values, against the schema of the cloud-init that Debian 12 ships (from its package, not installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '==> %s\n' "$*" >&2; }

tools="$ROOT/infra/tools/bicep-cli.csproj"
version=$(sed -n 's/.*"Azure.Bicep.CommandLine.linux-x64" Version="\[\([^]]*\)\]".*/\1/p' "$tools")
dotnet restore "$tools" --verbosity quiet >/dev/null
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
bicep="${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
chmod +x "$bicep"
log "bicep build and lint ($("$bicep" --version))"

out="$ROOT/.artifacts/infra"
mkdir -p "$out"
problems=0
while IFS= read -r template; do
  name=${template#"$ROOT/"}
  # Diagnostics go to stderr; a warning is as much a failure as an error.
  if ! diagnostics=$( { "$bicep" build "$template" --outfile "$out/$(basename "$template" .bicep).json" && "$bicep" lint "$template"; } 2>&1) || [ -n "$diagnostics" ]; then
    printf '%s\n%s\n' "$name" "$diagnostics" >&2
    problems=$((problems + 1))
  else
    echo "  $name: built and linted, no diagnostics" >&2
  fi
done < <(find "$ROOT/infra" -name '*.bicep' -not -path '*/tools/*' | sort)
if [ "$problems" -gt 0 ]; then
  log "$problems template(s) with errors or warnings"
  exit 1
fi

missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
python3 -c 'import yaml, jsonschema' 2>/dev/null || missing+=(python3-yaml python3-jsonschema)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
log "shellcheck"
shellcheck "$ROOT"/infra/relay/*.sh "$ROOT"/infra/hooks/*.sh "$ROOT/scripts/check-infra.sh" "$ROOT/scripts/package-relay-agent.sh"

schema=$(find "$out/cloud-init" -name schema-cloud-config-v1.json 2>/dev/null | head -n1 || true)
if [ -z "$schema" ]; then
  mkdir -p "$out/cloud-init"
  (cd "$out/cloud-init" && { apt-get download cloud-init >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download cloud-init >/dev/null; }; } &&
    dpkg-deb -x cloud-init_*.deb extracted)
  schema=$(find "$out/cloud-init" -name schema-cloud-config-v1.json | head -n1)
fi
log "cloud-init schema ($(basename "$(ls "$out"/cloud-init/cloud-init_*.deb)"))"
sed -e 's|@@PACKAGE_URL@@|https://account.blob.example/releases/relay-agent-linux-x64.tar.gz|' \
  -e 's|@@CLIENT_ID@@|00000000-0000-0000-0000-000000000000|' -e 's|@@BLOB_ENDPOINT@@|https://account.blob.example/|' \
  -e 's|@@TABLE_ENDPOINT@@|https://account.table.example/|' -e 's|@@QUEUE_ENDPOINT@@|https://account.queue.example/|' -e 's|@@PREFIX@@||' -e 's|@@HOSTNAME@@|relay.example|' \
  -e 's|@@APPINSIGHTS@@|InstrumentationKey=00000000-0000-0000-0000-000000000000|' \
  -e "s|@@RELAY_UPDATE@@|$(base64 -w0 "$ROOT/infra/relay/relay-update.sh")|" \
  "$ROOT/infra/relay/cloud-init.yaml" >"$out/cloud-init.yaml"
python3 - "$schema" "$out/cloud-init.yaml" <<'PY'
import json, re, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert text.startswith("#cloud-config\n"), "cloud-init user data must start with #cloud-config"
assert not re.search("@@[A-Z_]+@@", text), "a placeholder is left"
errors = list(jsonschema.Draft4Validator(schema).iter_errors(yaml.safe_load(text)))
for e in errors:
    print(f"  cloud-init.yaml {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "  infra/relay/cloud-init.yaml: valid cloud-config" >&2
