using System.Text.Json.Serialization;

namespace RelayShared;

/// <summary>
/// One generation's manifest: a <c>snapshot</c> lists every table whole; a <c>delta</c> lists the <c>delta</c> file
/// (entries put and deleted) and the outbound tables when they changed, and applies on top of <see cref="Base"/>.
/// </summary>
/// <param name="Kind"><see cref="SnapshotKind"/> or <see cref="DeltaKind"/>; absent is a snapshot.</param>
/// <param name="Base">For a delta: the generation it applies on top of.</param>
/// <param name="BaseManifest">For a delta: that generation's manifest.</param>
public sealed record Manifest(
    long Generation, DateTimeOffset CreatedAt, int Domains, IReadOnlyList<ManifestFile> Files, string Kind = Manifest.SnapshotKind,
    long? Base = null, string? BaseManifest = null)
{
    public const string SnapshotKind = "snapshot";
    public const string DeltaKind = "delta";

    [JsonIgnore]
    public bool IsDelta => Kind == DeltaKind;

    public BinaryData ToJson() => BinaryData.FromObjectAsJson(this, RelayMapBlobs.Json);

    public static Manifest? FromJson(BinaryData json) => json.ToObjectFromJson<Manifest>(RelayMapBlobs.Json);
}

/// <summary>A file of a generation: its name in the map folder, its blob, and what a relay checks before using it.</summary>
public sealed record ManifestFile(string Name, string Path, string Sha256, long Size);
