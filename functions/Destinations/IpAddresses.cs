using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RelayFunctions.Destinations;

/// <summary>
/// IP addresses as users write them, read strictly. <see cref="IPAddress.TryParse(string, out IPAddress)"/> follows
/// inet_aton: <c>010.2.3.4</c> is octal (8.2.3.4), <c>1.2.3</c> is 1.2.0.3, <c>0x7f.0.0.1</c> is 127.0.0.1 and
/// <c>134744072</c> is 8.8.8.8 — never what the writer meant, nor what Postfix or a reader of the setting sees. Here
/// IPv4 is four decimal numbers from 0 to 255 without leading zeros, and IPv6 hex groups (an embedded IPv4 tail held
/// to the same rule), without zone id, brackets or port.
/// </summary>
public static partial class IpAddresses
{
    /// <summary>What the accepted forms are, for error messages.</summary>
    public const string Forms = "an IPv4 address is four decimal numbers from 0 to 255 without leading zeros (192.0.2.1), an IPv6 address hex groups (2001:db8::1)";

    public static bool TryParse(string? text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        if (!text.Contains(':'))
        {
            return DottedQuad().IsMatch(text) && IPAddress.TryParse(text, out address);
        }
        if (!Ipv6Text().IsMatch(text))
        {
            return false;
        }
        var tail = text[(text.LastIndexOf(':') + 1)..];
        if (tail.Contains('.') && !DottedQuad().IsMatch(tail))
        {
            return false;
        }
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6 || parsed.ScopeId != 0)
        {
            return false;
        }
        address = parsed;
        return true;
    }

    /// <summary>
    /// True for text that the lenient parser takes for an address although <see cref="TryParse"/> does not: it must be
    /// refused as an address written in a form that means something else, never read as a host name.
    /// </summary>
    public static bool IsLenientOnly(string? text) =>
        !string.IsNullOrEmpty(text) && !TryParse(text, out _) && IPAddress.TryParse(text, out _);

    /// <summary>
    /// <c>address</c> or <c>address:port</c>, IPv6 in brackets when a port follows (<c>[2001:db8::53]:53</c>); the port
    /// is 0 when none is given.
    /// </summary>
    public static bool TryParseEndpoint(string? text, [NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        endpoint = null;
        var s = text?.Trim() ?? "";
        string host;
        string? port = null;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']');
            if (close < 0 || (close + 1 < s.Length && s[close + 1] != ':'))
            {
                return false;
            }
            host = s[1..close];
            port = close + 1 < s.Length ? s[(close + 2)..] : null;
        }
        else if (s.Count(c => c == ':') == 1)
        {
            host = s[..s.IndexOf(':')];
            port = s[(s.IndexOf(':') + 1)..];
        }
        else
        {
            host = s;
        }
        var number = 0;
        if (!TryParse(host, out var address) || (port is not null && (!Port().IsMatch(port) || (number = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)) > 65535)))
        {
            return false;
        }
        endpoint = new IPEndPoint(address, number);
        return true;
    }

    [GeneratedRegex(@"\A[1-9][0-9]{0,4}\z")]
    private static partial Regex Port();

    [GeneratedRegex(@"\A(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\z")]
    private static partial Regex DottedQuad();

    [GeneratedRegex(@"\A[0-9A-Fa-f:.]{2,45}\z")]
    private static partial Regex Ipv6Text();
}
