// The relay fleet: a scale set of Debian 12 VMs behind a Standard load balancer with one static public IP (inbound
// on the mail ports, outbound through an explicit rule, so every relay sends from that one address). Each VM is set
// up by cloud-init (relay/cloud-init.yaml), which downloads the relay package with the relay identity and installs
// it: the agent, and Postfix, Dovecot and nftables configured from relay-agent/deploy/.

param location string
param tags object
param resourceToken string

param identityId string
param identityClientId string

param blobEndpoint string
param tableEndpoint string
param queueEndpoint string
param packageUrl string
param storagePrefix string
param appInsightsConnectionString string

param instanceCount int
param vmSize string
param adminUsername string
param sshPublicKey string

@description('CIDR allowed to reach SSH (22); empty: no SSH from the internet.')
param adminSourcePrefix string

@description('TCP ports open to the internet and balanced to the relays.')
param mailPorts array

@description('PTR name of the public IP; it must resolve to that IP. Empty: none.')
param reverseFqdn string

var lbName = 'lbe-relay-${resourceToken}'
var frontendId = resourceId('Microsoft.Network/loadBalancers/frontendIPConfigurations', lbName, 'frontend')
var backendId = resourceId('Microsoft.Network/loadBalancers/backendAddressPools', lbName, 'relays')
var probeId = resourceId('Microsoft.Network/loadBalancers/probes', lbName, 'smtp')

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-relay-${resourceToken}'
  location: location
  tags: tags
  properties: {
    securityRules: concat(
      [
        {
          name: 'mail-in'
          properties: {
            priority: 100
            direction: 'Inbound'
            access: 'Allow'
            protocol: 'Tcp'
            sourceAddressPrefix: 'Internet'
            sourcePortRange: '*'
            destinationAddressPrefix: '*'
            destinationPortRanges: map(mailPorts, p => string(p))
          }
        }
      ],
      empty(adminSourcePrefix)
        ? []
        : [
            {
              name: 'ssh-admin'
              properties: {
                priority: 110
                direction: 'Inbound'
                access: 'Allow'
                protocol: 'Tcp'
                sourceAddressPrefix: adminSourcePrefix
                sourcePortRange: '*'
                destinationAddressPrefix: '*'
                destinationPortRange: '22'
              }
            }
          ]
    )
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-relay-${resourceToken}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.40.0.0/24'] }
    subnets: [
      {
        name: 'relays'
        properties: {
          addressPrefix: '10.40.0.0/26'
          networkSecurityGroup: { id: nsg.id }
          // Outbound goes through the load balancer's rule, not the retired default access.
          defaultOutboundAccess: false
        }
      }
    ]
  }
}

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-relay-${resourceToken}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
    dnsSettings: union({ domainNameLabel: 'relay-${resourceToken}' }, empty(reverseFqdn) ? {} : { reverseFqdn: reverseFqdn })
  }
}

resource lb 'Microsoft.Network/loadBalancers@2024-05-01' = {
  name: lbName
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    frontendIPConfigurations: [
      {
        name: 'frontend'
        properties: { publicIPAddress: { id: publicIp.id } }
      }
    ]
    backendAddressPools: [{ name: 'relays' }]
    probes: [
      {
        name: 'smtp'
        properties: { protocol: 'Tcp', port: 25, intervalInSeconds: 15, numberOfProbes: 2 }
      }
    ]
    loadBalancingRules: [
      for port in mailPorts: {
        name: 'tcp-${port}'
        properties: {
          protocol: 'Tcp'
          frontendPort: port
          backendPort: port
          frontendIPConfiguration: { id: frontendId }
          backendAddressPool: { id: backendId }
          probe: { id: probeId }
          idleTimeoutInMinutes: 30
          enableTcpReset: true
          // Outbound is the explicit rule below, so SNAT ports are allocated on purpose, not by default.
          disableOutboundSnat: true
        }
      }
    ]
    outboundRules: [
      {
        name: 'egress'
        properties: {
          protocol: 'All'
          frontendIPConfigurations: [{ id: frontendId }]
          backendAddressPool: { id: backendId }
          // 64,000 ports per frontend address: 8,000 each for up to 8 relays.
          allocatedOutboundPorts: 8000
          idleTimeoutInMinutes: 15
          enableTcpReset: true
        }
      }
    ]
  }
}

var cloudInit = reduce(
  items({
    '@@PACKAGE_URL@@': packageUrl
    '@@CLIENT_ID@@': identityClientId
    '@@BLOB_ENDPOINT@@': blobEndpoint
    '@@TABLE_ENDPOINT@@': tableEndpoint
    '@@QUEUE_ENDPOINT@@': queueEndpoint
    '@@PREFIX@@': storagePrefix
    '@@HOSTNAME@@': publicIp.properties.dnsSettings.fqdn
    '@@APPINSIGHTS@@': appInsightsConnectionString
    '@@RELAY_UPDATE@@': base64(loadTextContent('../relay/relay-update.sh'))
  }),
  loadTextContent('../relay/cloud-init.yaml'),
  (text, placeholder) => replace(text, placeholder.key, placeholder.value)
)

resource relays 'Microsoft.Compute/virtualMachineScaleSets@2024-07-01' = {
  name: 'vmss-relay-${resourceToken}'
  location: location
  tags: tags
  sku: {
    name: vmSize
    tier: 'Standard'
    capacity: instanceCount
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  dependsOn: [lb]
  properties: {
    orchestrationMode: 'Uniform'
    overprovision: false
    // Manual: a relay holds mail in its queue, so instances are replaced only on purpose (docs/deploy.md).
    upgradePolicy: { mode: 'Manual' }
    virtualMachineProfile: {
      osProfile: {
        computerNamePrefix: 'relay'
        adminUsername: adminUsername
        customData: base64(cloudInit)
        linuxConfiguration: {
          disablePasswordAuthentication: true
          ssh: {
            publicKeys: [
              {
                path: '/home/${adminUsername}/.ssh/authorized_keys'
                keyData: sshPublicKey
              }
            ]
          }
        }
      }
      storageProfile: {
        imageReference: {
          publisher: 'Debian'
          offer: 'debian-12'
          sku: '12-gen2'
          version: 'latest'
        }
        osDisk: {
          createOption: 'FromImage'
          caching: 'ReadWrite'
          diskSizeGB: 30
          managedDisk: { storageAccountType: 'StandardSSD_LRS' }
        }
      }
      networkProfile: {
        networkInterfaceConfigurations: [
          {
            name: 'nic'
            properties: {
              primary: true
              ipConfigurations: [
                {
                  name: 'ipconfig'
                  properties: {
                    subnet: { id: vnet.properties.subnets[0].id }
                    loadBalancerBackendAddressPools: [{ id: backendId }]
                  }
                }
              ]
            }
          }
        ]
      }
      diagnosticsProfile: {
        bootDiagnostics: { enabled: true }
      }
    }
  }
}

output publicIp string = publicIp.properties.ipAddress
output fqdn string = publicIp.properties.dnsSettings.fqdn
output scaleSetName string = relays.name
