using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RelayFunctions.Hosting;

/// <summary>
/// Reads the Functions host's custom-handler invocation body, <c>{"Data":{…},"Metadata":{…}}</c>, into the
/// values our functions take. The host serializes binding values in several ways (reference §1): a queue
/// message may arrive JSON-quoted, base64 (byte[] bindings), or already parsed into an object.
/// </summary>
public static class InvocationPayload
{
    public static TimerInfo ReadTimer(JsonElement root)
    {
        var timer = Data(root, BindingNames.Timer);
        var pastDue = timer is { ValueKind: JsonValueKind.Object } t
            && t.TryGetProperty("IsPastDue", out var p) && p.ValueKind == JsonValueKind.True;
        DateTimeOffset? last = null, next = null;
        if (timer is { ValueKind: JsonValueKind.Object } o
            && o.TryGetProperty("ScheduleStatus", out var status) && status.ValueKind == JsonValueKind.Object)
        {
            last = ReadTime(status, "Last");
            next = ReadTime(status, "Next");
        }
        return new TimerInfo(pastDue, last, next);
    }

    public static QueueMessage ReadQueueMessage(JsonElement root)
    {
        var value = Data(root, BindingNames.QueueMessage)
            ?? throw new MalformedMessageException($"The invocation has no Data.{BindingNames.QueueMessage}.");
        // A string may be quoted or base64; anything else (an object the host parsed) is the message itself.
        var body = value.ValueKind == JsonValueKind.String ? DecodeString(value.GetString()!) : value.GetRawText();

        var metadata = root.TryGetProperty("Metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var id = metadata.ValueKind == JsonValueKind.Object ? ReadString(metadata, "Id") ?? "" : "";
        var dequeueCount = metadata.ValueKind == JsonValueKind.Object ? ReadLong(metadata, "DequeueCount") ?? 1 : 1;
        var inserted = metadata.ValueKind == JsonValueKind.Object ? ReadTime(metadata, "InsertionTime") : null;
        return new QueueMessage(id, body, dequeueCount, inserted);
    }

    /// <summary>
    /// A string binding value is either the message text itself, that text JSON-quoted once more, or the
    /// base64 of its bytes. Our messages are JSON, so text that already looks like JSON is taken as is.
    /// </summary>
    public static string DecodeString(string value)
    {
        var trimmed = value.TrimStart();
        if (trimmed.StartsWith('"'))
        {
            try
            {
                return JsonSerializer.Deserialize<string>(trimmed) ?? "";
            }
            catch (JsonException)
            {
                return value;
            }
        }
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            return value;
        }
        if (Base64.IsValid(value))
        {
            var bytes = Convert.FromBase64String(value);
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return value;
            }
        }
        return value;
    }

    private static JsonElement? Data(JsonElement root, string binding)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var property in data.EnumerateObject())
        {
            if (string.Equals(property.Name, binding, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }

    private static string? ReadString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;

    private static long? ReadLong(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v))
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n))
        {
            return n;
        }
        return v.ValueKind == JsonValueKind.String && long.TryParse(DecodeString(v.GetString()!), out var s) ? s : null;
    }

    private static DateTimeOffset? ReadTime(JsonElement obj, string name)
    {
        var text = ReadString(obj, name);
        if (text is null)
        {
            return null;
        }
        text = text.Trim('"');
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;
    }
}
