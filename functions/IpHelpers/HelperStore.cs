using System.Net;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RelayFunctions.Domains;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.IpHelpers;

/// <summary>
/// IP address helpers in Table storage (<c>Helpers</c>: account / domain), each with exactly one entry in the
/// <see cref="ScheduleIndex"/>. Moving a helper in the index always adds the new entry before the helper
/// names it and removes the old one after, so a crash leaves at worst a stale entry, never an orphaned helper.
/// </summary>
public sealed partial class HelperStore(StorageClients storage, ScheduleIndex index, TimeProvider time, ILogger<HelperStore> logger)
{
    private TableClient Table => storage.Table(StorageNames.Helpers);

    public async Task<IpHelper?> FindAsync(string accountId, DomainName domain, CancellationToken cancellationToken)
    {
        var (partition, row) = KeysOf(accountId, domain);
        var response = await Table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return response.HasValue ? Read(response.Value!) : null;
    }

    public async Task<IReadOnlyList<IpHelper>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        var result = new List<IpHelper>();
        await foreach (var e in Table.QueryAsync<TableEntity>(e => e.PartitionKey == accountId, cancellationToken: cancellationToken))
        {
            if (Read(e) is { } helper)
            {
                result.Add(helper);
            }
        }
        return result;
    }

    /// <summary>Creates a helper, due at the next tick. False if the domain already has one.</summary>
    public async Task<IpHelper?> AddAsync(string accountId, DomainName domain, HelperSettings settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var bucket = index.DueNowBucket(now, accountId, domain);
        var nonce = ScheduleIndex.NewNonce();
        await index.AddAsync(bucket, accountId, domain, nonce, cancellationToken);
        var helper = new IpHelper(accountId, domain, settings, HelperStatus.NeverChecked, now, true, bucket, nonce, null, false, null, now, now, default);
        try
        {
            var response = await Table.AddEntityAsync(ToEntity(helper), cancellationToken);
            return helper with { ETag = response.Headers.ETag!.Value };
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await index.RemoveAsync(bucket, accountId, domain.Value, nonce, cancellationToken);
            return null;
        }
    }

    /// <summary>
    /// Writes <paramref name="updated"/> if the stored helper still has <paramref name="expected"/>'s ETag,
    /// moving its index entry (under a new nonce) when the bucket changed. Null when someone else changed it first.
    /// </summary>
    public async Task<IpHelper?> TryReplaceAsync(IpHelper expected, IpHelper updated, CancellationToken cancellationToken)
    {
        var moved = updated.IndexBucket != expected.IndexBucket;
        if (moved)
        {
            updated = updated with { IndexNonce = ScheduleIndex.NewNonce() };
            await index.AddAsync(updated.IndexBucket, updated.AccountId, updated.Domain, updated.IndexNonce, cancellationToken);
        }
        else
        {
            updated = updated with { IndexNonce = expected.IndexNonce };
        }
        updated = updated with { Updated = time.GetUtcNow() };
        try
        {
            var response = await Table.UpdateEntityAsync(ToEntity(updated), expected.ETag, TableUpdateMode.Replace, cancellationToken);
            if (moved)
            {
                await index.RemoveAsync(expected.IndexBucket, expected.AccountId, expected.Domain.Value, expected.IndexNonce, cancellationToken);
            }
            return updated with { ETag = response.Headers.ETag!.Value };
        }
        catch (RequestFailedException e) when (Retry.IsConflict(e) || e.Status == 404)
        {
            if (moved)
            {
                // Only our own entry: its nonce is ours alone.
                await index.RemoveAsync(updated.IndexBucket, updated.AccountId, updated.Domain.Value, updated.IndexNonce, cancellationToken);
            }
            return null;
        }
    }

    /// <summary>
    /// Changes the helper's ETag and nothing else: the domain's routing was edited, so the state its index entry carries
    /// (the routing its last check saw) no longer holds, and the next check reads the domain again.
    /// </summary>
    public async Task TouchAsync(string accountId, DomainName domain, CancellationToken cancellationToken)
    {
        try
        {
            var (partition, row) = KeysOf(accountId, domain);
            await Table.UpdateEntityAsync(new TableEntity(partition, row) { ["Updated"] = time.GetUtcNow() }, ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    /// <summary>
    /// Deletes the helper (if <paramref name="ifMatch"/> still holds) and its index entry. <see cref="DeleteResult.Deleted"/>
    /// for exactly one of any number of racing callers.
    /// </summary>
    public async Task<DeleteResult> RemoveAsync(IpHelper helper, ETag ifMatch, CancellationToken cancellationToken)
    {
        var result = await Table.TryDeleteAsync(KeysOf(helper.AccountId, helper.Domain), ifMatch, cancellationToken);
        if (result != DeleteResult.Changed)
        {
            // Also when it was gone: its entry may be left over from a remover that stopped half-way.
            await index.RemoveAsync(helper.IndexBucket, helper.AccountId, helper.Domain.Value, helper.IndexNonce, cancellationToken);
        }
        return result;
    }

    /// <summary>Removes a domain's helper whatever its state: the domain left the modes a helper serves, or is gone.</summary>
    public async Task RemoveForDomainAsync(string accountId, DomainName domain, CancellationToken cancellationToken)
    {
        if (await FindAsync(accountId, domain, cancellationToken) is { } helper)
        {
            await RemoveAsync(helper, ETag.All, cancellationToken);
        }
    }

    /// <summary>The one place a helper row's keys come from: its account's partition, its domain's name.</summary>
    private static (string PartitionKey, string RowKey) KeysOf(string accountId, DomainName domain) => (accountId, domain.Value);

    /// <summary>The helper a row holds; null, logged, for a row this version cannot read (see <see cref="TryFromEntity"/>).</summary>
    private IpHelper? Read(TableEntity e) => logger.ReadRow(StorageNames.Helpers, e, TryFromEntity);

    internal static TableEntity ToEntity(IpHelper h)
    {
        var (partition, row) = KeysOf(h.AccountId, h.Domain);
        return new TableEntity(partition, row)
        {
            ["Host"] = h.Settings.Host.Value,
            ["Port"] = h.Settings.Port,
            ["AlertOnChange"] = h.Settings.AlertOnChange,
            ["AllowIpv6"] = h.Settings.AllowIpv6,
            ["LastCheck"] = h.Status.LastCheck,
            ["LastOutcome"] = h.Status.LastOutcome is { } k ? CheckOutcome.Name(k) : null,
            ["Addresses"] = JsonSerializer.Serialize(h.Status.Addresses.Select(a => a.ToString())),
            ["Ttl"] = h.Status.Ttl,
            ["Reason"] = h.Status.Reason,
            ["NextCheck"] = h.NextCheck,
            ["CheckRequested"] = h.CheckRequested,
            ["IndexBucket"] = h.IndexBucket,
            ["IndexNonce"] = h.IndexNonce,
            ["LastCheckToken"] = h.LastCheckToken,
            ["LastCheckNotable"] = h.LastCheckNotable,
            ["Change"] = h.Change is null ? null : JsonSerializer.Serialize(StoredChange.From(h.Change)),
            ["Created"] = h.Created,
            ["Updated"] = h.Updated,
        };
    }

    /// <summary>
    /// Null for a row whose domain or host is not a name in its canonical form today (written under looser rules): such
    /// a helper is never shown nor checked, and a check due for it removes its index entry instead of failing forever.
    /// </summary>
    private static IpHelper? TryFromEntity(TableEntity e)
    {
        if (!DomainName.TryParse(e.RowKey, out var domain, out _) || domain.Value != e.RowKey
            || !DomainName.TryParse(e.GetString("Host"), out var host, out _) || host.Value != e.GetString("Host"))
        {
            return null;
        }
        // Empty strings and a negative TTL stand for "none" (see TryRecordCheckAsync).
        string? Text(string column) => e.GetString(column) is { Length: > 0 } text ? text : null;
        var lastOutcome = Text("LastOutcome");
        Enum.TryParse<OutcomeKind>(lastOutcome, ignoreCase: true, out var outcome);
        var addresses = JsonSerializer.Deserialize<string[]>(Text("Addresses") ?? "[]")!.Select(IPAddress.Parse).ToList();
        var status = new HelperStatus(
            e.GetDateTimeOffset("LastCheck"), lastOutcome is null ? null : outcome, addresses, e.GetInt32("Ttl") is >= 0 and var ttl ? ttl : null, Text("Reason"));
        var change = Text("Change") is { } json ? JsonSerializer.Deserialize<StoredChange>(json)!.ToChange() : null;
        return new IpHelper(
            e.PartitionKey, domain,
            new HelperSettings(host, e.GetInt32("Port") ?? 25, e.GetBoolean("AlertOnChange") ?? false, e.GetBoolean("AllowIpv6") ?? false),
            status, e.GetDateTimeOffset("NextCheck") ?? default, e.GetBoolean("CheckRequested") ?? false, e.GetString("IndexBucket"), e.GetString("IndexNonce") ?? "",
            Text("LastCheckToken"), e.GetBoolean("LastCheckNotable") ?? false, change,
            e.GetDateTimeOffset("Created") ?? default, e.GetDateTimeOffset("Updated") ?? default, e.ETag);
    }

    private sealed record StoredChange(string FromMode, string? FromHost, int? FromPort, string ToMode, string? ToHost, int? ToPort, DateTimeOffset At)
    {
        public static StoredChange From(PendingChange c) => new(
            DomainModes.ToName(c.From.Mode), c.From.Destination?.Host, c.From.Destination?.Port,
            DomainModes.ToName(c.To.Mode), c.To.Destination?.Host, c.To.Destination?.Port, c.At);

        public PendingChange ToChange() =>
            new(Routing.FromStored(FromMode, FromHost, FromPort)!, Routing.FromStored(ToMode, ToHost, ToPort)!, At);
    }
}
