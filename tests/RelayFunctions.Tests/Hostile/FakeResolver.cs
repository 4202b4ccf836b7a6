using System.Net;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// DNS for the hostile run, without a network: each name gets a fixed answer chosen by a stable hash of it (a public
/// address, IPv6 too, only private addresses, NXDOMAIN, SERVFAIL, a timeout), and MX records that point at the relay
/// for some names, so that fuzzed domains get verified, claimed and published as real ones would.
/// </summary>
internal sealed class FakeResolver : IHostResolver
{
    public const string RelayHost = "mx1.relay.example";

    public Task<IReadOnlyList<Lookup>> ResolveAsync(DomainName host, bool includeIpv6, CancellationToken cancellationToken)
    {
        var h = Hash(host.Value);
        Lookup A(params string[] addresses) => new("A", addresses.Select(a => new AddressRecord(IPAddress.Parse(a), 60 + (int)(h % 3600))).ToList(), LookupError.None);
        Lookup Aaaa(params string[] addresses) => new("AAAA", addresses.Select(a => new AddressRecord(IPAddress.Parse(a), 300)).ToList(), LookupError.None);
        var a = (h % 7) switch
        {
            0 or 1 => A("192.0.32.10"),
            2 => A("93.184.215.14", "192.0.32.10"),
            3 => A("10.1.2.3", "127.0.0.1"),
            4 => new Lookup("A", [], LookupError.NameDoesNotExist, "NXDomain"),
            5 => new Lookup("A", [], LookupError.ServerFailure, "ServerFailure"),
            _ => new Lookup("A", [], LookupError.Timeout),
        };
        IReadOnlyList<Lookup> result = includeIpv6
            ? [a, (h / 7 % 3) switch { 0 => Aaaa("2606:4700::1111"), 1 => Aaaa("fe80::1", "::1"), _ => new Lookup("AAAA", [], LookupError.None) }]
            : [a];
        return Task.FromResult(result);
    }

    public async Task<Lookup> LookupAddressesAsync(DomainName host, bool ipv6, CancellationToken cancellationToken) =>
        (await ResolveAsync(host, ipv6, cancellationToken))[ipv6 ? 1 : 0];

    public Task<TextLookup> LookupTextAsync(string name, TextRecord type, CancellationToken cancellationToken)
    {
        var h = Hash(name);
        var lookup = (type, h % 5) switch
        {
            (TextRecord.Mx, 0 or 1) => new TextLookup("MX", [RelayHost], LookupError.None),
            (TextRecord.Mx, 2) => new TextLookup("MX", ["mx.elsewhere.example"], LookupError.None),
            (TextRecord.Txt, 3) => new TextLookup("TXT", [], LookupError.ServerFailure, "ServerFailure"),
            (TextRecord.Txt, 4) => new TextLookup("TXT", ["relay-verification=not-the-token", "v=spf1 -all"], LookupError.None),
            _ => new TextLookup(type == TextRecord.Txt ? "TXT" : "MX", [], LookupError.NameDoesNotExist, "NXDomain"),
        };
        return Task.FromResult(lookup);
    }

    /// <summary>FNV-1a: the same answer for a name in every run.</summary>
    private static uint Hash(string text)
    {
        var hash = 2166136261;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }
        return hash;
    }
}
