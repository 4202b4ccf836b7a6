// The storage account: the app's tables, queues and blobs, the Functions host's own state, the Flex deployment
// package, and the relay package. Shared-key access is disabled: every identity uses Entra ID, with exactly the
// data roles below.

param location string
param tags object

@description('uniqueString() of the deployment: 13 characters.')
@minLength(13)
@maxLength(13)
param resourceToken string

@description('The app\'s Storage__Prefix; the relay-map container carries it, as the app names it.')
param storagePrefix string

param appPrincipalId string
param relayPrincipalId string

@description('The principal running azd, allowed to upload the relay package; empty for none.')
param deployerPrincipalId string

@allowed(['User', 'ServicePrincipal'])
param deployerPrincipalType string

@description('Container the relay package is uploaded to.')
param releasesContainerName string

var deploymentContainerName = 'deployment-package'
var relayMapContainerName = empty(storagePrefix) ? 'relay-map' : '${storagePrefix}-relay-map'

var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  blobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  queueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobs
  name: deploymentContainerName
}

resource relayMap 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobs
  name: relayMapContainerName
}

resource releases 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobs
  name: releasesContainerName
}

// The function app: the Functions host needs Blob Data Owner (its locks, timer status, keys and the deployment
// package); the app writes the relay map, sends and reads its queues (and their poison queues), and keeps its
// state in tables.
resource appBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roles.blobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roles.queueDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, roles.tableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The relays read the map and their package, and write their reports and blocks (the agent creates the RelayReports
// and RelayBlocks tables if they are missing, which a table-scoped role would not allow).
resource relayMapReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(relayMap.id, relayPrincipalId, roles.blobDataReader)
  scope: relayMap
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataReader)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource relayPackageReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(releases.id, relayPrincipalId, roles.blobDataReader)
  scope: releases
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataReader)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource relayTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, relayPrincipalId, roles.tableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The relays hand BCC bounces to the control plane's bcc-bounces queue (the function app creates it).
resource relayQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, relayPrincipalId, roles.queueDataMessageSender)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataMessageSender)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Whoever runs azd uploads the relay package (infra/hooks/upload-relay-package.sh).
resource deployerReleases 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(releases.id, deployerPrincipalId, roles.blobDataContributor)
  scope: releases
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output packageUrlBase string = '${account.properties.primaryEndpoints.blob}${releases.name}/'
