// The function app on Flex Consumption: runtime dotnet-isolated 10.0 running the custom handler
// (`dotnet RelayFunctions.dll`, host.json), storage through its user-assigned identity, and every app setting the
// Settings table (docs/settings.md) lists for Azure (docs/deploy.md names the others, optional or not for Azure).

param location string
param tags object
param resourceToken string

param identityId string
param identityClientId string

param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param deploymentContainerUrl string
param appInsightsConnectionString string

@description('The app\'s Storage__Prefix.')
param storagePrefix string

@description('Origins of the SPA: the site\'s CORS (the host answers preflights on Flex) and the app\'s Cors__AllowedOrigins__N.')
param spaOrigins array

param authAuthority string
param authAudience string
param authIssuer string
param accountClaimType string
param operatorRole string

@description('MX host names of the relays: a domain whose MX points at one is proven (Verification__RelayHosts__N).')
param relayHosts array

@description('https://<resource>.communication.azure.com, or empty for no alert e-mail.')
param acsEndpoint string
param alertSender string

param maximumInstanceCount int
param instanceMemoryMB int

var appSettings = union(
  {
    // Host storage with the user-assigned identity: the host needs the credential and client id, the app the URIs.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: blobEndpoint
    AzureWebJobsStorage__queueServiceUri: queueEndpoint
    AzureWebJobsStorage__tableServiceUri: tableEndpoint
    // DefaultAzureCredential's managed identity where no client id is given in code (ACS alerts).
    AZURE_CLIENT_ID: identityClientId
    Storage__Prefix: storagePrefix
    Authentication__Schemes__Bearer__Authority: authAuthority
    Authentication__Schemes__Bearer__ValidAudiences__0: authAudience
    Auth__AccountClaimType: accountClaimType
    Auth__OperatorRole: operatorRole
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
    Alerts__Transport: empty(acsEndpoint) ? 'none' : 'acs'
  },
  empty(authIssuer) ? {} : { Authentication__Schemes__Bearer__ValidIssuer: authIssuer },
  empty(acsEndpoint) ? {} : { Alerts__Acs__Endpoint: acsEndpoint, Alerts__From: alertSender },
  toObject(range(0, length(spaOrigins)), i => 'Cors__AllowedOrigins__${i}', i => spaOrigins[i]),
  toObject(range(0, length(relayHosts)), i => 'Verification__RelayHosts__${i}', i => relayHosts[i])
)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: 'func-${resourceToken}'
  location: location
  // azd deploys the `api` service of azure.yaml to the site with this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      // On Flex the Functions host answers CORS preflights itself, from this list; the app never sees them.
      cors: {
        allowedOrigins: spaOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // The custom handler is a framework-dependent .NET 10 app; this stack's image has the .NET 10 and ASP.NET Core
      // runtimes. FUNCTIONS_WORKER_RUNTIME is not an app setting on Flex: the runtime is declared here.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: appSettings
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
