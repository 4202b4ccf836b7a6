using System.Text.Json;

namespace RelayAgent;

public sealed record ApplyResult(long Generation, IReadOnlyList<string> Released);

/// <summary>
/// Turns verified generations into Postfix's lmdb tables and Dovecot's passwd-file, whole (a snapshot) or in place (a
/// delta). A snapshot's files are written in a staging folder (tables built there with <c>postmap lmdb:</c>) and
/// renamed into place (a rename is atomic, so Postfix and Dovecot never read a half-written file), in
/// <see cref="MapFiles"/>' order: routes before domains, an account's sender tables before its passwd line; then
/// Postfix reloads. A delta's lines go into the live tables (<c>postmap -r -i</c>, <c>postmap -d -</c>; each a
/// transaction Postfix's daemons see at their next lookup), and Postfix reloads only when mail is to be released, a
/// relayed domain's route changed, or a whole table was replaced. The mail of each domain that left hold, or whose route changed, is then released
/// with <c>postqueue -s</c>. Dovecot re-reads the passwd-file by itself.
/// </summary>
/// <remarks>
/// Crash-safe: which domains left hold or moved is decided against the live transport table before it is touched. The domains to release are written to <c>release.json</c> before any table changes, and released by
/// the next apply too until the state file records a completed one. An agent killed anywhere in between applies the
/// generation again at its next start (a delta is idempotent) and releases the same domains.
/// </remarks>
public sealed partial class MapApplier(AgentOptions options, Commands commands, AgentTelemetry telemetry, TimeProvider time, ILogger<MapApplier> logger)
{
    private const string Transport = "transport";
    private const string RelayDomains = "relay_domains";

    private string StateFile => Path.Combine(options.MapDirectory, "applied.json");

    /// <summary>Domains whose release an apply decided and that no completed apply has released yet.</summary>
    private string ReleaseFile => Path.Combine(options.MapDirectory, "release.json");

    /// <summary>
    /// The generation the live tables hold; 0 when nothing was applied, or the lmdb tables are not there yet (an agent
    /// upgraded from cdb tables), so the next poll applies a whole snapshot.
    /// </summary>
    public long AppliedGeneration => File.Exists(Table(Transport) + ".lmdb") ? ReadState()?.Generation ?? 0 : 0;

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
            // A domain that left hold is one whose route moved from hold to elsewhere: the live table says what it was.
            var candidates = moved.Concat(ReadRelease()).ToHashSet(StringComparer.Ordinal);
            released = [.. SourceTable.Relayed(generation.Files.GetValueOrDefault(RelayDomains, []), candidates).Order(StringComparer.Ordinal)];
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
        return await CompleteAsync(generation.Generation, released, reloaded: true, started, activity, ct);
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
            : SourceTable.FileLines(live).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, l.Value));
        using var old = before.GetEnumerator();
        var hasOld = old.MoveNext();
        foreach (var (key, value) in LmdbTable.Entries(staged))
        {
            while (hasOld && string.CompareOrdinal(old.Current.Key, key) < 0)
            {
                hasOld = old.MoveNext();
            }
            if (hasOld && old.Current.Key == key && old.Current.Value != value && !key.StartsWith('.') && !SourceTable.IsHold(value))
            {
                moved.Add(key);
            }
        }
        return moved;
    }

    /// <summary>Releases the decided domains, then records the generation as done.</summary>
    private async Task<ApplyResult> CompleteAsync(
        long generation, List<string> released, bool reloaded, long started, System.Diagnostics.Activity? activity, CancellationToken ct)
    {
        foreach (var domain in released)
        {
            await commands.FlushDomainAsync(domain, ct);
        }
        await WriteStateAsync(new State(generation, time.GetUtcNow()), ct);
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

    /// <summary>
    /// The last generation whose release completed, and when. It lists no held domains: the live transport table says
    /// which are held, and a list of a third of a million domains would be rewritten and read at every apply.
    /// </summary>
    private sealed record State(long Generation, DateTimeOffset? AppliedAt = null);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Applied relay map generation {Generation}; released the mail of {Released} domains that left hold or moved (reloaded: {Reloaded}; {ElapsedMs:F0} ms)")]
        public static partial void Applied(ILogger logger, long generation, int released, bool reloaded, double elapsedMs);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The agent's state file {File} is unreadable; the current generation is applied again")]
        public static partial void StateUnreadable(ILogger logger, Exception exception, string file);
    }
}
