using Microsoft.Extensions.Options;
using RelayFunctions.Api;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// One verification check, safe to run twice: looks for the proof (the TXT record with the domain's token, or an MX
/// pointing at the service's relay hosts), applies <see cref="VerificationRules"/>, takes or gives up the domain's name
/// (<see cref="DomainClaims"/>), and records the result on the domain, which moves its index entry and marks the relay
/// map when the domain enters or leaves it. A stale message (the domain has moved on) and a replay (same token) change
/// nothing; an operator's word is never overruled by DNS.
/// </summary>
public sealed partial class VerificationCheck(
    DomainStore domains, DomainClaims claims, VerificationIndex index, IHostResolver resolver, VerificationAlerts alerts,
    TimeProvider time, IOptions<VerificationOptions> options, ILogger<VerificationCheck> logger)
{
    public async Task RunAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(request.Subject, out var name, out _) || await domains.FindAsync(request.AccountId, name, cancellationToken) is not { } domain
            || domain.Verification.IndexBucket != request.Bucket || domain.Verification.IndexNonce != request.Nonce
            || domain.Verification.LastCheckToken == request.Token)
        {
            // Gone, moved on since the tick, or already checked by this very message.
            await index.RemoveAsync(request.Bucket, request.AccountId, request.Subject, request.Nonce, cancellationToken);
            return;
        }
        var before = domain.Verification;
        var proof = before.Method == VerificationMethods.Operator
            ? new Proof.Found(VerificationMethods.Operator, "Verified by an operator.")
            : await FindProofAsync(name, before.Token, cancellationToken);
        var now = time.GetUtcNow();
        var next = VerificationRules.Next(before, proof, now, options.Value) with { LastCheckToken = request.Token };
        var took = false;
        if (next.IsPublished && !before.IsPublished)
        {
            var claim = await claims.ClaimAsync(request.AccountId, name, cancellationToken);
            took = claim.Took;
            if (claim.Conflict is { } held)
            {
                next = VerificationRules.Refused(before, DomainStore.Collision(name, held), now, options.Value) with { LastCheckToken = request.Token };
            }
        }

        // Applied only over the verification this check saw: an edit or "check now" in between wins, and is checked anew.
        var outcome = await domains.UpdateVerificationAsync(request.AccountId, name,
            current => current.Verification.IndexNonce == request.Nonce ? next : null, cancellationToken);
        if (outcome is not Outcome<MailDomain>.Ok { Value: var updated } || updated.Verification.LastCheckToken != request.Token)
        {
            // Not recorded: a name this check took would be held for nothing.
            if (took)
            {
                await domains.ReleaseClaimAsync(request.AccountId, name, cancellationToken);
            }
            return;
        }
        if (before.IsPublished && !next.IsPublished)
        {
            await domains.ReleaseClaimAsync(request.AccountId, name, cancellationToken);
        }
        else if (next.IsPublished && !before.IsPublished)
        {
            await domains.HoldIfPublishedAsync(request.AccountId, name, cancellationToken);
        }
        Log.Checked(logger, name.Value, VerificationStates.ToName(next.State), next.Reason ?? "", next.NextCheck);
        await alerts.SendOnceAsync(updated, before, request.Token, cancellationToken);
    }

    /// <summary>The proof, if it is in DNS: the TXT record, else (with relay hosts configured) the MX.</summary>
    private async Task<Proof> FindProofAsync(DomainName name, string token, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var record = $"{VerificationOptions.RecordName}.{name.Value}";
        var expected = VerificationOptions.RecordPrefix + token;
        var txt = await resolver.LookupTextAsync(record, TextRecord.Txt, cancellationToken);
        if (txt.Values.Contains(expected, StringComparer.Ordinal))
        {
            return new Proof.Found(VerificationMethods.Txt, $"The TXT record at {record} holds the token.");
        }
        var relayHosts = o.RelayHosts.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => DomainName.Parse(h).Value).ToHashSet(StringComparer.Ordinal);
        TextLookup? mx = null;
        if (relayHosts.Count > 0)
        {
            mx = await resolver.LookupTextAsync(name.Value, TextRecord.Mx, cancellationToken);
            if (mx.Values.FirstOrDefault(relayHosts.Contains) is { } host)
            {
                return new Proof.Found(VerificationMethods.Mx, $"The domain's MX points at {host}.");
            }
        }
        if (txt.Failed || mx?.Failed == true)
        {
            var failed = txt.Failed ? txt : mx!;
            return new Proof.Failed($"The {failed.RecordType} lookup failed ({failed.Error}{(failed.Detail is null ? "" : $": {failed.Detail}")}).");
        }
        var found = txt.Values.Count == 0 ? "none" : string.Join(", ", txt.Values.Take(3).Select(v => $"\"{Shorten(v)}\""));
        var reason = $"No TXT record \"{expected}\" at {record} (found: {found}).";
        if (mx is not null)
        {
            reason += $" The MX points at {(mx.Values.Count == 0 ? "nothing" : string.Join(", ", mx.Values.Take(3)))}, not at {string.Join(" or ", relayHosts)}.";
        }
        return new Proof.Absent(reason);
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Verification of {Domain}: {State} ({Reason}); next check {Next}")]
        public static partial void Checked(ILogger logger, string domain, string state, string reason, DateTimeOffset? next);
    }
}
