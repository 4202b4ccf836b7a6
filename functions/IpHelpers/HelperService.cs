using System.Text.Json.Serialization;
using Azure;
using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.Scheduling;

namespace RelayFunctions.IpHelpers;

/// <summary>The helper verbs behind the API, as outcomes: every one scoped to the caller's account.</summary>
public sealed class HelperService(HelperStore helpers, ScheduleIndex index, DomainStore domains, HelperHistory history, TimeProvider time)
{
    public async Task<Outcome<HelperView>> GetAsync(string accountId, string name, CancellationToken ct)
    {
        if (!DomainName.TryParse(name, out var domain, out _) || await helpers.FindAsync(accountId, domain, ct) is not { } helper)
        {
            return new Outcome<HelperView>.NotFound();
        }
        var mailDomain = await domains.FindAsync(accountId, domain, ct);
        return new Outcome<HelperView>.Ok(HelperView.From(helper, mailDomain));
    }

    public async Task<IReadOnlyList<HelperView>> ListAsync(string accountId, CancellationToken ct)
    {
        var helperList = helpers.ListAsync(accountId, ct);
        var domainList = domains.ListAsync(accountId, ct);
        var byName = (await domainList).ToDictionary(d => d.Name.Value);
        return (await helperList).Select(h => HelperView.From(h, byName.GetValueOrDefault(h.Domain.Value))).ToList();
    }

    public Task<Outcome<HelperView>> PutAsync(string accountId, string name, HelperSettings settings, ETag? ifMatch, CancellationToken ct) =>
        Storage.Retry.OnStaleAsync<Outcome<HelperView>>(async () =>
        {
            if (!DomainName.TryParse(name, out var domain, out _) || await domains.FindAsync(accountId, domain, ct) is not { } mailDomain)
            {
                return new Outcome<HelperView>.NotFound();
            }
            if (mailDomain.Settings.Mode is not (DomainMode.Redirect or DomainMode.Hold))
            {
                return new Outcome<HelperView>.Conflict(
                    $"An IP helper serves only domains in redirect or hold mode; {domain} is in {DomainModes.ToName(mailDomain.Settings.Mode)} mode.");
            }
            var existing = await helpers.FindAsync(accountId, domain, ct);
            if (existing is null)
            {
                if (ifMatch is { } tag && tag != ETag.All)
                {
                    return new Outcome<HelperView>.Stale();
                }
                var added = await helpers.AddAsync(accountId, domain, settings, ct);
                return added is null ? null : new Outcome<HelperView>.Ok(HelperView.From(added, mailDomain), Created: true);
            }
            if (!EntityTags.Satisfied(ifMatch, existing.ETag))
            {
                return new Outcome<HelperView>.Stale();
            }
            var written = await helpers.TryReplaceAsync(existing, Due(existing) with { Settings = settings }, ct);
            return written is not null ? new Outcome<HelperView>.Ok(HelperView.From(written, mailDomain)) : Storage.Conditional.LostRace<HelperView>(ifMatch);
        }, Busy);

    /// <summary>
    /// Makes the domain's helper follow <paramref name="host"/> on <paramref name="port"/>: creates one (no alerts, IPv4)
    /// or points the existing one there, keeping its other settings. Nothing changes when it already does.
    /// </summary>
    public async Task<Outcome<HelperView>> FollowAsync(string accountId, DomainName domain, DomainName host, int port, CancellationToken ct)
    {
        var existing = await helpers.FindAsync(accountId, domain, ct);
        if (existing is { Settings: var s } && s.Host == host && s.Port == port)
        {
            return new Outcome<HelperView>.Ok(HelperView.From(existing, null));
        }
        var settings = existing is null ? new HelperSettings(host, port, false, false) : existing.Settings with { Host = host, Port = port };
        return await PutAsync(accountId, domain.Value, settings, null, ct);
    }

    public Task<Outcome<HelperView>> RequestCheckAsync(string accountId, string name, CancellationToken ct) =>
        Change(accountId, name, null, async helper =>
        {
            var written = await helpers.TryReplaceAsync(helper, Due(helper), ct);
            return written is null ? null : new Outcome<HelperView>.Ok(HelperView.From(written, await domains.FindAsync(accountId, helper.Domain, ct)));
        }, ct);

    public Task<Outcome<HelperView>> RemoveAsync(string accountId, string name, ETag? ifMatch, CancellationToken ct) =>
        // With the ETag just read even without If-Match: of racing deletes, one deletes it and the others find it gone.
        Change(accountId, name, ifMatch, async helper => await helpers.RemoveAsync(helper, helper.ETag, ct) switch
        {
            Storage.DeleteResult.Deleted => new Outcome<HelperView>.Ok(HelperView.From(helper, null)),
            Storage.DeleteResult.Gone => new Outcome<HelperView>.NotFound(),
            _ when ifMatch is null || ifMatch == ETag.All => new Outcome<HelperView>.Conflict("The helper was changed while it was being deleted; try again."),
            _ => new Outcome<HelperView>.Stale(),
        }, ct);

    /// <summary>The opening of every change of a stored helper (<see cref="Storage.Conditional"/>): 404 when there is none, 412 when If-Match fails.</summary>
    private Task<Outcome<HelperView>> Change(
        string accountId, string name, ETag? ifMatch, Func<IpHelper, Task<Outcome<HelperView>?>> write, CancellationToken ct) =>
        Storage.Conditional.ChangeAsync("helper", ifMatch,
            async () => DomainName.TryParse(name, out var domain, out _) ? await helpers.FindAsync(accountId, domain, ct) : null, h => h.ETag, write);

    public async Task<Outcome<HistoryPage>> HistoryAsync(string accountId, string name, int limit, string? cursor, CancellationToken ct)
    {
        if (!DomainName.TryParse(name, out var domain, out _) || await domains.FindAsync(accountId, domain, ct) is null)
        {
            return new Outcome<HistoryPage>.NotFound();
        }
        var (entries, next) = await history.PageAsync(accountId, domain, limit, cursor, ct);
        return new Outcome<HistoryPage>.Ok(new HistoryPage(entries.Select(HistoryView.From).ToList(), next));
    }

    /// <summary>Flags the helper so the next tick checks it: "Check Now" never checks on the spot.</summary>
    private IpHelper Due(IpHelper helper)
    {
        var now = time.GetUtcNow();
        // A pending decision of an earlier check is dropped: a late replay of it must not apply anything.
        return helper with
        {
            CheckRequested = true,
            NextCheck = now,
            IndexBucket = index.DueNowBucket(now, helper.AccountId, helper.Domain),
            LastCheckToken = null,
            Change = null,
            LastCheckNotable = false,
        };
    }

    private static Outcome<HelperView> Busy() => new Outcome<HelperView>.Conflict("The helper is being changed by someone else; try again.");
}

public sealed record OutcomeView(OutcomeKind Kind, IReadOnlyList<string> Addresses, int? Ttl, string? Reason);

/// <summary>A helper with its status, as the SPA's status column shows it.</summary>
public sealed record HelperView(
    string Domain, string DestinationHost, int DestinationPort, bool AlertOnChange, bool AllowIpv6,
    DomainMode? Mode, string? Routing, DateTimeOffset? LastCheck, DateTimeOffset NextCheck, bool CheckRequested,
    OutcomeView? LastOutcome, DateTimeOffset Created, DateTimeOffset Updated)
{
    [JsonIgnore]
    public IpHelper Helper { get; init; } = null!;

    public static HelperView From(IpHelper h, MailDomain? domain) => new(
        h.Domain.Value, h.Settings.Host.Value, h.Settings.Port, h.Settings.AlertOnChange, h.Settings.AllowIpv6,
        domain?.Settings.Mode,
        domain is null ? null : IpHelpers.Routing.Of(domain.Settings).Describe(),
        h.Status.LastCheck, h.NextCheck, h.CheckRequested,
        h.Status.LastOutcome is { } kind
            ? new OutcomeView(kind, h.Status.Addresses.Select(a => a.ToString()).ToList(), h.Status.Ttl, h.Status.Reason)
            : null,
        h.Created, h.Updated)
    { Helper = h };
}

public sealed record HelperList(IReadOnlyList<HelperView> Helpers);

public sealed record HistoryView(DateTimeOffset At, OutcomeKind? Outcome, IReadOnlyList<string> Addresses, int? Ttl, string? Reason, string? ModeChange)
{
    public static HistoryView From(HistoryEntry e) => new(
        e.At, Enum.TryParse<OutcomeKind>(e.Outcome, ignoreCase: true, out var kind) ? kind : null, e.Addresses, e.Ttl, e.Reason,
        e.From is not null && e.To is not null ? $"{e.From.Describe()} → {e.To.Describe()}" : null);
}

public sealed record HistoryPage(IReadOnlyList<HistoryView> Entries, string? NextCursor);
