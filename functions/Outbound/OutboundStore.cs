using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.RelayMap;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Outbound;

/// <summary>
/// Outbound accounts in Table storage (<c>OutboundAccounts</c>: account / login), each login held globally by one account
/// (<c>OutboundLogins</c>: login / "login" → account, taken before the account is written and dropped after it is
/// deleted). Every write changes what the relays let through, so every successful write marks the relay map dirty
/// here. An account with host-name filters has one entry in the <see cref="FilterIndex"/>, moved as DNS answers.
/// </summary>
/// <remarks>
/// Once a write is stored, what must follow it (the relay map told, index entries and claims tidied) runs whatever
/// happens to the request (<see cref="CancellationToken.None"/>; each call is still bounded by the storage clients'
/// timeouts): a caller that hangs up, or a request deadline that passes, must not leave a deleted or disabled login
/// working on the relays.
/// </remarks>
public sealed partial class OutboundStore(
    StorageClients storage, MapChanges map, FilterIndex index, Hosting.Queues.QueueWriter queues, TimeProvider time,
    ILogger<OutboundStore> logger)
{

    /// <summary>How many removed BCC recipients an account remembers.</summary>
    public const int RemovedBccKept = 50;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TableClient Accounts => storage.Table(StorageNames.OutboundAccounts);
    private TableClient Logins => storage.Table(StorageNames.OutboundLogins);
    private TableClient Keys => storage.Table(StorageNames.OutboundKeys);

    /// <summary>The account and login an account key names (BCC bounces carry the key); null when none does.</summary>
    public async Task<(string AccountId, string Login)?> FindByKeyAsync(string key, CancellationToken cancellationToken)
    {
        if (!IsKey(key))
        {
            return null;
        }
        var (partition, rowKey) = KeyEntity.Keys(key);
        var row = await Keys.GetEntityIfExistsAsync<KeyEntity>(partition, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? (row.Value!.Account!, row.Value.Login!) : null;
    }

    public async Task<IReadOnlyList<OutboundAccount>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        var result = new List<OutboundAccount>();
        await foreach (var e in Accounts.QueryAsync<TableEntity>(e => e.PartitionKey == accountId, cancellationToken: cancellationToken))
        {
            if (Read(e) is { } account)
            {
                result.Add(account);
            }
        }
        return result;
    }

    public async Task<OutboundAccount?> FindAsync(string accountId, string login, CancellationToken cancellationToken)
    {
        if (!IsKey(login))
        {
            return null;
        }
        var (partition, row) = KeysOf(accountId, login);
        var response = await Accounts.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return response.HasValue ? Read(response.Value!) : null;
    }

    /// <summary>Creates the account, its login taken for good; Conflict when any account has that login.</summary>
    public async Task<Outcome<OutboundAccount>> CreateAsync(
        string accountId, NewOutboundAccount request, string passwordHash, CancellationToken cancellationToken)
    {
        if (!await ClaimAsync(accountId, request.Login, cancellationToken))
        {
            return new Outcome<OutboundAccount>.Conflict($"The login {request.Login} is taken.");
        }
        var now = time.GetUtcNow();
        var account = new OutboundAccount(accountId, request.Login, request.Type, request.Domain, request.Address, passwordHash,
            request.Settings, FilterResolution.None, BccRecipient.NewId() + BccRecipient.NewId()[..4],
            RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz234567", 20), [], now, now, default);
        account = account with { Resolution = await ScheduleAsync(account, FilterResolution.None with { NextLookup = now }, null, cancellationToken) };
        ETag etag;
        try
        {
            await Keys.AddEntityAsync(KeyEntity.For(account), cancellationToken);
            etag = (await Accounts.AddEntityAsync(ToEntity(account), cancellationToken)).Headers.ETag!.Value;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await UnscheduleAsync(account, cancellationToken);
            await Keys.TryDeleteAsync(KeyEntity.Keys(account.Key), ETag.All, cancellationToken);
            return new Outcome<OutboundAccount>.Conflict($"You already have the login {request.Login}.");
        }
        await map.MarkOutboundAsync($"outbound account {request.Login} created", CancellationToken.None);
        await LookUpNowAsync(account);
        return new Outcome<OutboundAccount>.Ok(account with { ETag = etag }, Created: true);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current account (settings, password): with an If-Match the caller's tag
    /// must still be current; without one a concurrent writer makes us read again and re-apply. Null from the change:
    /// nothing to write.
    /// </summary>
    public Task<Outcome<OutboundAccount>> UpdateAsync(
        string accountId, string login, ETag? ifMatch, Func<OutboundAccount, Outcome<OutboundAccount>?> change, CancellationToken cancellationToken) =>
        Change(accountId, login, ifMatch, async current =>
        {
            var proposed = change(current);
            if (proposed is not Outcome<OutboundAccount>.Ok { Value: var next })
            {
                return proposed ?? new Outcome<OutboundAccount>.Ok(current);
            }
            return await WriteAsync(current, next with { Updated = time.GetUtcNow() }, cancellationToken) ?? Conditional.LostRace<OutboundAccount>(ifMatch);
        }, cancellationToken);

    /// <summary>Records a host-name lookup's result, if the account is still the one that was looked up.</summary>
    public async Task<OutboundAccount?> TryRecordResolutionAsync(OutboundAccount looked, FilterResolution resolution, CancellationToken cancellationToken) =>
        await WriteAsync(looked, looked with { Resolution = resolution }, cancellationToken) is Outcome<OutboundAccount>.Ok ok ? ok.Value : null;

    /// <summary>Deletes the account: exactly one of any number of racing callers gets Ok, and only it frees the login.</summary>
    public Task<Outcome<OutboundAccount>> DeleteAsync(string accountId, string login, ETag? ifMatch, CancellationToken cancellationToken) =>
        Change(accountId, login, ifMatch, async current =>
        {
            switch (await Accounts.TryDeleteAsync(KeysOf(accountId, login), current.ETag, cancellationToken))
            {
                case DeleteResult.Gone:
                    return new Outcome<OutboundAccount>.NotFound();
                case DeleteResult.Changed:
                    return Conditional.LostRace<OutboundAccount>(ifMatch);
            }
            await map.MarkOutboundAsync($"outbound account {login} deleted", CancellationToken.None);
            await UnscheduleAsync(current, CancellationToken.None);
            await Keys.TryDeleteAsync(KeyEntity.Keys(current.Key), ETag.All, CancellationToken.None);
            await ReleaseAsync(accountId, login, CancellationToken.None);
            return new Outcome<OutboundAccount>.Ok(current);
        }, cancellationToken);

    /// <summary>The opening of every write of a stored outbound account (<see cref="Conditional"/>).</summary>
    private Task<Outcome<OutboundAccount>> Change(
        string accountId, string login, ETag? ifMatch, Func<OutboundAccount, Task<Outcome<OutboundAccount>?>> write, CancellationToken cancellationToken) =>
        Conditional.ChangeAsync("outbound account", ifMatch, () => FindAsync(accountId, login, cancellationToken), a => a.ETag, write);

    /// <summary>Every account, for the relay map.</summary>
    public async IAsyncEnumerable<OutboundAccount> AllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in Accounts.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (Read(e) is { } account)
            {
                yield return account;
            }
        }
    }

    private async Task<Outcome<OutboundAccount>?> WriteAsync(OutboundAccount current, OutboundAccount next, CancellationToken cancellationToken)
    {
        next = next with { Resolution = await ScheduleAsync(next, next.Resolution, current.Resolution, cancellationToken) };
        try
        {
            var response = await Accounts.UpdateEntityAsync(ToEntity(next), current.ETag, TableUpdateMode.Replace, cancellationToken);
            if (OutboundTables.Build([current]) != OutboundTables.Build([next]) || SubmissionChanged(current, next))
            {
                await map.MarkOutboundAsync($"outbound account {current.Login} changed", CancellationToken.None);
            }
            if (next.Resolution.IndexNonce != current.Resolution.IndexNonce)
            {
                await UnscheduleAsync(current, CancellationToken.None);
                await LookUpNowAsync(next);
            }
            return new Outcome<OutboundAccount>.Ok(next with { ETag = response.Headers.ETag!.Value });
        }
        catch (RequestFailedException e) when (Retry.IsConflict(e) || e.Status == 404)
        {
            if (next.Resolution.IndexNonce != current.Resolution.IndexNonce)
            {
                await UnscheduleAsync(next, cancellationToken);
            }
            return e.Status == 404 ? new Outcome<OutboundAccount>.NotFound() : null;
        }
    }

    /// <summary>What the relay's submission filter and policy read of the account (<see cref="OutboundTables.SubmissionData"/>) changed.</summary>
    private static bool SubmissionChanged(OutboundAccount current, OutboundAccount next) =>
        !current.Settings.BccRecipients.SequenceEqual(next.Settings.BccRecipients)
        || !current.Settings.Mirrors.SequenceEqual(next.Settings.Mirrors)
        || current.Settings.SubmissionErrors != next.Settings.SubmissionErrors
        || current.Key != next.Key || current.MirrorToken != next.MirrorToken;

    /// <summary>
    /// The index entry the account's host-name lookups need: due at <see cref="FilterResolution.NextLookup"/> when it has
    /// host-name filters, none otherwise. A new entry is added before the account names it, as for helpers.
    /// </summary>
    private async Task<FilterResolution> ScheduleAsync(
        OutboundAccount account, FilterResolution next, FilterResolution? current, CancellationToken cancellationToken)
    {
        if (!account.Settings.Filters.HasHosts)
        {
            return next with { Addresses = new Dictionary<FilterSlot, IReadOnlyList<IPAddress>>(), NextLookup = null, IndexBucket = null, IndexNonce = null };
        }
        var now = time.GetUtcNow();
        var due = next.NextLookup ?? now;
        var bucket = due <= now ? index.DueNowBucket(now, account.AccountId, account.Login) : index.BucketFor(due, account.AccountId, account.Login);
        if (current is { IndexNonce: not null } && bucket == current.IndexBucket)
        {
            return next with { NextLookup = due, IndexBucket = bucket, IndexNonce = current.IndexNonce };
        }
        var nonce = DueIndex.NewNonce();
        await index.AddAsync(bucket, account.AccountId, account.Login, nonce, cancellationToken);
        return next with { NextLookup = due, IndexBucket = bucket, IndexNonce = nonce };
    }

    /// <summary>
    /// A lookup due now (a new login's host-name filters, or filters just changed) is asked for at once, with the message a
    /// tick would send: the login works seconds after the API answers instead of after the next tick. The tick may send
    /// its own as well; the second lookup finds the entry moved on and changes nothing. Best effort: the write is stored,
    /// and if the message cannot be sent the next tick sends one.
    /// </summary>
    private async Task LookUpNowAsync(OutboundAccount account)
    {
        if (account.Resolution is { IndexBucket: { } bucket, IndexNonce: { } nonce, NextLookup: { } due } && due <= time.GetUtcNow())
        {
            var request = new CheckRequest(account.AccountId, account.Login, bucket, nonce, Guid.NewGuid().ToString("N"));
            try
            {
                await queues.SendAsync(StorageNames.FilterLookupsQueue, request.ToJson(), cancellationToken: CancellationToken.None);
            }
            catch (Exception e) when (StorageFailure.IsUnavailable(e) || e is RequestFailedException)
            {
                Log.LookupNotQueued(logger, e, account.Login);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "The first filter lookup of {Login} could not be queued; the next tick queues it")]
        public static partial void LookupNotQueued(ILogger logger, Exception exception, string login);
    }

    private Task UnscheduleAsync(OutboundAccount account, CancellationToken cancellationToken) =>
        account.Resolution is { IndexBucket: { } bucket, IndexNonce: { } nonce }
            ? index.RemoveAsync(bucket, account.AccountId, account.Login, nonce, cancellationToken)
            : Task.CompletedTask;

    private async Task<bool> ClaimAsync(string accountId, string login, CancellationToken cancellationToken)
    {
        try
        {
            await Logins.AddEntityAsync(LoginEntity.For(login, accountId), cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Left by a create of the same account that stopped half-way: it is still ours.
            var (partition, row) = LoginEntity.Keys(login);
            var existing = await Logins.GetEntityIfExistsAsync<LoginEntity>(partition, row, cancellationToken: cancellationToken);
            var (accountPartition, accountRow) = KeysOf(accountId, login);
            return existing.HasValue && existing.Value!.Account == accountId
                && !(await Accounts.GetEntityIfExistsAsync<TableEntity>(accountPartition, accountRow, ["PartitionKey"], cancellationToken)).HasValue;
        }
    }

    private async Task ReleaseAsync(string accountId, string login, CancellationToken cancellationToken)
    {
        var (partition, row) = LoginEntity.Keys(login);
        var existing = await Logins.GetEntityIfExistsAsync<LoginEntity>(partition, row, cancellationToken: cancellationToken);
        if (existing.HasValue && existing.Value!.Account == accountId)
        {
            await Logins.TryDeleteAsync(LoginEntity.Keys(login), existing.Value.ETag, cancellationToken);
        }
    }

    /// <summary>Table keys allow no '/', '\', '#', '?' nor control characters; no login has them.</summary>
    private static bool IsKey(string login) => login.Length is > 0 and <= 255 && !login.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));

    /// <summary>The one place an outbound account's keys come from: its account's partition, the login.</summary>
    private static (string PartitionKey, string RowKey) KeysOf(string accountId, string login) => (accountId, login);

    /// <summary>The account a row holds; null, logged, for a row this version cannot read (it is never shown nor published).</summary>
    private OutboundAccount? Read(TableEntity e) => logger.ReadRow(StorageNames.OutboundAccounts, e, TryFromEntity);

    private static TableEntity ToEntity(OutboundAccount a)
    {
        var (partition, row) = KeysOf(a.AccountId, a.Login);
        return new TableEntity(partition, row)
        {
            ["Type"] = OutboundTypes.ToName(a.Type),
            ["Domain"] = a.Domain.Value,
            ["Address"] = a.Address?.ToString(),
            ["PasswordHash"] = a.PasswordHash,
            ["Enabled"] = a.Settings.Enabled,
            ["Filters"] = JsonSerializer.Serialize(StoredFilters.From(a.Settings.Filters), Json),
            ["AllowIdentities"] = a.Settings.AllowIdentities,
            ["AllowSubdomains"] = a.Settings.AllowSubdomains,
            ["Bcc"] = JsonSerializer.Serialize(a.Settings.BccRecipients.Select(b => new StoredBcc(b.Address.ToString(), b.Id)), Json),
            ["Mirrors"] = JsonSerializer.Serialize(a.Settings.Mirrors.Select(m => m.ToString()), Json),
            ["SubmissionErrors"] = a.Settings.SubmissionErrors == SubmissionErrors.Always5xx ? "always-5xx" : "automatic",
            ["Key"] = a.Key,
            ["MirrorToken"] = a.MirrorToken,
            ["RemovedBcc"] = JsonSerializer.Serialize(a.RemovedBcc, Json),
            ["Resolved"] = JsonSerializer.Serialize(a.Resolution.Addresses.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.Select(ip => ip.ToString()).ToArray()), Json),
            ["LastLookup"] = a.Resolution.LastLookup,
            ["NextLookup"] = a.Resolution.NextLookup,
            ["LookupReason"] = a.Resolution.Reason,
            ["FilterBucket"] = a.Resolution.IndexBucket,
            ["FilterNonce"] = a.Resolution.IndexNonce,
            ["FilterCheckToken"] = a.Resolution.LastCheckToken,
            ["Created"] = a.Created,
            ["Updated"] = a.Updated,
        };
    }

    private static OutboundAccount? TryFromEntity(TableEntity e)
    {
        if (!OutboundTypes.TryParse(e.GetString("Type"), out var type) || !DomainName.TryParse(e.GetString("Domain"), out var domain, out _))
        {
            return null;
        }
        EmailAddress.TryParse(e.GetString("Address"), out var address, out _);
        var filters = JsonSerializer.Deserialize<StoredFilters>(e.GetString("Filters") ?? "{}", Json)?.ToFilters() ?? OutboundFilters.None;
        var resolved = (JsonSerializer.Deserialize<Dictionary<string, string[]>>(e.GetString("Resolved") ?? "{}", Json) ?? [])
            .Where(kv => Enum.TryParse<FilterSlot>(kv.Key, out _))
            .ToDictionary(kv => Enum.Parse<FilterSlot>(kv.Key), kv => (IReadOnlyList<IPAddress>)kv.Value.Select(IPAddress.Parse).ToList());
        var bcc = (JsonSerializer.Deserialize<StoredBcc[]>(e.GetString("Bcc") ?? "[]", Json) ?? [])
            .Select(b => EmailAddress.TryParse(b.Address, out var a, out _) ? new BccRecipient(a, b.Id) : null).OfType<BccRecipient>().ToList();
        var mirrors = (JsonSerializer.Deserialize<string[]>(e.GetString("Mirrors") ?? "[]", Json) ?? [])
            .Select(m => EmailAddress.TryParse(m, out var a, out _) ? a : null).OfType<EmailAddress>().ToList();
        var settings = new OutboundSettings(e.GetBoolean("Enabled") ?? false, filters, e.GetBoolean("AllowIdentities") ?? false, e.GetBoolean("AllowSubdomains") ?? false,
            bcc, mirrors, e.GetString("SubmissionErrors") == "always-5xx" ? SubmissionErrors.Always5xx : SubmissionErrors.Automatic);
        return new OutboundAccount(
            e.PartitionKey, e.RowKey, type, domain, address, e.GetString("PasswordHash") ?? "", settings,
            new FilterResolution(resolved, e.GetDateTimeOffset("LastLookup"), e.GetDateTimeOffset("NextLookup"), e.GetString("LookupReason"),
                e.GetString("FilterBucket"), e.GetString("FilterNonce"), e.GetString("FilterCheckToken")),
            e.GetString("Key") ?? "", e.GetString("MirrorToken") ?? "",
            JsonSerializer.Deserialize<RemovedBcc[]>(e.GetString("RemovedBcc") ?? "[]", Json) ?? [],
            e.GetDateTimeOffset("Created") ?? default, e.GetDateTimeOffset("Updated") ?? default, e.ETag);
    }

    private sealed record StoredBcc(string Address, string Id);

    /// <summary>Filters as stored: the text the customer gave, per slot; parsed again on the way in.</summary>
    private sealed record StoredFilters(string? Ipv4, string? Ipv6, string? AlternateIpv4, string? AlternateIpv6)
    {
        public static StoredFilters From(OutboundFilters f) => new(f.Ipv4?.Text, f.Ipv6?.Text, f.AlternateIpv4?.Text, f.AlternateIpv6?.Text);

        public OutboundFilters ToFilters()
        {
            SourceFilter? Parse(string? text, FilterSlot slot) => text is null ? null : SourceFilter.Parse(text, slot, out _);
            return new OutboundFilters(Parse(Ipv4, FilterSlot.Ipv4), Parse(Ipv6, FilterSlot.Ipv6), Parse(AlternateIpv4, FilterSlot.AlternateIpv4), Parse(AlternateIpv6, FilterSlot.AlternateIpv6));
        }
    }

    /// <summary>A row of <c>OutboundLogins</c>: login / "login" → the account that holds the login, everywhere.</summary>
    private sealed class LoginEntity : StoredEntity
    {
        public string? Account { get; set; }

        public static (string PartitionKey, string RowKey) Keys(string login) => (login, "login");

        public static LoginEntity For(string login, string accountId) =>
            new() { PartitionKey = Keys(login).PartitionKey, RowKey = Keys(login).RowKey, Account = accountId };
    }

    /// <summary>A row of <c>OutboundKeys</c>: key / "key" → the account and login the key names.</summary>
    private sealed class KeyEntity : StoredEntity
    {
        public string? Account { get; set; }
        public string? Login { get; set; }

        public static (string PartitionKey, string RowKey) Keys(string key) => (key, "key");

        public static KeyEntity For(OutboundAccount a) =>
            new() { PartitionKey = Keys(a.Key).PartitionKey, RowKey = Keys(a.Key).RowKey, Account = a.AccountId, Login = a.Login };
    }
}
