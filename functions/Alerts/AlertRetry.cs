using System.Text.Json;
using RelayFunctions.Hosting;

namespace RelayFunctions.Alerts;

/// <summary>
/// A message on <c>alert-retries</c>: the alert, the event it is about (the <c>SentAlerts</c> row), which try it makes
/// and since when the alert has been waiting.
/// </summary>
public sealed record AlertRetry(string Subject, string Token, AlertMessage Message, int Attempt, DateTimeOffset Since)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AlertRetry Parse(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<AlertRetry>(body, Json) is { Subject: not null, Token: not null, Message: not null } retry
                ? retry
                : throw new MalformedMessageException("The alert retry is empty.");
        }
        catch (JsonException e)
        {
            throw new MalformedMessageException($"The alert retry is not readable: {e.Message}");
        }
    }

    /// <summary>The wait before try <paramref name="attempt"/>: doubling from the first, up to the maximum.</summary>
    public static TimeSpan Delay(int attempt, TimeSpan first, TimeSpan maximum) =>
        TimeSpan.FromTicks((long)Math.Min(first.Ticks * Math.Pow(2, Math.Max(0, attempt - 1)), maximum.Ticks));
}
