using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayFunctions.Api;

/// <summary>A field of a request body as read: whether it was sent, and why its value could not be read, if it could not.</summary>
public interface IOptional
{
    bool IsPresent { get; }

    /// <summary>A JSON value of the wrong kind: where under the field (<c>""</c>, or <c>"[2]"</c> for an entry) and what was expected.</summary>
    (string Path, string Message)? Error { get; }
}

/// <remarks>
/// A field of a request body that tells an absent field from an explicit <c>null</c>, as JSON merge patch (RFC 7396)
/// needs. A value of the wrong JSON kind does not fail the whole body: it is kept as <see cref="Error"/>, so that every
/// field's problem is named at once (<see cref="JsonBody"/> reports them). No summary: the OpenAPI document would
/// give it to every field without one of its own.
/// </remarks>
[JsonConverter(typeof(OptionalConverter))]
public readonly record struct Optional<T> : IOptional
{
    public bool IsPresent { get; private init; }

    /// <summary>The value sent; default when absent, null or unreadable.</summary>
    public T? Value { get; private init; }

    public (string Path, string Message)? Error { get; private init; }

    /// <summary>Sent, and read (null included).</summary>
    public bool HasValue => IsPresent && Error is null;

    public static Optional<T> Of(T? value) => new() { IsPresent = true, Value = value };

    public static Optional<T> Unreadable(string path, string message) => new() { IsPresent = true, Error = (path, message) };

    /// <summary>The value sent, or <paramref name="current"/> when the field was absent (merge patch: absent keeps).</summary>
    public T? Or(T? current) => IsPresent ? Value : current;
}

/// <summary>A value of a named set (an enum) that is not one of its names: its message is the field's error as it stands.</summary>
public sealed class FieldValueException(string message) : JsonException(message);

internal sealed class OptionalConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(OptionalConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class OptionalConverter<T> : JsonConverter<Optional<T>>
{
    private static readonly Type Inner = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);

    public override bool HandleNull => true;

    public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var element = JsonElement.ParseValue(ref reader);
        if (element.ValueKind == JsonValueKind.Null)
        {
            return Optional<T>.Of(default);
        }
        try
        {
            var value = element.Deserialize<T>(options);
            // A list of strings holds strings: a null entry is as wrong as a number.
            if (value is IReadOnlyList<string?> list && Enumerable.Range(0, list.Count).FirstOrDefault(i => list[i] is null, -1) is var index and >= 0)
            {
                return Optional<T>.Unreadable($"[{index}]", "Must be a string.");
            }
            return Optional<T>.Of(value);
        }
        catch (JsonException e)
        {
            var path = e.Path is { Length: > 1 } p ? p[1..] : "";
            return Optional<T>.Unreadable(path, e is FieldValueException ? e.Message : Expected(path));
        }
    }

    public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.Value, options);

    private static string Expected(string path) =>
        Inner == typeof(string) || path.Length > 0 ? "Must be a string."
        : Inner == typeof(int) || Inner == typeof(long) ? "Must be a whole number."
        : Inner == typeof(bool) ? "Must be true or false."
        : typeof(IEnumerable<string>).IsAssignableFrom(Inner) ? "Must be an array of strings."
        : "Not a value of this field.";
}

/// <summary>
/// Reads a value of a named set as requests may spell it (the <paramref name="tryParse"/> of its type: trimmed, any case);
/// anything else is the field's error, listing the names.
/// </summary>
public sealed class NamedValueConverter<T>(NamedValueConverter<T>.TryParse tryParse, IReadOnlyList<string> names, string? message = null) : JsonConverter<T>
    where T : struct, Enum
{
    public delegate bool TryParse(string? text, out T value);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && tryParse(reader.GetString(), out var value)
            ? value
            : throw new FieldValueException(message ?? $"Must be one of {string.Join(", ", names)}.");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(names[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)]);
}
