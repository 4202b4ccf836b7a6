using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayShared;

/// <summary>
/// What a relay reports when a BCC copy bounced, one message of the <see cref="RelayStorageNames.BccBouncesQueue"/> queue: the
/// outbound account's key and the BCC recipient's id (both from the copy's envelope sender, <c>bcc-bounce+key.id@…</c>),
/// the final recipient and the DSN's status and diagnostic. Short property names: a queue message is small.
/// </summary>
public sealed record BccBounce(
    [property: JsonPropertyName("k")] string Key,
    [property: JsonPropertyName("b")] string BccId,
    [property: JsonPropertyName("r")] string? Recipient,
    [property: JsonPropertyName("s")] string? Status,
    [property: JsonPropertyName("d")] string? Diagnostic)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The bounce <paramref name="json"/> holds; null when it names no account key or BCC id. Not JSON: <see cref="JsonException"/>.</summary>
    public static BccBounce? FromJson(string json) =>
        JsonSerializer.Deserialize<BccBounce>(json) is { Key: not null, BccId: not null } bounce ? bounce : null;
}
