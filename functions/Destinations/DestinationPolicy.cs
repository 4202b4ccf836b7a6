using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;

namespace RelayFunctions.Destinations;

public sealed class DestinationOptions
{
    public const string Section = "Destinations";

    /// <summary>
    /// Extra ranges accepted as mail destinations although they are special-purpose (e.g. a VPN's
    /// 10.8.0.0/16 for a private deployment, or 127.0.0.0/8 in end-to-end tests). Empty by default.
    /// </summary>
    public List<string> AllowedRanges { get; set; } = [];

    public static void Check(DestinationOptions o, SettingErrors errors)
    {
        for (var i = 0; i < o.AllowedRanges.Count; i++)
        {
            errors.Require(string.IsNullOrWhiteSpace(o.AllowedRanges[i]) || Networks.TryParse(o.AllowedRanges[i], out _), $"{nameof(AllowedRanges)}__{i}",
                $"'{o.AllowedRanges[i]}' is not an address or a CIDR range.");
        }
    }
}

/// <summary>
/// Decides whether an address may be a mail destination: public unicast only. Every special-purpose range
/// of the IANA registries (RFC 6890 and successors) is refused — private, loopback, link-local, CGNAT,
/// documentation, benchmarking, multicast, reserved, ULA, 6to4/Teredo, NAT64 — unless the operator allows it.
/// </summary>
public sealed class DestinationPolicy
{
    private static readonly IPNetwork[] SpecialPurpose =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",
            "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
            "224.0.0.0/4", "240.0.0.0/4",
            "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
            "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "ff00::/8",
        }.Select(Networks.Parse),
    ];

    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");

    private readonly IPNetwork[] _allowed;

    public DestinationPolicy(IOptions<DestinationOptions> options)
    {
        _allowed = options.Value.AllowedRanges
            .Where(r => !string.IsNullOrWhiteSpace(r))
            .Select(Networks.Parse)
            .ToArray();
    }

    public bool IsAcceptable(IPAddress address)
    {
        // IPNetwork.Contains reads an IPv4-mapped IPv6 address as its IPv4 address; Postfix would not. Never a destination.
        if (address.IsIPv4MappedToIPv6)
        {
            return false;
        }
        if (_allowed.Any(r => r.Contains(address)))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && !GlobalUnicastV6.Contains(address))
        {
            return false;
        }
        return !SpecialPurpose.Any(r => r.Contains(address));
    }
}
