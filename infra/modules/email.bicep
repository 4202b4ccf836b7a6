// Optional alert e-mail through Azure Communication Services: an Email service with an Azure-managed domain
// (DoNotReply@<id>.azurecomm.net, no DNS work), a Communication Services resource linked to it, and the role that
// lets the app's identity send with Entra ID (no access key anywhere).

param tags object
param resourceToken string

@description('Where ACS keeps its data at rest, e.g. United States, Europe.')
param dataLocation string

param senderPrincipalId string

// "Communication and Email Service Owner": the built-in role ACS documents for sending e-mail (SMTP) with Entra ID;
// that it also covers the REST send the app uses is assumed, and unverified without a subscription (docs/deploy.md).
var emailSenderRole = '09976791-48a7-449e-bb21-39d1a415f350'

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'email-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource domain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: 'acs-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [domain.id]
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, senderPrincipalId, emailSenderRole)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', emailSenderRole)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${communication.properties.hostName}'
output sender string = 'DoNotReply@${domain.properties.mailFromSenderDomain}'
