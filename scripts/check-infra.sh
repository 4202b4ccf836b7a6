#!/usr/bin/env bash
# Builds and lints every Bicep template in infra/ with the Bicep CLI from NuGet (Azure.Bicep.CommandLine.linux-x64,
# restored by infra/tools/bicep-cli.csproj), offline. Any error or warning fails it: the rules are infra/bicepconfig.json.
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
