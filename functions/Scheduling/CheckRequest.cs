using System.Text.Json;
using System.Text.Json.Serialization;
using RelayFunctions.Hosting;

namespace RelayFunctions.Scheduling;

/// <summary>The queue message of one due check: which subject (a domain, or an outbound login), the index entry it was due by, and a token unique to the tick.</summary>
public sealed record CheckRequest(
    [property: JsonPropertyName("a")] string AccountId,
    [property: JsonPropertyName("d")] string Subject,
    [property: JsonPropertyName("b")] string Bucket,
    [property: JsonPropertyName("n")] string Nonce,
    [property: JsonPropertyName("t")] string Token)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>A message this app wrote; anything else is <see cref="MalformedMessageException"/>, which no retry mends.</summary>
    public static CheckRequest Parse(string json)
    {
        CheckRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<CheckRequest>(json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new MalformedMessageException($"Not a check request: {e.Message}");
        }
        return request is { AccountId: not null, Subject: not null, Bucket: not null, Nonce: not null, Token: not null }
            ? request
            : throw new MalformedMessageException("A check request names an account, a domain, a bucket, a nonce and a token.");
    }
}
