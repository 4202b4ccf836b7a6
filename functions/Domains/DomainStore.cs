using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RelayFunctions.Api;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;

namespace RelayFunctions.Domains;

/// <summary>
/// Mail domains in Table storage. A domain lives in its account's partition (<c>Domains</c>: account / name), so
/// every read is scoped by construction; global uniqueness comes from a claim per name (<c>DomainClaims</c>:
/// name / "claim" → account) taken before the domain is written and dropped after it is deleted. Every write
/// changes the relay map, so every successful write marks it dirty here, whoever the writer is.
/// </summary>
public sealed class DomainStore(StorageClients storage, StorageInitializer initializer, MapChanges map, TimeProvider time)
{
    /// <summary>Recipient lists are kept as JSON split over string properties of at most 32K characters.</summary>
    public const int MaxRecipientCharacters = 12 * ChunkSize;
    private const int ChunkSize = 32_000;
    private const string ClaimRow = "claim";

    private TableClient Domains => storage.Table("Domains");
    private TableClient Claims => storage.Table("DomainClaims");

    public async Task<IReadOnlyList<MailDomain>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var result = new List<MailDomain>();
        await foreach (var entity in Domains.QueryAsync<TableEntity>(e => e.PartitionKey == accountId, cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(entity));
        }
        return result;
    }

    public async Task<MailDomain?> FindAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var response = await Domains.GetEntityIfExistsAsync<TableEntity>(accountId, name.Value, cancellationToken: cancellationToken);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    public async Task<Outcome<MailDomain>> CreateAsync(string accountId, DomainName name, DomainSettings settings, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        if (!await ClaimAsync(accountId, name, cancellationToken))
        {
            return new Outcome<MailDomain>.Conflict($"{name} is already registered to another account.");
        }
        var now = time.GetUtcNow();
        var entity = ToEntity(accountId, name, settings, now, now);
        try
        {
            var response = await Domains.AddEntityAsync(entity, cancellationToken);
            await map.MarkDirtyAsync($"domain {name} created", cancellationToken);
            return new Outcome<MailDomain>.Ok(FromEntity(entity, response.Headers.ETag!.Value), Created: true);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return new Outcome<MailDomain>.Conflict($"You already have {name}.");
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current domain. With an If-Match the caller's tag must still be
    /// current; without one, a concurrent writer only makes us read again and re-apply the change.
    /// </summary>
    public Task<Outcome<MailDomain>> UpdateAsync(
        string accountId, DomainName name, ETag? ifMatch, Func<MailDomain, Outcome<DomainSettings>> change,
        CancellationToken cancellationToken) =>
        Retry.OnStaleAsync<Outcome<MailDomain>>(async () =>
        {
            var current = await FindAsync(accountId, name, cancellationToken);
            if (current is null)
            {
                return new Outcome<MailDomain>.NotFound();
            }
            if (!EntityTags.Satisfied(ifMatch, current.ETag))
            {
                return new Outcome<MailDomain>.Stale();
            }
            switch (change(current))
            {
                case Outcome<DomainSettings>.Ok ok:
                    var entity = ToEntity(accountId, name, ok.Value, current.Created, time.GetUtcNow());
                    try
                    {
                        var response = await Domains.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, cancellationToken);
                        await map.MarkDirtyAsync($"domain {name} changed", cancellationToken);
                        return new Outcome<MailDomain>.Ok(FromEntity(entity, response.Headers.ETag!.Value));
                    }
                    catch (RequestFailedException e) when (Retry.IsConflict(e))
                    {
                        return ifMatch is null || ifMatch == ETag.All ? null : new Outcome<MailDomain>.Stale();
                    }
                case Outcome<DomainSettings>.Invalid invalid:
                    return new Outcome<MailDomain>.Invalid(invalid.Errors);
                case Outcome<DomainSettings>.Conflict conflict:
                    return new Outcome<MailDomain>.Conflict(conflict.Reason);
                default:
                    throw new InvalidOperationException("A domain change must answer Ok, Invalid or Conflict.");
            }
        }, () => new Outcome<MailDomain>.Conflict("The domain is being changed by someone else; try again."));

    public async Task<Outcome<MailDomain>> DeleteAsync(string accountId, DomainName name, ETag? ifMatch, CancellationToken cancellationToken)
    {
        var current = await FindAsync(accountId, name, cancellationToken);
        if (current is null)
        {
            return new Outcome<MailDomain>.NotFound();
        }
        if (!EntityTags.Satisfied(ifMatch, current.ETag))
        {
            return new Outcome<MailDomain>.Stale();
        }
        try
        {
            await Domains.DeleteEntityAsync(accountId, name.Value, ifMatch is null || ifMatch == ETag.All ? ETag.All : current.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return new Outcome<MailDomain>.Stale();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return new Outcome<MailDomain>.NotFound();
        }
        await map.MarkDirtyAsync($"domain {name} deleted", cancellationToken);
        await ReleaseClaimAsync(accountId, name, cancellationToken);
        return new Outcome<MailDomain>.Ok(current);
    }

    /// <summary>
    /// Takes the global claim on a name for an account. A claim the same account already holds counts as
    /// taken (it is left over from a create that stopped half-way, or the domain exists and the insert says so).
    /// </summary>
    private async Task<bool> ClaimAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(name.Value, ClaimRow) { ["Account"] = accountId };
        try
        {
            await Claims.AddEntityAsync(claim, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var existing = await Claims.GetEntityIfExistsAsync<TableEntity>(name.Value, ClaimRow, cancellationToken: cancellationToken);
            if (!existing.HasValue)
            {
                return await ClaimAsync(accountId, name, cancellationToken);
            }
            return existing.Value!.GetString("Account") == accountId;
        }
    }

    private async Task ReleaseClaimAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var existing = await Claims.GetEntityIfExistsAsync<TableEntity>(name.Value, ClaimRow, cancellationToken: cancellationToken);
        if (existing.HasValue && existing.Value!.GetString("Account") == accountId)
        {
            try
            {
                await Claims.DeleteEntityAsync(name.Value, ClaimRow, existing.Value.ETag, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
    }

    internal static TableEntity ToEntity(string accountId, DomainName name, DomainSettings s, DateTimeOffset created, DateTimeOffset updated)
    {
        var entity = new TableEntity(accountId, name.Value)
        {
            ["Mode"] = DomainModes.ToName(s.Mode),
            ["DestinationHost"] = s.Destination?.Host,
            ["DestinationPort"] = s.Destination?.Port,
            ["MessageSizeLimit"] = s.MessageSizeLimit,
            ["Created"] = created,
            ["Updated"] = updated,
        };
        var json = JsonSerializer.Serialize(s.Recipients);
        var chunks = json.Chunk(ChunkSize).Select(c => new string(c)).ToArray();
        entity["RecipientChunks"] = chunks.Length;
        for (var i = 0; i < chunks.Length; i++)
        {
            entity[$"Recipients{i}"] = chunks[i];
        }
        return entity;
    }

    /// <summary>Also for readers of the whole table (the relay map publisher).</summary>
    internal static MailDomain FromEntity(TableEntity e) => FromEntity(e, e.ETag);

    private static MailDomain FromEntity(TableEntity e, ETag etag)
    {
        DomainModes.TryParse(e.GetString("Mode"), out var mode);
        var host = e.GetString("DestinationHost");
        var port = e.GetInt32("DestinationPort");
        var json = new StringBuilder();
        for (var i = 0; i < (e.GetInt32("RecipientChunks") ?? 0); i++)
        {
            json.Append(e.GetString($"Recipients{i}"));
        }
        var recipients = json.Length == 0 ? [] : JsonSerializer.Deserialize<string[]>(json.ToString()) ?? [];
        var settings = new DomainSettings(
            mode,
            host is not null && port is not null ? new Destination(host, port.Value) : null,
            recipients,
            e.GetInt64("MessageSizeLimit") ?? DomainSettings.DefaultMessageSizeLimit);
        return new MailDomain(
            e.PartitionKey, DomainName.Parse(e.RowKey), settings,
            e.GetDateTimeOffset("Created") ?? default, e.GetDateTimeOffset("Updated") ?? default, etag);
    }
}
