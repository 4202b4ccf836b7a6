using System.Text.Json;
using System.Text.Json.Serialization;
using RelayFunctions.Hosting;

namespace RelayFunctions.Scheduling;

/// <summary>One subject of a <see cref="CheckBatch"/>: its account, subject, entry nonce and the state its index entry carries.</summary>
public sealed record CheckItem(
    [property: JsonPropertyName("a")] string AccountId,
    [property: JsonPropertyName("d")] string Subject,
    [property: JsonPropertyName("n")] string Nonce,
    [property: JsonPropertyName("s")] string? State);

/// <summary>
/// The queue message of several due checks from one index partition (one bucket), enqueued by one tick: one message,
/// one mark of the entries and one delete of them for up to <see cref="IpHelpers.HelperOptions.CheckBatchSize"/> checks. Each
/// item carries the state its index entry holds, so a check needs no read when nothing has changed since.
/// </summary>
public sealed record CheckBatch(
    [property: JsonPropertyName("b")] string Bucket,
    [property: JsonPropertyName("t")] string Token,
    [property: JsonPropertyName("e")] IReadOnlyList<CheckItem> Items)
{
    /// <summary>At most one table transaction's worth.</summary>
    public const int MaxItems = 100;

    /// <summary>Carried state beyond this is not something this app wrote.</summary>
    public const int MaxState = 8 * 1024;

    public string ToJson() => JsonSerializer.Serialize(this);

    public CheckRequest Request(CheckItem item) => new(item.AccountId, item.Subject, Bucket, item.Nonce, Token);

    /// <summary>
    /// A batch, or a single <see cref="CheckRequest"/> (the format of earlier versions and of single-check queues) as a
    /// batch of one without state; anything else is <see cref="MalformedMessageException"/>.
    /// </summary>
    public static CheckBatch Parse(string json)
    {
        CheckBatch? batch;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("e", out _))
            {
                var single = CheckRequest.Parse(json);
                return new CheckBatch(single.Bucket, single.Token, [new CheckItem(single.AccountId, single.Subject, single.Nonce, null)]);
            }
            batch = document.RootElement.Deserialize<CheckBatch>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new MalformedMessageException($"Not a check batch: {e.Message}");
        }
        if (batch is not { Bucket: not null, Token: not null, Items: { Count: > 0 and <= MaxItems } items }
            || items.Any(i => i is not { AccountId: not null, Subject: not null, Nonce: not null } || i.State is { Length: > MaxState }))
        {
            throw new MalformedMessageException($"A check batch names a bucket, a token and 1 to {MaxItems} items, each with an account, a subject and a nonce.");
        }
        foreach (var item in items)
        {
            CheckRequest.Validate(batch.Request(item));
        }
        if (items.DistinctBy(i => (i.AccountId, i.Subject, i.Nonce)).Count() != items.Count)
        {
            throw new MalformedMessageException("A check batch names each entry once.");
        }
        return batch;
    }
}
