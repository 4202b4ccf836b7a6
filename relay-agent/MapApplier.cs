using System.Text;
using System.Text.Json;

namespace RelayAgent;

public sealed record ApplyResult(long Generation, IReadOnlyList<string> Released);

/// <summary>
/// Turns verified generations into Postfix's lmdb tables and Dovecot's passwd-file, whole (a snapshot) or in place (a
/// delta). A snapshot's files are written in a staging folder (tables built there with <c>postmap lmdb:</c>) and
/// renamed into place (a rename is atomic, so Postfix and Dovecot never read a half-written file), in
/// <see cref="MapFiles"/>' order: routes before domains, an account's sender tables before its passwd line; then
/// Postfix reloads. A delta's lines go into the live tables (<c>postmap -r -i</c>, <c>postmap -d -</c>; each a
/// transaction Postfix's daemons see at their next lookup), and Postfix reloads only when mail is to be released or
/// a whole table was replaced. The mail of each domain that left hold, or whose route changed, is then released
/// with <c>postqueue -s</c>. Dovecot re-reads the passwd-file by itself.
/// </summary>
/// <remarks>
/// Crash-safe: which domains left hold is decided against the held set of the last generation whose release
/// completed (the state file, written only after every flush succeeded); which moved, against the live table before
/// it is touched. The domains to release are written to <c>release.json</c> before any table changes, and released by
/// the next apply too until the state file records a completed one. An agent killed anywhere in between applies the
/// generation again at its next start (a delta is idempotent) and releases the same domains.
/// </remarks>
public sealed partial class MapApplier(AgentOptions options, Commands commands, AgentTelemetry telemetry, TimeProvider time, ILogger<MapApplier> logger)
{
    private const string Transport = "transport";
    private const string RelayDomains = "relay_domains";

    private string StateFile => StateFileIn(options.MapDirectory);

    /// <summary>Domains whose release an apply decided and that no completed apply has released yet.</summary>
    private string ReleaseFile => Path.Combine(options.MapDirectory, "release.json");

    /// <summary>
    /// The generation the live tables hold; 0 when nothing was applied, or the lmdb tables are not there yet (an agent
    /// upgraded from cdb tables), so the next poll applies a whole snapshot.
    /// </summary>
    public long AppliedGeneration => File.Exists(Table(Transport) + ".lmdb") ? ReadState()?.Generation ?? 0 : 0;

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

    /// <summary>A downloaded update: its snapshot (if any) whole, then its deltas one by one, each recorded when done.</summary>
    public async Task<ApplyResult> ApplyAsync(MapUpdate update, CancellationToken ct)
    {
        var released = new List<string>();
        if (update.Snapshot is { } snapshot)
        {
            released.AddRange((await ApplyAsync(snapshot, ct)).Released);
        }
        foreach (var delta in update.Deltas)
        {
            released.AddRange((await ApplyAsync(delta, ct)).Released);
        }
        return new ApplyResult(update.Generation, [.. released.Distinct()]);
    }

    /// <summary>A snapshot: every table rebuilt aside and renamed into place, then a reload.</summary>
    public async Task<ApplyResult> ApplyAsync(MapGeneration generation, CancellationToken ct)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.apply");
        activity?.SetTag("relay_map.generation", generation.Generation);
        activity?.SetTag("relay_map.kind", "snapshot");
        var started = time.GetTimestamp();
        var dir = options.MapDirectory;
        Directory.CreateDirectory(dir);

        var held = generation.Files.TryGetValue(Transport, out var transport) ? HeldDomains(transport) : [];
        // A state file from before held sets were recorded: the transport source on disk is the best that is known.
        var heldBefore = ReadState()?.Held?.ToHashSet(StringComparer.Ordinal) ?? HeldDomains(FileLines(Table(Transport)));

        var staging = Path.Combine(dir, $".staging-{generation.Generation}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        List<string> released;
        try
        {
            var files = MapFiles.InOrder(generation.Files).ToList();
            foreach (var (name, kind, content) in files)
            {
                var source = Path.Combine(staging, name);
                await MapFiles.WriteAsync(source, kind, content, ct);
                if (kind == MapFileKind.Table)
                {
                    await commands.PostmapAsync(source, ct);
                }
            }
            // Mail already deferred for a domain whose route changed (a new address from its helper, a new port) is
            // retried at once at the new destination, as held mail is released, instead of at its next backoff.
            var moved = Moved(Path.Combine(staging, Transport));
            var candidates = heldBefore.Except(held).Concat(moved).Concat(ReadRelease()).ToHashSet(StringComparer.Ordinal);
            released = [.. Relayed(generation.Files.GetValueOrDefault(RelayDomains, []), candidates).Order(StringComparer.Ordinal)];
            await WriteReleaseAsync(released, ct);
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
        return await CompleteAsync(generation.Generation, held, released, reloaded: true, started, activity, ct);
    }

    /// <summary>
    /// A delta on top of the applied generation: puts table by table (routes before domains), deletes in the reverse
    /// order, whole outbound tables renamed into place. A reload only when mail is released or a table was replaced.
    /// </summary>
    public async Task<ApplyResult> ApplyAsync(MapDelta delta, CancellationToken ct)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.apply");
        activity?.SetTag("relay_map.generation", delta.Generation);
        activity?.SetTag("relay_map.kind", "delta");
        var started = time.GetTimestamp();
        var state = ReadState();
        if (state is null || state.Generation != delta.Base)
        {
            throw new InvalidOperationException($"Delta {delta.Generation} applies on top of generation {delta.Base}; this relay has {state?.Generation ?? 0}.");
        }

        var routes = delta.Changes.Where(c => c.Table == Transport && !c.Key.StartsWith('.')).ToList();
        var held = (state.Held ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            if (route.Value is { } value && IsHold(value))
            {
                held.Add(route.Key);
            }
            else
            {
                held.Remove(route.Key);
            }
        }
        // Asked before anything changes: a route that was hold, or went elsewhere, releases the domain's deferred mail.
        var before = await commands.QueryAsync(Table(Transport), routes.Where(r => r.Value is not null).Select(r => r.Key), ct);
        var candidates = routes.Where(r => r.Value is { } value && !IsHold(value) && before.TryGetValue(r.Key, out var old) && old != value)
            .Select(r => r.Key).Concat(ReadRelease()).ToHashSet(StringComparer.Ordinal);
        var released = (await RelayedAfterAsync(delta, candidates, ct)).Order(StringComparer.Ordinal).ToList();
        await WriteReleaseAsync(released, ct);

        foreach (var table in MapDelta.DomainTables)
        {
            var puts = delta.Changes.Where(c => c.Table == table && c.Value is not null).Select(c => $"{c.Key} {c.Value}").ToList();
            if (puts.Count > 0)
            {
                await commands.PutAsync(Table(table), puts, ct);
            }
        }
        foreach (var table in MapDelta.DomainTables.Reverse())
        {
            var deletes = delta.Changes.Where(c => c.Table == table && c.Value is null).Select(c => c.Key).ToList();
            if (deletes.Count > 0)
            {
                await commands.DeleteAsync(Table(table), deletes, ct);
            }
        }
        // The source files beside the tables no longer describe them; the next snapshot writes them again.
        foreach (var table in delta.Changes.Select(c => c.Table).Distinct())
        {
            File.Delete(Table(table));
        }
        await ReplaceAsync(delta, ct);

        var reload = released.Count > 0 || delta.Tables.Count > 0;
        if (reload)
        {
            await commands.ReloadAndWaitAsync(ct);
        }
        return await CompleteAsync(delta.Generation, held, released, reload, started, activity, ct);
    }

    /// <summary>The whole outbound tables a delta carries, staged and renamed in <see cref="MapFiles"/>' order.</summary>
    private async Task ReplaceAsync(MapDelta delta, CancellationToken ct)
    {
        if (delta.Tables.Count == 0)
        {
            return;
        }
        var staging = Path.Combine(options.MapDirectory, $".staging-{delta.Generation}");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var files = MapFiles.InOrder(delta.Tables).Where(f => delta.Tables.ContainsKey(f.Name)).ToList();
            foreach (var (name, kind, content) in files)
            {
                await MapFiles.WriteAsync(Path.Combine(staging, name), kind, content, ct);
                if (kind == MapFileKind.Table)
                {
                    await commands.PostmapAsync(Path.Combine(staging, name), ct);
                }
            }
            foreach (var (name, kind, _) in files)
            {
                MapFiles.Install(staging, options.MapDirectory, name, kind);
            }
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Those of <paramref name="domains"/> that relay_domains holds once <paramref name="delta"/> is applied.</summary>
    private async Task<IEnumerable<string>> RelayedAfterAsync(MapDelta delta, HashSet<string> domains, CancellationToken ct)
    {
        var changed = delta.Changes.Where(c => c.Table == RelayDomains && domains.Contains(c.Key)).ToDictionary(c => c.Key, c => c.Value is not null, StringComparer.Ordinal);
        var live = await commands.QueryAsync(Table(RelayDomains), domains.Where(d => !changed.ContainsKey(d)), ct);
        return domains.Where(d => changed.TryGetValue(d, out var put) ? put : live.ContainsKey(d));
    }

    /// <summary>
    /// Non-subdomain keys whose route in the staged transport differs from the live one's and is not hold: both lmdb
    /// tables are read in key order (<see cref="LmdbTable"/>) and merge-joined, so neither is ever held in memory. A
    /// relay still on cdb tables compares with the source file the last snapshot left.
    /// </summary>
    private List<string> Moved(string staged)
    {
        var moved = new List<string>();
        var live = Table(Transport);
        var before = File.Exists(live + ".lmdb")
            ? LmdbTable.Entries(live)
            : FileLines(live).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, l.Value));
        using var old = before.GetEnumerator();
        var hasOld = old.MoveNext();
        foreach (var (key, value) in LmdbTable.Entries(staged))
        {
            while (hasOld && string.CompareOrdinal(old.Current.Key, key) < 0)
            {
                hasOld = old.MoveNext();
            }
            if (hasOld && old.Current.Key == key && old.Current.Value != value && !key.StartsWith('.') && !IsHold(value))
            {
                moved.Add(key);
            }
        }
        return moved;
    }

    /// <summary>Releases the decided domains, then records the generation (and its held set) as done.</summary>
    private async Task<ApplyResult> CompleteAsync(
        long generation, HashSet<string> held, List<string> released, bool reloaded, long started, System.Diagnostics.Activity? activity, CancellationToken ct)
    {
        foreach (var domain in released)
        {
            await commands.FlushDomainAsync(domain, ct);
        }
        await WriteStateAsync(new State(generation, time.GetUtcNow(), [.. held.Order(StringComparer.Ordinal)]), ct);
        File.Delete(ReleaseFile);

        var elapsed = time.GetElapsedTime(started);
        telemetry.Applied(generation, released.Count, elapsed);
        activity?.SetTag("relay_map.released", released.Count);
        Log.Applied(logger, generation, released.Count, reloaded, elapsed.TotalMilliseconds);
        return new ApplyResult(generation, released);
    }

    private string Table(string name) => Path.Combine(options.MapDirectory, name);

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

    private IReadOnlyList<string> ReadRelease()
    {
        try
        {
            return File.Exists(ReleaseFile) ? JsonSerializer.Deserialize<List<string>>(File.ReadAllText(ReleaseFile)) ?? [] : [];
        }
        catch (JsonException e)
        {
            Log.StateUnreadable(logger, e, ReleaseFile);
            return [];
        }
    }

    private Task WriteReleaseAsync(IReadOnlyList<string> domains, CancellationToken ct) =>
        domains.Count == 0 ? Task.CompletedTask : WriteAsideAsync(ReleaseFile, domains, ct);

    private Task WriteStateAsync(State state, CancellationToken ct) => WriteAsideAsync(StateFile, state, ct);

    /// <summary>Written aside and renamed over the old file, so a crash leaves either the old content or the new one.</summary>
    private static async Task WriteAsideAsync<T>(string path, T content, CancellationToken ct)
    {
        var temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            await JsonSerializer.SerializeAsync(file, content, cancellationToken: ct);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static bool IsHold(string route) => route.StartsWith("hold:", StringComparison.Ordinal);

    /// <summary>Domains whose transport entry is the hold transport (subdomain entries, ".domain", aside).</summary>
    private static HashSet<string> HeldDomains(IEnumerable<KeyValuePair<string, string>> transport) =>
        transport.Where(l => IsHold(l.Value) && !l.Key.StartsWith('.')).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The same from a table's bytes, with a string only for each held domain (a 1M-domain transport is 72 MiB).</summary>
    private static HashSet<string> HeldDomains(byte[] transport)
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
    private static HashSet<string> Relayed(byte[] domains, HashSet<string> candidates)
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

    private delegate void LineAction(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Each <c>key value</c> line of a source table, as spans of its bytes.</summary>
    private static void EachLine(ReadOnlySpan<byte> table, LineAction action)
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
        [LoggerMessage(Level = LogLevel.Information, Message = "Applied relay map generation {Generation}; released the mail of {Released} domains that left hold or moved (reloaded: {Reloaded}; {ElapsedMs:F0} ms)")]
        public static partial void Applied(ILogger logger, long generation, int released, bool reloaded, double elapsedMs);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The agent's state file {File} is unreadable; the current generation is applied again")]
        public static partial void StateUnreadable(ILogger logger, Exception exception, string file);
    }
}
