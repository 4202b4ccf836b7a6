namespace RelayFunctions.Storage;

/// <summary>
/// Where the app keeps its state. The connection follows the Functions convention: either the
/// <c>AzureWebJobsStorage</c> connection string, or identity-based service URIs under
/// <c>AzureWebJobsStorage__blobServiceUri</c> and friends (managed identity through DefaultAzureCredential).
/// </summary>
public sealed class StorageOptions
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    /// <summary>A connection string; <c>UseDevelopmentStorage=true</c> means Azurite on loopback.</summary>
    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }
    public Uri? QueueServiceUri { get; set; }
    public Uri? TableServiceUri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Prepended to every table, queue and container name this app creates. Lowercase letters and digits,
    /// starting with a letter. Lets tests and several deployments share one storage account.
    /// </summary>
    public string Prefix { get; set; } = "";
}
