using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Options;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.RelayMap;

/// <summary>What a publication did: its generation, whether it became current, how many domains, and whether it wrote a snapshot.</summary>
public sealed record PublishResult(long Generation, bool BecameCurrent, int Domains, bool Snapshot = false, int Changes = 0);

/// <summary>
/// Publishes the relay map in Blob storage as a chain of immutable generations (<c>generations/{N}/…</c>). The first
/// publication writes a snapshot from the <c>Domains</c> table, streamed; every later one writes a delta of what the
/// change log (<see cref="MapChanges"/>) says changed, so its cost follows the changes, not the map; and every
/// <see cref="RelayMapOptions.SnapshotAfter"/> deltas (or <see cref="RelayMapOptions.SnapshotInterval"/>) a new snapshot
/// is written beside the delta by streaming the previous snapshot through the deltas since (the table is not read
/// again). Generation numbers come from a counter row updated with ETags (<see cref="MapChanges.NextGenerationAsync"/>);
/// <c>current.json</c> moves with a conditional write, only from the generation a publication was built on, so the chain
/// never forks and never goes back; the change log's rows are removed only after their generation became current.
/// </summary>
public sealed partial class RelayMapPublisher(
    StorageClients storage, RelayMapBuilder builder, MapChanges changes, TimeProvider time,
    IOptions<RelayMapOptions> options, ILogger<RelayMapPublisher> logger)
{
    private BlobContainerClient Container => storage.Container(RelayMapBlobs.Container);

    public async Task<MapPointer?> CurrentAsync(CancellationToken cancellationToken) => (await ReadPointerAsync(cancellationToken)).Pointer;

    /// <param name="beforePointer">Test seam: runs between writing the generation and moving the pointer.</param>
    /// <param name="rebuild">Writes a snapshot from the <c>Domains</c> table whatever the chain holds.</param>
    /// <param name="snapshot">Writes a snapshot beside the delta even if none is due yet.</param>
    public async Task<PublishResult> PublishAsync(
        string? sourceVersion, CancellationToken cancellationToken, Func<long, Task>? beforePointer = null, bool rebuild = false, bool snapshot = false)
    {
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await using var exclusive = await PublishLock.AcquireAsync(Container, time, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var (pointer, etag) = await ReadPointerAsync(cancellationToken);
            // Read before the tables: a change written after this is in the log for the next publication.
            var log = await changes.ReadLogAsync(cancellationToken);
            var pending = log.Where(c => !c.Consumed).ToList();
            var generation = await changes.NextGenerationAsync(cancellationToken);
            var now = time.GetUtcNow();
            MapPointer next;
            IReadOnlyDictionary<string, bool> published = new Dictionary<string, bool>();
            // A change that lost track of its stale keys (thousands of recipients edited before one publication) cannot
            // be a delta: the table says what is right.
            if (rebuild || pointer?.Snapshot is null || pending.Any(c => c.Overflow))
            {
                // Which of the logged domains it holds, so the rows it takes are marked as for a delta.
                var seen = pending.Where(c => !c.IsOutbound).ToDictionary(c => c.Key, _ => false, StringComparer.Ordinal);
                var (manifestPath, domains) = await WriteTableSnapshotAsync(generation, now, seen, cancellationToken);
                published = seen;
                next = new MapPointer(generation, manifestPath, now, domains, sourceVersion, generation, manifestPath, now);
            }
            else
            {
                (next, published) = await WriteDeltaAsync(pointer, generation, now, pending, sourceVersion, snapshot, cancellationToken);
            }
            if (beforePointer is not null)
            {
                await beforePointer(generation);
            }
            if (await MovePointerAsync(next, etag, cancellationToken))
            {
                await changes.AcknowledgeAsync(pending, published, cancellationToken);
                await changes.CollectAsync(log, cancellationToken);
                var wroteSnapshot = next.Snapshot == generation;
                Log.Published(logger, generation, wroteSnapshot ? Manifest.SnapshotKind : Manifest.DeltaKind, pending.Count, next.Domains);
                await PruneAsync(next.Snapshot!.Value, cancellationToken);
                return new PublishResult(generation, true, next.Domains, wroteSnapshot, pending.Count);
            }
            // Another publication moved the pointer since this one read it: this generation is not on the chain. Its
            // changes are still in the log; build again on top of the new current one.
            if (attempt == 10)
            {
                Log.Lost(logger, generation);
                return new PublishResult(generation, false, next.Domains);
            }
        }
    }

    /// <summary>A snapshot read from the <c>Domains</c> table: the first one, or a rebuild.</summary>
    private async Task<(string Manifest, int Domains)> WriteTableSnapshotAsync(
        long generation, DateTimeOffset now, Dictionary<string, bool> seen, CancellationToken cancellationToken)
    {
        var folder = RelayMapBlobs.GenerationFolder(generation);
        var writers = new Dictionary<string, MapTextWriter>(StringComparer.Ordinal);
        try
        {
            foreach (var table in MapTables.DomainTables)
            {
                writers[table] = await MapTextWriter.OpenAsync(Container.GetBlockBlobClient($"{folder}/{table}"), table, cancellationToken);
            }
            var domains = await builder.WriteDomainTablesAsync(writers, cancellationToken, seen);
            var listed = new List<ManifestFile>();
            foreach (var table in MapTables.DomainTables)
            {
                listed.Add(await writers[table].CompleteAsync(cancellationToken));
            }
            listed.AddRange(await UploadAsync(folder, await builder.OutboundFilesAsync(cancellationToken), cancellationToken));
            var manifest = $"{folder}/{RelayMapBlobs.ManifestName}";
            await UploadJsonAsync(manifest, new Manifest(generation, now, domains, listed), cancellationToken);
            return (manifest, domains);
        }
        finally
        {
            foreach (var writer in writers.Values)
            {
                await writer.DisposeAsync();
            }
        }
    }

    /// <summary>The delta of the pending changes on top of the current generation, and a snapshot beside it when one is due.</summary>
    private async Task<(MapPointer Pointer, IReadOnlyDictionary<string, bool> Published)> WriteDeltaAsync(
        MapPointer pointer, long generation, DateTimeOffset now, IReadOnlyList<MapChange> pending, string? sourceVersion, bool snapshot,
        CancellationToken cancellationToken)
    {
        var delta = await builder.DeltaAsync(pending, cancellationToken);
        var outbound = delta.Outbound ? await builder.OutboundFilesAsync(cancellationToken) : [];
        var folder = RelayMapBlobs.GenerationFolder(generation);
        var domains = Math.Max(pointer.Domains + delta.Added, 0);
        var listed = await UploadAsync(folder, [delta.File, .. outbound], cancellationToken);
        var manifest = $"{folder}/{RelayMapBlobs.ManifestName}";
        var due = snapshot || generation - pointer.Snapshot >= options.Value.SnapshotAfter
            || now - (pointer.SnapshotAt ?? pointer.PublishedAt) >= options.Value.SnapshotInterval;
        await UploadJsonAsync(manifest, new Manifest(generation, now, domains, listed, Manifest.DeltaKind, pointer.Generation, pointer.Manifest), cancellationToken);
        if (!due)
        {
            return (new MapPointer(generation, manifest, now, domains, sourceVersion, pointer.Snapshot, pointer.SnapshotManifest, pointer.SnapshotAt), delta.Published);
        }
        var (snapshotManifest, counted) = await CompactAsync(pointer, generation, now, delta, outbound, cancellationToken);
        return (new MapPointer(generation, manifest, now, counted, sourceVersion, generation, snapshotManifest, now), delta.Published);
    }

    /// <summary>
    /// A snapshot of <paramref name="generation"/> from the latest one and the deltas since, streamed: the deltas'
    /// operations, oldest first, make an overlay of keys (put with a value, or deleted); each table of the old snapshot
    /// is read a line at a time, the lines of every key in the overlay left out, and the overlay's puts written after.
    /// That is what a relay holds after applying the same deltas, key for key. Memory follows the keys changed since
    /// the last snapshot.
    /// </summary>
    private async Task<(string Manifest, int Domains)> CompactAsync(
        MapPointer pointer, long generation, DateTimeOffset now, MapDelta delta, IReadOnlyList<MapFile> outbound, CancellationToken cancellationToken)
    {
        var old = await ReadManifestAsync(pointer.SnapshotManifest!, cancellationToken);
        var deltas = new List<string> { System.Text.Encoding.UTF8.GetString(delta.File.Content) };
        Manifest? outboundFrom = outbound.Count > 0 ? null : old;
        for (var path = pointer.Manifest; ;)
        {
            var manifest = await ReadManifestAsync(path, cancellationToken);
            if (manifest.Kind != Manifest.DeltaKind || manifest.Generation <= pointer.Snapshot)
            {
                break;
            }
            if (outboundFrom == old && manifest.Files.Any(f => f.Name == MapTables.Passwd))
            {
                outboundFrom = manifest;
            }
            deltas.Add(await DownloadTextAsync(manifest.Files.Single(f => f.Name == RelayMapBlobs.Delta).Path, cancellationToken));
            path = manifest.BaseManifest ?? throw new InvalidDataException($"Delta {manifest.Generation} names no base manifest.");
        }
        var overlay = new Dictionary<(string Table, string Key), string?>();
        foreach (var text in Enumerable.Reverse(deltas))
        {
            foreach (var (put, table, key, value) in ParseDelta(text))
            {
                overlay[(table, key)] = put ? value : null;
            }
        }

        var folder = $"{RelayMapBlobs.GenerationFolder(generation)}/{RelayMapBlobs.SnapshotFolder}";
        var listed = new List<ManifestFile>();
        var domains = 0;
        foreach (var table in MapTables.DomainTables)
        {
            await using var writer = await MapTextWriter.OpenAsync(Container.GetBlockBlobClient($"{folder}/{table}"), table, cancellationToken);
            var source = old.Files.Single(f => f.Name == table);
            using (var reader = new StreamReader(await Container.GetBlobClient(source.Path).OpenReadAsync(cancellationToken: cancellationToken)))
            {
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    var space = line.IndexOf(' ');
                    if (space > 0 && !overlay.ContainsKey((table, line[..space])))
                    {
                        await writer.WriteLineAsync(line);
                        domains += table == MapTables.RelayDomains ? 1 : 0;
                    }
                }
            }
            foreach (var ((_, key), value) in overlay.Where(o => o.Key.Table == table && o.Value is not null))
            {
                await writer.WriteLineAsync(key, value!);
                domains += table == MapTables.RelayDomains ? 1 : 0;
            }
            listed.Add(await writer.CompleteAsync(cancellationToken));
        }
        if (outboundFrom is null)
        {
            listed.AddRange(await UploadAsync(folder, outbound, cancellationToken));
        }
        else
        {
            foreach (var file in outboundFrom.Files.Where(f => f.Name is not RelayMapBlobs.Delta && !MapTables.DomainTables.Contains(f.Name)))
            {
                var content = (await Container.GetBlobClient(file.Path).DownloadContentAsync(cancellationToken)).Value.Content;
                var copy = $"{folder}/{file.Name}";
                await Container.GetBlobClient(copy).UploadAsync(content, overwrite: true, cancellationToken);
                listed.Add(file with { Path = copy });
            }
        }
        var manifestPath = $"{folder}/{RelayMapBlobs.ManifestName}";
        await UploadJsonAsync(manifestPath, new Manifest(generation, now, domains, listed), cancellationToken);
        return (manifestPath, domains);
    }

    /// <summary>A delta's operations: <c>+ table key value</c> (put) and <c>- table key</c> (delete).</summary>
    internal static IEnumerable<(bool Put, string Table, string Key, string Value)> ParseDelta(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || parts[0] is not ("+" or "-") || !MapTables.DomainTables.Contains(parts[1]))
            {
                throw new InvalidDataException($"A delta line is malformed: '{line}'.");
            }
            yield return (parts[0] == "+", parts[1], parts[2], parts.Length == 4 ? parts[3] : "");
        }
    }

    private async Task<List<ManifestFile>> UploadAsync(string folder, IEnumerable<MapFile> files, CancellationToken cancellationToken)
    {
        var listed = new List<ManifestFile>();
        foreach (var file in files)
        {
            var path = $"{folder}/{file.Name}";
            await Container.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(file.Content), overwrite: true, cancellationToken);
            listed.Add(new ManifestFile(file.Name, path, file.Sha256, file.Content.LongLength));
        }
        return listed;
    }

    private Task UploadJsonAsync(string path, Manifest manifest, CancellationToken cancellationToken) =>
        Container.GetBlobClient(path).UploadAsync(manifest.ToJson(), overwrite: true, cancellationToken);

    private async Task<Manifest> ReadManifestAsync(string path, CancellationToken cancellationToken) =>
        Manifest.FromJson((await Container.GetBlobClient(path).DownloadContentAsync(cancellationToken)).Value.Content)
        ?? throw new InvalidDataException($"The manifest {path} is empty.");

    private async Task<string> DownloadTextAsync(string path, CancellationToken cancellationToken) =>
        (await Container.GetBlobClient(path).DownloadContentAsync(cancellationToken)).Value.Content.ToString();

    /// <summary>Moves the pointer to <paramref name="next"/> if it is still where this publication read it.</summary>
    private async Task<bool> MovePointerAsync(MapPointer next, ETag? read, CancellationToken cancellationToken)
    {
        var conditions = read is { } tag ? new BlobRequestConditions { IfMatch = tag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        try
        {
            await Container.GetBlobClient(RelayMapBlobs.Pointer).UploadAsync(next.ToJson(), new BlobUploadOptions { Conditions = conditions }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task<(MapPointer? Pointer, ETag? ETag)> ReadPointerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var content = await Container.GetBlobClient(RelayMapBlobs.Pointer).DownloadContentAsync(cancellationToken);
            return (MapPointer.FromJson(content.Value.Content), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// Deletes the generations before the latest snapshot: a relay that is behind it applies the snapshot. (A relay in the
    /// middle of downloading an older one fails its download, and takes the new snapshot at its next poll.)
    /// </summary>
    private async Task PruneAsync(long snapshot, CancellationToken cancellationToken)
    {
        await foreach (var blob in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, RelayMapBlobs.Generations, cancellationToken))
        {
            var parts = blob.Name.Split('/');
            if (parts.Length >= 3 && long.TryParse(parts[1], out var generation) && generation < snapshot)
            {
                await Container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Relay map generation {Generation} is current: a {Kind} of {Changes} changes, {Domains} domains")]
        public static partial void Published(ILogger logger, long generation, string kind, int changes, int domains);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Relay map generation {Generation} lost the race for the pointer ten times; its changes wait for the next publication")]
        public static partial void Lost(ILogger logger, long generation);
    }
}
