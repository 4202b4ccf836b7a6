using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RelayFunctions.Destinations;

/// <summary>Parsing of address ranges as users and operators write them, on top of <see cref="IPNetwork"/>.</summary>
public static partial class Networks
{
    /// <summary>
    /// A CIDR range (<c>192.0.2.0/24</c>, <c>2001:db8::/32</c>) or a bare address (a /32 or /128), the address in the
    /// strict forms of <see cref="IpAddresses"/> and the prefix length in decimal. Host bits are cleared
    /// (<c>192.0.2.77/24</c> is <c>192.0.2.0/24</c>), as <see cref="IPNetwork"/> does; zone ids are refused.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IPNetwork? network)
    {
        network = null;
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s) || s.Contains('%'))
        {
            return false;
        }
        var slash = s.IndexOf('/');
        if (!IpAddresses.TryParse(slash < 0 ? s : s[..slash], out var address))
        {
            return false;
        }
        if (slash < 0)
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        if (!PrefixLength().IsMatch(s[(slash + 1)..]))
        {
            return false;
        }
        if (IPNetwork.TryParse(s, out var parsed))
        {
            network = parsed;
            return true;
        }
        return false;
    }

    public static IPNetwork Parse(string text) =>
        TryParse(text, out var network) ? network.Value : throw new FormatException($"'{text}' is not an address or a CIDR range.");

    /// <summary>
    /// True for text that <see cref="IPNetwork"/> and <see cref="IPAddress"/> read as an address or a range although
    /// <see cref="TryParse"/> refuses it (octal, hex, fewer than four parts, leading zeros).
    /// </summary>
    public static bool IsLenientOnly(string? text)
    {
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s) || TryParse(s, out _))
        {
            return false;
        }
        var slash = s.IndexOf('/');
        return IPAddress.TryParse(slash < 0 ? s : s[..slash], out _);
    }

    [GeneratedRegex(@"\A(0|[1-9][0-9]{0,2})\z")]
    private static partial Regex PrefixLength();
}
