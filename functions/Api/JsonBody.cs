using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Outbound;

namespace RelayFunctions.Api;

/// <summary>
/// Reads a request body into its record, strictly, so that every error names its field: bad JSON, a body that is not
/// an object, too deep or too large is a problem of <c>body</c>; an unknown field or a value of the wrong kind is a
/// problem of that field, all of them at once. The errors wait for <see cref="ValidationFilter"/>, which adds the
/// record's own (<see cref="IValidatable"/>).
/// </summary>
public static class JsonBody
{
    /// <summary>Largest body the API reads: a domain with 5,000 recipients fits with room to spare.</summary>
    public const int MaxBytes = 2 * 1024 * 1024;

    private const int MaxDepth = 32;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = MaxDepth };

    /// <summary>
    /// The serializer's settings for request records: names as the API spells them and no other, no duplicate, numbers as
    /// numbers, and the named values (modes, levels) as people write them. Required fields are the records' to check, so
    /// that a missing one is a field error like any other.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = MaxDepth,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { NothingRequired } },
        Converters =
        {
            new NamedValueConverter<DomainMode>(DomainModes.TryParse, DomainModes.Names, $"Must be one of {string.Join(", ", DomainModes.Names)}."),
            new NamedValueConverter<ServiceLevel>(ServiceLevels.TryParse, ServiceLevels.Names, $"Required: one of {string.Join(", ", ServiceLevels.Names)}."),
            new NamedValueConverter<OutboundType>(OutboundTypes.TryParse, OutboundTypes.Names, $"Required: one of {string.Join(", ", OutboundTypes.Names)}."),
            new NamedValueConverter<SubmissionErrors>(SubmissionErrorNames.TryParse, SubmissionErrorNames.Names,
                "One of automatic (4xx for temporary errors, 5xx for permanent ones) or always-5xx.", invalidOnlyForStrings: true),
        },
    };

    /// <summary>
    /// The body as <typeparamref name="T"/>; never null. An unreadable body gives a record with no field set, and its
    /// errors, like those of the fields, are kept for <see cref="ValidationFilter"/> (<see cref="ErrorsOf"/>, and
    /// <see cref="UnknownFieldsOf"/>).
    /// <paramref name="refused"/> says why a field that is not the record's is refused, where there is more to say than
    /// that it is unknown (and a value of it that is not a string is also named as such). <paramref name="maxEntries"/>
    /// bounds lists: a longer one is refused whole, before any of its entries is read, and reads as null.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(
        HttpContext http, IReadOnlyDictionary<string, string>? refused = null, IReadOnlyDictionary<string, int>? maxEntries = null)
        where T : class
    {
        var errors = new FieldErrors();
        http.Items[typeof(JsonBody)] = errors;
        var unknown = new List<string>();
        http.Items[UnknownFields] = unknown;
        var body = await ReadObjectAsync(http.Request, errors, http.RequestAborted) ?? [];
        var typeInfo = Options.GetTypeInfo(typeof(T));
        var known = typeInfo.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        // Every unknown field is named, not only the first (where the serializer would stop); the rest is still read.
        foreach (var name in body.Select(p => p.Key).Where(n => !known.Contains(n)).ToList())
        {
            if (refused?.GetValueOrDefault(name) is { } reason)
            {
                if (body[name] is { } value && value.GetValueKind() != JsonValueKind.String)
                {
                    errors.Add(name, "Must be a string.");
                }
                errors.Add(name, reason);
            }
            else
            {
                unknown.Add(name);
            }
            body.Remove(name);
        }
        foreach (var (name, max) in maxEntries ?? new Dictionary<string, int>())
        {
            if (body[name] is JsonArray { Count: var count } && count > max)
            {
                errors.Add(name, $"At most {max} entries (this list has {count}).");
                body[name] = null;
            }
        }
        T request;
        try
        {
            request = body.Deserialize<T>(Options)!;
        }
        catch (JsonException e)
        {
            // A field that is not an Optional<T> and holds a value of the wrong kind.
            errors.Add(e.Path is ['$', '.', .. var field] ? field : "body", "Not a value of this field.");
            return JsonSerializer.Deserialize<T>("{}", Options);
        }
        foreach (var property in typeInfo.Properties)
        {
            if (property.Get?.Invoke(request) is IOptional optional)
            {
                foreach (var (path, message) in optional.Errors)
                {
                    errors.Add(property.Name + path, message);
                }
            }
        }
        return request;
    }

    /// <summary>The errors of reading this request's body: of the body as a whole (<c>body</c>) or of its fields.</summary>
    public static FieldErrors ErrorsOf(HttpContext http) => http.Items[typeof(JsonBody)] as FieldErrors ?? new FieldErrors();

    /// <summary>The fields of this request's body that its record does not have: named after all the others' errors.</summary>
    public static IReadOnlyList<string> UnknownFieldsOf(HttpContext http) => http.Items[UnknownFields] as List<string> ?? [];

    private static readonly object UnknownFields = new();

    /// <summary>The body as a JSON object, or null (with an error of <c>body</c>) when it is not one.</summary>
    private static async Task<JsonObject?> ReadObjectAsync(HttpRequest request, FieldErrors errors, CancellationToken cancellationToken)
    {
        var bytes = await ReadBytesAsync(request, cancellationToken);
        if (bytes is null)
        {
            errors.Add("body", $"The body is larger than {MaxBytes} bytes.");
            return null;
        }
        if (bytes.Length == 0)
        {
            errors.Add("body", "A JSON object is required.");
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes, Strict);
            // Every name and string must be text: JSON allows escapes of lone surrogates and the bytes may not be
            // UTF-8 at all, and either would only fail later, wherever the value is first read.
            Validate(document.RootElement);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return JsonObject.Create(document.RootElement.Clone());
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
        return null;
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

    private static void NothingRequired(JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties)
        {
            property.IsRequired = false;
        }
    }
}
