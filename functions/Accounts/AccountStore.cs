using Azure;
using Azure.Data.Tables;
using RelayFunctions.Api;
using RelayFunctions.Storage;

namespace RelayFunctions.Accounts;

/// <summary>Accounts in Table storage: partition = account id, one row.</summary>
public sealed class AccountStore(StorageClients storage, RelayMap.MapChanges map, TimeProvider time)
{
    /// <summary>The one place a row's keys come from: the account's own partition, one row.</summary>
    private static (string PartitionKey, string RowKey) Keys(string accountId) => (accountId, "account");

    private TableClient Table => storage.Table(StorageNames.Accounts);

    public async Task<Account?> FindAsync(string accountId, CancellationToken cancellationToken)
    {
        var (partition, row) = Keys(accountId);
        var response = await Table.GetEntityIfExistsAsync<AccountEntity>(partition, row, cancellationToken: cancellationToken);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    /// <summary>An operator creates an account or replaces its settings.</summary>
    public Task<Outcome<Account>> PutAsync(string accountId, AccountSettings settings, ETag? ifMatch, CancellationToken cancellationToken) =>
        Retry.OnStaleAsync<Outcome<Account>>(async () =>
        {
            var current = await FindAsync(accountId, cancellationToken);
            var now = time.GetUtcNow();
            if (current is null)
            {
                if (ifMatch is { } tag && tag != ETag.All)
                {
                    return new Outcome<Account>.Stale();
                }
                var entity = ToEntity(accountId, settings, now, now);
                try
                {
                    var added = await Table.AddEntityAsync(entity, cancellationToken);
                    return new Outcome<Account>.Ok(FromEntity(entity, added.Headers.ETag!.Value), Created: true);
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    return null;
                }
            }
            return await ReplaceAsync(current, settings, ifMatch, now, cancellationToken);
        }, () => new Outcome<Account>.Conflict("The account is being changed by someone else; try again."));

    /// <summary>The owner changes its preferences (alert and postmaster addresses).</summary>
    public Task<Outcome<Account>> UpdatePreferencesAsync(
        string accountId, ETag? ifMatch, Func<Account, AccountSettings> change, CancellationToken cancellationToken) =>
        Conditional.ChangeAsync("account", ifMatch, () => FindAsync(accountId, cancellationToken), a => a.ETag,
            current => ReplaceAsync(current, change(current), ifMatch, time.GetUtcNow(), cancellationToken));

    private async Task<Outcome<Account>?> ReplaceAsync(
        Account current, AccountSettings settings, ETag? ifMatch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!EntityTags.Satisfied(ifMatch, current.ETag))
        {
            return new Outcome<Account>.Stale();
        }
        var entity = ToEntity(current.Id, settings, current.Created, now);
        try
        {
            var response = await Table.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, cancellationToken);
            // The relays' submission filter and policy read the postmaster address (or the primary one) and the quota.
            if (settings.ServiceLevel != current.ServiceLevel || settings.PrimaryEmail != current.PrimaryEmail || settings.PostmasterEmail != current.PostmasterEmail)
            {
                // The account is changed: the relays must hear of it even if the caller hung up or its deadline passed.
                await map.MarkOutboundAsync($"account {current.Id} changed", CancellationToken.None);
            }
            return new Outcome<Account>.Ok(FromEntity(entity, response.Headers.ETag!.Value));
        }
        catch (RequestFailedException e) when (Retry.IsConflict(e))
        {
            return Conditional.LostRace<Account>(ifMatch);
        }
    }

    private static AccountEntity ToEntity(string id, AccountSettings s, DateTimeOffset created, DateTimeOffset updated)
    {
        var (partition, row) = Keys(id);
        return new AccountEntity
        {
            PartitionKey = partition,
            RowKey = row,
            ServiceLevel = ServiceLevels.ToName(s.ServiceLevel),
            PrimaryEmail = s.PrimaryEmail.ToString(),
            AlertEmail = s.AlertEmail?.ToString(),
            PostmasterEmail = s.PostmasterEmail?.ToString(),
            Created = created,
            Updated = updated,
        };
    }

    private static Account FromEntity(AccountEntity e) => FromEntity(e, e.ETag);

    private static Account FromEntity(AccountEntity e, ETag etag)
    {
        ServiceLevels.TryParse(e.ServiceLevel, out var level);
        return new Account(
            e.PartitionKey, level, Email(e.PrimaryEmail)!, Email(e.AlertEmail), Email(e.PostmasterEmail), e.Created ?? default, e.Updated ?? default, etag);
    }

    private static EmailAddress? Email(string? stored) =>
        EmailAddress.TryParse(stored, out var address, out _) ? address : null;

    /// <summary>A row of <c>Accounts</c>; the column names are those rows have always had.</summary>
    private sealed class AccountEntity : StoredEntity
    {
        public string? ServiceLevel { get; set; }
        public string? PrimaryEmail { get; set; }
        public string? AlertEmail { get; set; }
        public string? PostmasterEmail { get; set; }
        public DateTimeOffset? Created { get; set; }
        public DateTimeOffset? Updated { get; set; }
    }
}
