using Azure;
using Azure.Data.Tables;

namespace RelayFunctions.Storage;

/// <summary>
/// The keys and system columns every row has: a store's own row type (private to the store, its columns named as its
/// rows have always been) derives from it.
/// </summary>
public abstract class StoredEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
}
