using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using RelayFunctions.Domains;
using RelayFunctions.Storage;

namespace RelayFunctions.IpHelpers;

/// <summary>One history line: a check that changed something, and the routing change it made, if any.</summary>
public sealed record HistoryEntry(
    DateTimeOffset At, string Outcome, IReadOnlyList<string> Addresses, int? Ttl, string? Reason, Routing? From, Routing? To);

/// <summary>
/// Helper history (<c>HelperHistory</c>: <c>account|domain</c> / inverted time + check token), newest first. Keyed by
/// the check's token, so recording the same check twice (a replayed message) writes the same row.
/// </summary>
public sealed class HelperHistory(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.HelperHistory);

    public async Task RecordAsync(IpHelper helper, CancellationToken cancellationToken)
    {
        var at = helper.Status.LastCheck ?? helper.Updated;
        var change = helper.Change;
        var entity = new HistoryEntity
        {
            PartitionKey = Partition(helper.AccountId, helper.Domain),
            RowKey = $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}-{helper.LastCheckToken}",
            At = at,
            Outcome = helper.Status.LastOutcome is { } k ? CheckOutcome.Name(k) : null,
            Addresses = JsonSerializer.Serialize(helper.Status.Addresses.Select(a => a.ToString())),
            Ttl = helper.Status.Ttl,
            Reason = helper.Status.Reason,
            FromMode = change is null ? null : DomainModes.ToName(change.From.Mode),
            FromHost = change?.From.Destination?.Host,
            FromPort = change?.From.Destination?.Port,
            ToMode = change is null ? null : DomainModes.ToName(change.To.Mode),
            ToHost = change?.To.Destination?.Host,
            ToPort = change?.To.Destination?.Port,
        };
        await Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>A page of history, newest first; pass the returned cursor to get the next page.</summary>
    public async Task<(IReadOnlyList<HistoryEntry> Entries, string? Next)> PageAsync(
        string accountId, DomainName domain, int limit, string? cursor, CancellationToken cancellationToken)
    {
        var partition = Partition(accountId, domain);
        var filter = cursor is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {cursor}");
        var entries = new List<HistoryEntry>();
        string? last = null;
        await foreach (var e in Table.QueryAsync<HistoryEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            if (entries.Count == limit)
            {
                return (entries, last);
            }
            entries.Add(FromEntity(e));
            last = e.RowKey;
        }
        return (entries, null);
    }

    private static string Partition(string accountId, DomainName domain) => accountId + "|" + domain.Value;

    private static HistoryEntry FromEntity(HistoryEntity e) => new(
        e.At ?? default, e.Outcome ?? "", JsonSerializer.Deserialize<string[]>(e.Addresses ?? "[]")!, e.Ttl, e.Reason,
        Routing.FromStored(e.FromMode, e.FromHost, e.FromPort), Routing.FromStored(e.ToMode, e.ToHost, e.ToPort));

    /// <summary>Cursors are row keys; only well-formed ones are accepted from callers.</summary>
    public static bool IsCursor(string? text) =>
        text is { Length: > 20 } && text[19] == '-' && long.TryParse(text.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out _)
        && text.Skip(20).All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    /// <summary>A row of <c>HelperHistory</c>: the check's result, and the routing change it made (the From… and To… columns, absent when none).</summary>
    private sealed class HistoryEntity : StoredEntity
    {
        public DateTimeOffset? At { get; set; }
        public string? Outcome { get; set; }
        public string? Addresses { get; set; }
        public int? Ttl { get; set; }
        public string? Reason { get; set; }
        public string? FromMode { get; set; }
        public string? FromHost { get; set; }
        public int? FromPort { get; set; }
        public string? ToMode { get; set; }
        public string? ToHost { get; set; }
        public int? ToPort { get; set; }
    }
}
