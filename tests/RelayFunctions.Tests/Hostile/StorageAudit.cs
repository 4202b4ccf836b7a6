using System.Globalization;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Destinations;
using RelayFunctions.Storage;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Reads every row the app stored and checks it with the app's own parsers: each value must parse back to itself (the
/// canonical form), keys and strings must be what Azure Table storage accepts (Azurite is laxer), and no string may hold
/// control, invisible or bidi characters, nor an unpaired surrogate. The relay map's published files are checked line by
/// line. Returns one line per invalid value.
/// </summary>
internal static partial class StorageAudit
{
    private static readonly DestinationPolicy Destinations = new(Options.Create(new DestinationOptions()));

    public sealed record Result(int Rows, int Values, IReadOnlyList<string> Invalid, IReadOnlyDictionary<string, int> ByTable);

    public static async Task<Result> RunAsync(StorageClients storage)
    {
        var invalid = new List<string>();
        int rows = 0, values = 0;
        var domains = new List<TableEntity>();
        var families = new List<TableEntity>();
        var byTable = new Dictionary<string, int>();
        foreach (var table in StorageNames.Tables)
        {
            byTable[table] = 0;
            await foreach (var e in storage.Table(table).QueryAsync<TableEntity>())
            {
                rows++;
                byTable[table]++;
                var where = $"{table}({Show(e.PartitionKey)}, {Show(e.RowKey)})";
                void Bad(string what) => invalid.Add($"{where}: {what}");
                values += Generic(e, Bad);
                switch (table)
                {
                    case "Accounts":
                        Account(e, Bad);
                        break;
                    case "Domains":
                        domains.Add(e);
                        Domain(e, Bad);
                        break;
                    case "DomainFamilies":
                        families.Add(e);
                        break;
                    case "Helpers":
                        Helper(e, Bad);
                        break;
                    case "HelperSchedule" or "VerificationSchedule":
                        Schedule(e, Bad);
                        break;
                    case "HelperHistory":
                        History(e, Bad);
                        break;
                }
            }
        }
        Claims(families, domains, invalid);
        await RelayMapAudit.RunAsync(storage, invalid);
        return new Result(rows, values, invalid, byTable);
    }

    /// <summary>What Azure would refuse, and characters no stored value should hold. Returns how many values were read.</summary>
    private static int Generic(TableEntity e, Action<string> bad)
    {
        foreach (var (name, key) in new[] { ("PartitionKey", e.PartitionKey), ("RowKey", e.RowKey) })
        {
            if (key.Length > 512 || key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
            {
                bad($"{name} is not a key Azure Table storage accepts (at most 1 KiB, no / \\ # ? or control characters)");
            }
            Text(name, key, bad);
        }
        var count = 0;
        foreach (var (name, value) in e)
        {
            count++;
            if (value is string s && name is not ("odata.etag" or "PartitionKey" or "RowKey"))
            {
                if (s.Length > 32 * 1024)
                {
                    bad($"{name} holds {s.Length} characters: Azure stores at most 64 KiB (32,768 UTF-16 characters) in a property");
                }
                Text(name, s, bad);
            }
        }
        if (e.Count > 255 || EntityText.SizeOf(e) > EntityText.MaxEntityBytes)
        {
            bad($"the entity takes {EntityText.SizeOf(e)} bytes in {e.Count} properties: Azure stores at most 1 MiB and 255 properties");
        }
        return count;
    }

    internal static void Text(string name, string value, Action<string> bad)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var category = char.GetUnicodeCategory(c);
            var lone = char.IsHighSurrogate(c) ? i + 1 >= value.Length || !char.IsLowSurrogate(value[++i]) : char.IsLowSurrogate(c);
            if (lone || category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                || c == '\ufffd')
            {
                bad($"{name} holds U+{(int)c:X4} ({(lone ? "unpaired surrogate" : category.ToString())}) at {i}: {Show(value)}");
                return;
            }
        }
    }
}
