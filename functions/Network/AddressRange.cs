using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace RelayFunctions.Network;

/// <summary>An IPv4 or IPv6 network in CIDR form; a bare address is a /32 or /128.</summary>
public sealed record AddressRange(IPAddress Network, int PrefixLength)
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out AddressRange? range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var parts = text.Trim().Split('/');
        if (parts.Length > 2 || !IPAddress.TryParse(parts[0], out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            return false;
        }
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out prefix) || prefix < 0 || prefix > max))
        {
            return false;
        }
        range = new AddressRange(Mask(address, prefix), prefix);
        return true;
    }

    public static AddressRange Parse(string text) =>
        TryParse(text, out var range) ? range : throw new FormatException($"'{text}' is not an address or CIDR range.");

    public bool Contains(IPAddress address) =>
        address.AddressFamily == Network.AddressFamily && Mask(address, PrefixLength).Equals(Network);

    public override string ToString() => $"{Network}/{PrefixLength}";

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}
