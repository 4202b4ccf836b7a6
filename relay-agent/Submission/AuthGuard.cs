using System.Net;
using System.Text.RegularExpressions;

namespace RelayAgent.Submission;

/// <summary>
/// Temporary blocks after repeated failed SMTP AUTHs. Follows Postfix's mail log (<see cref="AgentOptions.MailLog"/>;
/// empty: off), counts each <c>warning: host[address]: SASL PLAIN|LOGIN authentication failed</c> per client address
/// (<see cref="AuthFailures"/>), and keeps the blocks in force in the Postfix table <c>blocked</c>
/// (<see cref="BlockedMap"/>) and in the <c>RelayBlocks</c> table operators read (<see cref="BlockReports"/>). Each
/// second it reads what was logged and lifts the blocks whose time is up.
/// </summary>
/// <remarks>
/// At start the blocks this relay wrote to storage are taken up again and the Postfix table rewritten from them, so a
/// block outlives a restart of the agent, and one that ended while the agent was down is lifted.
/// </remarks>
public sealed partial class AuthGuard(
    AgentOptions options, BlockedMap map, BlockReports reports, TimeProvider time, ILogger<AuthGuard> logger) : BackgroundService
{
    private static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrEmpty(options.MailLog))
        {
            Log.Disabled(logger);
            return;
        }
        try
        {
            using var tail = new MailLogTail(options.MailLog);
            // Opened at its end before storage is asked, so nothing logged meanwhile is missed.
            Read(tail);
            var failures = new AuthFailures(options, time);
            foreach (var block in await reports.ReadAsync(stoppingToken))
            {
                failures.Restore(block);
            }
            Log.Started(logger, options.MailLog, failures.Active.Count);
            var (mapStale, reportsStale) = (true, true);
            while (true)
            {
                if (Count(Read(tail), failures) | Lift(failures))
                {
                    (mapStale, reportsStale) = (true, true);
                }
                if (mapStale)
                {
                    mapStale = !await WriteMapAsync(failures.Active, stoppingToken);
                }
                if (reportsStale)
                {
                    reportsStale = !await reports.SyncAsync(failures.Active, stoppingToken);
                }
                await Task.Delay(ReadInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The table on disk keeps the blocks in force; the next start takes them up again.
        }
    }

    /// <summary>
    /// The client address of a failed SMTP AUTH that Postfix logged, or null for any other line. As Postfix wrote it
    /// (inet_ntop's form), which is the key its client lookups use.
    /// </summary>
    public static string? FailedAddress(string line)
    {
        var match = AuthFailed().Match(line);
        return match.Success && IPAddress.TryParse(match.Groups["address"].ValueSpan, out _) ? match.Groups["address"].Value : null;
    }

    private IReadOnlyList<string> Read(MailLogTail tail)
    {
        try
        {
            return tail.ReadLines();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Blocks still end on time; the lines are read at the next try.
            Log.ReadFailed(logger, e, options.MailLog);
            return [];
        }
    }

    private bool Count(IReadOnlyList<string> lines, AuthFailures failures)
    {
        var changed = false;
        foreach (var address in lines.Select(FailedAddress).OfType<string>())
        {
            if (failures.Fail(address) is { } block)
            {
                Log.Blocked(logger, block.Address, block.Failures, block.Level, block.Until);
                changed = true;
            }
        }
        return changed;
    }

    private bool Lift(AuthFailures failures)
    {
        var ended = failures.Expire();
        foreach (var block in ended)
        {
            Log.Lifted(logger, block.Address);
        }
        return ended.Count > 0;
    }

    private async Task<bool> WriteMapAsync(IReadOnlyCollection<AuthBlock> active, CancellationToken ct)
    {
        try
        {
            await map.WriteAsync(active, ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.MapFailed(logger, e, map.Source);
            return false;
        }
    }

    // Postfix 3.x: "Dec  2 17:44:13 relay postfix/submission/smtpd[42]: warning: unknown[192.0.2.7]: SASL LOGIN authentication
    // failed: UGFzc3dvcmQ6" (syslog's RFC 3339 time stamps too; IPv6 addresses bare). Anchored from the start of the line:
    // text a client controls (a Message-ID, a user name) appears in other lines and must never block anybody.
    [GeneratedRegex(@"^(?:[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+) [^ ]+ [^ \[]+/smtpd\[[0-9]+\]: warning: [^ \[]*\[(?<address>[0-9A-Fa-f.:]+)\]: SASL (?:PLAIN|LOGIN) authentication failed")]
    private static partial Regex AuthFailed();

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "No mail log set (Agent:MailLog): failed authentications block nobody")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Following {MailLog} for failed authentications; {Blocks} blocks in force")]
        public static partial void Started(ILogger logger, string mailLog, int blocks);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Blocked {Address} after {Failures} failed authentications (level {Level}) until {Until:O}")]
        public static partial void Blocked(ILogger logger, string address, int failures, int level, DateTimeOffset until);

        [LoggerMessage(Level = LogLevel.Information, Message = "Lifted the block of {Address}")]
        public static partial void Lifted(ILogger logger, string address);

        [LoggerMessage(Level = LogLevel.Error, Message = "Could not read the mail log {MailLog}; will retry")]
        public static partial void ReadFailed(ILogger logger, Exception exception, string mailLog);

        [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the Postfix table {Table}; will retry")]
        public static partial void MapFailed(ILogger logger, Exception exception, string table);
    }
}
