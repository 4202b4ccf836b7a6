using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using RelayShared;

namespace RelayAgent.Submission;

/// <summary>
/// The decisions of the relay's policy service for authenticated submissions (main.cf <c>relay_submission_policy</c>):
/// at RCPT, the connecting address against the DNS block lists, the account's daily quota, and sender address
/// verification; at end of data, the usage count. Each answer is a Postfix access action. A temporary refusal is 4xx,
/// or 5xx for an account whose "action on submission errors" is always-5xx.
/// </summary>
public sealed partial class SubmissionPolicy(
    AgentOptions options, UsageCounter usage, VerifyClient verify, ILookupClient dns, Commands commands, TimeProvider time, ILogger<SubmissionPolicy> logger)
{
    public const string Dunno = "DUNNO";
    private static readonly TimeSpan ListedFor = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, string? Zone)> _listed = new();
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, string Action)> _messages = new();
    // Replaced whole (one reference) when the file changes, so a concurrent reader never sees half of an update.
    private Loaded<Dictionary<string, SubmissionAccount>> _accounts = new(DateTime.MinValue, new());

    private sealed record Loaded<T>(DateTime Written, T Value);

    public async Task<string> DecideAsync(IReadOnlyDictionary<string, string> request, CancellationToken ct)
    {
        var login = request.GetValueOrDefault("sasl_username") ?? "";
        if (login.Length == 0 || Account(login) is not { } account)
        {
            return Dunno;
        }
        var sender = request.GetValueOrDefault("sender") ?? "";
        var copies = sender.Length == 0 ? 0 : account.Bcc.Count + account.Mirrors.Count;
        switch (request.GetValueOrDefault("protocol_state"))
        {
            case "END-OF-MESSAGE":
                long.TryParse(request.GetValueOrDefault("size"), out var size);
                long.TryParse(request.GetValueOrDefault("recipient_count"), out var recipients);
                await usage.AddAsync(account, size, recipients, copies, ct);
                return Dunno;
            case "RCPT":
                // Every recipient of a message gets the answer its first one got: one quota check, one verification.
                var instance = request.GetValueOrDefault("instance") ?? "";
                var now = time.GetUtcNow();
                if (instance.Length > 0 && _messages.TryGetValue(instance, out var known))
                {
                    return known.Action;
                }
                var action = await CheckAsync(account, request.GetValueOrDefault("client_address") ?? "", sender, copies, ct);
                if (instance.Length > 0)
                {
                    foreach (var old in _messages.Where(m => now - m.Value.At > TimeSpan.FromMinutes(10)))
                    {
                        _messages.TryRemove(old.Key, out _);
                    }
                    _messages[instance] = (now, action);
                }
                return action;
            default:
                return Dunno;
        }
    }

    private async Task<string> CheckAsync(SubmissionAccount account, string client, string sender, int copies, CancellationToken ct)
    {
        if (await ListedAsync(client, ct) is { } zone)
        {
            Log.Listed(logger, client, zone, account.Login);
            return $"554 5.7.1 Service unavailable; client [{client}] blocked using {zone}";
        }
        var counted = await usage.CountedTodayAsync(account, ct);
        if (counted + 1 + copies > account.DailyQuota)
        {
            await usage.RefusedAsync(account, ct);
            Log.OverQuota(logger, account.Login, account.DailyQuota);
            return Temporary(account, "4.7.1",
                $"Daily limit of {account.DailyQuota} messages (copies included) reached for this account; try again after 00:00 UTC");
        }
        if (sender.Length == 0 || await HeldDomainAsync(sender, ct))
        {
            return Dunno;
        }
        var (status, reason) = await VerifyAsync(sender, ct);
        return status switch
        {
            VerifyClient.Status.Deliverable => Dunno,
            VerifyClient.Status.Undeliverable => $"550 5.7.1 Sender address <{sender}> rejected: undeliverable address: {reason}",
            VerifyClient.Status.InProgress => Temporary(account, "4.7.1", $"Sender address <{sender}> rejected: unverified address: Address verification in progress"),
            _ => Temporary(account, "4.7.1", $"Sender address <{sender}> rejected: unverified address: {reason}"),
        };
    }

    /// <summary>
    /// A temporary refusal: 450, or 550 (the same text) when the account asked for 5xx always. Detail codes are X.7.1:
    /// Postfix turns an address code (X.1.Y) into X.0.0 when the check that answers is about the login, as this one is.
    /// </summary>
    private static string Temporary(SubmissionAccount account, string status, string text) =>
        account.Always5xx ? $"550 5.{status[2..]} {text}" : $"450 {status} {text}";

    /// <summary>Polls verify(8) as smtpd does: while the probe is in progress, a few times a few seconds apart.</summary>
    private async Task<(VerifyClient.Status, string)> VerifyAsync(string sender, CancellationToken ct)
    {
        try
        {
            for (var poll = 1; ; poll++)
            {
                var answer = await verify.QueryAsync(sender, ct);
                if (answer.Status != VerifyClient.Status.InProgress || poll >= options.VerifyPolls)
                {
                    return answer;
                }
                await Task.Delay(options.VerifyPollDelay, time, ct);
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            Log.VerifyFailed(logger, e, sender);
            return (VerifyClient.Status.Deferred, "address verification unavailable");
        }
    }

    /// <summary>The first block list naming <paramref name="client"/>, or null. A list that does not answer names nobody.</summary>
    private async Task<string?> ListedAsync(string client, CancellationToken ct)
    {
        if (options.DnsBlockLists.Count == 0 || !IPAddress.TryParse(client, out var address))
        {
            return null;
        }
        var now = time.GetUtcNow();
        if (_listed.TryGetValue(client, out var cached) && now - cached.At < ListedFor)
        {
            return cached.Zone;
        }
        string? listed = null;
        foreach (var zone in options.DnsBlockLists)
        {
            try
            {
                var answer = await dns.QueryAsync($"{Reversed(address)}.{zone}", QueryType.A, cancellationToken: ct);
                if (answer.Answers.ARecords().Any(a => a.Address.GetAddressBytes()[0] == 127))
                {
                    listed = zone;
                    break;
                }
            }
            catch (DnsResponseException e)
            {
                Log.ListUnavailable(logger, zone, e.Message);
            }
        }
        _listed[client] = (now, listed);
        return listed;
    }

    /// <summary>1.2.3.4 → 4.3.2.1; an IPv6 address as its 32 nibbles, last first.</summary>
    public static string Reversed(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork
            ? string.Join('.', bytes.Reverse())
            : string.Join('.', bytes.Reverse().SelectMany(b => new[] { (b & 0xf).ToString("x"), (b >> 4).ToString("x") }));
    }

    private SubmissionAccount? Account(string login)
    {
        var path = Path.Combine(options.MapDirectory, MapTables.OutboundAccounts);
        var written = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
        if (written != _accounts.Written)
        {
            _accounts = new(written, SubmissionAccounts.Load(path));
        }
        return _accounts.Value.GetValueOrDefault(login);
    }

    /// <summary>
    /// A sender in a domain this relay holds (or under one) is not probed: the probe could only be held too, and the sender tables
    /// already said the login may use it.
    /// </summary>
    private async Task<bool> HeldDomainAsync(string sender, CancellationToken ct)
    {
        // transport_maps answers for subdomains too (parent_domain_matches_subdomains): so does this. One question to
        // the live table (postmap -q, under Postfix's own lock), for the domain and every domain above it.
        var domains = new List<string>();
        for (var domain = sender[(sender.LastIndexOf('@') + 1)..].TrimEnd('.').ToLowerInvariant(); domain.Length > 0; domain = domain.Contains('.') ? domain[(domain.IndexOf('.') + 1)..] : "")
        {
            domains.Add(domain);
        }
        var routes = await commands.QueryAsync(Path.Combine(options.MapDirectory, "transport"), domains, ct);
        return routes.Values.Any(SourceTable.IsHold);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Submission from {Client} ({Login}) refused: listed by {Zone}")]
        public static partial void Listed(ILogger logger, string client, string zone, string login);

        [LoggerMessage(Level = LogLevel.Information, Message = "Submission by {Login} refused: daily quota {Quota} reached")]
        public static partial void OverQuota(ILogger logger, string login, int quota);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Sender verification of {Sender} failed")]
        public static partial void VerifyFailed(ILogger logger, Exception exception, string sender);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Block list {Zone} did not answer: {Error}")]
        public static partial void ListUnavailable(ILogger logger, string zone, string error);
    }
}
