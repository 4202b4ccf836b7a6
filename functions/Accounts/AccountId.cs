using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace RelayFunctions.Accounts;

/// <summary>An account id: 1–64 of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.</summary>
public readonly partial record struct AccountId
{
    private AccountId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out AccountId? id)
    {
        var normalized = text?.Trim().ToLowerInvariant();
        if (normalized is null || !Pattern().IsMatch(normalized))
        {
            id = null;
            return false;
        }
        id = new AccountId(normalized);
        return true;
    }

    public override string ToString() => Value;

    public static implicit operator string(AccountId id) => id.Value;

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9._-]{0,63}\z")]
    private static partial Regex Pattern();
}
