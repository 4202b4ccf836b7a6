using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Bodies for the custom-handler routes, <c>POST /{FunctionName}</c>, as the Functions host sends them
/// (<c>{"Data":{…},"Metadata":{…}}</c>) and as it never would: timer info with nonsense in it, queue messages in every
/// encoding the host uses (JSON text, quoted again, base64, an object) carrying forged check requests that name unknown
/// accounts and other tenants' domains, keys Table storage cannot hold, and no JSON at all.
/// </summary>
internal static class InvocationBodies
{
    public static readonly string[] Encodings = ["object", "text", "quoted", "base64"];

    public static (byte[] Bytes, string Mutation) Timer(Random rng)
    {
        if (rng.Chance(0.2))
        {
            return Broken(rng);
        }
        Json time() => rng.Chance(0.7)
            ? new Json.Str(DateTimeOffset.UtcNow.AddMinutes(rng.Next(-10, 10)).ToString("O"))
            : new Json.Raw(rng.Pick(["\"9999-99-99\"", "\"\"", "123", "null", "\"0001-01-01\"", "\"-infinity\"", "\"\\ud800\"", "[]", "\"1e400\""]));
        var timer = Json.Object(
            ("Schedule", Json.Object(("AdjustForDST", Json.Bool(true)))),
            ("ScheduleStatus", rng.Chance(0.8) ? (Json)Json.Object(("Last", time()), ("Next", time()), ("LastUpdated", time())) : new Json.Raw(rng.Pick(["null", "\"x\"", "[]", "7"]))),
            ("IsPastDue", new Json.Raw(rng.Pick(["false", "true", "\"yes\"", "null", "1"]))));
        Json data = rng.Chance(0.85) ? Json.Object((rng.Pick(["timer", "Timer", "TIMER", "tick"]), timer)) : new Json.Raw(rng.Pick(["null", "[]", "\"timer\"", "{}"]));
        return (Json.Object(("Data", data), ("Metadata", Metadata(rng))).ToBytes(), "timer");
    }

    /// <summary>A queue invocation around <paramref name="message"/> (the text of the message, or null for hostile text made here).</summary>
    public static (byte[] Bytes, string Mutation) Queue(Random rng, string? message, string? encoding = null)
    {
        if (message is null && rng.Chance(0.15))
        {
            return Broken(rng);
        }
        var (text, what) = message is null ? Message(rng) : (message, "queued message");
        encoding ??= rng.Pick(Encodings);
        Json value = encoding switch
        {
            "object" when text.TrimStart().StartsWith('{') => new Json.Raw(text),
            "quoted" => new Json.Str(new Json.Str(text).ToText()),
            "base64" => new Json.Str(rng.Chance(0.9) ? Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) : rng.Pick(["/w==", "7aCA", "====", "YQ", "wC8="])),
            _ => new Json.Str(text),
        };
        var data = Json.Object((rng.Chance(0.9) ? "message" : rng.Pick(["Message", "msg", "queueTrigger"]), value));
        return (Json.Object(("Data", data), ("Metadata", Metadata(rng))).ToBytes(rng.Chance(0.5) ? Json.Form.Escaped : Json.Form.Raw), $"{what} as {encoding}");
    }

    /// <summary>The text of a queue message: forged check requests first, then anything else.</summary>
    private static (string Text, string What) Message(Random rng)
    {
        string field() => rng.Next(10) switch
        {
            0 => rng.Pick(["a/b", "a\\b", "a#b", "a?b", "a\u0000b", "a\u0001b", "a\u007fb", "a\u0085b", "\ud800", "'", "''", "%2F"]),
            1 => new string('k', rng.Pick([600, 1100, 40_000])),
            2 => "",
            3 => HostileValues.Garble(rng, rng.Next(1, 20)),
            _ => Hex(rng, 12),
        };
        string account() => rng.Next(5) switch
        {
            0 => Cast.Victim,
            1 or 2 => rng.Pick(Cast.Attackers),
            3 => rng.Pick(HostileValues.AccountIds),
            _ => field(),
        };
        string domain() => rng.Next(5) switch
        {
            0 => rng.Pick(Cast.VictimExposed),
            1 or 2 => rng.Pick(Cast.OwnNames(rng.Pick(Cast.Attackers))),
            3 => rng.Pick(HostileValues.Names),
            _ => field(),
        };
        string bucket() => rng.Chance(0.6) ? DateTimeOffset.UtcNow.AddMinutes(-rng.Next(0, 5)).ToString("yyyyMMddHHmm00") + "-0" + rng.Next(10) : field();
        switch (rng.Next(8))
        {
            case < 5:
                var keys = new List<(string, Json)> { ("a", Json.Of(account())), ("d", Json.Of(domain())), ("b", Json.Of(bucket())), ("n", Json.Of(field())), ("t", Json.Of(field())) };
                if (rng.Chance(0.2))
                {
                    keys.RemoveAt(rng.Next(keys.Count));
                }
                if (rng.Chance(0.15))
                {
                    var i = rng.Next(keys.Count);
                    keys[i] = (keys[i].Item1, new Json.Raw(rng.Pick(["1", "null", "[]", "{}", "true", "1e400"])));
                }
                if (rng.Chance(0.1))
                {
                    keys.Add((rng.Pick(["a", "x", "A"]), Json.Of(account())));
                }
                return (Json.Object([.. keys]).ToText(), "forged check request");
            case 5:
                return (rng.Pick(["", " ", "null", "[]", "{}", "42", "\"x\"", "not json", "{\"a\":", "<xml/>", "\u0000", "{\"a\":\"\\ud800\"}"]), "non-request message");
            case 6:
                return (Json.Object(("AccountId", Json.Of(account())), ("Domain", Json.Of(domain()))).ToText(), "message with long names");
            default:
                return (HostileValues.Garble(rng, rng.Next(1, 60)), "garbled message");
        }
    }

    private static Json Metadata(Random rng) => rng.Next(6) switch
    {
        0 => new Json.Raw(rng.Pick(["null", "[]", "\"x\"", "1"])),
        1 => Json.Object(("DequeueCount", new Json.Raw(rng.Pick(["\"abc\"", "1e30", "-5", "\"\\\"3\\\"\"", "null", "99999999999999999999"]))),
            ("InsertionTime", new Json.Raw(rng.Pick(["\"garbage\"", "\"9999-12-31T23:59:59+14:00\"", "0", "\"\\ud800\""]))), ("Id", new Json.Raw(rng.Pick(["{}", "null", "\"\""])))),
        _ => Json.Object(("DequeueCount", Json.Num(rng.Next(1, 6))), ("Id", Json.Of(Hex(rng, 32))),
            ("InsertionTime", Json.Of(DateTimeOffset.UtcNow.ToString("O"))), ("sys", Json.Object(("MethodName", Json.Of("x"))))),
    };

    public static string Hex(Random rng, int length) => string.Concat(Enumerable.Range(0, length).Select(_ => "0123456789abcdef"[rng.Next(16)]));

    private static (byte[] Bytes, string Mutation) Broken(Random rng)
    {
        var (bytes, how) = HostileBodies.Mangle(rng, Json.Object(("Data", Json.Object(("message", Json.Of("{}"))))).ToBytes());
        return rng.Next(3) switch
        {
            0 => (bytes, how),
            1 => (Encoding.UTF8.GetBytes(rng.Pick(["{\"Data\":[]}", "{\"Data\":null}", "{}", "{\"Metadata\":{}}", "{\"Data\":{\"message\":null}}",
                "{\"Data\":{\"message\":{}}}", "{\"Data\":{\"message\":1},\"Data\":{\"message\":2}}", "{\"Data\":{\"timer\":{\"IsPastDue\":true}}}"])), "odd invocation"),
            _ => (Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"Data\":", 70)) + "1" + new string('}', 70)), "invocation nested 70 deep"),
        };
    }
}
