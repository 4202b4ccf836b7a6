using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>What a body's values are about: the caller's account and the domain the request names.</summary>
/// <param name="HostNames">The route takes a host name only (an IP helper follows a name).</param>
internal sealed record BodyContext(string Account, string Domain, Func<Random, string> AnyName, bool HostNames);

/// <summary>
/// Request bodies from the fields the OpenAPI document lists: valid ones (so that state exists: domains in every mode,
/// destinations, recipient lists, account preferences), and hostile ones, mutated as values (wrong types, hostile strings,
/// numbers out of range), as objects (duplicate, unknown, missing and mis-cased keys) and as bytes (invalid UTF-8, a BOM,
/// truncation, deep nesting, other encodings, more than the app reads).
/// </summary>
internal static partial class HostileBodies
{
    public static (byte[] Bytes, string Mutation) Valid(Random rng, IReadOnlyList<BodyField> fields, BodyContext context) =>
        Build(rng, fields, context, null);

    /// <summary>
    /// A valid body but for one field, which holds a value from the hostile pools: the request fails only if that value is
    /// refused, so a value the app wrongly accepts is stored, and the audit finds it.
    /// </summary>
    public static (byte[] Bytes, string Mutation) OneBadValue(Random rng, IReadOnlyList<BodyField> fields, BodyContext context, BodyField? field = null, Json? value = null)
    {
        field ??= rng.Pick(fields);
        return Build(rng, fields, context, field, value ?? PoolValue(rng, field, context));
    }

    private static (byte[] Bytes, string Mutation) Build(Random rng, IReadOnlyList<BodyField> fields, BodyContext context, BodyField? bad, Json? badValue = null)
    {
        var mode = bad?.Name is "destinationHost" or "destinationPort" or "mode" ? "redirect" : rng.Pick(["redirect", "hold", "backup-mx", "hold"]);
        var members = new List<(string, Json)>();
        var mutation = "valid";
        foreach (var field in fields)
        {
            if (field == bad && badValue is { } value)
            {
                members.Add((field.Name, value));
                mutation = $"one bad value: {field.Name}={StorageAudit.Show(value.ToText(), 60)}";
                continue;
            }
            if (field.Name is "destinationHost" or "destinationPort" && mode == "backup-mx" && fields.Any(f => f.Name == "mode"))
            {
                continue;
            }
            var needed = field.Required || field.Name == "mode" || (mode == "redirect" && field.Name.StartsWith("destination", StringComparison.Ordinal));
            if (needed || rng.Chance(0.5))
            {
                members.Add((field.Name, field.Name == "mode" ? new Json.Str(mode) : ValidValue(rng, field, context)));
            }
        }
        return (Json.Object([.. members]).ToBytes(rng.Chance(0.5) ? Json.Form.Escaped : Json.Form.Raw), mutation);
    }

    /// <summary>Every hostile value of the pools for one field: the sweep tries each once, so none is left to chance.</summary>
    public static IEnumerable<Func<BodyContext, Json>> Sweep(BodyField field, bool hostNamesOnly)
    {
        IEnumerable<string> strings = field.Name switch
        {
            "name" => HostileValues.Names,
            "destinationHost" => hostNamesOnly ? [.. HostileValues.Names, .. HostileValues.Hosts] : [.. HostileValues.Hosts, .. HostileValues.Names.Where((_, i) => i % 2 == 0)],
            "alertEmail" => [.. HostileValues.Emails, .. HostileValues.Names.Select(n => "a@" + n)],
            // The sender takeover: the postmaster address becomes an envelope sender on the relays.
            "postmasterEmail" => [.. HostileValues.Emails, .. Cast.VictimExposed.Select(n => "postmaster@" + n), "postmaster@gmail.com"],
            var n when n.EndsWith("Email", StringComparison.Ordinal) => HostileValues.Emails,
            "mode" => HostileValues.Modes,
            "serviceLevel" => HostileValues.ServiceLevels,
            var n when n.EndsWith("Filter", StringComparison.Ordinal) => HostileValues.Filters,
            _ => [],
        };
        foreach (var text in strings)
        {
            yield return _ => new Json.Str(text);
        }
        IEnumerable<string> raw = field.Name switch
        {
            "destinationPort" => HostileValues.Ports,
            "messageSizeLimit" => HostileValues.Sizes,
            _ when field.Type == "boolean" => ["true", "false", "null", "\"true\"", "1", "0", "[]"],
            _ => [],
        };
        foreach (var text in raw)
        {
            yield return _ => new Json.Raw(text);
        }
        if (field.Name == "recipients")
        {
            for (var i = 0; i < RecipientPool.Length; i++)
            {
                var entry = RecipientPool[i];
                yield return c => new Json.Arr([new Json.Str($"ok@{c.Domain}"), entry(c.Domain)]);
            }
        }
    }

    /// <summary>A value from the pool of hostile values for this field, mostly ones that look plausible.</summary>
    private static Json PoolValue(Random rng, BodyField field, BodyContext c) => field.Name switch
    {
        "name" => new Json.Str(rng.Next(10) switch { < 6 => rng.Pick(HostileValues.Names), < 9 => c.AnyName(rng), _ => HostileValues.Garble(rng, rng.Next(1, 20)) }),
        "destinationHost" => new Json.Str(rng.Chance(0.7) ? rng.Pick(HostileValues.Hosts) : rng.Pick(HostileValues.Names)),
        "recipients" => rng.Chance(0.9) ? new Json.Arr([new Json.Str($"ok@{c.Domain}"), rng.Pick(RecipientPool)(c.Domain)]) : HostileRecipients(rng, c),
        var n when n.EndsWith("Email", StringComparison.Ordinal) => new Json.Str(rng.Chance(0.7) ? rng.Pick(HostileValues.Emails) : "a@" + rng.Pick(HostileValues.Names)),
        _ => HostileValue(rng, field, c),
    };

    public static (byte[] Bytes, string Mutation) Hostile(Random rng, IReadOnlyList<BodyField>? fields, BodyContext context)
    {
        var members = new List<(string Key, Json Value)>();
        foreach (var field in fields ?? [])
        {
            if (rng.Chance(0.7))
            {
                members.Add((field.Name, rng.Chance(0.5) ? ValidValue(rng, field, context) : HostileValue(rng, field, context)));
            }
        }
        var mutation = "values";
        switch (rng.Next(9))
        {
            case 0 when members.Count > 0:
                var twice = rng.Pick(members);
                members.Insert(rng.Next(members.Count + 1), (twice.Key, HostileValue(rng, fields!.First(f => f.Name == twice.Key), context)));
                mutation = "duplicate key " + twice.Key;
                break;
            case 1:
                members.Add((rng.Pick(["Name", "MODE", "extra", "name\u200d", "\ud800", "\udfff", "", "__proto__", "destinationhost"]), new Json.Str("x")));
                mutation = "unknown or mis-cased key";
                break;
            case 2 when members.Count > 0:
                var i = rng.Next(members.Count);
                members[i] = (members[i].Key, WrongType(rng));
                mutation = "wrong type for " + members[i].Key;
                break;
            case 3:
                members.Add(("recipients", HostileRecipients(rng, context)));
                mutation = "hostile recipients";
                break;
        }
        var bytes = Json.Object([.. members]).ToBytes(rng.Chance(0.5) ? Json.Form.Escaped : Json.Form.Raw);
        if (rng.Chance(0.35))
        {
            (bytes, var how) = Mangle(rng, bytes);
            mutation += ", " + how;
        }
        return (bytes, mutation);
    }

    private static Json ValidValue(Random rng, BodyField field, BodyContext c) => field.Name switch
    {
        "name" => new Json.Str(c.Domain),
        "destinationHost" => new Json.Str(c.HostNames
            ? rng.Pick([$"mx.{c.Domain}", $"{c.Account}-dyn.example", $"home{rng.Next(50)}.{c.Account}-dyn.example"])
            : rng.Pick(["192.0.32.10", "2606:4700::1111", $"mx.{c.Domain}", $"{c.Account}-dyn.example", "93.184.215.14"])),
        "destinationPort" => Json.Num(rng.Pick([25L, 2525, 587, 65535, 1])),
        "recipients" => new Json.Arr(Enumerable.Range(0, rng.Next(4)).Select(i => new Json.Str(
            rng.Pick([$"user{i}@{c.Domain}", $"@{c.Domain}", $"@lists.{c.Domain}", $"Team.{i}+tag@sub.{c.Domain}"]))).ToList()),
        "messageSizeLimit" => Json.Num(rng.Pick([1048576L, 10485760, 104857600, 5_000_000])),
        var n when n.EndsWith("Email", StringComparison.Ordinal) => rng.Chance(0.2) ? Json.Null : new Json.Str($"{n[..^5].ToLowerInvariant()}@{c.Account}.example"),
        _ => field.Type switch
        {
            "enum" => new Json.Str(rng.Pick(field.Enum)),
            "integer" => Json.Num(rng.Next(1, 1000)),
            "boolean" => Json.Bool(rng.Chance(0.5)),
            "array" => new Json.Arr([]),
            _ => new Json.Str("x"),
        },
    };

    private static Json HostileValue(Random rng, BodyField field, BodyContext c)
    {
        if (rng.Chance(0.1))
        {
            return WrongType(rng);
        }
        return field.Name switch
        {
            "name" => new Json.Str(rng.Chance(0.3) ? HostileValues.Garble(rng, rng.Next(1, 12)) : c.AnyName(rng)),
            "destinationHost" => new Json.Str(rng.Chance(0.8) ? rng.Pick(HostileValues.Hosts) : c.AnyName(rng)),
            "destinationPort" => new Json.Raw(rng.Pick(HostileValues.Ports)),
            "recipients" => HostileRecipients(rng, c),
            "mirrors" or "bccRecipients" => HostileAddresses(rng, c),
            var n when n.EndsWith("Filter", StringComparison.Ordinal) => new Json.Str(rng.Pick(HostileValues.Filters)),
            "messageSizeLimit" => new Json.Raw(rng.Pick(HostileValues.Sizes)),
            "mode" => new Json.Str(rng.Pick(HostileValues.Modes)),
            "serviceLevel" => new Json.Str(rng.Pick(HostileValues.ServiceLevels)),
            var n when n.EndsWith("Email", StringComparison.Ordinal) => new Json.Str(rng.Pick(HostileValues.Emails)),
            _ => field.Type switch
            {
                "boolean" => new Json.Raw(rng.Pick(["true", "false", "null", "\"true\"", "1", "0", "[]"])),
                "integer" => new Json.Raw(rng.Pick(HostileValues.Ports)),
                "enum" => new Json.Str(rng.Chance(0.5) ? rng.Pick(field.Enum).ToUpperInvariant() : HostileValues.Garble(rng, 4)),
                _ => new Json.Str(HostileValues.Garble(rng, rng.Next(1, 40))),
            },
        };
    }

    private static Json WrongType(Random rng) => rng.Next(7) switch
    {
        0 => new Json.Raw("12345678901234567890123"),
        1 => new Json.Arr([new Json.Str("a"), Json.Num(1)]),
        2 => Json.Object(("x", Json.Num(1))),
        3 => Json.Bool(true),
        4 => new Json.Raw("-1.5e308"),
        5 => new Json.Str(new string('z', rng.Next(1, 100_000))),
        _ => Json.Null,
    };

    /// <summary>Breaks the bytes of a body the way a broken or malicious client would.</summary>
    public static (byte[] Bytes, string How) Mangle(Random rng, byte[] json)
    {
        byte[][] invalidUtf8 = [[0xc3, 0x28], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]];
        switch (rng.Next(12))
        {
            case 0:
            case 1:
                // Inside a string where there is one, so the bytes reach the app's text handling rather than the tokenizer.
                var quote = Array.IndexOf(json, (byte)'"', rng.Next(json.Length));
                var at = quote < 0 ? rng.Next(json.Length + 1) : quote + 1;
                return ([.. json[..at], .. rng.Pick(invalidUtf8), .. json[at..]], "invalid UTF-8");
            case 2:
                return ([0xef, 0xbb, 0xbf, .. json], "BOM");
            case 3:
                return (json[..rng.Next(json.Length + 1)], "truncated");
            case 4:
                return (Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(json)), "UTF-16");
            case 5:
                return (Encoding.UTF8.GetBytes(rng.Pick(["", "[]", "null", "\"x\"", "1", "{", "}", "{}", "{\"a\":1}{\"b\":2}", "\u0000", "true"])), "not an object");
            case 6:
                var depth = rng.Pick([33, 65, 1000, 100_000]);
                return (Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)), $"nested {depth} deep");
            case 7:
                return (Encoding.UTF8.GetBytes("{\"name\":\"a.example\",/* comment */\"mode\":\"hold\",}"), "comments and trailing comma");
            case 8:
                return (Encoding.UTF8.GetBytes("{\"\\ud800\":1,\"name\":\"\\udfff.example\",\"mode\":\"hold\\ud83d\"}"), "unpaired surrogate escapes");
            case 9:
                return (Encoding.Latin1.GetBytes("{\"name\":\"b\u00fccher.example\",\"mode\":\"hold\"}"), "Latin-1");
            case 10:
                return ([.. json, .. Encoding.UTF8.GetBytes(rng.Pick([",", "}", " garbage", "\u0000", "\n{}"]))], "trailing bytes");
            case 11 when rng.Chance(0.1):
                return (Encoding.UTF8.GetBytes("{\"name\":\"" + new string(' ', 2 * 1024 * 1024) + "a.example\"}"), "over 2 MiB");
            default:
                return (Encoding.UTF8.GetBytes("{\"mode\":\"hold\",\"destinationHost\":\"mx.\\udbff.example\",\"recipients\":[\"\\udc00@a.example\"]}"), "unpaired surrogate escapes in values");
        }
    }
}
