using System.Text.Json;

namespace RelayShared;

/// <summary>
/// Where the relay map lies in Blob storage: in the container <see cref="Container"/> (prefixed
/// <c>{Storage__Prefix}-</c>), the pointer <see cref="Pointer"/> naming the current generation, and each generation
/// under <see cref="GenerationFolder"/>: its manifest, its tables (or its <see cref="Delta"/> file), and the snapshot
/// written beside a delta under <see cref="SnapshotFolder"/>. Relays already deployed read these names: they do not change.
/// </summary>
public static class RelayMapBlobs
{
    public const string Container = "relay-map";
    public const string Pointer = "current.json";
    public const string ManifestName = "manifest.json";
    public const string Delta = "delta";
    public const string SnapshotFolder = "snapshot";

    /// <summary>The folder of every generation, <c>generations/</c>, which pruning lists.</summary>
    public const string Generations = "generations/";

    /// <summary>The pointer and the manifests: JSON with camelCase names.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary><c>generations/{generation:D12}</c>: the number padded, so the folders list in order.</summary>
    public static string GenerationFolder(long generation) => $"{Generations}{generation:D12}";

    /// <summary>A generation's own manifest, where a delta's base is found.</summary>
    public static string ManifestPath(long generation) => $"{GenerationFolder(generation)}/{ManifestName}";
}
