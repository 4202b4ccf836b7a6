using System.Text.Json;
using System.Text.Json.Nodes;

namespace RelayFunctions.Api;

/// <summary>
/// Reads a JSON object body field by field, so that every error names its field (a wrong type, an unknown
/// field, bad JSON) instead of failing the whole request with one opaque message. An absent field and an
/// explicit <c>null</c> are told apart, as JSON merge patch (RFC 7396) needs.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonObject _object;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private JsonBody(JsonObject obj, FieldErrors errors)
    {
        _object = obj;
        Errors = errors;
    }

    public FieldErrors Errors { get; }

    /// <summary>Largest body the API reads: a domain with 5,000 recipients fits with room to spare.</summary>
    public const int MaxBytes = 2 * 1024 * 1024;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var bytes = await ReadBytesAsync(request, cancellationToken);
        if (bytes is null)
        {
            errors.Add("body", $"The body is larger than {MaxBytes} bytes.");
            return new JsonBody([], errors);
        }
        if (bytes.Length == 0)
        {
            errors.Add("body", "A JSON object is required.");
            return new JsonBody([], errors);
        }
        try
        {
            using var document = JsonDocument.Parse(bytes, Strict);
            // Every name and string must be text: JSON allows escapes of lone surrogates and the bytes may not be
            // UTF-8 at all, and either would only fail later, wherever the value is first read.
            Validate(document.RootElement);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return new JsonBody(JsonObject.Create(document.RootElement.Clone())!, errors);
            }
            errors.Add("body", "The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            errors.Add("body", $"The body is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            errors.Add("body", "The body holds text that is not valid Unicode (invalid UTF-8, or an unpaired surrogate escape).");
        }
        return new JsonBody([], errors);
    }

    /// <summary>The body, or null when it is longer than <see cref="MaxBytes"/>.</summary>
    private static async Task<byte[]?> ReadBytesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads every name and string once: throws <see cref="InvalidOperationException"/> for text that is not Unicode.</summary>
    internal static void Validate(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Validate(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Validate(item);
                }
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }

    public bool Has(string field) => _object.ContainsKey(field);

    /// <summary>Absent: (false, null). Present: (true, value) with null for JSON null or a wrong type (error added).</summary>
    public (bool Present, string? Value) String(string field)
    {
        if (!Take(field, out var node))
        {
            return (false, null);
        }
        if (node is null)
        {
            return (true, null);
        }
        if (node is JsonValue v && v.TryGetValue<string>(out var s))
        {
            return (true, s);
        }
        Errors.Add(field, "Must be a string.");
        return (true, null);
    }

    public (bool Present, long? Value) Integer(string field)
    {
        if (!Take(field, out var node))
        {
            return (false, null);
        }
        if (node is null)
        {
            return (true, null);
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n))
        {
            return (true, n);
        }
        Errors.Add(field, "Must be a whole number.");
        return (true, null);
    }

    public (bool Present, bool? Value) Boolean(string field)
    {
        if (!Take(field, out var node))
        {
            return (false, null);
        }
        if (node is null)
        {
            return (true, null);
        }
        if (node is JsonValue v && v.TryGetValue<bool>(out var b))
        {
            return (true, b);
        }
        Errors.Add(field, "Must be true or false.");
        return (true, null);
    }

    /// <summary>
    /// An array of strings of at most <paramref name="maxCount"/> entries. A longer one is refused whole before any
    /// entry is read, so that no caller does work (let alone storage reads) per entry of a list it will refuse anyway.
    /// </summary>
    public (bool Present, IReadOnlyList<string>? Value) StringList(string field, int maxCount)
    {
        if (!Take(field, out var node))
        {
            return (false, null);
        }
        if (node is null)
        {
            return (true, null);
        }
        if (node is not JsonArray array)
        {
            Errors.Add(field, "Must be an array of strings.");
            return (true, null);
        }
        if (array.Count > maxCount)
        {
            if (!Errors.Has(field))
            {
                Errors.Add(field, $"At most {maxCount} entries (this list has {array.Count}).");
            }
            return (true, null);
        }
        var list = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonValue item && item.TryGetValue<string>(out var s))
            {
                list.Add(s);
            }
            else
            {
                Errors.Add($"{field}[{i}]", "Must be a string.");
            }
        }
        return (true, list);
    }

    /// <summary>Adds an error for every field that no reader asked for: typos must not pass silently.</summary>
    public void RejectUnknownFields()
    {
        foreach (var (name, _) in _object)
        {
            if (!_read.Contains(name))
            {
                Errors.Add(name, "Unknown field.");
            }
        }
    }

    private bool Take(string field, out JsonNode? node)
    {
        _read.Add(field);
        return _object.TryGetPropertyValue(field, out node);
    }
}
