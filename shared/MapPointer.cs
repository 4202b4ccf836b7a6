namespace RelayShared;

/// <summary>
/// The <c>current.json</c> pointer the relays poll: the current generation's manifest (a delta, or a snapshot), and the
/// latest snapshot (a relay that starts fresh, falls behind it or cannot follow the deltas applies it, then the deltas after it).
/// </summary>
/// <param name="Snapshot">The generation of the latest full snapshot; null from a publisher without deltas (then <paramref name="Manifest"/> is one).</param>
/// <param name="SnapshotManifest">The blob path of that snapshot's manifest.</param>
public sealed record MapPointer(
    long Generation, string Manifest, DateTimeOffset PublishedAt, int Domains, string? SourceVersion,
    long? Snapshot = null, string? SnapshotManifest = null, DateTimeOffset? SnapshotAt = null)
{
    public BinaryData ToJson() => BinaryData.FromObjectAsJson(this, RelayMapBlobs.Json);

    public static MapPointer? FromJson(BinaryData json) => json.ToObjectFromJson<MapPointer>(RelayMapBlobs.Json);
}
