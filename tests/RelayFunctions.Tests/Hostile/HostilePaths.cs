using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>Paths with their parameters filled in, percent-encoded as a careful or a careless client would, and twisted.</summary>
internal static class HostilePaths
{
    internal static string Fill(string pattern, IReadOnlyDictionary<string, string> values, Random rng, bool hostile)
    {
        var path = pattern;
        foreach (var (name, value) in values)
        {
            var encoded = hostile ? Percent(value, rng) : Uri.EscapeDataString(value);
            path = path.Replace("{" + name + "?}", encoded, StringComparison.Ordinal).Replace("{" + name + "}", encoded, StringComparison.Ordinal);
        }
        return path;
    }

    /// <summary>Percent-encodes UTF-8 (a lone surrogate as its invalid three bytes), sometimes leaving reserved characters as they are.</summary>
    internal static string Percent(string value, Random rng)
    {
        var raw = rng.Chance(0.1);
        var text = new StringBuilder();
        foreach (var b in Json.Wtf8(value))
        {
            var c = (char)b;
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' || (raw && c is '/' or '%' or '?' or '#' or ':' or '@')
                ? c.ToString()
                : $"%{b:X2}");
        }
        return text.ToString();
    }

    internal static (string Path, string How) Twist(Random rng, string path) => rng.Next(7) switch
    {
        0 => (path.ToUpperInvariant(), "upper-case path"),
        1 => ("/" + path, "double slash"),
        2 => (path + "/", "trailing slash"),
        3 => (path.Replace("/api/", "/api/./", StringComparison.Ordinal), "dot segment"),
        4 => (path.Replace("/api/", "/api/x/../", StringComparison.Ordinal), "dot-dot segment"),
        5 => (path + "%2F..%2Fadmin", "encoded slash"),
        _ => (path + "/" + new string('x', 10_000), "long segment"),
    };
}
