using System.Net;
using Azure;
using RelayFunctions.Domains;

namespace RelayFunctions.IpHelpers;

/// <summary>What the customer sets on a helper.</summary>
public sealed record HelperSettings(DomainName Host, int Port, bool AlertOnChange, bool AllowIpv6);

/// <summary>The last check's result as the status column shows it.</summary>
public sealed record HelperStatus(
    DateTimeOffset? LastCheck,
    OutcomeKind? LastOutcome,
    IReadOnlyList<IPAddress> Addresses,
    int? Ttl,
    string? Reason)
{
    public static readonly HelperStatus NeverChecked = new(null, null, [], null, null);
}

/// <summary>A routing change a check decided, kept on the helper until it is applied, recorded and alerted.</summary>
public sealed record PendingChange(Routing From, Routing To, DateTimeOffset At);

/// <summary>
/// The IP address helper of one domain, as stored. <see cref="IndexBucket"/> and <see cref="IndexNonce"/> name its
/// one entry in the due-time index; <see cref="LastCheckToken"/> makes a replayed check message re-apply its own decision and nothing more.
/// </summary>
public sealed record IpHelper(
    string AccountId,
    DomainName Domain,
    HelperSettings Settings,
    HelperStatus Status,
    DateTimeOffset NextCheck,
    bool CheckRequested,
    string IndexBucket,
    string IndexNonce,
    string? LastCheckToken,
    bool LastCheckNotable,
    PendingChange? Change,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    ETag ETag);
