namespace RelayFunctions.Tests.Hostile;

/// <summary>Recipient lists: one hostile entry beside a valid one, and lists too long or too big to store.</summary>
internal static partial class HostileBodies
{
    private static readonly Func<string, Json>[] RecipientPool =
    [
        d => new Json.Str($"#u@{d}"), d => new Json.Str($"#@{d}"), d => new Json.Str($"@{d}"), d => new Json.Str($"@sub.{d}"), _ => new Json.Str("u@other.example"),
        d => new Json.Str($"u\u200d@{d}"), d => new Json.Str($"u@{d}\u200d"), d => new Json.Str($"U@{d.ToUpperInvariant()}"), d => new Json.Str($"u@{d}."),
        _ => new Json.Str(""), _ => new Json.Str(" "), _ => new Json.Str("@"), d => new Json.Str($"@{d}\u200d"), d => new Json.Str($"u@\ud800{d}"), _ => Json.Num(12345),
        _ => Json.Null, _ => new Json.Arr([]), d => new Json.Str($"\"q\"@{d}"), d => new Json.Str($"u@{HostileValues.Fullwidth(d)}"), d => new Json.Str($"u@xn--z.{d}"),
        d => new Json.Str(new string('r', 65) + "@" + d), d => new Json.Str($"u\n@{d}"), d => new Json.Str($"u@{d} OK\n#x"), d => new Json.Str($"u@\u0915\u094d\u200d\u0937.{d}"),
        d => new Json.Str($"@\u0915\u094d\u200d\u0937.{d}"), d => new Json.Str($"\u0430@{d}"), d => new Json.Str($"u@{d}\u3002"), d => new Json.Str($"u@b\u00fccher.{d}"),
        d => new Json.Str($"u@xn--bcher-kva.{d}"), d => new Json.Str($"\u200e@{d}"), d => new Json.Str($"u@[1.2.3.4]"), d => new Json.Str($"u@{d}:25"),
    ];

    /// <summary>A BCC or mirror list: mostly short, sometimes 20,000 entries each in a domain of its own (a storage read each, if looked up).</summary>
    private static Json HostileAddresses(Random rng, BodyContext c) => rng.Next(6) switch
    {
        0 => new Json.Arr(Enumerable.Range(0, 20_000).Select(i => (Json)new Json.Str($"m@d{i}.{c.Domain}")).ToList()),
        1 => new Json.Arr(Enumerable.Range(0, 26).Select(i => (Json)new Json.Str($"m{i}@{c.Domain}")).ToList()),
        2 => new Json.Arr(Enumerable.Range(0, 30).Select(_ => (Json)new Json.Str($"same@{c.Domain}")).ToList()),
        _ => new Json.Arr(Enumerable.Range(0, rng.Next(1, 4)).Select(_ => (Json)new Json.Str(rng.Pick(HostileValues.Emails))).ToList()),
    };

    private static Json HostileRecipients(Random rng, BodyContext c)
    {
        var d = c.Domain;
        // The long lists are costly to send, and one in forty is plenty to keep the limits honest.
        switch (rng.Chance(0.15) ? rng.Next(4) : 4)
        {
            case 0:
                return new Json.Arr(Enumerable.Range(0, 5001).Select(i => (Json)new Json.Str($"u{i}@{d}")).ToList());
            case 1:
                // Each entry as long as an address gets: the list fits the body limit, but not the 1 MiB entity limit.
                var sub = string.Join('.', Enumerable.Repeat(new string('s', 60), 2));
                return new Json.Arr(Enumerable.Range(0, 5000).Select(i => (Json)new Json.Str($"{i}{new string('l', 58)}@{sub}.{d}")).ToList());
            case 2:
                return new Json.Arr(Enumerable.Range(0, 4000).Select(i => (Json)new Json.Str($"&'{i}{new string('~', 40)}@{d}")).ToList());
            case 3:
                // Under the stored limit as text, twice over it as the storage SDK sends it ('&' as \u0026).
                return new Json.Arr(Enumerable.Range(0, 5000).Select(i => (Json)new Json.Str($"{new string('&', 64 - i.ToString().Length)}{i}@{d}")).ToList());
            default:
                var pool = new Json[]
                {
                    new Json.Str($"#u@{d}"), new Json.Str($"#@{d}"), new Json.Str($"@{d}"), new Json.Str($"@sub.{d}"), new Json.Str("u@other.example"),
                    new Json.Str($"u\u200d@{d}"), new Json.Str($"U@{d.ToUpperInvariant()}"), new Json.Str($"u@{d}"), new Json.Str($"u@{d}."),
                    new Json.Str(""), new Json.Str(" "), new Json.Str("@"), new Json.Str($"@{d}\u200d"), new Json.Str($"u@\ud800{d}"), Json.Num(12345), Json.Null,
                    new Json.Arr([]), new Json.Str($"\"q\"@{d}"), new Json.Str($"u@{HostileValues.Fullwidth(d)}"), new Json.Str($"u@xn--z.{d}"),
                    new Json.Str(new string('r', 100_000) + "@" + d), new Json.Str($"u\n@{d}"), new Json.Str($"u@{d} OK\n#x"),
                    new Json.Str($"{rng.Pick(HostileValues.Nasty)}@{d}"), new Json.Str($"u@{c.AnyName(rng)}"),
                };
                return new Json.Arr(Enumerable.Range(0, rng.Next(1, 8)).Select(_ => rng.Pick(pool)).ToList());
        }
    }
}
