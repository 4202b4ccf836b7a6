using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>The <c>current.json</c> pointer the relays poll.</summary>
public sealed record MapPointer(long Generation, string Manifest, DateTimeOffset PublishedAt, int Domains, string? SourceVersion);

public sealed record ManifestFile(string Name, string Path, string Sha256, long Size);

public sealed record Manifest(long Generation, DateTimeOffset CreatedAt, int Domains, IReadOnlyList<ManifestFile> Files);

/// <summary>What a publication did: its generation, and whether it became current or a newer one was already there.</summary>
public sealed record PublishResult(long Generation, bool BecameCurrent, int Domains);

/// <summary>
/// Publishes the relay map as an immutable generation in Blob storage (<c>generations/{N}/…</c> plus a manifest with
/// each file's SHA-256 and size), then moves <c>current.json</c> with a conditional write. Generation numbers come
/// from a counter row updated with ETags, so two publishers never share one; and the pointer only ever moves
/// forward, so a slow publisher can never put an older generation back.
/// </summary>
public sealed partial class RelayMapPublisher(
    StorageClients storage, StorageInitializer initializer, RelayMapBuilder builder, TimeProvider time,
    IOptions<RelayMapOptions> options, ILogger<RelayMapPublisher> logger)
{
    public const string ContainerName = "relay-map";
    public const string PointerName = "current.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private BlobContainerClient Container => storage.Container(ContainerName);

    public async Task<MapPointer?> CurrentAsync(CancellationToken cancellationToken) => (await ReadPointerAsync(cancellationToken)).Pointer;

    /// <param name="beforePointer">Test seam: runs between writing the generation and moving the pointer.</param>
    public async Task<PublishResult> PublishAsync(string? sourceVersion, CancellationToken cancellationToken, Func<long, Task>? beforePointer = null)
    {
        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var generation = await NextGenerationAsync(cancellationToken);
        var (files, domains) = await builder.BuildAsync(cancellationToken);
        var folder = $"generations/{generation:D12}";
        var listed = new List<ManifestFile>();
        foreach (var file in files)
        {
            var path = $"{folder}/{file.Name}";
            await Container.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(file.Content), overwrite: true, cancellationToken);
            listed.Add(new ManifestFile(file.Name, path, file.Sha256, file.Content.LongLength));
        }
        var now = time.GetUtcNow();
        var manifestPath = $"{folder}/manifest.json";
        await Container.GetBlobClient(manifestPath).UploadAsync(
            BinaryData.FromObjectAsJson(new Manifest(generation, now, domains, listed), Json), overwrite: true, cancellationToken);

        if (beforePointer is not null)
        {
            await beforePointer(generation);
        }
        var becameCurrent = await MovePointerAsync(new MapPointer(generation, manifestPath, now, domains, sourceVersion), cancellationToken);
        Log.Published(logger, generation, domains, becameCurrent);
        if (becameCurrent)
        {
            await PruneAsync(generation, cancellationToken);
        }
        return new PublishResult(generation, becameCurrent, domains);
    }

    private async Task<bool> MovePointerAsync(MapPointer next, CancellationToken cancellationToken)
    {
        var blob = Container.GetBlobClient(PointerName);
        while (true)
        {
            var (current, etag) = await ReadPointerAsync(cancellationToken);
            if (current is not null && current.Generation >= next.Generation)
            {
                return false;
            }
            var conditions = etag is { } tag ? new BlobRequestConditions { IfMatch = tag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                await blob.UploadAsync(BinaryData.FromObjectAsJson(next, Json), new BlobUploadOptions { Conditions = conditions }, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another publisher moved it first: look again.
            }
        }
    }

    private async Task<(MapPointer? Pointer, ETag? ETag)> ReadPointerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var content = await Container.GetBlobClient(PointerName).DownloadContentAsync(cancellationToken);
            return (content.Value.Content.ToObjectFromJson<MapPointer>(Json), content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return (null, null);
        }
    }

    private async Task<long> NextGenerationAsync(CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var table = storage.Table("RelayMapState");
        while (true)
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>("map", "generation", cancellationToken: cancellationToken);
            try
            {
                if (!row.HasValue)
                {
                    await table.AddEntityAsync(new TableEntity("map", "generation") { ["Value"] = 1L }, cancellationToken);
                    return 1;
                }
                var next = (row.Value!.GetInt64("Value") ?? 0) + 1;
                await table.UpdateEntityAsync(new TableEntity("map", "generation") { ["Value"] = next }, row.Value.ETag, TableUpdateMode.Replace, cancellationToken);
                return next;
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
            }
        }
    }

    /// <summary>Deletes all but the newest generations; relays that are behind still find theirs.</summary>
    private async Task PruneAsync(long current, CancellationToken cancellationToken)
    {
        var keep = Math.Max(options.Value.KeepGenerations, 1);
        await foreach (var blob in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "generations/", cancellationToken))
        {
            var parts = blob.Name.Split('/');
            if (parts.Length == 3 && long.TryParse(parts[1], out var generation) && generation <= current - keep)
            {
                await Container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Relay map generation {Generation} with {Domains} domains written; current: {BecameCurrent}")]
        public static partial void Published(ILogger logger, long generation, int domains, bool becameCurrent);
    }
}
