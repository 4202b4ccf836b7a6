using Azure;
using Azure.Data.Tables;

namespace RelayFunctions.Storage;

public enum DeleteResult
{
    /// <summary>This call deleted the entity: its side effects are this caller's to do, and only this caller's.</summary>
    Deleted,

    /// <summary>It was not there (any more): someone else deleted it.</summary>
    Gone,

    /// <summary>It has changed since the ETag was read.</summary>
    Changed,
}

public static class TableDeletes
{
    /// <summary>
    /// Deletes an entity and says who did it. <c>TableClient.DeleteEntityAsync</c> answers a missing entity with
    /// a 404 response instead of an exception, so without this, fifty callers racing to delete one entity would each
    /// believe they had.
    /// </summary>
    public static Task<DeleteResult> TryDeleteAsync(
        this TableClient table, (string PartitionKey, string RowKey) keys, ETag ifMatch, CancellationToken cancellationToken) =>
        table.TryDeleteAsync(keys.PartitionKey, keys.RowKey, ifMatch, cancellationToken);

    public static async Task<DeleteResult> TryDeleteAsync(this TableClient table, string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken)
    {
        try
        {
            var response = await table.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);
            return response.Status == 404 ? DeleteResult.Gone : DeleteResult.Deleted;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return DeleteResult.Gone;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return DeleteResult.Changed;
        }
    }
}
