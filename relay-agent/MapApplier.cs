using System.Text;
using System.Text.Json;

namespace RelayAgent;

public sealed record ApplyResult(long Generation, IReadOnlyList<string> Released);

/// <summary>
/// Turns a verified generation into Postfix's lookup tables. Each table is built with <c>postmap</c> in a staging
/// folder and renamed into place (a rename is atomic, so Postfix never reads a half-written table), transport
/// first and relay_domains last, so a domain is only accepted once its route exists. Then Postfix reloads, which
/// gives every daemon the whole new set (and clears qmgr's 30-second resolver cache), and the mail of each domain
/// that left hold is released with <c>postqueue -s</c>.
/// </summary>
public sealed partial class MapApplier(AgentOptions options, Commands commands, ILogger<MapApplier> logger)
{
    private static readonly string[] Order = ["transport", "message_size_limits", "relay_recipients", "relay_domains"];
    private string StateFile => Path.Combine(options.MapDirectory, "applied.json");

    public long AppliedGeneration =>
        File.Exists(StateFile) ? JsonSerializer.Deserialize<State>(File.ReadAllText(StateFile))?.Generation ?? 0 : 0;

    public async Task<ApplyResult> ApplyAsync(MapGeneration generation, CancellationToken ct)
    {
        var dir = options.MapDirectory;
        Directory.CreateDirectory(dir);
        var staging = Path.Combine(dir, $".staging-{generation.Generation}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var (name, content) in generation.Files)
            {
                var source = Path.Combine(staging, name);
                await File.WriteAllBytesAsync(source, content, ct);
                await commands.PostmapAsync(source, ct);
            }

            var heldBefore = HeldDomains(Path.Combine(dir, "transport"));
            foreach (var name in generation.Files.Keys.OrderBy(n => Array.IndexOf(Order, n) is var i and >= 0 ? i : -1))
            {
                File.Move(Path.Combine(staging, name + ".cdb"), Path.Combine(dir, name + ".cdb"), overwrite: true);
                File.Move(Path.Combine(staging, name), Path.Combine(dir, name), overwrite: true);
            }
            var heldAfter = HeldDomains(Path.Combine(dir, "transport"));
            var relayed = Domains(Path.Combine(dir, "relay_domains"));
            var released = heldBefore.Except(heldAfter).Where(relayed.Contains).Order(StringComparer.Ordinal).ToList();

            await commands.ReloadAsync(ct);
            foreach (var domain in released)
            {
                await commands.FlushDomainAsync(domain, ct);
            }
            await File.WriteAllTextAsync(StateFile, JsonSerializer.Serialize(new State(generation.Generation)), ct);
            Log.Applied(logger, generation.Generation, released.Count);
            return new ApplyResult(generation.Generation, released);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Domains whose transport entry is the hold transport (subdomain entries, ".domain", aside).</summary>
    internal static HashSet<string> HeldDomains(string transportFile) =>
        Lines(transportFile).Where(l => l.Value.StartsWith("hold:", StringComparison.Ordinal) && !l.Key.StartsWith('.')).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);

    private static HashSet<string> Domains(string file) => Lines(file).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<KeyValuePair<string, string>> Lines(string file)
    {
        if (!File.Exists(file))
        {
            yield break;
        }
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            var space = line.IndexOf(' ');
            if (space > 0)
            {
                yield return new(line[..space], line[(space + 1)..]);
            }
        }
    }

    private sealed record State(long Generation);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Applied relay map generation {Generation}; released {Released} domains from hold")]
        public static partial void Applied(ILogger logger, long generation, int released);
    }
}
