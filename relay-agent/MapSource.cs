using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using RelayShared;

namespace RelayAgent;

/// <summary>A generation downloaded and verified: every file matched its manifest's size and SHA-256.</summary>
public sealed record MapGeneration(long Generation, IReadOnlyDictionary<string, byte[]> Files);

/// <summary>
/// What takes the relay from the generation it applied to the pointer's, every file verified: a snapshot to apply
/// whole first (null when the deltas follow on from the applied generation), then deltas, oldest first.
/// </summary>
public sealed record MapUpdate(MapGeneration? Snapshot, IReadOnlyList<MapDelta> Deltas, string? FallbackReason)
{
    public long Generation => Deltas.Count > 0 ? Deltas[^1].Generation : Snapshot!.Generation;
}

/// <summary>
/// Reads the relay map from Blob storage: polls <c>current.json</c> with a conditional GET (ETag), and downloads what
/// leads from the applied generation to the pointer's: the chain of deltas when it can follow it back to the applied
/// generation, else the pointer's snapshot and the deltas after it. Everything is verified before anything is returned.
/// </summary>
public sealed partial class MapSource(BlobContainerClient container, ILogger<MapSource>? logger = null)
{
    private readonly ILogger _logger = (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private ETag? _pointerTag;

    /// <summary>The pointer when it changed since the last call; null when it did not (HTTP 304) or does not exist yet.</summary>
    public async Task<MapPointer?> PollAsync(CancellationToken cancellationToken)
    {
        try
        {
            var options = new BlobDownloadOptions { Conditions = _pointerTag is { } tag ? new BlobRequestConditions { IfNoneMatch = tag } : null };
            var response = await container.GetBlobClient(RelayMapBlobs.Pointer).DownloadContentAsync(options, cancellationToken);
            // The SDK answers a 304 without throwing, with a response that has no value: reading it would throw.
            if (response.GetRawResponse().Status == 304)
            {
                return null;
            }
            var pointer = MapPointer.FromJson(response.Value.Content);
            _pointerTag = response.Value.Details.ETag;
            return pointer;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Forgets the pointer's ETag, so the next poll downloads it again (after a failed apply).</summary>
    public void Reset() => _pointerTag = null;

    /// <summary>The pointer's manifest as a full snapshot (a publisher without deltas; the benchmark).</summary>
    public async Task<MapGeneration> DownloadAsync(MapPointer pointer, CancellationToken cancellationToken)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.download");
        activity?.SetTag("relay_map.generation", pointer.Generation);
        return await SnapshotAsync(pointer.Manifest, pointer.Generation, cancellationToken);
    }

    /// <summary>
    /// What takes a relay at generation <paramref name="applied"/> (0: nothing) to the pointer's. The chain of deltas
    /// from the pointer's manifest back to <paramref name="applied"/> when every link is there and intact; otherwise
    /// (a manifest or file missing or altered, a corrupt delta, a snapshot or an older base met on the way) the
    /// snapshot the pointer names, then the deltas from it to the pointer. Throws when that fails too.
    /// </summary>
    public async Task<MapUpdate> DownloadAsync(MapPointer pointer, long applied, CancellationToken cancellationToken)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.download");
        activity?.SetTag("relay_map.generation", pointer.Generation);
        string reason;
        if (applied <= 0)
        {
            reason = "nothing applied on this relay";
        }
        else if (pointer.Snapshot is null)
        {
            reason = "the publisher writes snapshots only";
        }
        else
        {
            try
            {
                return new MapUpdate(null, await ChainAsync(pointer, applied, cancellationToken), null);
            }
            // A broken chain: a 404 or a mismatch is data (InvalidDataException). Other storage errors are not a reason
            // to download a whole snapshot: they fail the poll, and the next one tries the chain again.
            catch (Exception e) when (e is InvalidDataException or JsonException)
            {
                reason = e.Message;
                Log.ChainBroken(_logger, e, applied, pointer.Generation);
            }
        }
        activity?.SetTag("relay_map.fallback", reason);
        if (pointer.Snapshot is not { } snapshotGeneration || pointer.SnapshotManifest is not { } snapshotManifest)
        {
            return new MapUpdate(await SnapshotAsync(pointer.Manifest, pointer.Generation, cancellationToken), [], reason);
        }
        var snapshot = await SnapshotAsync(snapshotManifest, snapshotGeneration, cancellationToken);
        var deltas = snapshotGeneration == pointer.Generation ? [] : await ChainAsync(pointer, snapshotGeneration, cancellationToken);
        return new MapUpdate(snapshot, deltas, reason);
    }

    /// <summary>
    /// The deltas from the pointer's manifest back to <paramref name="target"/>, oldest first, each file verified. A
    /// delta's base is found at <c>generations/{base:D12}/manifest.json</c>, where the publisher writes every
    /// generation's own manifest (a compaction's snapshot beside it, under <c>snapshot/</c>, is reached through the pointer only).
    /// </summary>
    private async Task<List<MapDelta>> ChainAsync(MapPointer pointer, long target, CancellationToken ct)
    {
        var chain = new List<MapDelta>();
        var path = pointer.Manifest;
        var expected = pointer.Generation;
        while (true)
        {
            var manifest = await ManifestAsync(path, expected, ct);
            if (!manifest.IsDelta || manifest.Base is not { } baseGeneration)
            {
                throw new InvalidDataException($"Generation {manifest.Generation} is a snapshot, met before generation {target}.");
            }
            if (baseGeneration < target || baseGeneration >= manifest.Generation)
            {
                throw new InvalidDataException($"Delta {manifest.Generation} applies on top of generation {baseGeneration}, not on the way to {target}.");
            }
            chain.Add(MapDelta.Parse(manifest.Generation, baseGeneration, await FilesAsync(manifest, ct)));
            if (baseGeneration == target)
            {
                chain.Reverse();
                return chain;
            }
            expected = baseGeneration;
            path = RelayMapBlobs.ManifestPath(baseGeneration);
        }
    }

    private async Task<MapGeneration> SnapshotAsync(string path, long generation, CancellationToken ct)
    {
        var manifest = await ManifestAsync(path, generation, ct);
        if (manifest.IsDelta)
        {
            throw new InvalidDataException($"The snapshot manifest {path} is a delta.");
        }
        return new MapGeneration(manifest.Generation, await FilesAsync(manifest, ct));
    }

    private async Task<Manifest> ManifestAsync(string path, long generation, CancellationToken ct)
    {
        Manifest? manifest;
        try
        {
            manifest = Manifest.FromJson((await container.GetBlobClient(path).DownloadContentAsync(ct)).Value.Content);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new InvalidDataException($"The manifest {path} of generation {generation} is missing.", e);
        }
        if (manifest is null)
        {
            throw new InvalidDataException($"The manifest of generation {generation} is empty.");
        }
        if (manifest.Generation != generation)
        {
            throw new InvalidDataException($"The manifest says generation {manifest.Generation}, the pointer {generation}.");
        }
        return manifest;
    }

    private async Task<Dictionary<string, byte[]>> FilesAsync(Manifest manifest, CancellationToken ct)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (file.Name.Contains('/') || file.Name.Contains("..", StringComparison.Ordinal) || file.Name.StartsWith('.'))
            {
                throw new InvalidDataException($"The manifest names an unsafe file '{file.Name}'.");
            }
            byte[] bytes;
            try
            {
                bytes = (await container.GetBlobClient(file.Path).DownloadContentAsync(ct)).Value.Content.ToArray();
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                throw new InvalidDataException($"{file.Name} of generation {manifest.Generation} is missing.", e);
            }
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (bytes.LongLength != file.Size || hash != file.Sha256)
            {
                throw new InvalidDataException($"{file.Name} of generation {manifest.Generation} does not match its manifest (size {bytes.LongLength} vs {file.Size}, sha256 {hash} vs {file.Sha256}).");
            }
            files[file.Name] = bytes;
        }
        return files;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot follow the relay map's deltas from generation {Applied} to {Generation}; falling back to its snapshot")]
        public static partial void ChainBroken(ILogger logger, Exception exception, long applied, long generation);
    }
}
