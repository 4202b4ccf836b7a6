using System.Text;

namespace RelayAgent;

/// <summary>Reading a Postfix source table (<c>key value</c> lines, as the publisher writes them) and the hold routes in it.</summary>
public static class SourceTable
{
    public static bool IsHold(string route) => route.StartsWith("hold:", StringComparison.Ordinal);

    /// <summary>Domains whose transport entry is the hold transport (subdomain entries, ".domain", aside).</summary>
    public static HashSet<string> HeldDomains(IEnumerable<KeyValuePair<string, string>> transport) =>
        transport.Where(l => IsHold(l.Value) && !l.Key.StartsWith('.')).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The same from a table's bytes, with a string only for each held domain (a 1M-domain transport is 72 MiB).</summary>
    public static HashSet<string> HeldDomains(byte[] transport)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        EachLine(transport, (key, value) =>
        {
            if (value.StartsWith("hold:"u8) && key[0] != (byte)'.')
            {
                held.Add(Encoding.UTF8.GetString(key));
            }
        });
        return held;
    }

    /// <summary>Those of <paramref name="candidates"/> that the relay_domains table <paramref name="domains"/> lists.</summary>
    public static HashSet<string> Relayed(byte[] domains, HashSet<string> candidates)
    {
        var relayed = new HashSet<string>(StringComparer.Ordinal);
        if (candidates.Count > 0)
        {
            var lookup = candidates.GetAlternateLookup<ReadOnlySpan<char>>();
            EachLine(domains, (key, _) =>
            {
                if (key.Length > 255)
                {
                    return; // not a domain name: no candidate
                }
                Span<char> name = stackalloc char[key.Length];
                if (lookup.TryGetValue(name[..Encoding.UTF8.GetChars(key, name)], out var domain))
                {
                    relayed.Add(domain);
                }
            });
        }
        return relayed;
    }

    public delegate void LineAction(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Each <c>key value</c> line of a source table, as spans of its bytes.</summary>
    public static void EachLine(ReadOnlySpan<byte> table, LineAction action)
    {
        while (table.Length > 0)
        {
            var end = table.IndexOf((byte)'\n');
            var line = end < 0 ? table : table[..end];
            table = end < 0 ? [] : table[(end + 1)..];
            var space = line.IndexOf((byte)' ');
            if (space > 0)
            {
                var value = line[(space + 1)..];
                action(line[..space], value.EndsWith("\r"u8) ? value[..^1] : value);
            }
        }
    }

    public static IEnumerable<KeyValuePair<string, string>> FileLines(string file) =>
        File.Exists(file) ? Lines(File.ReadAllBytes(file)) : [];

    public static IEnumerable<KeyValuePair<string, string>> Lines(byte[] table)
    {
        foreach (var line in Encoding.UTF8.GetString(table).Split('\n'))
        {
            var space = line.IndexOf(' ');
            if (space > 0)
            {
                yield return new(line[..space], line[(space + 1)..].TrimEnd('\r'));
            }
        }
    }
}
