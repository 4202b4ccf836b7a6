using Azure;
using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// Who holds which verified names. A name is held by one account only, and so is everything at and under it: no other
/// account may hold the same name, one above it or one below it, nor one that only looks the same (a UTS #39 skeleton
/// match: <c>аcme.example</c> with a Cyrillic а is <c>acme.example</c>). Names are grouped in families, one row per
/// registrable domain's skeleton (<c>DomainFamilies</c>: family / "family" → the members), so every name that could
/// collide with another is in the same row, and taking a name is one conditional write of that row: two accounts racing
/// for overlapping names cannot both win. Pending names hold nothing, so nobody can block a real owner by squatting.
/// </summary>
public sealed class DomainClaims(StorageClients storage)
{
    private const string Row = "family";

    private TableClient Families => storage.Table(StorageNames.DomainFamilies);

    /// <summary>One held name.</summary>
    public sealed record Member(string Name, string Skeleton, string Account);

    /// <summary>A name another account holds that <paramref name="name"/> would collide with; null when there is none.</summary>
    public async Task<string?> ConflictAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var (members, _) = await ReadAsync(FamilyOf(name), cancellationToken);
        return Conflict(members, accountId, name);
    }

    /// <summary>The account that holds exactly <paramref name="name"/>; null when nobody does.</summary>
    public async Task<string?> HolderAsync(DomainName name, CancellationToken cancellationToken)
    {
        var (members, _) = await ReadAsync(FamilyOf(name), cancellationToken);
        return members.FirstOrDefault(m => m.Name == name.Value)?.Account;
    }

    /// <summary>What a claim did: took the name, found the account already holding it, or found it held by another account.</summary>
    public sealed record ClaimResult(bool Took, string? Conflict);

    /// <summary>Takes <paramref name="name"/> for the account, unless another account holds it, one above or one below it.</summary>
    public async Task<ClaimResult> ClaimAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var family = FamilyOf(name);
        var skeleton = Confusables.Skeleton(name);
        for (var attempt = 0; ; attempt++)
        {
            var (members, etag) = await ReadAsync(family, cancellationToken);
            if (Conflict(members, accountId, name) is { } conflict)
            {
                return new ClaimResult(false, conflict);
            }
            if (members.Any(m => m.Name == name.Value && m.Account == accountId))
            {
                return new ClaimResult(false, null);
            }
            try
            {
                if (await TryWriteAsync(family, [.. members, new Member(name.Value, skeleton, accountId)], etag, cancellationToken))
                {
                    return new ClaimResult(true, null);
                }
            }
            catch (FamilyFullException)
            {
                return new ClaimResult(false, $"{PublicSuffixList.Embedded.RegistrableDomain(name)} (it has as many verified names under it as one family of names can hold)");
            }
            await Backoff(attempt, cancellationToken);
        }
    }

    /// <summary>Gives up the account's hold on <paramref name="name"/>, if it has one.</summary>
    public async Task ReleaseAsync(string accountId, DomainName name, CancellationToken cancellationToken)
    {
        var family = FamilyOf(name);
        for (var attempt = 0; ; attempt++)
        {
            var (members, etag) = await ReadAsync(family, cancellationToken);
            var kept = members.Where(m => !(m.Name == name.Value && m.Account == accountId)).ToList();
            if (kept.Count == members.Count || await TryWriteAsync(family, kept, etag, cancellationToken))
            {
                return;
            }
            await Backoff(attempt, cancellationToken);
        }
    }

    /// <summary>
    /// Another account's member that equals, contains or lies under <paramref name="name"/>, skeletons compared, so that
    /// a look-alike collides as the name itself would.
    /// </summary>
    private static string? Conflict(IReadOnlyList<Member> members, string accountId, DomainName name)
    {
        var skeleton = Confusables.Skeleton(name);
        return members
            .Where(m => m.Account != accountId && Overlap(m.Skeleton, skeleton))
            .Select(m => DomainName.TryParse(m.Name, out var held, out _) ? held.Unicode : m.Name)
            .FirstOrDefault();
    }

    private static bool Overlap(string a, string b) =>
        a == b || a.EndsWith("." + b, StringComparison.Ordinal) || b.EndsWith("." + a, StringComparison.Ordinal);

    /// <summary>The family of a name: its registrable domain's skeleton (names that are public suffixes are never held).</summary>
    internal static string FamilyOf(DomainName name)
    {
        var registrable = PublicSuffixList.Embedded.RegistrableDomain(name) ?? name.Value;
        return Confusables.Key(Confusables.Skeleton(DomainName.Parse(registrable)));
    }

    /// <summary>The one place a family row's keys come from: the family, one row.</summary>
    private static (string PartitionKey, string RowKey) KeysOf(string family) => (family, Row);

    /// <summary>A family's row: its members as chunked JSON (<see cref="EntityText"/>), so it stays a <see cref="TableEntity"/>.</summary>
    private static TableEntity ToEntity(string family, IReadOnlyList<Member> members)
    {
        var (partition, row) = KeysOf(family);
        var entity = new TableEntity(partition, row);
        EntityText.Write(entity, "MemberChunks", "Members", members);
        return entity;
    }

    private static IReadOnlyList<Member> FromEntity(TableEntity entity) => EntityText.Read<List<Member>>(entity, "MemberChunks", "Members") ?? [];

    private async Task<(IReadOnlyList<Member> Members, ETag? ETag)> ReadAsync(string family, CancellationToken cancellationToken)
    {
        var (partition, row) = KeysOf(family);
        var found = await Families.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return found.HasValue ? (FromEntity(found.Value!), found.Value!.ETag) : ([], null);
    }

    private async Task<bool> TryWriteAsync(string family, IReadOnlyList<Member> members, ETag? etag, CancellationToken cancellationToken)
    {
        var entity = ToEntity(family, members);
        if (EntityText.SizeOf(entity) > EntityText.MaxEntityBytes)
        {
            // Thousands of verified names under one registrable domain: more than one row holds. Refuse the newcomer.
            throw new FamilyFullException();
        }
        try
        {
            if (etag is { } tag)
            {
                await Families.UpdateEntityAsync(entity, tag, TableUpdateMode.Replace, cancellationToken);
            }
            else
            {
                await Families.AddEntityAsync(entity, cancellationToken);
            }
            return true;
        }
        catch (RequestFailedException e) when (Retry.IsConflict(e))
        {
            return false;
        }
    }

    /// <summary>Racing writers of one family take turns; a little randomness keeps them from colliding again.</summary>
    private static Task Backoff(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt + 1, 10))), cancellationToken);
}

internal sealed class FamilyFullException : Exception;
