using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;
using RelayFunctions.Domains;
using RelayFunctions.Scheduling;

namespace RelayFunctions.IpHelpers;

/// <summary>
/// The checks of one batch, each safe to run twice. Every check resolves its destination host and decides the routing;
/// then, for the whole batch at once: the new index entries are added (one table transaction per bucket), each helper
/// records its check (merged over its ETag; the helpers of one account in one transaction, helper by helper when one of
/// them changed meanwhile), the entries get the state their next check needs and the old entries go (a transaction per
/// bucket again), and only then are routing changes applied to the domains (ETag; the store marks the relay map dirty),
/// history written and alerts sent. An entry is added before its helper names it and the old one removed after, so a
/// crash leaves at worst a stale entry, never a helper without one. The state an entry carries (<see cref="HelperState"/>)
/// spares the next check every read as long as nothing changed; without it, or when the helper changed since, the check
/// reads the helper and the domain. A replayed message (same token) only re-applies what its first run decided; a stale
/// one (the helper has moved on) does nothing but remove its entry.
/// </summary>
public sealed partial class HelperCheck(
    HelperStore helpers, ScheduleIndex index, DomainStore domains, AccountStore accounts, IHostResolver resolver,
    DestinationPolicy policy, HelperHistory history, HelperAlerts alerts, TimeProvider time,
    IOptions<HelperOptions> options, ILogger<HelperCheck> logger)
{
    /// <summary>One check on its own, as a batch of one without state.</summary>
    public Task RunAsync(CheckRequest request, CancellationToken cancellationToken) =>
        RunAsync(new CheckBatch(request.Bucket, request.Token, [new CheckItem(request.AccountId, request.Subject, request.Nonce, null)]), cancellationToken);

    public async Task RunAsync(CheckBatch batch, CancellationToken cancellationToken)
    {
        var moves = new List<DueIndex.Move>();
        var applies = new List<IpHelper>();
        var failures = new List<Exception>();
        var pending = batch.Items.Select(item => (Request: batch.Request(item), State: HelperState.TryParse(item.State))).ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == Storage.Retry.Attempts)
            {
                failures.Add(new InvalidOperationException($"The helpers of {string.Join(", ", pending.Select(p => p.Request.Subject))} kept changing; the checks will be retried."));
                break;
            }
            var plans = await Task.WhenAll(pending.Select(p => TryAsync(() => PlanAsync(p.Request, p.State, cancellationToken))));
            pending = [];
            var writes = new List<Plan.Write>();
            foreach (var plan in plans)
            {
                switch (plan)
                {
                    case (Plan.Done done, null):
                        moves.AddRange(done.Move is { } m ? [m] : []);
                        applies.AddRange(done.Apply is { } a ? [a] : []);
                        break;
                    case (Plan.Write write, null):
                        writes.Add(write);
                        break;
                    case (_, { } failure):
                        failures.Add(failure);
                        break;
                }
            }
            // The new entries first, then the helpers that name them.
            await index.MoveAsync(writes.Select(w => new DueIndex.Move(Add: w.NewEntry)).ToList(), cancellationToken);
            var etags = await helpers.TryRecordChecksAsync(writes.Select(w => (w.Updated, w.Helper.ETag)).ToList(), cancellationToken);
            for (var i = 0; i < writes.Count; i++)
            {
                var w = writes[i];
                if (etags[i] is { } etag)
                {
                    var updated = w.Updated with { ETag = etag };
                    Log.Checked(logger, updated.Domain.Value, updated.Status.LastOutcome is { } k ? CheckOutcome.Name(k) : "", w.Target.Describe(), updated.NextCheck);
                    moves.Add(new DueIndex.Move(SetState: w.NewEntry, State: HelperState.From(updated, w.Target).ToJson(), Remove: w.Entry));
                    applies.Add(updated);
                }
                else
                {
                    // Changed since the state was written, or since we read it: our entry goes, and the helper is read as it is now.
                    moves.Add(new DueIndex.Move(Remove: w.NewEntry));
                    pending.Add((w.Request, null));
                }
            }
        }
        await index.MoveAsync(moves, cancellationToken);
        var applied = await Task.WhenAll(applies.Select(helper => TryAsync(async () => { await ApplyAsync(helper, cancellationToken); return true; })));
        failures.AddRange(applied.Select(a => a.Failure).OfType<Exception>());
        if (failures.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures[0]);
        }
        if (failures.Count > 1)
        {
            // The message runs again: the checks done are replays then, which only re-apply their own decisions.
            throw new AggregateException(failures);
        }
    }

    private static async Task<(T? Value, Exception? Failure)> TryAsync<T>(Func<Task<T>> run)
    {
        try
        {
            return (await run(), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (default, e);
        }
    }

    /// <summary>What one check found to do: nothing more than some index changes and re-applying, or a write of its result.</summary>
    private abstract record Plan
    {
        public sealed record Done(DueIndex.Move? Move, IpHelper? Apply) : Plan;

        public sealed record Write(CheckRequest Request, DueIndex.Key Entry, IpHelper Helper, IpHelper Updated, Routing Target, DueIndex.Key NewEntry) : Plan;
    }

    private async Task<Plan> PlanAsync(CheckRequest request, HelperState? carried, CancellationToken cancellationToken)
    {
        var entry = new DueIndex.Key(request.Bucket, request.AccountId, request.Subject, request.Nonce);
        var removeEntry = new Plan.Done(new DueIndex.Move(Remove: entry), null);
        if (!DomainName.TryParse(request.Subject, out var name, out _))
        {
            return removeEntry;
        }
        IpHelper helper;
        Routing current;
        if (carried is not null)
        {
            helper = carried.ToHelper(request.AccountId, name, request.Bucket, request.Nonce);
            current = carried.Routing;
        }
        else
        {
            // The domain is needed by every check that runs; reading both at once saves a round trip.
            var domainRead = domains.FindAsync(request.AccountId, name, cancellationToken);
            var stored = await helpers.FindAsync(request.AccountId, name, cancellationToken);
            var domain = await domainRead;
            if (stored is null)
            {
                return removeEntry;
            }
            if (stored.LastCheckToken == request.Token)
            {
                // A replay: its first run may have stopped before the entries were done.
                return new Plan.Done(EntryOf(stored, domain, entry), stored);
            }
            if (stored.IndexBucket != request.Bucket || stored.IndexNonce != request.Nonce)
            {
                if (await index.ExistsAsync(stored.IndexBucket, stored.AccountId, stored.Domain.Value, stored.IndexNonce, cancellationToken))
                {
                    Log.Stale(logger, request.Subject, request.Bucket, stored.IndexBucket);
                    return removeEntry;
                }
                // The helper names an entry that is not there (left so by an earlier version, or by hand): this
                // message stands in for it, so the helper is checked now and gets an entry again.
            }
            if (domain is null || domain.Settings.Mode is not (DomainMode.Redirect or DomainMode.Hold))
            {
                // The domain is gone or left the modes a helper serves: the helper goes with it.
                await helpers.RemoveAsync(stored, stored.ETag, cancellationToken);
                return removeEntry;
            }
            helper = stored;
            current = Routing.Of(domain.Settings);
        }

        var lookups = await resolver.ResolveAsync(helper.Settings.Host, helper.Settings.AllowIpv6, cancellationToken);
        var outcome = CheckOutcome.Classify(lookups, policy);
        var now = time.GetUtcNow();
        var target = RoutingDecision.Decide(outcome, current, helper.Settings.Port, Random.Shared);
        var next = RoutingDecision.NextCheck(outcome, now, options.Value);
        var status = new HelperStatus(now, outcome.Kind, outcome.Kind == OutcomeKind.Resolved ? outcome.Addresses : outcome.Seen, outcome.Ttl, outcome.Reason);
        var change = target == current ? null : new PendingChange(current, target, now);
        var notable = change is not null || helper.Status.LastOutcome != status.LastOutcome
            || !helper.Status.Addresses.OrderBy(a => a.ToString()).SequenceEqual(status.Addresses.OrderBy(a => a.ToString()));
        var updated = helper with
        {
            Status = status,
            NextCheck = next,
            CheckRequested = false,
            IndexBucket = index.BucketFor(next, helper.AccountId, helper.Domain),
            IndexNonce = DueIndex.NewNonce(),
            LastCheckToken = request.Token,
            LastCheckNotable = notable,
            Change = change,
            Updated = now,
        };
        return new Plan.Write(request, entry, helper, updated, target,
            new DueIndex.Key(updated.IndexBucket, updated.AccountId, updated.Domain.Value, updated.IndexNonce));
    }

    /// <summary>The helper's own entry, put back (merged, with fresh state) in case it is missing; the message's entry removed if it is another.</summary>
    private static DueIndex.Move EntryOf(IpHelper helper, MailDomain? domain, DueIndex.Key messageEntry)
    {
        var own = new DueIndex.Key(helper.IndexBucket, helper.AccountId, helper.Domain.Value, helper.IndexNonce);
        // The state is the routing the decision leads to, as the first run would have carried it.
        var state = domain is null ? null : HelperState.From(helper, helper.Change?.To ?? Routing.Of(domain.Settings)).ToJson();
        return new DueIndex.Move(Add: own, State: state, Remove: own == messageEntry ? null : messageEntry);
    }

    /// <summary>Applies the helper's recorded decision to the domain, then history and alert: each step idempotent.</summary>
    private async Task ApplyAsync(IpHelper helper, CancellationToken cancellationToken)
    {
        if (helper.Change is { } change)
        {
            // Applied only over the routing the check saw: a replay that comes after later edits changes nothing.
            var outcome = await domains.UpdateAsync(helper.AccountId, helper.Domain, null, current =>
                current.Settings.Mode is not (DomainMode.Redirect or DomainMode.Hold)
                    ? new Outcome<DomainSettings>.Conflict(LeftHelperModes)
                    : Routing.Of(current.Settings) == change.From || Routing.Of(current.Settings) == change.To
                        ? new Outcome<DomainSettings>.Ok(current.Settings with { Mode = change.To.Mode, Destination = change.To.Destination })
                        : new Outcome<DomainSettings>.Conflict(ChangedSince),
                cancellationToken);
            switch (outcome)
            {
                case Outcome<MailDomain>.Ok:
                    break;
                case Outcome<MailDomain>.Conflict { Reason: LeftHelperModes or ChangedSince }:
                case Outcome<MailDomain>.NotFound:
                    // Deleted, moved to another mode, or rerouted since the check: the next check decides afresh.
                    return;
                default:
                    // Contention outlasted the retries: fail, so the queue runs the message again.
                    throw new InvalidOperationException($"Could not apply the helper's routing to {helper.Domain}: {outcome}");
            }
        }
        // Independent of each other, and each idempotent: run them side by side.
        await Task.WhenAll(
            helper.LastCheckNotable ? history.RecordAsync(helper, cancellationToken) : Task.CompletedTask,
            AlertAsync(helper, cancellationToken));
    }

    private const string LeftHelperModes = "The domain left the modes an IP helper serves.";
    private const string ChangedSince = "The domain's routing changed since the check.";

    private async Task AlertAsync(IpHelper helper, CancellationToken cancellationToken)
    {
        if (helper.Change is not null && helper.Settings.AlertOnChange
            && await accounts.FindAsync(helper.AccountId, cancellationToken) is { } account)
        {
            await alerts.SendOnceAsync(helper, account, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Checked {Domain}: {Outcome}, routing {Routing}, next check {Next}")]
        public static partial void Checked(ILogger logger, string domain, string outcome, string routing, DateTimeOffset next);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Stale check of {Domain} (bucket {Bucket}, the helper is in {Current})")]
        public static partial void Stale(ILogger logger, string domain, string bucket, string current);
    }
}
