using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Hostile values, by what they pretend to be. Every list mixes values the app must accept (and store in one canonical
/// form) with values it must refuse with a 4xx; the suite does not say which is which, it checks what was stored.
/// </summary>
internal static class HostileValues
{
    /// <summary>Characters that have broken parsers or hide in plain sight: invisible, bidi, look-alike, NUL, lone surrogates.</summary>
    public static readonly string[] Nasty =
    [
        "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\u00ad", "\u034f",
        "\u0000", "\u0001", "\u0009", "\u000a", "\u000d", "\u001f", "\u007f", "\u0085", "\u2028", "\u2029", "\u00a0", "\u3000",
        "\uff41", "\uff21", "\uff0e", "\u3002", "\uff61", "\u0308", "\u0301", "\u0430", "\u0435", "\u043e", "\u03bf", "\u0131",
        "\u017f", "\u1e9e", "\u00df", "\u03c2", "\ufffd", "\ud800", "\udfff", "\ud83d\ude00", "\u05d0", "\u0627", "\u0915\u094d",
        "%", "%00", "%2F", "/", "\\", "#", "?", "'", "\"", "<", ">", "&", "|", "*", " ", "@", ":", ";", ",", "..", "xn--",
    ];

    /// <summary>Names that are not what they seem: IDNA traps, public suffixes, addresses, and sheer length.</summary>
    public static readonly string[] Names =
    [
        "xn--z.example", "xn--.example", "xn--zca.example", "xn--a.example", "XN--BCHER-KVA.example", "xn--bcher-kva.example",
        "xn--ls8h.example", "xn--nxasmq6b.example", "xn--80ak6aa92e.com", "xn--e1afmkfd.xn--p1ai", "xn---.example",
        "a\u200db.example", "a\u200cb.example", "ab\u200d.example", "\u0915\u094d\u200d\u0937.example", "\u0915\u094d\u200c\u0937.example",
        "\u202eelpmaxe.com", "a\u200fb.example", "a\u2066b\u2069.example", "ex\u00adample.com", "exa\u034fmple.com", "\ufeffexample.com",
        "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "example\u3002com", "example\uff0ecom", "example\uff61com", "bu\u0308cher.example",
        "b\u00fccher.example", "B\u00dcCHER.example", "\u0430pple.com", "\u0440\u0430\u0443\u0440\u0430l.com", "g\u043e\u043egle.com",
        "fa\u00df.de", "\u03c3\u03bf\u03c2.gr", "\u05d0\u05d1.example", "a\u05d0.example", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629.example",
        "\ud83d\ude00.example", "\ud800.example", "a\udc00b.example", "a\u0000b.example", "a b.example", "a\tb.example", "a\nb.example",
        "co.uk", "com", "example", "in-addr.arpa", "github.io", "s3.amazonaws.com", "blogspot.com", "uk", "xn--p1ai", "\u0440\u0444",
        "1.2.3.4", "192.0.32.10", "[::1]", "2001:db8::1", "::1", "localhost", "example.123", "1.2.3.4.example", "0x7f.1",
        ".example.com", "example..com", "example.com..", "-a.example", "a-.example", "a_b.example", "*.example.com", "a.b/c", "a.b?x",
        "a#b.example", "a@b.example", "a:25.example", "%2e%2e", "..", ".", "", " ", "example.com.", "EXAMPLE.COM", " example.com ",
        new string('a', 63) + ".example", new string('a', 64) + ".example", string.Join('.', Enumerable.Repeat(new string('b', 49), 5)) + ".ex",
        string.Join('.', Enumerable.Repeat("c", 127)), string.Join('.', Enumerable.Repeat("d", 128)), new string('e', 5000) + ".example",
    ];

    public static readonly string[] Hosts =
    [
        "192.0.32.10", "8.8.8.8", "1.1.1.1", "10.0.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255",
        "192.168.1.1", "172.16.0.1", "224.0.0.1", "198.51.100.7", "192.0.2.1", "240.0.0.1", "134744072", "0x08080808", "8.8.2056",
        "08.8.8.8", "8.8.8.8.", "1.2.3.4.5", "999.1.1.1", "2001:4860:4860::8888", "[2001:4860:4860::8888]", "ipv6:2001:4860:4860::8888",
        "[ipv6:2606:4700::1111]", "2001:db8::1", "2001:db8::1%1", "fe80::1%eth0", "2606:4700::1111%25", "[2606:4700::1111%1]",
        "2606:4700::1111%", "::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "fc00::1", "::1", "::", "ff02::1",
        "2606:4700:0000:0000:0000:0000:0000:1111", "2606:4700::1111/64", "[::1]:25", "8.8.8.8:25", "mail.example.com", "MAIL.Example.COM.",
        "mx.xn--bcher-kva.example", "mx.b\u00fccher.example", "xn--z.example", "mail\u200d.example.com", "mail.example.com\u202e",
        "localhost", "mx", "mail.example.com:25", "user@mail.example.com", "mail example.com", "mail.example.com\r\nX: y", "",
        "in-addr.arpa", "4.4.8.8.in-addr.arpa", "github.io", "co.uk", "#mail.example.com", "mail.example.com#", "[mail.example.com]",
        "010.2.3.4", "1.2.3", "0x7f.0.0.1", "0177.0.0.1", "[010.2.3.4]", "::ffff:010.2.3.4", "2606:4700::1.2.3",
    ];

    /// <summary>Source filters: addresses and networks in forms that inet_aton reads as other addresses (octal, hex, short), beside good ones.</summary>
    public static readonly string[] Filters =
    [
        "198.51.100.7", "198.51.100.0/24", "2001:db8::/32", "127.0.0.1", "::1", "mail.example.com", "010.2.3.4", "1.2.3", "0x7f.0.0.1",
        "010.2.3.0/24", "1.2.3/24", "198.51.100.0/024", "198.51.100.0/+24", "198.51.100.0/33", "134744072", "0x08080808", "08.8.8.8",
        "198.51.100.7%1", "fe80::1%eth0", "[2001:db8::1]", "2001:db8::1/129", "::ffff:010.2.3.4", "198.51.100.7/32 ", " 198.51.100.7",
    ];

    public static readonly string[] Emails =
    [
        "alerts@mallory.example", "a@b.example", "A.B-c+d@Example.COM", "x@b\u00fccher.example", "x@xn--bcher-kva.example",
        "x@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "#x@b.example", "#@b.example", "a\u200d@b.example", "a@b\u200d.example",
        "a@xn--z.example", "a@b", "a@[1.2.3.4]", "a@1.2.3.4", "\"a b\"@c.example", "a..b@c.example", ".a@c.example", "a.@c.example",
        "\uff41@b.example", "\u0430@b.example", "a@b.example\n", "a@b.example\r\nBcc: x@y.example", "a@b.example, c@d.example",
        "Alice <a@b.example>", "a@b@c.example", "@b.example", "a@", "@", "", " ", "a\n@b.example", "a\r\n@b.example", "a\u2028@b.example",
        new string('l', 64) + "@b.example",
        new string('l', 65) + "@b.example", "a@" + new string('d', 250) + ".example", "a\u0000@b.example", "a@co.uk", "a@localhost",
        "postmaster@mallory.example", "a(comment)@b.example", "a@b.example.", "a@-b.example", "a%b@c.example", "a/b@c.example",
    ];

    public static readonly string[] AccountIds =
    [
        "acct-1", "acct-2", "UPPER", " spaced ", "a/b", "a%2Fb", "..", ".hidden", "-x", "_x", "x.", new string('a', 64), new string('a', 65),
        "\u00e4", "a\u200db", "a\u0000b", "a b", "a#b", "a?b", "a\\b", "a|b", "a'b", "\uff41", "\u0430cct", "null", "0", "%00", "%ED%A0%80",
    ];

    public static readonly string[] Ports = ["25", "1", "65535", "0", "-1", "65536", "2525", "2147483648", "9223372036854775807",
        "9223372036854775808", "1e3", "25.0", "25.5", "-0", "1E400", "\"25\"", "true", "null", "[25]", "{}", "0x19", "025"];

    public static readonly string[] Sizes = ["1048576", "10485760", "104857600", "1048575", "104857601", "0", "-1", "9223372036854775807",
        "9223372036854775808", "1e7", "10485760.5", "\"10485760\"", "null", "false", "[]", "1E400"];

    public static readonly string[] Modes = ["redirect", "hold", "backup-mx", "REDIRECT", " hold ", "backup_mx", "backupmx", "Hold\u200d",
        "h\u043eld", "", "relay", "null", "0", "1"];

    public static readonly string[] ServiceLevels = ["personal", "personal-plus", "standard", "professional", "enterprise", "Personal Plus",
        "PersonalPlus", "personal_plus", "enterprise\u200d", "\u212Fnterprise", "gold", "", " standard ", "STANDARD", "0", "4"];

    public static readonly string[] IfMatch = ["*", "\"\"", "\"x\"", "W/\"x\"", "\"", "*, \"x\"", "\"a\", \"b\"", "\"%%%\"", "\"====\"",
        "\"V1wiZGF0ZXRpbWUnMjAyNC0wMS0wMVQwMDowMDowMFonXCI\"", "\"" + new string('A', 8000) + "\"", "\"\u00e9\"", "\"\\u0000\"", "null", "-1"];

    public static readonly string[] Limits = ["abc", "0", "1", "200", "201", "-1", "1e3", "%00", "", "2147483648", "\u0661", "+5", " 5", "5 "];

    public static readonly string[] Cursors = ["", "x", "0000000000000000000-", "0000000000000000000-abc", "9999999999999999999-zz-top",
        "'", "0000000000000000000-abc' or RowKey gt '", "%27", "\u0661\u0662", new string('9', 19) + "-" + new string('a', 2000)];

    public static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "FOO", "get"];

    public static readonly string[] ContentTypes = ["application/json", "application/merge-patch+json", "text/plain", "application/xml",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/json; charset=latin1",
        "application/octet-stream", "application/problem+json", "*/*", "application/json; charset=\"", "garbage"];

    public static readonly string[] Accepts = ["application/json", "*/*", "application/problem+json", "text/html", "application/xml", "text/plain"];

    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    public static bool Chance(this Random rng, double p) => rng.NextDouble() < p;

    /// <summary>A string of random pieces: letters, digits, dots, hyphens and <see cref="Nasty"/> characters.</summary>
    public static string Garble(Random rng, int pieces)
    {
        var text = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            text.Append(rng.Next(4) switch
            {
                0 => rng.Pick(Nasty),
                1 => ((char)('a' + rng.Next(26))).ToString(),
                2 => rng.Next(10).ToString(),
                _ => rng.Pick([".", "-", "xn--", "a", "\u00e9"]),
            });
        }
        return text.ToString();
    }

    /// <summary>
    /// Names that look like <paramref name="name"/> and must be taken for it, or refused: other scripts, fullwidth,
    /// decomposed, joiners after a virama (which IDNA 2008 allows there), punycode of the Unicode form.
    /// </summary>
    public static IEnumerable<string> LookAlikes(string name) => new[]
    {
        name.Replace("\u094d", "\u094d\u200d", StringComparison.Ordinal),
        name.Replace("\u094d", "\u094d\u200c", StringComparison.Ordinal),
        name.Replace("a", "\u0430", StringComparison.Ordinal).Replace("e", "\u0435", StringComparison.Ordinal),
        Fullwidth(name),
        name.Normalize(NormalizationForm.FormD),
        name.ToUpperInvariant() + ".",
    }.Where(n => n != name).Distinct();

    /// <summary>A name in one of the surface forms that must all mean the same domain, or a broken variant of it.</summary>
    public static string Disguise(Random rng, string name) => rng.Next(12) switch
    {
        0 => name.ToUpperInvariant(),
        1 => name + ".",
        2 => " " + name + " ",
        3 => Fullwidth(name),
        4 => name.Replace("a", "\u0430", StringComparison.Ordinal),
        5 => name.Replace(".", "\u3002", StringComparison.Ordinal),
        6 => name.Insert(Math.Min(2, name.Length), rng.Pick(Nasty)),
        7 => name.Normalize(NormalizationForm.FormD),
        8 => System.Globalization.CultureInfo.InvariantCulture.TextInfo.ToTitleCase(name),
        9 => name.Replace("\u094d", "\u094d\u200d", StringComparison.Ordinal),
        _ => name,
    };

    public static string Fullwidth(string text) =>
        new(text.Select(c => c is >= '!' and <= '~' && c != '.' ? (char)(c - '!' + '\uff01') : c).ToArray());
}
