using Azure;
using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.IpHelpers;

/// <summary>Writing the results of checks onto their helpers: each merge over the ETag the check decided from.</summary>
public sealed partial class HelperStore
{
    /// <summary>
    /// Records a check on the helper: its status, next check, index entry and decision, merged over the row if it still
    /// has <paramref name="ifMatch"/> (the settings and everything else are left as they are, so no read is needed).
    /// Returns the row's new ETag; null when the helper changed or went meanwhile. The caller adds the new index entry
    /// before this write and removes the old one after it (<see cref="Scheduling.DueIndex.MoveAsync"/>), so a crash in
    /// between leaves at worst a stale entry.
    /// </summary>
    public async Task<ETag?> TryRecordCheckAsync(IpHelper updated, ETag ifMatch, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Table.UpdateEntityAsync(CheckEntity(updated), ifMatch, TableUpdateMode.Merge, cancellationToken);
            return response.Headers.ETag!.Value;
        }
        catch (RequestFailedException e) when (Retry.IsConflict(e) || e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Records many checks as <see cref="TryRecordCheckAsync"/> does each, in fewer writes: the helpers of one account
    /// share a partition, so theirs go in one table transaction (up to a hundred), each merge over its own ETag. The
    /// transaction is all or nothing: when any helper changed meanwhile (an API edit, "check now", another worker), none
    /// is written, and that group is recorded helper by helper, so the changed ones fail alone and the rest are recorded.
    /// Returns the new ETag of each, in order; null where the helper changed or went.
    /// </summary>
    public async Task<IReadOnlyList<ETag?>> TryRecordChecksAsync(IReadOnlyList<(IpHelper Updated, ETag IfMatch)> checks, CancellationToken cancellationToken)
    {
        var etags = new ETag?[checks.Count];
        await Task.WhenAll(Groups(checks).Select(async group =>
        {
            if (group.Count > 1)
            {
                try
                {
                    var response = await Table.SubmitTransactionAsync(
                        group.Select(i => new TableTransactionAction(TableTransactionActionType.UpdateMerge, CheckEntity(checks[i].Updated), checks[i].IfMatch)),
                        cancellationToken);
                    for (var j = 0; j < group.Count; j++)
                    {
                        etags[group[j]] = response.Value[j].Headers.ETag!.Value;
                    }
                    return;
                }
                catch (RequestFailedException e) when (Retry.IsConflict(e) || e.Status == 404)
                {
                    // One of them changed or went: nothing was written; each on its own below.
                }
            }
            await Task.WhenAll(group.Select(async i => etags[i] = await TryRecordCheckAsync(checks[i].Updated, checks[i].IfMatch, cancellationToken)));
        }));
        return etags;
    }

    /// <summary>Indexes of <paramref name="checks"/> by transaction: one partition (account) each, at most a hundred, no helper twice.</summary>
    private static IEnumerable<List<int>> Groups(IReadOnlyList<(IpHelper Updated, ETag IfMatch)> checks)
    {
        foreach (var account in Enumerable.Range(0, checks.Count).GroupBy(i => checks[i].Updated.AccountId, StringComparer.Ordinal))
        {
            var group = new List<int>();
            var rows = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in account)
            {
                if (group.Count == 100 || !rows.Add(checks[i].Updated.Domain.Value))
                {
                    yield return group;
                    group = [];
                    rows = [checks[i].Updated.Domain.Value];
                }
                group.Add(i);
            }
            yield return group;
        }
    }

    /// <summary>The columns a check writes; a merge leaves out what it does not name, and a null names nothing: an empty value stands for "none".</summary>
    private static TableEntity CheckEntity(IpHelper updated)
    {
        var full = ToEntity(updated);
        var (partition, row) = KeysOf(updated.AccountId, updated.Domain);
        var entity = new TableEntity(partition, row);
        foreach (var name in CheckColumns)
        {
            entity[name] = full.TryGetValue(name, out var value) && value is not null ? value : name == "Ttl" ? NoTtl : "";
        }
        return entity;
    }

    private const int NoTtl = -1;

    private static readonly string[] CheckColumns =
    [
        "LastCheck", "LastOutcome", "Addresses", "Ttl", "Reason", "NextCheck", "CheckRequested", "IndexBucket", "IndexNonce",
        "LastCheckToken", "LastCheckNotable", "Change", "Updated",
    ];
}
