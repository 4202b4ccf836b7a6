using System.Globalization;
using System.Text.Json;

namespace RelayAgent.Submission;

/// <summary>
/// One login of the map's <c>outbound_accounts</c> file (written by the control plane, one JSON object a line): what
/// the submission filter and the policy service need to know of it.
/// </summary>
public sealed record SubmissionAccount(
    string Login, string Key, string Account, string Postmaster, IReadOnlyList<string> Domains, IReadOnlyList<SubmissionBcc> Bcc,
    IReadOnlyList<string> Mirrors, string MirrorToken, string SubmissionErrors, int DailyQuota)
{
    /// <summary>"always-5xx": every temporary refusal of the policy service becomes a permanent one.</summary>
    public bool Always5xx => SubmissionErrors == "always-5xx";

    /// <summary>Is <paramref name="sender"/>'s domain one of the account's mail domains, or under one?</summary>
    public bool Owns(string sender)
    {
        var at = sender.LastIndexOf('@');
        if (at < 0)
        {
            return false;
        }
        var domain = Ascii(sender[(at + 1)..]);
        return Domains.Any(d => domain == d || domain.EndsWith("." + d, StringComparison.Ordinal));
    }

    private static string Ascii(string domain)
    {
        var lower = domain.TrimEnd('.').ToLowerInvariant();
        try
        {
            return new IdnMapping().GetAscii(lower);
        }
        catch (ArgumentException)
        {
            return lower;
        }
    }
}

public sealed record SubmissionBcc(string Id, string Address);

public static class SubmissionAccounts
{
    public const string FileName = "outbound_accounts";

    /// <summary>The logins of <paramref name="path"/> (case-insensitively, as Dovecot compares them); empty when there is no file.</summary>
    public static Dictionary<string, SubmissionAccount> Load(string path)
    {
        var accounts = new Dictionary<string, SubmissionAccount>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            return accounts;
        }
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length > 0 && JsonSerializer.Deserialize<SubmissionAccount>(line, JsonSerializerOptions.Web) is { Login: not null } account)
            {
                accounts[account.Login] = account with { Domains = account.Domains.Select(d => d.ToLowerInvariant()).ToList() };
            }
        }
        return accounts;
    }
}
