using System.Net;
using Microsoft.Extensions.Options;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Outbound;

/// <summary>
/// Follows the host names of outbound accounts' source filters in DNS, the way helpers follow theirs (the same resolver,
/// no cache): A records for the IPv4 slots, AAAA for the IPv6 ones, looked up again when the shortest TTL runs out
/// (between <see cref="HelperOptions.MinimumInterval"/> and <see cref="HelperOptions.MaximumInterval"/>), so a
/// dynamic-DNS name is honoured about a minute after it moves. A name that does not exist, or has no record of the
/// family, allows nobody; a lookup that fails keeps the addresses of the last one and is tried again after
/// <see cref="HelperOptions.FailedRetry"/>: a DNS outage never locks a customer out. A stale message (the account has
/// moved on) or a replay (same token) changes nothing.
/// </summary>
public sealed partial class FilterLookup(
    OutboundStore store, FilterIndex index, IHostResolver resolver, TimeProvider time, IOptions<HelperOptions> options, ILogger<FilterLookup> logger)
{
    public async Task RunAsync(CheckRequest request, CancellationToken cancellationToken)
    {
        var account = await store.FindAsync(request.AccountId, request.Subject, cancellationToken);
        if (account is null || account.Resolution.IndexBucket != request.Bucket || account.Resolution.IndexNonce != request.Nonce
            || account.Resolution.LastCheckToken == request.Token)
        {
            await index.RemoveAsync(request.Bucket, request.AccountId, request.Subject, request.Nonce, cancellationToken);
            return;
        }
        var o = options.Value;
        var addresses = new Dictionary<FilterSlot, IReadOnlyList<IPAddress>>();
        var reasons = new List<string>();
        TimeSpan? ttl = null;
        var failed = false;
        foreach (var slot in Enum.GetValues<FilterSlot>())
        {
            if (account.Settings.Filters[slot] is not { Host: { } host })
            {
                continue;
            }
            var ipv6 = slot is FilterSlot.Ipv6 or FilterSlot.AlternateIpv6;
            var lookup = await resolver.LookupAddressesAsync(host, ipv6, cancellationToken);
            if (lookup.Error is LookupError.ServerFailure or LookupError.Timeout or LookupError.Unreachable)
            {
                failed = true;
                addresses[slot] = account.Resolution.For(slot);
                reasons.Add($"{host.Value} ({lookup.RecordType}): lookup failed, the last addresses are kept");
                continue;
            }
            var found = lookup.Records.Select(r => r.Address).Distinct().ToList();
            addresses[slot] = found;
            reasons.Add(found.Count == 0
                ? $"{host.Value} ({lookup.RecordType}): {(lookup.Error == LookupError.NameDoesNotExist ? "no such name" : "no record")}, nobody is let in"
                : $"{host.Value} ({lookup.RecordType}): {string.Join(", ", found)}");
            if (lookup.Records.Count > 0)
            {
                var shortest = TimeSpan.FromSeconds(lookup.Records.Min(r => r.Ttl));
                ttl = ttl is null || shortest < ttl ? shortest : ttl;
            }
        }
        var now = time.GetUtcNow();
        var wait = ttl is { } t ? (t < o.MinimumInterval ? o.MinimumInterval : t > o.MaximumInterval ? o.MaximumInterval : t) : o.FailedRetry;
        if (failed && o.FailedRetry < wait)
        {
            wait = o.FailedRetry;
        }
        var resolution = account.Resolution with
        {
            Addresses = addresses,
            LastLookup = now,
            NextLookup = now + wait,
            Reason = string.Join("; ", reasons) + ".",
            LastCheckToken = request.Token,
        };
        if (await store.TryRecordResolutionAsync(account, resolution, cancellationToken) is { } recorded)
        {
            Log.Looked(logger, recorded.Login, resolution.Reason, resolution.NextLookup);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Source filters of {Login}: {Reason} Next lookup {Next}")]
        public static partial void Looked(ILogger logger, string login, string reason, DateTimeOffset? next);
    }
}
