using System.Globalization;
using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// JSON the way an attacker writes it: objects may repeat keys, strings may hold lone surrogates (written as
/// <c>\ud800</c> escapes or as the raw, invalid UTF-8 bytes), and any value may be a raw fragment. System.Text.Json
/// refuses to write most of this, which is why the suite has its own writer.
/// </summary>
internal abstract record Json
{
    public sealed record Str(string Value) : Json;

    /// <summary>Written as is: numbers, true/false/null, or deliberately broken text.</summary>
    public sealed record Raw(string Text) : Json;

    public sealed record Arr(IReadOnlyList<Json> Items) : Json;

    public sealed record Obj(IReadOnlyList<KeyValuePair<string, Json>> Members) : Json;

    public static Json Of(string? value) => value is null ? new Raw("null") : new Str(value);

    public static Json Num(long value) => new Raw(value.ToString(CultureInfo.InvariantCulture));

    public static Json Bool(bool value) => new Raw(value ? "true" : "false");

    public static readonly Json Null = new Raw("null");

    public static Obj Object(params (string Key, Json Value)[] members) => new(members.Select(m => KeyValuePair.Create(m.Key, m.Value)).ToList());

    /// <summary>How strings are put into bytes.</summary>
    public enum Form
    {
        /// <summary>Non-ASCII as <c>\uXXXX</c>: lone surrogates become unpaired surrogate escapes.</summary>
        Escaped,

        /// <summary>UTF-8, with a lone surrogate written as its three-byte (invalid, CESU-style) form.</summary>
        Raw,
    }

    public byte[] ToBytes(Form mode = Form.Escaped)
    {
        var bytes = new List<byte>();
        Write(this, bytes, mode);
        return [.. bytes];
    }

    public string ToText() => Encoding.UTF8.GetString(ToBytes());

    /// <summary>Text as UTF-8, except that a lone surrogate becomes the three bytes WTF-8 gives it (which UTF-8 decoders refuse).</summary>
    public static byte[] Wtf8(string value)
    {
        var output = new List<byte>();
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                output.AddRange(Encoding.UTF8.GetBytes(value.Substring(i++, 2)));
            }
            else if (char.IsSurrogate(c))
            {
                output.Add((byte)(0xe0 | (c >> 12)));
                output.Add((byte)(0x80 | ((c >> 6) & 0x3f)));
                output.Add((byte)(0x80 | (c & 0x3f)));
            }
            else
            {
                output.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        return [.. output];
    }

    private static void Write(Json json, List<byte> output, Form mode)
    {
        switch (json)
        {
            case Str s:
                WriteString(s.Value, output, mode);
                break;
            case Raw r:
                output.AddRange(Encoding.UTF8.GetBytes(r.Text));
                break;
            case Arr a:
                output.Add((byte)'[');
                for (var i = 0; i < a.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Add((byte)',');
                    }
                    Write(a.Items[i], output, mode);
                }
                output.Add((byte)']');
                break;
            case Obj o:
                output.Add((byte)'{');
                for (var i = 0; i < o.Members.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Add((byte)',');
                    }
                    WriteString(o.Members[i].Key, output, mode);
                    output.Add((byte)':');
                    Write(o.Members[i].Value, output, mode);
                }
                output.Add((byte)'}');
                break;
        }
    }

    private static void WriteString(string value, List<byte> output, Form mode)
    {
        output.Add((byte)'"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '"' or '\\')
            {
                output.Add((byte)'\\');
                output.Add((byte)c);
            }
            else if (c < 0x20 || (mode == Form.Escaped && c > 0x7e))
            {
                output.AddRange(Encoding.ASCII.GetBytes($"\\u{(int)c:x4}"));
            }
            else
            {
                var pair = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
                output.AddRange(Wtf8(value.Substring(pair ? i++ : i, pair ? 2 : 1)));
            }
        }
        output.Add((byte)'"');
    }
}
