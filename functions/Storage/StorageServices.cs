using RelayFunctions.Hosting;

namespace RelayFunctions.Storage;

/// <summary>
/// The storage account's settings (the <c>AzureWebJobsStorage</c> connection, as the Functions host reads it: a
/// connection string, or service URIs with a managed identity) and the clients made from them.
/// </summary>
public static class StorageServices
{
    /// <param name="prefixQueues">Whether queue names carry <c>Storage:Prefix</c> (not under the Functions host, whose triggers name them).</param>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration, bool prefixQueues)
    {
        services.AddOptions<StorageOptions>().Configure(o =>
        {
            var section = configuration.GetSection(StorageOptions.ConnectionSetting);
            o.ConnectionString = section.Value;
            o.BlobServiceUri = Uri(section["blobServiceUri"]);
            o.QueueServiceUri = Uri(section["queueServiceUri"]);
            o.TableServiceUri = Uri(section["tableServiceUri"]);
            o.ClientId = section["clientId"];
            o.Prefix = configuration["Storage:Prefix"] ?? "";
            o.NetworkTimeout = configuration.GetValue("Storage:NetworkTimeout", o.NetworkTimeout);
            o.RequestTimeout = configuration.GetValue("Storage:RequestTimeout", o.RequestTimeout);
            o.PrefixQueues = prefixQueues;
        }).Checked("", StorageOptions.Check);
        services.AddSingleton<StorageClients>();
        services.AddSingleton<StorageInitializer>();
        // Registered before every other hosted service, so the tables are there before a runner or SampleData starts.
        services.AddHostedService(sp => sp.GetRequiredService<StorageInitializer>());
        return services;
    }

    private static Uri? Uri(string? text) => System.Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null;
}
