using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace RelayFunctions.Network;

/// <summary>Parsing of address ranges as users and operators write them, on top of <see cref="IPNetwork"/>.</summary>
public static class Networks
{
    /// <summary>
    /// A CIDR range (<c>192.0.2.0/24</c>, <c>2001:db8::/32</c>) or a bare address (a /32 or /128). Host bits are
    /// cleared (<c>192.0.2.77/24</c> is <c>192.0.2.0/24</c>), as <see cref="IPNetwork"/> does; zone ids are refused.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IPNetwork? network)
    {
        network = null;
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s) || s.Contains('%'))
        {
            return false;
        }
        if (!s.Contains('/') && IPAddress.TryParse(s, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
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
}
