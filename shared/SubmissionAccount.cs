using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayShared;

/// <summary>
/// One login of the map's <c>outbound_accounts</c> file, one JSON object a line (written by the app, read by the relay's
/// submission filter and policy service): its key (named in BCC copies' envelope senders), its account, the account's
/// postmaster address, verified domains, BCC recipients, mirrors and the header value of mirror copies, the action on
/// submission errors (<see cref="Automatic"/> or <see cref="Always5xxErrors"/>), and the account's daily quota.
/// </summary>
public sealed record SubmissionAccount(
    string Login, string Key, string Account, string Postmaster, IReadOnlyList<string> Domains, IReadOnlyList<SubmissionBcc> Bcc,
    IReadOnlyList<string> Mirrors, string MirrorToken, string SubmissionErrors, int DailyQuota)
{
    public const string Automatic = "automatic";
    public const string Always5xxErrors = "always-5xx";

    /// <summary>"always-5xx": every temporary refusal of the policy service becomes a permanent one.</summary>
    [JsonIgnore]
    public bool Always5xx => SubmissionErrors == Always5xxErrors;

    /// <summary>The line of the <c>outbound_accounts</c> file (without its newline).</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);

    /// <summary>A line of the <c>outbound_accounts</c> file; null for an empty line or one that names no login.</summary>
    public static SubmissionAccount? FromJsonLine(string line) =>
        line.Length > 0 && JsonSerializer.Deserialize<SubmissionAccount>(line, JsonSerializerOptions.Web) is { Login: not null } account ? account : null;

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
