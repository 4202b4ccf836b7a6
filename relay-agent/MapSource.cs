using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace RelayAgent;

public sealed record MapPointer(long Generation, string Manifest, DateTimeOffset PublishedAt, int Domains, string? SourceVersion);

public sealed record ManifestFile(string Name, string Path, string Sha256, long Size);

public sealed record Manifest(long Generation, DateTimeOffset CreatedAt, int Domains, IReadOnlyList<ManifestFile> Files);

/// <summary>A generation downloaded and verified: every file matched its manifest's size and SHA-256.</summary>
public sealed record MapGeneration(long Generation, IReadOnlyDictionary<string, byte[]> Files);

/// <summary>
/// Reads the relay map from Blob storage: polls <c>current.json</c> with a conditional GET (ETag), and downloads a
/// newer generation in full, refusing it whole if any file is missing, truncated or altered.
/// </summary>
public sealed class MapSource(BlobContainerClient container)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private ETag? _pointerTag;

    /// <summary>The pointer when it changed since the last call; null when it did not (HTTP 304) or does not exist yet.</summary>
    public async Task<MapPointer?> PollAsync(CancellationToken cancellationToken)
    {
        try
        {
            var options = new BlobDownloadOptions { Conditions = _pointerTag is { } tag ? new BlobRequestConditions { IfNoneMatch = tag } : null };
            var response = await container.GetBlobClient("current.json").DownloadContentAsync(options, cancellationToken);
            // The SDK answers a 304 without throwing, with a response that has no value: reading it would throw.
            if (response.GetRawResponse().Status == 304)
            {
                return null;
            }
            var pointer = response.Value.Content.ToObjectFromJson<MapPointer>(Json);
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

    public async Task<MapGeneration> DownloadAsync(MapPointer pointer, CancellationToken cancellationToken)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.download");
        activity?.SetTag("relay_map.generation", pointer.Generation);
        var manifest = (await container.GetBlobClient(pointer.Manifest).DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<Manifest>(Json)
            ?? throw new InvalidDataException($"The manifest of generation {pointer.Generation} is empty.");
        if (manifest.Generation != pointer.Generation)
        {
            throw new InvalidDataException($"The manifest says generation {manifest.Generation}, the pointer {pointer.Generation}.");
        }
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (file.Name.Contains('/') || file.Name.Contains("..", StringComparison.Ordinal) || file.Name.StartsWith('.'))
            {
                throw new InvalidDataException($"The manifest names an unsafe file '{file.Name}'.");
            }
            var bytes = (await container.GetBlobClient(file.Path).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (bytes.LongLength != file.Size || hash != file.Sha256)
            {
                throw new InvalidDataException($"{file.Name} of generation {manifest.Generation} does not match its manifest (size {bytes.LongLength} vs {file.Size}, sha256 {hash} vs {file.Sha256}).");
            }
            files[file.Name] = bytes;
        }
        return new MapGeneration(manifest.Generation, files);
    }
}
