// RelayFunctions in Azure: `azd up` (azure.yaml) provisions this, then deploys the function app and uploads the relay
// package. Plain resource declarations in local modules only, so CI builds and lints it offline.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('The azd environment: names the resource group and tags every resource.')
param environmentName string

@minLength(1)
@description('Region of every resource (Flex Consumption must be offered there).')
param location string

@description('Object id of whoever runs azd (a user, or the CI service principal): allowed to upload the relay package.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('Comma-separated origins of the SPA, e.g. https://control.example.com; empty for none.')
param spaOrigins string = ''

@description('OpenID Connect authority that signs the API\'s bearer tokens, e.g. https://login.microsoftonline.com/<tenant>/v2.0.')
param authAuthority string

@description('Audience the API\'s tokens must carry.')
param authAudience string

@description('Issuer the tokens must carry; empty to take it from the authority\'s metadata.')
param authIssuer string = ''

param accountClaimType string = 'account'
param operatorRole string = 'operator'

@description('The app\'s Storage__Prefix (lowercase letters and digits); empty in an account of its own.')
@maxLength(20)
param storagePrefix string = ''

@description('Create Azure Communication Services Email and send helper alerts through it.')
param enableEmailAlerts bool = false

@description('Where ACS keeps e-mail data at rest.')
param emailDataLocation string = 'United States'

@minValue(1)
@maxValue(8)
param relayCount int = 2

param relayVmSize string = 'Standard_B2s'
param relayAdminUsername string = 'relayadmin'

@description('SSH public key of the relays\' admin user (no passwords).')
param relaySshPublicKey string

@description('CIDR allowed to SSH into the relays; empty: none.')
param relayAdminSourcePrefix string = ''

@description('PTR name for the relays\' public IP; it must resolve to that IP (set it after the first provision). Empty: none.')
param relayReverseFqdn string = ''

@description('Comma-separated MX host names customers point at the relays (names of yours that resolve to the relays\' address); empty: the relays\' own DNS name.')
param relayMxHosts string = ''

@description('Inbound mail ports: relay (25, 2525), submission (587, 465) and the alternates (11923, 61235, 80).')
param relayPorts array = [25, 2525, 587, 465, 11923, 61235, 80]

@description('Flex Consumption scales each trigger group out to at most this many instances (40 to 1000).')
@minValue(40)
@maxValue(1000)
param functionMaximumInstances int = 40

@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 512

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var releasesContainer = 'releases'
var relayPackage = 'relay-agent-linux-x64.tar.gz'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identities 'modules/identity.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    publisherPrincipalIds: [identities.outputs.appPrincipalId, identities.outputs.relayPrincipalId]
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    storagePrefix: storagePrefix
    appPrincipalId: identities.outputs.appPrincipalId
    relayPrincipalId: identities.outputs.relayPrincipalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    releasesContainerName: releasesContainer
  }
}

module email 'modules/email.bicep' = if (enableEmailAlerts) {
  scope: group
  params: {
    tags: tags
    resourceToken: resourceToken
    dataLocation: emailDataLocation
    senderPrincipalId: identities.outputs.appPrincipalId
  }
}

module function 'modules/function.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    identityId: identities.outputs.appId
    identityClientId: identities.outputs.appClientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    storagePrefix: storagePrefix
    spaOrigins: filter(map(split(spaOrigins, ','), o => trim(o)), o => !empty(o))
    relayHosts: empty(relayMxHosts) ? [relays.outputs.fqdn] : filter(map(split(relayMxHosts, ','), h => trim(h)), h => !empty(h))
    authAuthority: authAuthority
    authAudience: authAudience
    authIssuer: authIssuer
    accountClaimType: accountClaimType
    operatorRole: operatorRole
    acsEndpoint: enableEmailAlerts ? email!.outputs.endpoint : ''
    alertSender: enableEmailAlerts ? email!.outputs.sender : ''
    maximumInstanceCount: functionMaximumInstances
    instanceMemoryMB: functionInstanceMemoryMB
  }
}

module relays 'modules/relay.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    identityId: identities.outputs.relayId
    identityClientId: identities.outputs.relayClientId
    blobEndpoint: storage.outputs.blobEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    packageUrl: '${storage.outputs.packageUrlBase}${relayPackage}'
    storagePrefix: storagePrefix
    appInsightsConnectionString: monitoring.outputs.connectionString
    instanceCount: relayCount
    vmSize: relayVmSize
    adminUsername: relayAdminUsername
    sshPublicKey: relaySshPublicKey
    adminSourcePrefix: relayAdminSourcePrefix
    mailPorts: relayPorts
    reverseFqdn: relayReverseFqdn
  }
}

// Read by azd (and its hooks) as environment values.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = function.outputs.name
output API_URL string = 'https://${function.outputs.defaultHostName}/api'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output RELAY_PACKAGE_URL string = '${storage.outputs.packageUrlBase}${relayPackage}'
output RELAY_SCALE_SET_NAME string = relays.outputs.scaleSetName
output RELAY_PUBLIC_IP string = relays.outputs.publicIp
output RELAY_FQDN string = relays.outputs.fqdn
