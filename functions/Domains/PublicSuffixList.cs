using System.Globalization;
using System.Reflection;

namespace RelayFunctions.Domains;

/// <summary>
/// The Public Suffix List (publicsuffix.org; the copy in this folder is Debian's <c>publicsuffix</c> package, MPL 2.0),
/// with its private section: names under which anyone may register their own (<c>co.uk</c>, <c>in-addr.arpa</c>,
/// <c>github.io</c>). Nobody can prove control of a public suffix, so none is accepted as a mail domain, and two names
/// belong to the same owner's "family" when they share a registrable domain (the public suffix plus one label).
/// A name matched by no rule has its last label as public suffix, as the list's algorithm says.
/// </summary>
public sealed class PublicSuffixList
{
    private readonly HashSet<string> _rules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wildcards = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    private PublicSuffixList(IEnumerable<string> lines)
    {
        var idn = new IdnMapping();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }
            var (set, rule) = line switch
            {
                ['!', .. var rest] => (_exceptions, rest),
                ['*', '.', .. var rest] => (_wildcards, rest),
                _ => (_rules, line),
            };
            try
            {
                set.Add(idn.GetAscii(rule).ToLowerInvariant());
            }
            catch (ArgumentException)
            {
                // A rule ICU cannot map can never match a name this app accepts.
            }
        }
    }

    /// <summary>The list shipped with the app.</summary>
    public static PublicSuffixList Embedded { get; } = Load();

    public static PublicSuffixList FromLines(IEnumerable<string> lines) => new(lines);

    public bool IsPublicSuffix(DomainName name) => SuffixLabels(name.Labels) == name.Labels.Length;

    /// <summary>The public suffix plus one label (<c>acme.co.uk</c> for <c>mail.acme.co.uk</c>); null for a public suffix itself.</summary>
    public string? RegistrableDomain(DomainName name)
    {
        var labels = name.Labels;
        var suffix = SuffixLabels(labels);
        return suffix >= labels.Length ? null : string.Join('.', labels[^(suffix + 1)..]);
    }

    /// <summary>How many labels, counted from the right, form the name's public suffix.</summary>
    private int SuffixLabels(string[] labels)
    {
        var best = 1;
        for (var n = 1; n <= labels.Length; n++)
        {
            var candidate = string.Join('.', labels[^n..]);
            if (_exceptions.Contains(candidate))
            {
                // "!www.ck": www.ck is registrable although *.ck is a suffix.
                return n - 1;
            }
            if (_rules.Contains(candidate))
            {
                best = n;
            }
            if (n < labels.Length && _wildcards.Contains(candidate))
            {
                best = Math.Max(best, n + 1);
            }
        }
        return best;
    }

    private static PublicSuffixList Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("RelayFunctions.Domains.public_suffix_list.dat")
            ?? throw new InvalidOperationException("The public suffix list is not embedded in the app.");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }
        return new PublicSuffixList(lines);
    }
}
