namespace RelayFunctions.Domains.Verification;

/// <summary>What a check found: the proof in place, no proof (a definite answer), or no answer to rely on.</summary>
public abstract record Proof(string Reason)
{
    public sealed record Found(string Method, string Reason) : Proof(Reason);

    public sealed record Absent(string Reason) : Proof(Reason);

    public sealed record Failed(string Reason) : Proof(Reason);
}

/// <summary>
/// The verification life cycle, as pure rules:
/// <list type="bullet">
/// <item>pending: found → verified (rechecked daily); absent → pending, checked again after as long as it has been
/// pending (between <see cref="VerificationOptions.FirstRetry"/> and <see cref="VerificationOptions.MaximumRetry"/>), and
/// not at all once <see cref="VerificationOptions.PendingChecksFor"/> has passed;</item>
/// <item>verified: absent → lapsing, still published, checked hourly; failed lookups change nothing;</item>
/// <item>lapsing: found → verified; absent after <see cref="VerificationOptions.GracePeriod"/> → pending (withdrawn from
/// the map); failed lookups never withdraw a domain.</item>
/// </list>
/// </summary>
public static class VerificationRules
{
    public static DomainVerification Next(DomainVerification current, Proof proof, DateTimeOffset now, VerificationOptions o)
    {
        var checkedNow = current with { LastCheck = now, Reason = proof.Reason };
        return (current.State, proof) switch
        {
            (_, Proof.Found found) => checkedNow with
            {
                State = VerificationState.Verified,
                Method = found.Method,
                VerifiedAt = current.State == VerificationState.Pending ? now : current.VerifiedAt ?? now,
                LapsingSince = null,
                NextCheck = now + o.RecheckInterval,
            },
            (VerificationState.Pending, Proof.Absent) => checkedNow with { NextCheck = PendingBackoff(current, now, o) },
            (VerificationState.Pending, _) => checkedNow with { NextCheck = StillPending(current, now, o) ? now + o.FailedRetry : null },
            (VerificationState.Verified, Proof.Absent absent) => checkedNow with
            {
                State = VerificationState.Lapsing,
                LapsingSince = now,
                Reason = $"{absent.Reason} The domain stays in service until {now + o.GracePeriod:u} unless the proof is back by then.",
                NextCheck = now + o.MaximumRetry,
            },
            (VerificationState.Lapsing, Proof.Absent absent) when now - current.LapsingSince >= o.GracePeriod => checkedNow with
            {
                State = VerificationState.Pending,
                Method = null,
                VerifiedAt = null,
                LapsingSince = null,
                PendingSince = now,
                Reason = $"Withdrawn from service after {o.GracePeriod.TotalHours:0} hours without proof: {absent.Reason}",
                NextCheck = now + o.FirstRetry,
            },
            (VerificationState.Lapsing, Proof.Absent absent) => checkedNow with
            {
                Reason = $"{absent.Reason} The domain stays in service until {current.LapsingSince + o.GracePeriod:u} unless the proof is back by then.",
                NextCheck = Min(now + o.MaximumRetry, current.LapsingSince!.Value + o.GracePeriod),
            },
            // A failed lookup proves nothing: keep the state, look again soon.
            _ => checkedNow with { Reason = $"{proof.Reason} (the state is kept until a lookup succeeds)", NextCheck = now + o.FailedRetry },
        };
    }

    /// <summary>A pending domain asked to be checked now: due at once, and the backoff starts again.</summary>
    public static DomainVerification CheckNow(DomainVerification current, DateTimeOffset now) => current.State == VerificationState.Pending
        ? current with { PendingSince = now, NextCheck = now, LastCheckToken = null }
        : current with { NextCheck = now, LastCheckToken = null };

    /// <summary>A pending domain that could not take its claim: another account holds the name or one above or below it.</summary>
    public static DomainVerification Refused(DomainVerification current, string reason, DateTimeOffset now, VerificationOptions o) =>
        current with { State = VerificationState.Pending, LastCheck = now, Reason = reason, NextCheck = PendingBackoff(current, now, o) };

    /// <summary>An operator vouches for the domain: verified for good, with no DNS check.</summary>
    public static DomainVerification ByOperator(DomainVerification current, DateTimeOffset now) => current with
    {
        State = VerificationState.Verified,
        Method = VerificationMethods.Operator,
        VerifiedAt = now,
        LastCheck = now,
        LapsingSince = null,
        Reason = "Verified by an operator.",
        NextCheck = null,
        LastCheckToken = null,
    };

    private static DateTimeOffset? PendingBackoff(DomainVerification current, DateTimeOffset now, VerificationOptions o)
    {
        if (!StillPending(current, now, o))
        {
            return null;
        }
        var waited = now - current.PendingSince;
        return now + (waited < o.FirstRetry ? o.FirstRetry : waited > o.MaximumRetry ? o.MaximumRetry : waited);
    }

    private static bool StillPending(DomainVerification current, DateTimeOffset now, VerificationOptions o) =>
        now - current.PendingSince < o.PendingChecksFor;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
