using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;

namespace RelayFunctions.Storage;

/// <summary>The three storage service clients and the one place that turns logical names into real ones.</summary>
public sealed class StorageClients
{
    private readonly string _prefix;
    private readonly string _queuePrefix;

    public StorageClients(IOptions<StorageOptions> options, StorageRequestCounter? counter = null)
    {
        var o = options.Value;
        var errors = new SettingErrors("");
        StorageOptions.Check(o, errors);
        if (errors.Any)
        {
            throw new InvalidOperationException(string.Join(" ", errors.Messages));
        }
        _prefix = o.Prefix;
        _queuePrefix = o.PrefixQueues && o.Prefix.Length > 0 ? o.Prefix + "-" : "";

        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        var tableOptions = new TableClientOptions();
        var blobOptions = new BlobClientOptions();
        foreach (var clientOptions in new ClientOptions[] { queueOptions, tableOptions, blobOptions })
        {
            // A hung or absent service ends a call within about (1 + MaxRetries) × NetworkTimeout plus a few seconds of
            // backoff, instead of the SDK's 100 s a try and five retries; callers treat the failure as an outage.
            clientOptions.Retry.NetworkTimeout = o.NetworkTimeout;
            clientOptions.Retry.MaxRetries = StorageOptions.MaxRetries;
            clientOptions.Retry.Mode = RetryMode.Exponential;
            clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(500);
            clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(2);
            if (counter is not null)
            {
                clientOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
            }
        }
        if (!string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            Tables = new TableServiceClient(o.ConnectionString, tableOptions);
            Queues = new QueueServiceClient(o.ConnectionString, queueOptions);
            Blobs = new BlobServiceClient(o.ConnectionString, blobOptions);
            if (counter is not null)
            {
                counter.TablePort = Tables.Uri.Port;
                counter.QueuePort = Queues.Uri.Port;
            }
        }
        else if (o.BlobServiceUri is not null && o.QueueServiceUri is not null && o.TableServiceUri is not null)
        {
            TokenCredential credential = string.IsNullOrEmpty(o.ClientId)
                ? new DefaultAzureCredential()
                : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = o.ClientId });
            Tables = new TableServiceClient(o.TableServiceUri, credential, tableOptions);
            Queues = new QueueServiceClient(o.QueueServiceUri, credential, queueOptions);
            Blobs = new BlobServiceClient(o.BlobServiceUri, credential, blobOptions);
        }
        else
        {
            throw new InvalidOperationException("Storage is not configured.");
        }
    }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }

    /// <summary>Table names allow letters and digits only.</summary>
    public TableClient Table(string logicalName) => Tables.GetTableClient(_prefix + logicalName);

    /// <summary>Queue and container names allow lowercase letters, digits and hyphens.</summary>
    public QueueClient Queue(string logicalName) => Queues.GetQueueClient(QueueName(logicalName));

    /// <summary>The real name of a queue: prefixed standalone, as function.json names it under the Functions host.</summary>
    public string QueueName(string logicalName) => _queuePrefix + logicalName.ToLowerInvariant();

    public BlobContainerClient Container(string logicalName) =>
        Blobs.GetBlobContainerClient((_prefix.Length > 0 ? _prefix + "-" : "") + logicalName);
}
