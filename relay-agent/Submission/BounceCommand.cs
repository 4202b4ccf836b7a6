using System.Text.RegularExpressions;
using MimeKit;
using RelayShared;

namespace RelayAgent.Submission;

/// <summary>
/// <c>relay-agent bounce --spool DIR RECIPIENT</c>: Postfix's relaybounce pipe service runs it for mail to the relay's
/// bounce domain, the message on standard input. A delivery status notification that says a BCC copy failed
/// (recipient <c>bcc-bounce+KEY.ID@…</c>, an <c>Action: failed</c>) becomes a file in the spool, which the agent hands
/// to the control plane; anything else (a delay notice, mail nobody should send there) is dropped.
/// </summary>
public static partial class BounceCommand
{
    public static async Task<int> RunAsync(string[] args, Stream input, TextWriter log, CancellationToken ct)
    {
        if (args.Length != 3 || args[0] != "--spool")
        {
            await log.WriteLineAsync("usage: relay-agent bounce --spool DIR RECIPIENT");
            return SubmissionFilter.TempFail;
        }
        var (spool, recipient) = (args[1], args[2]);
        if (BounceAddress().Match(recipient) is not { Success: true } address)
        {
            await log.WriteLineAsync($"relaybounce: mail for <{recipient}> dropped: not a BCC bounce address");
            return 0;
        }
        MimeMessage message;
        try
        {
            message = await MimeMessage.LoadAsync(input, ct);
        }
        catch (FormatException e)
        {
            await log.WriteLineAsync($"relaybounce: unreadable message for <{recipient}> dropped: {e.Message}");
            return 0;
        }
        if (Failure(message) is not { } failure)
        {
            await log.WriteLineAsync($"relaybounce: <{recipient}>: no failed delivery in it, dropped");
            return 0;
        }
        var report = new BccBounce(address.Groups["key"].Value, address.Groups["id"].Value, failure.Recipient, failure.Status, failure.Diagnostic);
        var name = Path.Combine(spool, $"{TimeProvider.System.GetUtcNow():yyyyMMddHHmmssfff}-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(name + ".tmp", report.ToJson(), ct);
            File.Move(name + ".tmp", name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await log.WriteLineAsync($"relaybounce: spool {spool} not writable, deferred: {e.Message}");
            return SubmissionFilter.TempFail;
        }
        return 0;
    }

    /// <summary>The first failed recipient of a delivery status notification (RFC 3464), or null.</summary>
    public static (string? Recipient, string? Status, string? Diagnostic)? Failure(MimeMessage message)
    {
        foreach (var status in message.BodyParts.OfType<MessageDeliveryStatus>())
        {
            foreach (var fields in status.StatusGroups.Skip(1))
            {
                if (string.Equals(fields["Action"]?.Trim(), "failed", StringComparison.OrdinalIgnoreCase))
                {
                    return (Value(fields["Final-Recipient"]), fields["Status"]?.Trim(), Value(fields["Diagnostic-Code"]));
                }
            }
        }
        return null;
    }

    /// <summary>"rfc822; x@y" → "x@y"; the diagnostic's type the same way.</summary>
    private static string? Value(string? field) => field is null ? null : (field.Contains(';') ? field[(field.IndexOf(';') + 1)..] : field).Trim();

    [GeneratedRegex(@"^bcc-bounce\+(?<key>[a-z0-9]{1,64})\.(?<id>[a-z0-9]{1,64})@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BounceAddress();
}
