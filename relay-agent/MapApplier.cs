using System.Text;
using System.Text.Json;

namespace RelayAgent;

public sealed record ApplyResult(long Generation, IReadOnlyList<string> Released);

/// <summary>
/// Turns a verified generation into Postfix's lookup tables and Dovecot's passwd-file. Each file is written in a
/// staging folder (tables built there with <c>postmap</c>) and renamed into place (a rename is atomic, so Postfix
/// and Dovecot never read a half-written file), in <see cref="MapFiles"/>' order: routes before domains, an
/// account's sender tables before its passwd line. Then Postfix reloads, which gives every daemon the whole new set
/// (and clears qmgr's 30-second resolver cache), and the mail of each domain that left hold is released with
/// <c>postqueue -s</c>, as is the deferred mail of each domain whose route changed. Dovecot re-reads the passwd-file by itself.
/// </summary>
/// <remarks>
/// Crash-safe: which domains left hold, or moved, is decided against the held set and the routes of the last
/// generation whose release completed, kept in the state file and <c>applied-transport</c>, written only after every
/// flush succeeded. An agent killed anywhere
/// in between applies the generation again at its next start, finds the same domains left hold, and releases them;
/// the tables already on disk say nothing about what was released.
/// </remarks>
public sealed partial class MapApplier(AgentOptions options, Commands commands, AgentTelemetry telemetry, TimeProvider time, ILogger<MapApplier> logger)
{
    private string StateFile => StateFileIn(options.MapDirectory);

    /// <summary>The transport table of the last generation whose release completed (the live one may be newer).</summary>
    private string RoutesFile => Path.Combine(options.MapDirectory, "applied-transport");

    public long AppliedGeneration => ReadState()?.Generation ?? 0;

    /// <summary>The state file in <paramref name="mapDirectory"/> (another reader than the applier: the policy service).</summary>
    public static string StateFileIn(string mapDirectory) => Path.Combine(mapDirectory, "applied.json");

    /// <summary>
    /// The domains held by the last generation whose release completed, as the state file in
    /// <paramref name="mapDirectory"/> records them; empty when there is none (or it predates held sets).
    /// </summary>
    public static IReadOnlyList<string> HeldIn(string mapDirectory)
    {
        try
        {
            var file = StateFileIn(mapDirectory);
            return File.Exists(file) ? JsonSerializer.Deserialize<State>(File.ReadAllText(file))?.Held ?? [] : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>When the applied generation was applied; null when unknown (nothing applied, or an older state file).</summary>
    public DateTimeOffset? AppliedAt => ReadState()?.AppliedAt;

    public async Task<ApplyResult> ApplyAsync(MapGeneration generation, CancellationToken ct)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.apply");
        activity?.SetTag("relay_map.generation", generation.Generation);
        var started = time.GetTimestamp();
        var dir = options.MapDirectory;
        Directory.CreateDirectory(dir);

        var held = generation.Files.TryGetValue("transport", out var transport) ? HeldDomains(Lines(transport)) : [];
        var relayed = generation.Files.TryGetValue("relay_domains", out var domains) ? Lines(domains).Select(l => l.Key).ToHashSet(StringComparer.Ordinal) : [];
        // A state file from before held sets were recorded: the transport on disk is the best that is known.
        var heldBefore = ReadState()?.Held?.ToHashSet(StringComparer.Ordinal) ?? HeldDomains(FileLines(Path.Combine(dir, "transport")));
        // Mail already deferred for a domain whose route changed (a new address from its helper, a new port) is retried
        // at once at the new destination, as held mail is released, instead of at its next backoff (up to 2 h later).
        var routes = transport is null ? [] : Lines(transport).Where(l => !l.Key.StartsWith('.')).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        var routesBefore = FileLines(RoutesFile).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        var moved = routesBefore.Count == 0 ? [] : routes.Where(r => !held.Contains(r.Key) && routesBefore.TryGetValue(r.Key, out var before) && before != r.Value).Select(r => r.Key);
        var released = heldBefore.Except(held).Concat(moved).Where(relayed.Contains).Distinct().Order(StringComparer.Ordinal).ToList();

        var staging = Path.Combine(dir, $".staging-{generation.Generation}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var files = MapFiles.InOrder(generation.Files).ToList();
            foreach (var (name, kind, content) in files)
            {
                var source = Path.Combine(staging, name);
                await MapFiles.WriteAsync(source, kind, content, ct);
                if (kind == MapFileKind.Cdb)
                {
                    await commands.PostmapAsync(source, ct);
                }
            }
            foreach (var (name, kind, _) in files)
            {
                MapFiles.Install(staging, dir, name, kind);
            }
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }

        await commands.ReloadAndWaitAsync(ct);
        foreach (var domain in released)
        {
            await commands.FlushDomainAsync(domain, ct);
        }
        var appliedAt = time.GetUtcNow();
        if (transport is not null)
        {
            // The routes of this release, for the next generation to compare with: written aside and renamed.
            await File.WriteAllBytesAsync(RoutesFile + ".tmp", transport, ct);
            File.Move(RoutesFile + ".tmp", RoutesFile, overwrite: true);
        }
        await WriteStateAsync(new State(generation.Generation, appliedAt, [.. held.Order(StringComparer.Ordinal)]), ct);

        var elapsed = time.GetElapsedTime(started);
        telemetry.Applied(generation.Generation, released.Count, elapsed);
        activity?.SetTag("relay_map.released", released.Count);
        Log.Applied(logger, generation.Generation, released.Count, elapsed.TotalMilliseconds);
        return new ApplyResult(generation.Generation, released);
    }

    private State? ReadState()
    {
        try
        {
            return File.Exists(StateFile) ? JsonSerializer.Deserialize<State>(File.ReadAllText(StateFile)) : null;
        }
        catch (JsonException e)
        {
            // Written by rename, so never half-written by the agent; whatever else damaged it, applying again repairs it.
            Log.StateUnreadable(logger, e, StateFile);
            return null;
        }
    }

    /// <summary>Written aside and renamed over the old state, so a crash leaves either the old state or the new one.</summary>
    private async Task WriteStateAsync(State state, CancellationToken ct)
    {
        var temporary = StateFile + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            await JsonSerializer.SerializeAsync(file, state, cancellationToken: ct);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, StateFile, overwrite: true);
    }

    /// <summary>Domains whose transport entry is the hold transport (subdomain entries, ".domain", aside).</summary>
    private static HashSet<string> HeldDomains(IEnumerable<KeyValuePair<string, string>> transport) =>
        transport.Where(l => l.Value.StartsWith("hold:", StringComparison.Ordinal) && !l.Key.StartsWith('.')).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<KeyValuePair<string, string>> FileLines(string file) =>
        File.Exists(file) ? Lines(File.ReadAllBytes(file)) : [];

    private static IEnumerable<KeyValuePair<string, string>> Lines(byte[] table)
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

    /// <summary>The last generation whose release completed, when, and which of its domains were held.</summary>
    private sealed record State(long Generation, DateTimeOffset? AppliedAt = null, IReadOnlyList<string>? Held = null);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Applied relay map generation {Generation}; released the mail of {Released} domains that left hold or moved ({ElapsedMs:F0} ms)")]
        public static partial void Applied(ILogger logger, long generation, int released, double elapsedMs);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The agent's state file {File} is unreadable; the current generation is applied again")]
        public static partial void StateUnreadable(ILogger logger, Exception exception, string file);
    }
}
