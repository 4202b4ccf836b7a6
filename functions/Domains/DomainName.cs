using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace RelayFunctions.Domains;

/// <summary>
/// A fully qualified domain name in its canonical form: lowercase ASCII, internationalized labels as
/// punycode (xn--…), no trailing dot. Two names are equal exactly when their canonical forms are.
/// </summary>
public sealed partial record DomainName
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    private DomainName(string ascii) => Value = ascii;

    /// <summary>The canonical ASCII form, e.g. <c>xn--bcher-kva.example</c>.</summary>
    public string Value { get; }

    /// <summary>The Unicode form for display, e.g. <c>bücher.example</c>.</summary>
    public string Unicode => Idn.GetUnicode(Value);

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
        string ascii;
        try
        {
            ascii = Idn.GetAscii(s.ToLowerInvariant()).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            error = "Must be a domain name: labels of letters, digits and hyphens separated by dots.";
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
        name = new DomainName(ascii);
        error = null;
        return true;
    }

    public static DomainName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name : throw new FormatException(error);

    /// <summary>True for this name itself and every name below it.</summary>
    public bool Contains(DomainName other) =>
        other.Value == Value || other.Value.EndsWith("." + Value, StringComparison.Ordinal);

    public override string ToString() => Value;

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex LabelPattern();
}
