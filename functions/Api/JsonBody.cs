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

    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (request.ContentLength is 0)
        {
            errors.Add("body", "A JSON object is required.");
            return new JsonBody([], errors);
        }
        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (node is JsonObject obj)
            {
                return new JsonBody(obj, errors);
            }
            errors.Add("body", "The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            errors.Add("body", $"The body is not valid JSON: {e.Message}");
        }
        return new JsonBody([], errors);
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

    public (bool Present, IReadOnlyList<string>? Value) StringList(string field)
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
