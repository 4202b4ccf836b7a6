using System.Text.Json;
using System.Text.Json.Serialization;
using RelayFunctions.Hosting;

namespace RelayFunctions.Outbound;

/// <summary>
/// What a relay reports when a BCC copy bounced: the outbound account's key and the BCC recipient's id (both from the
/// copy's envelope sender, <c>bcc-bounce+key.id@…</c>), the final recipient and the DSN's status and diagnostic.
/// </summary>
public sealed record BccBounce(
    [property: JsonPropertyName("k")] string Key,
    [property: JsonPropertyName("b")] string BccId,
    [property: JsonPropertyName("r")] string? Recipient,
    [property: JsonPropertyName("s")] string? Status,
    [property: JsonPropertyName("d")] string? Diagnostic)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static BccBounce Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<BccBounce>(json) is { Key: not null, BccId: not null } bounce
                ? bounce
                : throw new MalformedMessageException("A BCC bounce names the account key and the BCC id.");
        }
        catch (JsonException e)
        {
            throw new MalformedMessageException($"Not a BCC bounce: {e.Message}");
        }
    }
}
