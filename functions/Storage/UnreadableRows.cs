using Azure.Data.Tables;

namespace RelayFunctions.Storage;

/// <summary>
/// A row this version cannot read (written under looser rules, or by a later version) is left out of what a store
/// returns, and said so in the log: never dropped without a word.
/// </summary>
public static partial class UnreadableRows
{
    /// <summary>What <paramref name="read"/> makes of the row; null, logged, when it makes nothing of it.</summary>
    public static T? ReadRow<T>(this ILogger logger, string table, TableEntity row, Func<TableEntity, T?> read)
        where T : class
    {
        var value = read(row);
        if (value is null)
        {
            Unreadable(logger, table, row.PartitionKey, row.RowKey);
        }
        return value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Table} row {PartitionKey}/{RowKey} cannot be read by this version; it is left out")]
    public static partial void Unreadable(ILogger logger, string table, string partitionKey, string rowKey);
}
