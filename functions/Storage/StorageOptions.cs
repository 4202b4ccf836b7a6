using System.Text.RegularExpressions;
using RelayFunctions.Hosting;

namespace RelayFunctions.Storage;

/// <summary>
/// Where the app keeps its state. The connection follows the Functions convention: either the
/// <c>AzureWebJobsStorage</c> connection string, or identity-based service URIs under
/// <c>AzureWebJobsStorage__blobServiceUri</c> and friends (managed identity through DefaultAzureCredential).
/// </summary>
public sealed partial class StorageOptions
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

    /// <summary>
    /// Whether queue names carry the prefix. Not under the Functions host: there the host listens on the literal queue
    /// names of the function.json files, which need no setting to resolve and which the platform's scale controller
    /// reads as written, so the app must send to exactly those names. Standalone, the app is its own listener and
    /// prefixes queues like everything else.
    /// </summary>
    public bool PrefixQueues { get; set; } = true;

    /// <summary>
    /// How long one try of a storage call may wait for an answer (<c>Storage__NetworkTimeout</c>). The SDK's default is
    /// 100 seconds, during which a hung storage service would hold a request.
    /// </summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an API request may take before it is cut off and answered 503 with <c>Retry-After</c>
    /// (<c>Storage__RequestTimeout</c>): what a caller waits at most when storage hangs.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Tries after the first one for a storage call that failed with no answer or a server error.</summary>
    public const int MaxRetries = 2;

    /// <summary>Named as the settings are: <c>AzureWebJobsStorage</c> and <c>Storage__Prefix</c>.</summary>
    public static void Check(StorageOptions o, SettingErrors errors)
    {
        if (!string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            errors.Require(IsConnectionString(o.ConnectionString), ConnectionSetting,
                "is not a storage connection string (UseDevelopmentStorage=true, or DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…).");
        }
        else
        {
            errors.Require(o.BlobServiceUri is not null && o.QueueServiceUri is not null && o.TableServiceUri is not null, ConnectionSetting,
                "storage is not configured: set it to a connection string, or set AzureWebJobsStorage__blobServiceUri, "
                + "AzureWebJobsStorage__queueServiceUri and AzureWebJobsStorage__tableServiceUri to use a managed identity.");
        }
        errors.Require(o.NetworkTimeout >= TimeSpan.FromSeconds(1) && o.NetworkTimeout <= TimeSpan.FromMinutes(5), "Storage__NetworkTimeout",
            $"must be from 1 second to 5 minutes (is {o.NetworkTimeout}).");
        errors.Require(o.RequestTimeout >= TimeSpan.FromSeconds(1) && o.RequestTimeout <= TimeSpan.FromMinutes(10), "Storage__RequestTimeout",
            $"must be from 1 second to 10 minutes (is {o.RequestTimeout}).");
        errors.Require(string.IsNullOrEmpty(o.Prefix) || PrefixPattern().IsMatch(o.Prefix), "Storage__Prefix",
            $"'{o.Prefix}' must be lowercase letters and digits, starting with a letter, at most 20 characters.");
    }

    private static bool IsConnectionString(string text)
    {
        try
        {
            _ = new Azure.Storage.Blobs.BlobServiceClient(text);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"\A[a-z][a-z0-9]{0,19}\z")]
    private static partial Regex PrefixPattern();
}
