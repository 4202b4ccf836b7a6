using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace RelayFunctions.Domains;

/// <summary>
/// A fully qualified domain name in its one canonical form: lowercase ASCII, internationalized labels as punycode
/// (xn--…), no trailing dot. Parsing applies IDNA as UTS #46 defines it (ICU: nontransitional, STD3 rules, the bidi
/// and ContextJ checks), so fullwidth <c>ａｂｃ.example</c> is <c>abc.example</c> and a decomposed <c>bu&#x308;cher</c>
/// is the same name as <c>bücher</c>, while zero-width joiners, bidi controls and punycode that does not decode are
/// refused. Two names are equal exactly when their canonical forms are.
/// </summary>
public sealed partial record DomainName
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    private DomainName(string ascii, string unicode)
    {
        Value = ascii;
        Unicode = unicode;
    }

    /// <summary>The canonical ASCII form, e.g. <c>xn--bcher-kva.example</c>.</summary>
    public string Value { get; }

    /// <summary>The Unicode form for display, e.g. <c>bücher.example</c>.</summary>
    public string Unicode { get; }

    /// <summary>The labels, leftmost first.</summary>
    public string[] Labels => Value.Split('.');

    /// <summary>The name one label up (<c>acme.example</c> for <c>lists.acme.example</c>); null for a name of two labels.</summary>
    public DomainName? Parent
    {
        get
        {
            var dot = Value.IndexOf('.');
            var rest = Value[(dot + 1)..];
            return rest.Contains('.') && TryParse(rest, out var parent, out _) ? parent : null;
        }
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out DomainName? name, out string? error)
    {
        name = null;
        var s = text?.Trim() ?? "";
        if (s.EndsWith('.'))
        {
            s = s[..^1];
        }
        if (s.Length == 0)
        {
            error = "A domain name is required.";
            return false;
        }
        if (IPAddress.TryParse(s, out _) || s.StartsWith('['))
        {
            error = "Must be a domain name, not an IP address.";
            return false;
        }
        if (s.Length > 253)
        {
            error = "A domain name is at most 253 characters.";
            return false;
        }
        string ascii, unicode;
        try
        {
            ascii = Idn.GetAscii(s).ToLowerInvariant();
            // The canonical form must survive the way back: punycode that does not decode, or decodes to a name that
            // encodes differently, is not one name but a way to show one name as another.
            unicode = Idn.GetUnicode(ascii);
            if (!string.Equals(Idn.GetAscii(unicode), ascii, StringComparison.Ordinal))
            {
                error = "Must be a domain name in its canonical form: this punycode does not encode the name it decodes to.";
                return false;
            }
        }
        catch (ArgumentException)
        {
            error = "Must be a valid domain name: labels of letters, digits and hyphens (IDNA rules for other scripts), no invisible or bidi control characters.";
            return false;
        }
        // IDNA 2008 lets a zero-width joiner or non-joiner follow a virama; it changes the name without changing how
        // it looks, so it is refused here as everywhere else (typed, or hidden in punycode).
        if (unicode.Contains('\u200C') || unicode.Contains('\u200D'))
        {
            error = "Must not hold a zero-width joiner or non-joiner (U+200C, U+200D): they change a name without changing how it looks.";
            return false;
        }
        if (ascii.Length > 253)
        {
            error = "A domain name is at most 253 characters.";
            return false;
        }
        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            error = "Must be a fully qualified name with at least two labels, like example.com.";
            return false;
        }
        foreach (var label in labels)
        {
            if (!LabelPattern().IsMatch(label))
            {
                error = $"Label '{label}' must be 1–63 letters, digits or hyphens, not starting or ending with a hyphen.";
                return false;
            }
        }
        if (labels[^1].All(char.IsAsciiDigit))
        {
            error = "The last label cannot be all digits.";
            return false;
        }
        name = new DomainName(ascii, unicode);
        error = null;
        return true;
    }

    public static DomainName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name : throw new FormatException(error);

    /// <summary>True for this name itself and every name below it.</summary>
    public bool Contains(DomainName other) =>
        other.Value == Value || other.Value.EndsWith("." + Value, StringComparison.Ordinal);

    /// <summary>True when one of the two names is the other or lies below it.</summary>
    public bool Overlaps(DomainName other) => Contains(other) || other.Contains(this);

    public bool Equals(DomainName? other) => other is not null && other.Value == Value;

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Value;

    [GeneratedRegex(@"\A[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\z")]
    private static partial Regex LabelPattern();
}
