using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// Where a domain stands in proving that its account controls it. Only <see cref="Verified"/> and <see cref="Lapsing"/>
/// domains are in the relay map.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerificationState>))]
public enum VerificationState
{
    /// <summary>Not proven (yet): not in the relay map.</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>Proven: in the relay map, checked again every day.</summary>
    [JsonStringEnumMemberName("verified")]
    Verified,

    /// <summary>Was proven, and the proof is gone: still in the relay map until the grace period ends.</summary>
    [JsonStringEnumMemberName("lapsing")]
    Lapsing,
}

public static class VerificationStates
{
    private static readonly string[] Names = ["pending", "verified", "lapsing"];

    public static string ToName(VerificationState state) => Names[(int)state];

    /// <summary>Anything unknown or missing reads as pending: nothing unproven is ever published.</summary>
    public static VerificationState Parse(string? name) => Array.IndexOf(Names, name) is var i and >= 0 ? (VerificationState)i : VerificationState.Pending;
}

/// <summary>How a domain was proven.</summary>
public static class VerificationMethods
{
    public const string Txt = "txt";
    public const string Mx = "mx";
    public const string Operator = "operator";
}

/// <summary>
/// A domain's proof of control, as stored on the domain. <see cref="IndexBucket"/> and <see cref="IndexNonce"/> name its
/// entry in the verification index (none when no check is scheduled); <see cref="LastCheckToken"/> makes a replayed
/// check message change nothing.
/// </summary>
public sealed record DomainVerification(
    VerificationState State,
    string Token,
    string? Method,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? LastCheck,
    DateTimeOffset? NextCheck,
    string? Reason,
    DateTimeOffset? LapsingSince,
    DateTimeOffset PendingSince,
    string? IndexBucket,
    string? IndexNonce,
    string? LastCheckToken)
{
    public bool IsPublished => State is VerificationState.Verified or VerificationState.Lapsing;

    /// <summary>A new domain: pending, with a fresh token, its first check due at once.</summary>
    public static DomainVerification New(DateTimeOffset now) =>
        new(VerificationState.Pending, NewToken(), null, null, null, now, "Waiting for the first check.", null, now, null, null, null);

    /// <summary>26 characters of base32 (130 bits): unguessable, and fine in a TXT record.</summary>
    public static string NewToken()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var bytes = RandomNumberGenerator.GetBytes(26);
        return new string(bytes.Select(b => alphabet[b & 31]).ToArray());
    }
}
