// Distansstöd in Azure: Azure Bot with the Teams channel, the container on Azure Container Apps, PostgreSQL.
// Deploy into an existing resource group (see deployment/README.md):
//   az deployment group create -g <rg> -f deployment/azure/main.bicep -p @main.parameters.json \
//     appPassword=<client secret> postgresAdminPassword=<password>

@description('Prefix of every resource name; lower case letters and digits.')
@minLength(3)
@maxLength(16)
param baseName string = 'distansstod'

@description('Azure region for everything except the bot registration, which is global.')
param location string = resourceGroup().location

@description('How the bot authenticates. New Azure Bot registrations can no longer be MultiTenant.')
@allowed([
  'SingleTenant'
  'UserAssignedMSI'
  'MultiTenant'
])
param appType string = 'SingleTenant'

@description('The Entra app registration\'s application (client) id. Ignored for UserAssignedMSI (the identity created here is used).')
param appId string = ''

@description('The Entra tenant of the app registration or identity.')
param tenantId string = tenant().tenantId

@description('The app registration\'s client secret. Required unless appType is UserAssignedMSI.')
@secure()
param appPassword string = ''

@description('The container image, e.g. myregistry.azurecr.io/distansstod:1.0.0.')
param containerImage string

@description('Registry server for a private image; empty for a public image.')
param registryServer string = ''

@description('Registry user name (for Azure Container Registry: the admin user or a token name).')
param registryUsername string = ''

@secure()
@description('Registry password or token.')
param registryPassword string = ''

@description('Replicas that always run. At least 1: the weekly lägesbild and reminders are sent by the running service.')
@minValue(1)
param minReplicas int = 1

@description('Replicas at most. More than one is safe on PostgreSQL: scheduled sends are claimed exactly once.')
@minValue(1)
param maxReplicas int = 2

@description('PostgreSQL administrator login; the bot connects with it.')
param postgresAdminLogin string = 'distansstod'

@secure()
@description('PostgreSQL administrator password.')
param postgresAdminPassword string

@description('The bot\'s database on the PostgreSQL server.')
param databaseName string = 'distansstod'

@description('PostgreSQL compute size in the Burstable tier (Standard_B1ms, Standard_B2s …); B1ms is enough for one municipality.')
param postgresSkuName string = 'Standard_B1ms'

@allowed([
  'DEBUG'
  'INFO'
  'WARNING'
  'ERROR'
])
param logLevel string = 'INFO'

@description('Time zone for periods and schedules.')
param timezone string = 'Europe/Stockholm'

@description('Azure Bot pricing tier; Teams is a standard channel, free on F0.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

var suffix = uniqueString(resourceGroup().id)
var useManagedIdentity = appType == 'UserAssignedMSI'
var botAppId = useManagedIdentity ? identity.properties.clientId : appId
var port = 3978
var databaseUrl = 'postgresql+asyncpg://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}'

// ---- logs ---------------------------------------------------------------------------------------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${baseName}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// ---- database -----------------------------------------------------------------------------------

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: '${baseName}-pg-${suffix}'
  location: location
  sku: {
    name: postgresSkuName
    tier: 'Burstable'
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: {
      storageSizeGB: 32
    }
    backup: {
      backupRetentionDays: 14
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// Lets Azure services (the container app's outbound addresses) connect; TLS is enforced by the server.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// ---- the service --------------------------------------------------------------------------------

// The bot's identity when appType is UserAssignedMSI (then no client secret exists anywhere).
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${baseName}-id'
  location: location
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${baseName}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

var secrets = concat(
  [
    {
      name: 'database-url'
      value: databaseUrl
    }
  ],
  useManagedIdentity ? [] : [
    {
      name: 'microsoft-app-password'
      value: appPassword
    }
  ],
  empty(registryServer) ? [] : [
    {
      name: 'registry-password'
      value: registryPassword
    }
  ]
)

var env = concat(
  [
    {
      name: 'MicrosoftAppId'
      value: botAppId
    }
    {
      name: 'MicrosoftAppType'
      value: appType
    }
    {
      name: 'MicrosoftAppTenantId'
      value: appType == 'MultiTenant' ? '' : tenantId
    }
    {
      name: 'HOST'
      value: '0.0.0.0'
    }
    {
      name: 'PORT'
      value: string(port)
    }
    {
      name: 'DATA_DIR'
      value: '/data'
    }
    {
      name: 'DATABASE_URL'
      secretRef: 'database-url'
    }
    {
      name: 'LOG_LEVEL'
      value: logLevel
    }
    {
      name: 'TIMEZONE'
      value: timezone
    }
  ],
  useManagedIdentity ? [] : [
    {
      name: 'MicrosoftAppPassword'
      secretRef: 'microsoft-app-password'
    }
  ]
)

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${baseName}-app'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'auto'
        allowInsecure: false
      }
      secrets: secrets
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          username: registryUsername
          passwordSecretRef: 'registry-password'
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'bot'
          image: containerImage
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: env
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: port
              }
              periodSeconds: 5
              failureThreshold: 24
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              periodSeconds: 15
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              periodSeconds: 30
              failureThreshold: 3
            }
          ]
          volumeMounts: [
            {
              volumeName: 'data'
              mountPath: '/data'
            }
          ]
        }
      ]
      // DATA_DIR holds nothing that must survive a restart when DATABASE_URL points at PostgreSQL.
      volumes: [
        {
          name: 'data'
          storageType: 'EmptyDir'
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
  dependsOn: [
    database
    allowAzure
  ]
}

// ---- the bot registration -----------------------------------------------------------------------

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${baseName}-bot-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: 'Distansstöd'
    endpoint: 'https://${app.properties.configuration.ingress.fqdn}/api/messages'
    msaAppId: botAppId
    msaAppType: appType
    msaAppTenantId: appType == 'MultiTenant' ? '' : tenantId
    msaAppMSIResourceId: useManagedIdentity ? identity.id : ''
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

@description('BOT_DOMAIN for deployment/build_app_package.py.')
output botDomain string = app.properties.configuration.ingress.fqdn

@description('The messaging endpoint registered with the Azure Bot.')
output messagingEndpoint string = bot.properties.endpoint

@description('MicrosoftAppId for the Teams app package (the identity\'s client id for UserAssignedMSI).')
output botAppId string = botAppId

output botName string = bot.name
output containerAppName string = app.name
output postgresServer string = postgres.properties.fullyQualifiedDomainName
