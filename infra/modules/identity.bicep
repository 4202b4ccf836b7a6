// Two user-assigned identities: one for the function app, one for the relay VMs. Each gets only the roles it needs
// (storage-roles.bicep, monitoring.bicep, email.bicep).

param location string
param tags object
param resourceToken string

resource app 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-func-${resourceToken}'
  location: location
  tags: tags
}

resource relay 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-relay-${resourceToken}'
  location: location
  tags: tags
}

output appId string = app.id
output appClientId string = app.properties.clientId
output appPrincipalId string = app.properties.principalId
output relayId string = relay.id
output relayClientId string = relay.properties.clientId
output relayPrincipalId string = relay.properties.principalId
