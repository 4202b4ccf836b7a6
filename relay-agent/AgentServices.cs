using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

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
            var name = (o.Prefix.Length > 0 ? o.Prefix + "-" : "") + "relay-map";
            return !string.IsNullOrEmpty(o.ConnectionString)
                ? new BlobContainerClient(o.ConnectionString, name)
                : new BlobServiceClient(o.BlobServiceUri ?? throw new InvalidOperationException("Set Agent__ConnectionString or Agent__BlobServiceUri."), Credential(o))
                    .GetBlobContainerClient(name);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<AgentOptions>();
            var name = o.Prefix + "RelayReports";
            return !string.IsNullOrEmpty(o.ConnectionString)
                ? new TableClient(o.ConnectionString, name)
                : new TableClient(o.TableServiceUri ?? throw new InvalidOperationException("Set Agent__TableServiceUri."), name, Credential(o));
        });
        services.AddSingleton<MapSource>();
        services.AddSingleton<Commands>();
        services.AddSingleton<AgentTelemetry>();
        services.AddSingleton<MapApplier>();
        services.AddSingleton<RelayReporter>();
        services.AddSingleton<AgentWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentWorker>());
        return services;
    }

    private static TokenCredential Credential(AgentOptions o) => string.IsNullOrEmpty(o.ClientId)
        ? new DefaultAzureCredential()
        : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = o.ClientId });
}
