using RelayShared;

namespace RelayAgent.Submission;

/// <summary>The map's <c>outbound_accounts</c> file as the submission filter and the policy service read it.</summary>
public static class SubmissionAccounts
{
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
            if (SubmissionAccount.FromJsonLine(line) is { } account)
            {
                accounts[account.Login] = account with { Domains = account.Domains.Select(d => d.ToLowerInvariant()).ToList() };
            }
        }
        return accounts;
    }
}
