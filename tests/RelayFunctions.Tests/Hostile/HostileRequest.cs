using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>Who sends a request, and what its answers may show.</summary>
internal enum CallerKind
{
    /// <summary>The operator: trusted, sees every account; never changes the victim's.</summary>
    Operator,

    /// <summary>A registered customer account that is not the victim.</summary>
    Attacker,

    /// <summary>Anyone else: no token, a token that must fail, an unregistered account, no account claim, a spoofed role.</summary>
    Stranger,

    /// <summary>The Functions host posting an invocation (the custom-handler routes take no token).</summary>
    FunctionsHost,
}

/// <summary>
/// One generated request, complete enough to be sent again by hand: <see cref="Describe"/> prints it. Two parts are
/// chosen when it is sent, because they only exist then: an <c>If-Match</c> of <see cref="OwnETag"/> (the latest ETag
/// the caller was given for the path) and a queue message of <see cref="QueuedMessage"/> (one peeked from the app's queue).
/// </summary>
internal sealed record HostileRequest(
    int Index,
    string Host,
    string Method,
    string Path,
    string Route,
    string Caller,
    CallerKind Kind,
    string Mutation)
{
    public const string OwnETag = "$own-etag";
    public const string VictimETag = "$victim-etag";
    public const string QueuedMessage = "$queued-message";

    public string? Account { get; init; }

    public string? Authorization { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public byte[]? Body { get; init; }

    public string? ContentType { get; init; }

    /// <summary>Sent without a Content-Length, as chunks.</summary>
    public bool Chunked { get; init; }

    /// <summary>For invocations: the encoding to give a message peeked from the queue at send time, instead of <see cref="Body"/>.</summary>
    public string? LateMessage { get; init; }

    /// <summary>A burst of identical requests sent at once: of conditional deletes and patches, at most one may win.</summary>
    public int Burst { get; init; } = 1;

    public string Describe(byte[]? sentBody = null)
    {
        var text = new StringBuilder($"#{Index} [{Host}] {Method} {Path}  caller={Caller} mutation={Mutation}");
        foreach (var (name, value) in Headers)
        {
            text.Append($"\n      {name}: {Shorten(value, 120)}");
        }
        if (Authorization is not null)
        {
            text.Append($"\n      Authorization: {Shorten(Authorization, 60)}");
        }
        var body = sentBody ?? Body;
        if (body is not null)
        {
            text.Append($"\n      Content-Type: {ContentType ?? "(none)"}{(Chunked ? " (chunked)" : "")}; body {body.Length} bytes: {Preview(body, 300)}");
        }
        if (Burst > 1)
        {
            text.Append($"\n      sent {Burst} times at once");
        }
        return text.ToString();
    }

    /// <summary>Bytes as text where they are printable UTF-8, and as \xNN where not.</summary>
    public static string Preview(byte[] bytes, int max)
    {
        var text = new StringBuilder();
        var decoder = new UTF8Encoding(false, true);
        for (var i = 0; i < bytes.Length && text.Length < max; i++)
        {
            var length = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xf0 ? 4 : bytes[i] >= 0xe0 ? 3 : bytes[i] >= 0xc0 ? 2 : 1;
            string? chunk = null;
            if (length > 1 && i + length <= bytes.Length)
            {
                try
                {
                    chunk = decoder.GetString(bytes, i, length);
                }
                catch (DecoderFallbackException)
                {
                }
            }
            if (chunk is not null && !chunk.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format))
            {
                text.Append(chunk);
                i += length - 1;
            }
            else if (bytes[i] is >= 0x20 and < 0x7f)
            {
                text.Append((char)bytes[i]);
            }
            else
            {
                text.Append($"\\x{bytes[i]:x2}");
            }
        }
        return bytes.Length > max && text.Length >= max ? text + "…" : text.ToString();
    }

    private static string Shorten(string text, int max)
    {
        var shown = new string(text.Select(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format ? '·' : c).ToArray());
        return shown.Length <= max ? shown : shown[..max] + $"… ({text.Length} chars)";
    }
}
