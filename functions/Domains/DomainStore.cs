using Azure;
using Azure.Data.Tables;
using RelayFunctions.Api;
using RelayFunctions.Domains.Verification;
using RelayFunctions.RelayMap;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Domains;

/// <summary>
/// Mail domains in Table storage. A domain lives in its account's partition (<c>Domains</c>: account / name), so every
/// read is scoped by construction. A new domain is pending until its account proves control of it; only then does it
/// hold its name against other accounts (<see cref="DomainClaims"/>) and appear in the relay map. Every write that
/// changes what the map holds marks it dirty here, whoever the writer is; writes to a pending domain change nothing
/// there. Each domain with a verification check due has one entry in the <see cref="VerificationIndex"/>.
/// </summary>
public sealed class DomainStore(
    StorageClients storage, MapChanges map, DomainClaims claims, VerificationIndex index, TimeProvider time,
    Microsoft.Extensions.Options.IOptions<VerificationOptions> verification, ILogger<DomainStore> logger)
{
    private TableClient Domains => storage.Table(StorageNames.Domains);

    public async Task<IReadOnlyList<MailDomain>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        var result = new List<MailDomain>();
        await foreach (var entity in Domains.QueryAsync<TableEntity>(e => e.PartitionKey == accountId, cancellationToken: cancellationToken))
        {
            if (Read(entity) is { } domain)
            {
                result.Add(domain);
            }
        }
        return result;
    }

    /// <summary>Every account's domains, read page by page as they are used (the relay map's snapshot): memory does not grow with the table.</summary>
    public async IAsyncEnumerable<MailDomain> AllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entity in Domains.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (Read(entity) is { } domain)
            {
                yield return domain;
            }
        }
    }

    public async Task<MailDomain?> FindAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var (partition, row) = KeysOf(accountId, name);
        var response = await Domains.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return response.HasValue ? Read(response.Value!) : null;
    }

    /// <summary>
    /// Registers a pending domain with a fresh verification token, its first check due at once. Refused when another
    /// account holds the name, one above it or one below it (a look-alike counts).
    /// </summary>
    public async Task<Outcome<MailDomain>> CreateAsync(string accountId, DomainName name, DomainSettings settings, CancellationToken cancellationToken)
    {
        if (await claims.ConflictAsync(accountId, name, cancellationToken) is { } held)
        {
            return new Outcome<MailDomain>.Conflict(Collision(name, held));
        }
        var now = time.GetUtcNow();
        var verification = await ScheduleAsync(accountId, name, DomainVerification.New(now), null, cancellationToken);
        var domain = new MailDomain(accountId, name, settings, verification, now, now, default);
        var entity = ToEntity(domain);
        if (TooLarge(entity) is { } tooLarge)
        {
            await UnscheduleAsync(domain, cancellationToken);
            return tooLarge;
        }
        try
        {
            var response = await Domains.AddEntityAsync(entity, cancellationToken);
            return new Outcome<MailDomain>.Ok(domain with { ETag = response.Headers.ETag!.Value }, Created: true);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await UnscheduleAsync(domain, cancellationToken);
            return new Outcome<MailDomain>.Conflict($"You already have {name}.");
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current domain's settings. With an If-Match the caller's tag must still
    /// be current; without one, a concurrent writer only makes us read again and re-apply the change.
    /// </summary>
    public Task<Outcome<MailDomain>> UpdateAsync(
        string accountId, DomainName name, ETag? ifMatch, Func<MailDomain, Outcome<DomainSettings>> change,
        CancellationToken cancellationToken) =>
        Change(accountId, name, ifMatch, async current =>
        {
            switch (change(current))
            {
                case Outcome<DomainSettings>.Ok ok:
                    var updated = current with { Settings = ok.Value, Updated = time.GetUtcNow() };
                    var entity = ToEntity(updated);
                    // A domain stored before the limit was lowered may stay as large as it is; it may not grow.
                    if (TooLarge(entity, () => EntityText.SizeOf(ToEntity(current))) is { } tooLarge)
                    {
                        return tooLarge;
                    }
                    if (current.Verification.IsPublished)
                    {
                        await map.RecordAsync(accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, cancellationToken);
                    }
                    try
                    {
                        var response = await Domains.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, cancellationToken);
                        if (current.Verification.IsPublished)
                        {
                            await map.MarkDomainAsync(accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, false, $"domain {name} changed", cancellationToken);
                        }
                        return new Outcome<MailDomain>.Ok(updated with { ETag = response.Headers.ETag!.Value });
                    }
                    catch (RequestFailedException e) when (Retry.IsConflict(e))
                    {
                        return Conditional.LostRace<MailDomain>(ifMatch);
                    }
                case Outcome<DomainSettings>.Invalid invalid:
                    return new Outcome<MailDomain>.Invalid(invalid.Errors);
                case Outcome<DomainSettings>.Conflict conflict:
                    return new Outcome<MailDomain>.Conflict(conflict.Reason);
                default:
                    throw new InvalidOperationException("A domain change must answer Ok, Invalid or Conflict.");
            }
        }, cancellationToken);

    /// <summary>
    /// Applies a change to the domain's verification (a check's result, "check now", an operator's word): null from
    /// <paramref name="change"/> leaves it alone. Moves the domain's index entry when the next check moves; marks the map
    /// dirty when the domain enters or leaves it. NotFound when the domain is gone.
    /// </summary>
    public Task<Outcome<MailDomain>> UpdateVerificationAsync(
        string accountId, DomainName name, Func<MailDomain, DomainVerification?> change, CancellationToken cancellationToken) =>
        Change(accountId, name, null, async current =>
        {
            if (change(current) is not { } next)
            {
                return new Outcome<MailDomain>.Ok(current);
            }
            next = await ScheduleAsync(accountId, name, next, current.Verification, cancellationToken);
            var updated = current with { Verification = next, Updated = time.GetUtcNow() };
            var flips = next.IsPublished != current.Verification.IsPublished;
            if (flips)
            {
                await map.RecordAsync(accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, cancellationToken);
            }
            try
            {
                var response = await Domains.UpdateEntityAsync(ToEntity(updated), current.ETag, TableUpdateMode.Replace, cancellationToken);
                if (next.IndexNonce != current.Verification.IndexNonce)
                {
                    await UnscheduleAsync(current, cancellationToken);
                }
                if (flips)
                {
                    // The account's outbound accounts send for the domain only while it is published.
                    await map.MarkDomainAsync(
                        accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, true, $"domain {name} {(next.IsPublished ? "verified" : "withdrawn")}", cancellationToken);
                }
                return new Outcome<MailDomain>.Ok(updated with { ETag = response.Headers.ETag!.Value });
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e) || e.Status == 404)
            {
                // Only our own new entry: its nonce is ours alone.
                if (next.IndexNonce != current.Verification.IndexNonce)
                {
                    await UnscheduleAsync(updated, cancellationToken);
                }
                return e.Status == 404 ? new Outcome<MailDomain>.NotFound() : null;
            }
        }, cancellationToken);

    /// <summary>
    /// Deletes the domain. Exactly one caller gets <see cref="Outcome{T}.Ok"/> however many race, and only that one marks
    /// the map, gives up the name and drops the index entry; the others get NotFound (or Stale, when their If-Match no
    /// longer holds).
    /// </summary>
    public Task<Outcome<MailDomain>> DeleteAsync(string accountId, DomainName name, ETag? ifMatch, CancellationToken cancellationToken) =>
        Change(accountId, name, ifMatch, async current =>
        {
            if (current.Verification.IsPublished)
            {
                await map.RecordAsync(accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, cancellationToken);
            }
            switch (await Domains.TryDeleteAsync(KeysOf(accountId, name), current.ETag, cancellationToken))
            {
                case DeleteResult.Gone:
                    return new Outcome<MailDomain>.NotFound();
                case DeleteResult.Changed:
                    // Changed between our read and our delete: without a precondition, look again; with one, it failed.
                    return Conditional.LostRace<MailDomain>(ifMatch);
            }
            await UnscheduleAsync(current, cancellationToken);
            // Also when pending: a check that took the name and stopped before recording it must not leave it held.
            await ReleaseClaimAsync(accountId, name, cancellationToken);
            if (current.Verification.IsPublished)
            {
                await map.MarkDomainAsync(accountId, name.Value, current.Verification.IsPublished, current.Settings.Recipients, true, $"domain {name} deleted", cancellationToken);
            }
            return new Outcome<MailDomain>.Ok(current);
        }, cancellationToken);

    /// <summary>The opening of every write of a stored domain (<see cref="Conditional"/>).</summary>
    private Task<Outcome<MailDomain>> Change(
        string accountId, DomainName name, ETag? ifMatch, Func<MailDomain, Task<Outcome<MailDomain>?>> write, CancellationToken cancellationToken) =>
        Conditional.ChangeAsync("domain", ifMatch, () => FindAsync(accountId, name, cancellationToken), d => d.ETag, write);

    /// <summary>
    /// Gives up the account's hold on a name that a write of its own no longer needs, then looks at the domain again
    /// (<see cref="HoldIfPublishedAsync"/>): another writer may have published it meanwhile.
    /// </summary>
    public async Task ReleaseClaimAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        await claims.ReleaseAsync(accountId, name, cancellationToken);
        await HoldIfPublishedAsync(accountId, name, cancellationToken);
    }

    /// <summary>
    /// Makes sure a published domain holds its name. Writers that publish a domain take the name before their write and
    /// call this after it; releasers call it after their release. So whichever of a publisher and a releaser comes
    /// second sees the other, and a published domain never stays without its hold (a check racing an operator's word
    /// once left one). Should another account take the name in that instant, the domain goes back to pending with the
    /// collision as its reason.
    /// </summary>
    public async Task HoldIfPublishedAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        if (await FindAsync(accountId, name, cancellationToken) is not { Verification.IsPublished: true })
        {
            return;
        }
        if ((await claims.ClaimAsync(accountId, name, cancellationToken)).Conflict is { } held)
        {
            await UpdateVerificationAsync(accountId, name, d => d.Verification.IsPublished
                ? VerificationRules.Refused(d.Verification, Collision(name, held), time.GetUtcNow(), verification.Value)
                : null, cancellationToken);
        }
    }

    /// <summary>
    /// Words a collision with another account's name without naming that account, nor the name it holds: a caller
    /// learns that the name is taken, and whether above, at or below it, never another account's names.
    /// </summary>
    internal static string Collision(DomainName name, string held)
    {
        if (!DomainName.TryParse(held, out var heldName, out _))
        {
            // Not a name but why none can be taken (a full family), in words that name no other account's names.
            return $"{name.Unicode} cannot be held: {held}.";
        }
        var mine = Confusables.Skeleton(name);
        var theirs = Confusables.Skeleton(heldName);
        var where = mine == theirs ? "it, or a name that looks the same,"
            : mine.EndsWith("." + theirs, StringComparison.Ordinal) ? "a name above it"
            : "a name under it";
        return $"{name.Unicode} cannot be registered: {where} is registered to another account, and a name, the names above it and the names under it belong to one account.";
    }

    /// <summary>
    /// Gives the verification the index entry its next check needs: a new entry (new nonce) when the check moves to
    /// another bucket, none when no check is due. Added before the domain names it, so a crash leaves at worst a stale
    /// entry, never a domain that is never checked.
    /// </summary>
    private async Task<DomainVerification> ScheduleAsync(
        string accountId, DomainName name, DomainVerification next, DomainVerification? current, CancellationToken cancellationToken)
    {
        if (next.NextCheck is not { } due)
        {
            return next with { IndexBucket = null, IndexNonce = null };
        }
        var bucket = due <= time.GetUtcNow() ? index.DueNowBucket(time.GetUtcNow(), accountId, name) : index.BucketFor(due, accountId, name);
        if (current is not null && bucket == current.IndexBucket && current.IndexNonce is not null)
        {
            return next with { IndexBucket = bucket, IndexNonce = current.IndexNonce };
        }
        var nonce = DueIndex.NewNonce();
        await index.AddAsync(bucket, accountId, name, nonce, cancellationToken);
        return next with { IndexBucket = bucket, IndexNonce = nonce };
    }

    private Task UnscheduleAsync(MailDomain domain, CancellationToken cancellationToken) =>
        domain.Verification is { IndexBucket: { } bucket, IndexNonce: { } nonce }
            ? index.RemoveAsync(bucket, domain.AccountId, domain.Name.Value, nonce, cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// Invalid when the domain would take more than a caller's change may (<see cref="EntityText.MaxWrittenBytes"/>): the
    /// rest is kept for the verification fields the system writes later. Only the recipient list can grow that far. A
    /// change that does not grow a domain already past it (<paramref name="before"/>, stored under an earlier limit, and
    /// measured only then) is let through.
    /// </summary>
    private static Outcome<MailDomain>? TooLarge(TableEntity entity, Func<long>? before = null) =>
        EntityText.SizeOf(entity) is var size
        && (size <= EntityText.MaxWrittenBytes || (size <= EntityText.MaxEntityBytes && before is not null && size <= before()))
            ? null
            : new Outcome<MailDomain>.Invalid(new Dictionary<string, string[]>
            {
                ["recipients"] = [$"The domain would take {size} bytes of storage, more than the {EntityText.MaxWrittenBytes} one domain may (characters such as & < > ' + and non-ASCII letters count six bytes each): shorten the recipient list."],
            });

    /// <summary>The one place a domain row's keys come from: its account's partition, its name.</summary>
    private static (string PartitionKey, string RowKey) KeysOf(string accountId, DomainName name) => (accountId, name.Value);

    /// <summary>The domain a row holds; null, logged, for a row whose key is not a name today (see <see cref="TryFromEntity"/>).</summary>
    private MailDomain? Read(TableEntity e) => logger.ReadRow(StorageNames.Domains, e, TryFromEntity);

    internal static TableEntity ToEntity(MailDomain d)
    {
        var s = d.Settings;
        var v = d.Verification;
        var (partition, row) = KeysOf(d.AccountId, d.Name);
        var entity = new TableEntity(partition, row)
        {
            ["Mode"] = DomainModes.ToName(s.Mode),
            ["DestinationHost"] = s.Destination?.Host,
            ["DestinationPort"] = s.Destination?.Port,
            ["MessageSizeLimit"] = s.MessageSizeLimit,
            ["Created"] = d.Created,
            ["Updated"] = d.Updated,
            ["Verification"] = VerificationStates.ToName(v.State),
            ["VerificationToken"] = v.Token,
            ["VerificationMethod"] = v.Method,
            ["VerifiedAt"] = v.VerifiedAt,
            ["VerificationLastCheck"] = v.LastCheck,
            ["VerificationNextCheck"] = v.NextCheck,
            ["VerificationReason"] = v.Reason,
            ["LapsingSince"] = v.LapsingSince,
            ["PendingSince"] = v.PendingSince,
            ["VerificationBucket"] = v.IndexBucket,
            ["VerificationNonce"] = v.IndexNonce,
            ["VerificationCheckToken"] = v.LastCheckToken,
        };
        EntityText.Write(entity, "RecipientChunks", "Recipients", s.Recipients);
        return entity;
    }

    /// <summary>For the bench and the tests: a domain entity as the store writes it.</summary>
    internal static TableEntity ToEntity(string accountId, DomainName name, DomainSettings settings, DomainVerification verification, DateTimeOffset now) =>
        ToEntity(new MailDomain(accountId, name, settings, verification, now, now, default));

    /// <summary>
    /// Also for readers of the whole table (the relay map publisher). Null for a row whose key is not a name in its
    /// canonical form today (written under looser rules): it is never shown, changed or published.
    /// </summary>
    internal static MailDomain? TryFromEntity(TableEntity e)
    {
        if (!DomainName.TryParse(e.RowKey, out var name, out _) || name.Value != e.RowKey)
        {
            return null;
        }
        DomainModes.TryParse(e.GetString("Mode"), out var mode);
        var host = e.GetString("DestinationHost");
        var port = e.GetInt32("DestinationPort");
        var settings = new DomainSettings(
            mode,
            host is not null && port is not null ? new Destination(host, port.Value) : null,
            EntityText.Read<string[]>(e, "RecipientChunks", "Recipients") ?? [],
            e.GetInt64("MessageSizeLimit") ?? DomainSettings.DefaultMessageSizeLimit);
        var created = e.GetDateTimeOffset("Created") ?? default;
        // A domain written before verification existed has none: it is pending, and proves itself like a new one.
        var verification = new DomainVerification(
            VerificationStates.Parse(e.GetString("Verification")),
            e.GetString("VerificationToken") ?? "",
            e.GetString("VerificationMethod"),
            e.GetDateTimeOffset("VerifiedAt"),
            e.GetDateTimeOffset("VerificationLastCheck"),
            e.GetDateTimeOffset("VerificationNextCheck"),
            e.GetString("VerificationReason"),
            e.GetDateTimeOffset("LapsingSince"),
            e.GetDateTimeOffset("PendingSince") ?? created,
            e.GetString("VerificationBucket"),
            e.GetString("VerificationNonce"),
            e.GetString("VerificationCheckToken"));
        return new MailDomain(e.PartitionKey, name, settings, verification, created, e.GetDateTimeOffset("Updated") ?? default, e.ETag);
    }
}
