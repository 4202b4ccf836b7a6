using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// A relay map written by hand on the test Azurite, in the blob format of issue 12 (snapshots, deltas chained by
/// <c>base</c>, the pointer naming the latest snapshot), so the agent's side is tested whatever the publisher does.
/// </summary>
internal sealed class HandMap
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HandMap(string prefix) => Container = new BlobContainerClient(Azurite.ConnectionString, $"{prefix}-relay-map");

    public BlobContainerClient Container { get; }

    public static string Folder(long generation) => $"generations/{generation:D12}";

    /// <summary>A full snapshot: at <c>generations/N/manifest.json</c>, or beside delta N (<paramref name="compaction"/>) under <c>snapshot/</c>.</summary>
    public async Task<string> SnapshotAsync(long generation, IReadOnlyDictionary<string, string> files, bool compaction = false)
    {
        await Container.CreateIfNotExistsAsync();
        var folder = compaction ? $"{Folder(generation)}/snapshot" : Folder(generation);
        return await ManifestAsync(folder, new { generation, createdAt = DateTimeOffset.UtcNow, domains = 0, kind = "snapshot" }, files);
    }

    /// <summary>A delta on top of <paramref name="baseGeneration"/>: its <c>delta</c> lines and whole outbound tables.</summary>
    public async Task<string> DeltaAsync(long generation, long baseGeneration, string delta, IReadOnlyDictionary<string, string>? tables = null)
    {
        await Container.CreateIfNotExistsAsync();
        var files = new Dictionary<string, string>(tables ?? new Dictionary<string, string>()) { ["delta"] = delta };
        return await ManifestAsync(Folder(generation), new { generation, createdAt = DateTimeOffset.UtcNow, domains = 0, kind = "delta", @base = baseGeneration }, files);
    }

    public async Task PointAsync(long generation, string manifest, long? snapshot, string? snapshotManifest) =>
        await Container.GetBlobClient("current.json").UploadAsync(
            BinaryData.FromObjectAsJson(new { generation, manifest, publishedAt = DateTimeOffset.UtcNow, domains = 0, sourceVersion = "hand", snapshot, snapshotManifest }, Json), overwrite: true);

    private async Task<string> ManifestAsync(string folder, object header, IReadOnlyDictionary<string, string> files)
    {
        var entries = new List<object>();
        foreach (var (name, text) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var path = $"{folder}/{name}";
            await Container.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
            entries.Add(new { name, path, sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.LongLength });
        }
        var manifest = JsonSerializer.SerializeToNode(header, Json)!.AsObject();
        manifest["files"] = JsonSerializer.SerializeToNode(entries, Json);
        var manifestPath = $"{folder}/manifest.json";
        await Container.GetBlobClient(manifestPath).UploadAsync(BinaryData.FromString(manifest.ToJsonString()), overwrite: true);
        return manifestPath;
    }
}
