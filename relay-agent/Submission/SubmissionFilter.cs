using RelayShared;

namespace RelayAgent.Submission;

/// <summary>
/// <c>relay-agent filter --maps DIR --reinject HOST:PORT BOUNCE-DOMAIN LOGIN SENDER RECIPIENT…</c>: the submission filter
/// Postfix's pipe service runs once for every authenticated submission (reference outbound.md §3), the message on
/// standard input. It re-injects the message, its null or foreign envelope sender replaced by the account's postmaster
/// address; then, unless the sender was null, a copy to each BCC recipient (envelope sender
/// <c>bcc-bounce+KEY.ID@BOUNCE-DOMAIN</c>, so a bounce names them, and an <c>X-Relay-BCC</c> header) and one to each
/// mirror (an <c>X-Relay-AuthMirror</c> header the customer's Sieve rule can match).
/// </summary>
/// <remarks>
/// Exit 75 (tempfail: Postfix retries the whole message later) until the message itself is re-injected; 0 after it,
/// whatever becomes of the copies, so a retry never duplicates the message. A copy that fails is logged, not retried.
/// </remarks>
public static class SubmissionFilter
{
    public const string BccHeader = "X-Relay-BCC";
    public const string MirrorHeader = "X-Relay-AuthMirror";
    public const int TempFail = 75;

    public static async Task<int> RunAsync(string[] args, Stream input, TextWriter log, CancellationToken ct)
    {
        if (!TryParse(args, out var maps, out var host, out var port, out var rest) || rest.Count < 4)
        {
            await log.WriteLineAsync("usage: relay-agent filter --maps DIR --reinject HOST:PORT BOUNCE-DOMAIN LOGIN SENDER RECIPIENT...");
            return TempFail;
        }
        var (bounceDomain, login, sender, recipients) = (rest[0], rest[1], rest[2], rest.Skip(3).ToList());
        byte[] message;
        using (var buffer = new MemoryStream())
        {
            await input.CopyToAsync(buffer, ct);
            message = buffer.ToArray();
        }

        SubmissionAccount? account;
        try
        {
            account = SubmissionAccounts.Load(Path.Combine(maps, MapTables.OutboundAccounts)).GetValueOrDefault(login);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            await log.WriteLineAsync($"relayfilter: {MapTables.OutboundAccounts} unreadable, message deferred: {e.Message}");
            return TempFail;
        }
        var plan = Plan(account, bounceDomain, sender, recipients);

        SmtpInjector injector;
        try
        {
            injector = await SmtpInjector.ConnectAsync(host, port, ct);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpInjectionException)
        {
            await log.WriteLineAsync($"relayfilter: re-injection at {host}:{port} unavailable, message deferred: {e.Message}");
            return TempFail;
        }
        await using (injector)
        {
            try
            {
                await injector.SendAsync(plan.Main.Sender, plan.Main.Recipients, null, message, ct);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpInjectionException)
            {
                await log.WriteLineAsync($"relayfilter: message from {login} not re-injected, deferred: {e.Message}");
                return TempFail;
            }
            if (plan.Main.Sender != sender)
            {
                await log.WriteLineAsync($"relayfilter: {login}: envelope sender <{sender}> replaced by <{plan.Main.Sender}>");
            }
            foreach (var copy in plan.Copies)
            {
                try
                {
                    await injector.SendAsync(copy.Sender, copy.Recipients, copy.Header, message, ct);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpInjectionException)
                {
                    // The message itself is on its way: a failed copy must not make Postfix run the filter again.
                    await log.WriteLineAsync($"relayfilter: {login}: copy to {string.Join(',', copy.Recipients)} failed: {e.Message}");
                    if (e is not SmtpInjectionException)
                    {
                        break;
                    }
                }
            }
        }
        return 0;
    }

    public sealed record Delivery(string Sender, IReadOnlyList<string> Recipients, string? Header);

    public sealed record Deliveries(Delivery Main, IReadOnlyList<Delivery> Copies);

    /// <summary>What to re-inject for a message from <paramref name="account"/> (null: a login the map no longer has, passed on unchanged).</summary>
    public static Deliveries Plan(SubmissionAccount? account, string bounceDomain, string sender, IReadOnlyList<string> recipients)
    {
        if (account is null)
        {
            return new Deliveries(new Delivery(sender, recipients, null), []);
        }
        var nullSender = sender.Length == 0;
        var envelope = nullSender || !account.Owns(sender) ? account.Postmaster : sender;
        var main = new Delivery(envelope, recipients, null);
        if (nullSender)
        {
            return new Deliveries(main, []);
        }
        var copies = account.Bcc.Select(b => new Delivery($"bcc-bounce+{account.Key}.{b.Id}@{bounceDomain}", [b.Address], $"{BccHeader}: {account.Login}"))
            .Concat(account.Mirrors.Select(m => new Delivery(envelope, [m], $"{MirrorHeader}: {account.MirrorToken}")))
            .ToList();
        return new Deliveries(main, copies);
    }

    private static bool TryParse(string[] args, out string maps, out string host, out int port, out List<string> rest)
    {
        (maps, host, port, rest) = ("", "", 0, []);
        for (var i = 0; i < args.Length; i++)
        {
            // Options come first; from the first other word on, everything is an address (even one that looks like an option).
            switch (rest.Count > 0 ? "" : args[i])
            {
                case "--maps" when i + 1 < args.Length:
                    maps = args[++i];
                    break;
                case "--reinject" when i + 1 < args.Length:
                    var colon = args[++i].LastIndexOf(':');
                    if (colon < 1 || !int.TryParse(args[i][(colon + 1)..], out port))
                    {
                        return false;
                    }
                    host = args[i][..colon];
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }
        return maps.Length > 0 && host.Length > 0;
    }
}
