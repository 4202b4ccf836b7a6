using RelayFunctions.Hosting;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// Proof of domain control (section <c>Verification</c>): how a pending domain is checked and how often, and how long a
/// verified domain that loses its proof stays published.
/// </summary>
public sealed class VerificationOptions
{
    public const string Section = "Verification";

    /// <summary>The name of the TXT record under the domain: <c>_relay-challenge.example.com</c>.</summary>
    public const string RecordName = "_relay-challenge";

    /// <summary>What the TXT record holds, before the domain's token.</summary>
    public const string RecordPrefix = "relay-verification=";

    /// <summary>The service's MX host names: a domain whose MX points at one of them is proven too. Empty: TXT only.</summary>
    public List<string> RelayHosts { get; set; } = [];

    /// <summary>A pending domain is checked after this, then at doubling intervals…</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>…never further apart than this…</summary>
    public TimeSpan MaximumRetry { get; set; } = TimeSpan.FromHours(1);

    /// <summary>…and no longer than this after it was created or asked to be checked; then only <c>POST …/verify</c> checks it again.</summary>
    public TimeSpan PendingChecksFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A lookup that failed (timeout, SERVFAIL) proves nothing either way: it is tried again after this.</summary>
    public TimeSpan FailedRetry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A verified domain's proof is checked again this often.</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A verified domain whose proof is gone stays published this long (checked every <see cref="MaximumRetry"/>), with an alert, before it is withdrawn.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromDays(3);

    public static void Check(VerificationOptions o, SettingErrors errors)
    {
        for (var i = 0; i < o.RelayHosts.Count; i++)
        {
            errors.Require(DomainName.TryParse(o.RelayHosts[i], out _, out _), $"{nameof(RelayHosts)}__{i}", $"'{o.RelayHosts[i]}' is not a host name.");
        }
        errors.Positive(o.FirstRetry, nameof(FirstRetry));
        errors.Require(o.MaximumRetry >= o.FirstRetry, nameof(MaximumRetry), $"must not be shorter than Verification__FirstRetry ({o.FirstRetry}).");
        errors.Positive(o.PendingChecksFor, nameof(PendingChecksFor));
        errors.Positive(o.FailedRetry, nameof(FailedRetry));
        errors.Positive(o.RecheckInterval, nameof(RecheckInterval));
        errors.Positive(o.GracePeriod, nameof(GracePeriod));
    }
}
