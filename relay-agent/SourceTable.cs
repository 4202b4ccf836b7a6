using System.Text;

namespace RelayAgent;

/// <summary>Reading a Postfix source table (<c>key value</c> lines, as the publisher writes them) and its hold routes.</summary>
public static class SourceTable
{
    public static bool IsHold(string route) => route.StartsWith("hold:", StringComparison.Ordinal);

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
