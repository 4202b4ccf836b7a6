using System.Text.Json;
using System.Text.Json.Serialization;
using RelayFunctions.Hosting;

namespace RelayFunctions.Scheduling;

/// <summary>The queue message of one due check: which subject (a domain, or an outbound login), the index entry it was due by, and a token unique to the tick.</summary>
public sealed partial record CheckRequest(
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
        if (request is not { AccountId: not null, Subject: not null, Bucket: not null, Nonce: not null, Token: not null })
        {
            throw new MalformedMessageException("A check request names an account, a domain, a bucket, a nonce and a token.");
        }
        Validate(request);
        return request;
    }

    /// <summary>The fields become table keys: a forged value must be refused here, not by the storage service.</summary>
    internal static void Validate(CheckRequest request)
    {
        if (!Accounts.AccountId.TryParse(request.AccountId, out var account) || account.Value.Value != request.AccountId
            || !Fields().IsMatch(request.Bucket + "\n" + request.Nonce + "\n" + request.Token)
            || request.Subject.Length is 0 or > MaxSubject || request.Subject.Any(IsKeyForbidden))
        {
            throw new MalformedMessageException("A check request holds an account, subject, bucket, nonce or token this app never writes.");
        }
    }

    /// <summary>Longer than any domain name (253) or outbound login (local part, '@', domain).</summary>
    private const int MaxSubject = 320;

    /// <summary>Characters Azure Tables refuse in keys: '/', '\\', '#', '?' and control characters.</summary>
    private static bool IsKeyForbidden(char c) => c is '/' or '\\' or '#' or '?' || char.IsControl(c);

    /// <summary>A bucket (time, then shard), a nonce and a token, as <see cref="DueIndex"/> and <see cref="DueScheduler"/> write them.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\A[0-9]{14}-[0-9a-f]{1,4}\n[0-9a-f]{1,32}\n[0-9a-f]{1,32}\z")]
    private static partial System.Text.RegularExpressions.Regex Fields();
}
