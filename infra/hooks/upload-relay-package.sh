#!/usr/bin/env bash
# azd postprovision hook: builds the relay package and uploads it to RELAY_PACKAGE_URL (an output of main.bicep), where
# the relay VMs' cloud-init waits for it. Uploads with the identity azd runs as (Storage Blob Data Contributor on the
# releases container, assigned by the templates to AZURE_PRINCIPAL_ID): shared keys are disabled on the account.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${RELAY_PACKAGE_URL:?run by azd after provisioning, which sets RELAY_PACKAGE_URL}"

package=$("$ROOT/scripts/package-relay-agent.sh")
if token=$(azd auth token --scope https://storage.azure.com/.default --output json 2>/dev/null | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p') && [ -n "$token" ]; then
  :
else
  token=$(az account get-access-token --resource https://storage.azure.com/ --query accessToken --output tsv)
fi
# Role assignments can take a few minutes to apply after the first provision.
for attempt in $(seq 1 20); do
  if curl -fsS -X PUT -H "Authorization: Bearer $token" -H "x-ms-version: 2021-08-06" -H "x-ms-blob-type: BlockBlob" \
    -H "Content-Type: application/gzip" --data-binary "@$package" "$RELAY_PACKAGE_URL" >/dev/null; then
    echo "relay package uploaded to $RELAY_PACKAGE_URL"
    exit 0
  fi
  echo "upload refused (attempt $attempt); retrying in 30 s" >&2
  sleep 30
done
exit 1
