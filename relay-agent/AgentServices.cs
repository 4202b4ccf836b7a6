using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DnsClient;
using Microsoft.Extensions.Options;
using RelayAgent.Submission;
using RelayShared;

namespace RelayAgent;

public static class AgentServices
{
    /// <summary>Managed identity (DefaultAzureCredential) in Azure, a connection string locally.</summary>
    public static IServiceCollection AddRelayAgent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AgentOptions>().Bind(configuration.GetSection(AgentOptions.Section));
        // Stopping cancels whatever is in flight (MapApplier is crash-safe), so it takes milliseconds; this only bounds
        // a hosted service that would ignore its token, well within systemd's TimeoutStopSec.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<AgentOptions>>().Value);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            var name = (o.Prefix.Length > 0 ? o.Prefix + "-" : "") + RelayMapBlobs.Container;
            return !string.IsNullOrEmpty(o.ConnectionString)
                ? new BlobContainerClient(o.ConnectionString, name)
                : new BlobServiceClient(o.BlobServiceUri ?? throw new InvalidOperationException("Set Agent__ConnectionString or Agent__BlobServiceUri."), Credential(o))
                    .GetBlobContainerClient(name);
        });
        services.AddSingleton(sp => Table(sp.GetRequiredService<AgentOptions>(), RelayStorageNames.RelayReportsTable));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            return new UsageCounter(Table(o, RelayStorageNames.OutboundUsageTable), o.RelayId, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            // As the function app names its queues: prefix, hyphen, name.
            var name = (o.Prefix.Length > 0 ? o.Prefix + "-" : "") + RelayStorageNames.BccBouncesQueue;
            var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
            return !string.IsNullOrEmpty(o.ConnectionString)
                ? new QueueClient(o.ConnectionString, name, queueOptions)
                : new QueueServiceClient(o.QueueServiceUri ?? throw new InvalidOperationException("Set Agent__QueueServiceUri."), Credential(o), queueOptions)
                    .GetQueueClient(name);
        });
        services.AddSingleton(sp => new VerifyClient(sp.GetRequiredService<AgentOptions>().PostfixQueueDirectory));
        services.AddSingleton<ILookupClient>(sp => Submission.Dns.Client(sp.GetRequiredService<AgentOptions>().DnsServers));
        services.AddSingleton<SubmissionPolicy>();
        services.AddSingleton<PolicyServer>();
        services.AddHostedService(sp => sp.GetRequiredService<PolicyServer>());
        services.AddSingleton<BounceForwarder>();
        services.AddHostedService(sp => sp.GetRequiredService<BounceForwarder>());
        services.AddSingleton<MapSource>();
        services.AddSingleton<Commands>();
        services.AddSingleton<AgentTelemetry>();
        services.AddSingleton<MapApplier>();
        services.AddSingleton<RelayReporter>();
        services.AddSingleton<AgentWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentWorker>());
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<BlockReports>(sp, Table(sp.GetRequiredService<AgentOptions>(), RelayStorageNames.RelayBlocksTable)));
        services.AddSingleton<BlockedMap>();
        services.AddHostedService<AuthGuard>();
        return services;
    }

    private static TableClient Table(AgentOptions o, string name) => !string.IsNullOrEmpty(o.ConnectionString)
        ? new TableClient(o.ConnectionString, o.Prefix + name)
        : new TableClient(o.TableServiceUri ?? throw new InvalidOperationException("Set Agent__TableServiceUri."), o.Prefix + name, Credential(o));

    private static TokenCredential Credential(AgentOptions o) => string.IsNullOrEmpty(o.ClientId)
        ? new DefaultAzureCredential()
        : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = o.ClientId });
}
