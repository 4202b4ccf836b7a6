using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.Network;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Helpers;

/// <summary>
/// One helper check, safe to run twice: resolve the destination host, decide the routing, record it on the
/// helper (ETag), then apply it to the domain (ETag; the store marks the relay map dirty), write history and alert. A replayed message (same token)
/// only re-applies what its first run decided; a stale one (the helper has moved on) does nothing.
/// </summary>
public sealed partial class HelperCheck(
    HelperStore helpers, ScheduleIndex index, DomainStore domains, AccountStore accounts, IHostResolver resolver,
    DestinationPolicy policy, HelperHistory history, HelperAlerts alerts, TimeProvider time,
    IOptions<HelperOptions> options, ILogger<HelperCheck> logger)
{
    public async Task RunAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(request.Subject, out var name, out _))
        {
            await index.RemoveAsync(request.Bucket, request.AccountId, request.Subject, request.Nonce, cancellationToken);
            return;
        }
        for (var attempt = 0; attempt < Storage.Retry.Attempts; attempt++)
        {
            // The domain is needed by every check that runs; reading both at once saves a round trip.
            var domainRead = domains.FindAsync(request.AccountId, name, cancellationToken);
            var helper = await helpers.FindAsync(request.AccountId, name, cancellationToken);
            var domain = await domainRead;
            if (helper is null)
            {
                await index.RemoveAsync(request.Bucket, request.AccountId, request.Subject, request.Nonce, cancellationToken);
                return;
            }
            if (helper.LastCheckToken == request.Token)
            {
                await ApplyAsync(helper, cancellationToken);
                return;
            }
            if (helper.IndexBucket != request.Bucket || helper.IndexNonce != request.Nonce)
            {
                Log.Stale(logger, request.Subject, request.Bucket, helper.IndexBucket);
                await index.RemoveAsync(request.Bucket, request.AccountId, request.Subject, request.Nonce, cancellationToken);
                return;
            }
            var checkedHelper = await CheckAsync(helper, domain, request.Token, cancellationToken);
            if (checkedHelper is not null)
            {
                await ApplyAsync(checkedHelper, cancellationToken);
                return;
            }
            // The helper changed while we resolved (an API edit or check-now); look again.
        }
        throw new InvalidOperationException($"The helper of {request.Subject} kept changing; the check will be retried.");
    }

    /// <summary>Resolves and records the result on the helper; null if the helper changed meanwhile.</summary>
    private async Task<IpHelper?> CheckAsync(IpHelper helper, MailDomain? domain, string token, CancellationToken cancellationToken)
    {
        if (domain is null || domain.Settings.Mode is not (DomainMode.Redirect or DomainMode.Hold))
        {
            // The domain is gone or left the modes a helper serves: the helper goes with it.
            await helpers.RemoveAsync(helper, helper.ETag, cancellationToken);
            return null;
        }

        var lookups = await resolver.ResolveAsync(helper.Settings.Host, helper.Settings.AllowIpv6, cancellationToken);
        var outcome = CheckOutcome.Classify(lookups, policy);
        var now = time.GetUtcNow();
        var current = Routing.Of(domain.Settings);
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
            LastCheckToken = token,
            LastCheckNotable = notable,
            Change = change,
        };
        var written = await helpers.TryReplaceAsync(helper, updated, cancellationToken);
        if (written is not null)
        {
            Log.Checked(logger, helper.Domain.Value, CheckOutcome.Name(outcome.Kind), target.Describe(), next);
        }
        return written;
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
