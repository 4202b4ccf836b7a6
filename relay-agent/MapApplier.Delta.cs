using RelayShared;

namespace RelayAgent;

/// <summary>The delta apply: a delta's lines into the live lmdb tables, in place.</summary>
public sealed partial class MapApplier
{
    /// <summary>
    /// A delta on top of the applied generation: puts table by table (routes before domains), deletes in the reverse
    /// order, whole outbound tables renamed into place. A reload only when mail is released, a relayed domain's route
    /// changed, or a table was replaced.
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
        // Asked before anything changes: a route that was hold, or went elsewhere, releases the domain's deferred mail.
        var before = await commands.QueryAsync(Table(Transport), routes.Where(r => r.Value is not null).Select(r => r.Key), ct);
        var candidates = routes.Where(r => r.Value is { } value && !SourceTable.IsHold(value) && before.TryGetValue(r.Key, out var old) && old != value)
            .Select(r => r.Key).Concat(ReadRelease()).ToHashSet(StringComparer.Ordinal);
        var released = (await RelayedAfterAsync(delta, candidates, ct)).Order(StringComparer.Ordinal).ToList();
        await WriteReleaseAsync(released, ct);

        foreach (var table in MapTables.DomainTables)
        {
            var puts = delta.Changes.Where(c => c.Table == table && c.Value is not null).Select(c => $"{c.Key} {c.Value}").ToList();
            if (puts.Count > 0)
            {
                await commands.PutAsync(Table(table), puts, ct);
            }
        }
        foreach (var table in MapTables.DomainTables.Reverse())
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

        // Also when a relayed domain's route changed (into hold, too): qmgr keeps the last route it resolved for 30 s, so
        // without a reload the next message to the same address could still go the old way. A new domain, a deleted
        // one, recipients and size limits need none: every daemon reads the lmdb table at its next lookup.
        var rerouted = routes.Any(r => before.TryGetValue(r.Key, out var old) && old != r.Value);
        var reload = released.Count > 0 || delta.Tables.Count > 0 || rerouted;
        if (reload)
        {
            await commands.ReloadAndWaitAsync(ct);
        }
        return await CompleteAsync(delta.Generation, released, reload, started, activity, ct);
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
}
