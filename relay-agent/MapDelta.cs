using System.Text;
using RelayShared;

namespace RelayAgent;

/// <summary>One line of a delta: put <see cref="Key"/> → <see cref="Value"/> in <see cref="Table"/>, or delete it (Value null).</summary>
public sealed record MapChange(string Table, string Key, string? Value);

/// <summary>
/// A verified delta: the changes to the four domain tables (applied in place), and whole outbound tables that
/// replace the relay's copies. Parsed from the manifest's files; anything malformed makes it corrupt
/// (<see cref="InvalidDataException"/>), and the agent falls back to the snapshot.
/// </summary>
public sealed record MapDelta(long Generation, long Base, IReadOnlyList<MapChange> Changes, IReadOnlyDictionary<string, byte[]> Tables)
{
    /// <summary>
    /// <paramref name="files"/>: the manifest's verified files, <c>delta</c> (UTF-8 lines <c>+ table key value…</c> or
    /// <c>- table key</c>; empty: no change) and whole outbound tables.
    /// </summary>
    public static MapDelta Parse(long generation, long baseGeneration, IReadOnlyDictionary<string, byte[]> files)
    {
        if (!files.TryGetValue(RelayMapBlobs.Delta, out var delta))
        {
            throw new InvalidDataException($"Delta {generation} has no '{RelayMapBlobs.Delta}' file.");
        }
        var tables = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, content) in files.Where(f => f.Key != RelayMapBlobs.Delta))
        {
            if (!MapTables.OutboundTables.Contains(name))
            {
                throw new InvalidDataException($"Delta {generation} carries '{name}', which is not a table a delta may replace.");
            }
            tables[name] = content;
        }
        var changes = new List<MapChange>();
        var seen = new HashSet<(string, string)>();
        var number = 0;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(delta);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"Delta {generation} is not UTF-8.", e);
        }
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            var parts = line.Split(' ', 4);
            var valid = parts.Length >= 3 && MapTables.DomainTables.Contains(parts[1]) && parts[2].Length > 0 && !parts[2].Any(char.IsWhiteSpace)
                && (parts[0] == "+" ? parts.Length == 4 && parts[3].Trim().Length > 0 && !parts[3].Contains('\r') : parts[0] == "-" && parts.Length == 3);
            if (!valid || !seen.Add((parts[1], parts[2])))
            {
                throw new InvalidDataException($"Delta {generation}, line {number}: '{(line.Length > 80 ? line[..80] + "…" : line)}' is not a change of a domain table (or repeats a key).");
            }
            changes.Add(new MapChange(parts[1], parts[2], parts[0] == "+" ? parts[3] : null));
        }
        return new MapDelta(generation, baseGeneration, changes, tables);
    }
}
