using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using RelayFunctions.Domains;

namespace RelayFunctions.Accounts;

/// <summary>
/// A plain mailbox address, <c>local@domain</c>: a dot-atom local part (RFC 5322) and a valid domain name.
/// No display names, comments or quoted local parts: these addresses go into mail headers and maps.
/// </summary>
public sealed partial record EmailAddress
{
    private EmailAddress(string local, DomainName domain)
    {
        LocalPart = local;
        Domain = domain;
    }

    public string LocalPart { get; }
    public DomainName Domain { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out EmailAddress? address, out string? error)
    {
        address = null;
        text = text?.Trim();
        var at = text?.LastIndexOf('@') ?? -1;
        if (text is null || at <= 0 || at == text.Length - 1)
        {
            error = "Must be an e-mail address like name@example.com.";
            return false;
        }
        var local = text[..at];
        if (local.StartsWith('#'))
        {
            // Postfix's table files read a line that starts with '#' as a comment.
            error = "The part before '@' cannot start with '#'.";
            return false;
        }
        if (local.Length > 64 || !LocalPartPattern().IsMatch(local))
        {
            error = "The part before '@' may hold letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading, trailing or double dots), at most 64 characters.";
            return false;
        }
        if (!DomainName.TryParse(text[(at + 1)..], out var domain, out var domainError))
        {
            error = $"The domain after '@' is not valid: {domainError}";
            return false;
        }
        address = new EmailAddress(local, domain);
        error = null;
        return true;
    }

    public override string ToString() => $"{LocalPart}@{Domain}";

    [GeneratedRegex(@"\A[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\z")]
    internal static partial Regex LocalPartPattern();
}
