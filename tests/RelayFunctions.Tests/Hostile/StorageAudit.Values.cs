using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;

namespace RelayFunctions.Tests.Hostile;

/// <summary>The checks of one value: it parses with the app's own parser, back to itself.</summary>
internal static partial class StorageAudit
{
    internal static DomainName? Name(string what, string text, Action<string> bad)
    {
        if (!DomainName.TryParse(text, out var name, out var error) || name.Value != text)
        {
            bad($"{what} '{Show(text)}' is not a canonical domain name: {error ?? $"it parses to {name!.Value}"}");
            return null;
        }
        Text(what + " (Unicode form)", name.Unicode, bad);
        return name;
    }

    internal static void Host(string what, string host, Action<string> bad)
    {
        if (host.Contains(':') || IPAddress.TryParse(host, out _))
        {
            if (!IPAddress.TryParse(host, out var address) || host.Contains('%') || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0) || address.ToString() != host || !Destinations.IsAcceptable(address))
            {
                bad($"{what} '{Show(host)}' is not a canonical public address without a zone id");
            }
            return;
        }
        Name(what, host, bad);
    }

    internal static void Email(string what, string? text, bool required, Action<string> bad)
    {
        if (text is null)
        {
            if (required)
            {
                bad($"{what} is missing");
            }
            return;
        }
        if (!EmailAddress.TryParse(text, out var address, out var error) || address.ToString() != text || address.LocalPart.StartsWith('#'))
        {
            bad($"{what} '{Show(text)}' is not a canonical address: {error ?? "it changes when parsed again"}");
            return;
        }
        Text(what, text, bad);
        Text(what + " (domain in Unicode)", address.Domain.Unicode, bad);
    }

    private static void AccountKey(string text, Action<string> bad)
    {
        if (!AccountId.TryParse(text, out var id) || id.Value.Value != text)
        {
            bad($"account '{Show(text)}' is not a canonical account id");
        }
    }

    private static void Addresses(string what, string? json, Action<string> bad)
    {
        try
        {
            foreach (var a in JsonSerializer.Deserialize<string[]>(json ?? "[]") ?? [])
            {
                if (!IPAddress.TryParse(a, out var address) || address.ToString() != a || a.Contains('%'))
                {
                    bad($"{what} holds '{Show(a)}', not a canonical address");
                }
            }
        }
        catch (JsonException x)
        {
            bad($"{what} is not a JSON list: {x.Message}");
        }
    }

    /// <summary>Text as it can be printed: invisible and control characters as \uXXXX, shortened.</summary>
    internal static string Show(string text, int max = 120)
    {
        var shown = string.Concat(text.Take(max).Select(c =>
            char.IsControl(c) || char.IsSurrogate(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.SpaceSeparator && c != ' '
                ? $"\\u{(int)c:x4}"
                : c.ToString()));
        return text.Length > max ? shown + $"… ({text.Length} chars)" : shown;
    }

    [GeneratedRegex("^[a-z2-7]{26}$")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("^[0-9]{14}-[0-9a-f]{2}$")]
    private static partial Regex BucketPattern();

    [GeneratedRegex("^[0-9a-f]{12}$")]
    private static partial Regex NoncePattern();
}
