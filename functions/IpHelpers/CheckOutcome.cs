using System.Net;
using System.Text.Json.Serialization;
using RelayFunctions.Destinations;

namespace RelayFunctions.IpHelpers;

[JsonConverter(typeof(JsonStringEnumConverter<OutcomeKind>))]
public enum OutcomeKind
{
    /// <summary>At least one valid public address.</summary>
    [JsonStringEnumMemberName("resolved")]
    Resolved,

    /// <summary>No answer to rely on: timeout, SERVFAIL, REFUSED, network error.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>A definite answer without a usable address: NXDOMAIN, NODATA, only non-public addresses.</summary>
    [JsonStringEnumMemberName("invalid")]
    Invalid,
}

public enum LookupError
{
    None,
    NameDoesNotExist,
    ServerFailure,
    Timeout,
    Unreachable,
}

/// <summary>One DNS query's result, as data: the address records it returned, or why it gave none.</summary>
public sealed record Lookup(string RecordType, IReadOnlyList<AddressRecord> Records, LookupError Error, string? Detail = null);

public sealed record AddressRecord(IPAddress Address, int Ttl);

/// <summary>What a check concluded, with the addresses it saw and a reason a person can read.</summary>
public sealed record CheckOutcome(OutcomeKind Kind, IReadOnlyList<IPAddress> Addresses, IReadOnlyList<IPAddress> Seen, int? Ttl, string Reason)
{
    public static string Name(OutcomeKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// Classifies the A (and, when IPv6 is on, AAAA) lookups of a destination host as the design says: any valid
    /// public address makes it resolved; otherwise a failed query makes it failed; otherwise it is invalid.
    /// </summary>
    public static CheckOutcome Classify(IReadOnlyList<Lookup> lookups, DestinationPolicy policy)
    {
        var all = lookups.SelectMany(l => l.Records).ToList();
        var valid = all.Where(r => policy.IsAcceptable(r.Address)).ToList();
        var seen = all.Select(r => r.Address).Distinct().ToList();
        if (valid.Count > 0)
        {
            var addresses = valid.Select(r => r.Address).Distinct().ToList();
            return new CheckOutcome(OutcomeKind.Resolved, addresses, seen, valid.Min(r => r.Ttl),
                $"Resolved to {string.Join(", ", addresses)}.");
        }
        var failure = lookups.FirstOrDefault(l => l.Error is LookupError.ServerFailure or LookupError.Timeout or LookupError.Unreachable);
        if (failure is not null)
        {
            var what = failure.Error switch
            {
                LookupError.Timeout => "the DNS query timed out",
                LookupError.Unreachable => "no DNS server could be reached",
                _ => "the DNS server failed to answer",
            };
            return new CheckOutcome(OutcomeKind.Failed, [], seen, null, $"Lookup failed ({failure.RecordType}): {what}{Detail(failure)}.");
        }
        if (all.Count > 0)
        {
            return new CheckOutcome(OutcomeKind.Invalid, [], seen, all.Min(r => r.Ttl),
                $"Only non-public addresses: {string.Join(", ", seen)}.");
        }
        var types = string.Join("/", lookups.Select(l => l.RecordType));
        return lookups.Any(l => l.Error == LookupError.NameDoesNotExist)
            ? new CheckOutcome(OutcomeKind.Invalid, [], seen, null, "NXDOMAIN: the name does not exist.")
            : new CheckOutcome(OutcomeKind.Invalid, [], seen, null, $"NODATA: the name has no {types} record.");
    }

    private static string Detail(Lookup l) => string.IsNullOrEmpty(l.Detail) ? "" : $" ({l.Detail})";
}
