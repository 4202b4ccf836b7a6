using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayFunctions.Api;

/// <summary>A field of a request body as read: whether it was sent, and why its value could not be read, if it could not.</summary>
public interface IOptional
{
    bool IsPresent { get; }

    /// <summary>
    /// What could not be read: where under the field (<c>""</c>, or <c>"[2]"</c> for an entry) and what was expected; empty
    /// when all of it was read.
    /// </summary>
    IReadOnlyList<(string Path, string Message)> Errors { get; }
}

/// <remarks>
/// A field of a request body that tells an absent field from an explicit <c>null</c>, as JSON merge patch (RFC 7396)
/// needs. A value of the wrong JSON kind does not fail the whole body: it is kept in <see cref="Errors"/>, so that every
/// field's problem is named at once (<see cref="JsonBody"/> reports them). No summary: the OpenAPI document would
/// give it to every field without one of its own.
/// </remarks>
[JsonConverter(typeof(OptionalConverter))]
public readonly record struct Optional<T> : IOptional
{
    public bool IsPresent { get; private init; }

    /// <summary>The value sent; default when absent, null or unreadable. A list holds the entries that could be read.</summary>
    public T? Value { get; private init; }

    private readonly IReadOnlyList<(string Path, string Message)>? _errors;

    public IReadOnlyList<(string Path, string Message)> Errors { get => _errors ?? []; private init => _errors = value; }

    /// <summary>Sent, and read (null included).</summary>
    public bool HasValue => IsPresent && Errors.Count == 0;

    public static Optional<T> Of(T? value) => new() { IsPresent = true, Value = value };

    public static Optional<T> Unreadable(string path, params string[] messages) =>
        new() { IsPresent = true, Errors = [.. messages.Select(m => (path, m))] };

    /// <summary>A list of which some entries could not be read: the others, and an error for each that could not.</summary>
    public static Optional<T> Partly(T value, IReadOnlyList<(string Path, string Message)> errors) =>
        new() { IsPresent = true, Value = value, Errors = errors };

    /// <summary>The value sent, or <paramref name="current"/> when the field was absent (merge patch: absent keeps).</summary>
    public T? Or(T? current) => IsPresent ? Value : current;
}

/// <summary>A value of a named set (an enum) that is not one of its names: its messages are the field's errors as they stand.</summary>
public sealed class FieldValueException(params string[] messages) : JsonException(messages[0])
{
    public IReadOnlyList<string> Messages { get; } = messages;
}

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
        if (typeof(T) == typeof(IReadOnlyList<string>))
        {
            return (Optional<T>)(object)ReadStrings(element);
        }
        // A whole number beyond an int is read as the nearest int, which every range check of an int field refuses
        // with its own message (a port: "from 1 to 65535"), as it refuses any other number out of its range.
        if (Inner == typeof(int) && element.ValueKind == JsonValueKind.Number && !element.TryGetInt32(out _) && element.TryGetInt64(out var wide))
        {
            return Optional<T>.Of((T)(object)(wide < 0 ? int.MinValue : int.MaxValue));
        }
        try
        {
            return Optional<T>.Of(element.Deserialize<T>(options));
        }
        catch (JsonException e)
        {
            var path = e.Path is { Length: > 1 } p ? p[1..] : "";
            return e is FieldValueException named ? Optional<T>.Unreadable(path, [.. named.Messages]) : Optional<T>.Unreadable(path, Expected(path));
        }
    }

    /// <summary>A list of strings: every entry that is not one (null included) is named, and the others are kept, in order.</summary>
    private static Optional<IReadOnlyList<string>> ReadStrings(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            return Optional<IReadOnlyList<string>>.Unreadable("", "Must be an array of strings.");
        }
        var strings = new List<string>();
        var errors = new List<(string, string)>();
        var index = 0;
        foreach (var entry in element.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.String)
            {
                strings.Add(entry.GetString()!);
            }
            else
            {
                errors.Add(($"[{index}]", "Must be a string."));
            }
            index++;
        }
        return Optional<IReadOnlyList<string>>.Partly(strings, errors);
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
/// Reads a value of a named set as requests may spell it (the <paramref name="tryParse"/> of its type: trimmed, any case).
/// A string that is none of them is the field's <paramref name="invalid"/> error; a value that is not a string is
/// "Must be a string.", and also <paramref name="invalid"/> unless <paramref name="invalidOnlyForStrings"/>.
/// </summary>
public sealed class NamedValueConverter<T>(NamedValueConverter<T>.TryParse tryParse, IReadOnlyList<string> names, string invalid, bool invalidOnlyForStrings = false)
    : JsonConverter<T>
    where T : struct, Enum
{
    public delegate bool TryParse(string? text, out T value);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType != JsonTokenType.String
            ? throw (invalidOnlyForStrings ? new FieldValueException("Must be a string.") : new FieldValueException("Must be a string.", invalid))
            : tryParse(reader.GetString(), out var value) ? value : throw new FieldValueException(invalid);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(names[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)]);
}
