using System.Diagnostics;
using System.Text.Json;
using Azure.Data.Tables;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using RelayAgent;
using RelayAgent.Submission;
using RelayShared;

namespace RelayFunctions.Bench;

/// <summary>
/// What the submission path costs a message on a real relay (the private Postfix + Dovecot scripts/bench.sh started):
/// from the client's MAIL FROM to the message at the customer's server (scripts/smtp-sink.mjs), median and 90th
/// percentile over N messages each, for inbound mail (port 25, no AUTH: neither filter nor policy), an authenticated
/// submission with no copies (policy service + submission filter), and one with a BCC recipient and a mirror.
/// </summary>
public sealed class SubmissionBench(string relayDir, string storageConnection, string prefix, int count)
{
    private const string Domain = "bench.example";
    private const string Password = "bench password";

    public async Task<IReadOnlyList<string>> RunAsync()
    {
        InstallAgent();
        var sinkFolder = Directory.CreateTempSubdirectory("bench-sink-").FullName;
        using var sink = StartSink(sinkFolder, out var sinkPort);
        var ports = File.ReadLines(Path.Combine(relayDir, "ports")).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1]));
        var options = new AgentOptions
        {
            RelayId = "bench",
            Prefix = prefix,
            ConnectionString = storageConnection,
            MapDirectory = Path.Combine(relayDir, "maps"),
            PostfixQueueDirectory = Path.Combine(relayDir, "queue"),
            PostfixConfigDirectory = relayDir,
            PolicyEndpoint = $"127.0.0.1:{ports["policy"]}",
            VerifyPollDelay = TimeSpan.FromSeconds(1),
            VerifyPolls = 10,
        };
        await WriteMapAsync(options.MapDirectory, sinkPort);
        var usage = new UsageCounter(new TableClient(storageConnection, prefix + "OutboundUsage"), options.RelayId, TimeProvider.System);
        var policy = new SubmissionPolicy(options, usage, new VerifyClient(options.PostfixQueueDirectory), RelayAgent.Submission.Dns.Client([]), new Commands(options), TimeProvider.System, NullLogger<SubmissionPolicy>.Instance);
        using var server = new PolicyServer(policy, usage, options, NullLogger<PolicyServer>.Instance);
        await server.StartAsync(default);
        try
        {
            var rows = new List<string>();
            var delivered = 0;
            async Task<string> SeriesAsync(string label, string? login, int copies)
            {
                using var client = new SmtpClient();
                client.ServerCertificateValidationCallback = (_, _, _, _) => true;
                await client.ConnectAsync("127.0.0.1", login is null ? ports["smtp"] : ports["submission"], login is null ? SecureSocketOptions.None : SecureSocketOptions.StartTls);
                if (login is not null)
                {
                    await client.AuthenticateAsync(login, Password);
                }
                var sender = login ?? $"someone@outside.example";
                // One warm-up message (the sender's verification probe, the filter's first start), not measured.
                var latencies = new List<double>();
                for (var i = -1; i < count; i++)
                {
                    var message = new MimeMessage { Subject = $"{label} {i}" };
                    message.From.Add(MailboxAddress.Parse(sender));
                    message.To.Add(MailboxAddress.Parse($"to@{Domain}"));
                    message.Body = new TextPart("plain") { Text = "A line of text.\n" + new string('x', 2000) };
                    var watch = Stopwatch.StartNew();
                    await client.SendAsync(message);
                    delivered += 1 + copies;
                    while (Directory.GetFiles(sinkFolder, "*.json").Length < delivered)
                    {
                        await Task.Delay(2);
                    }
                    if (i >= 0)
                    {
                        latencies.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }
                await client.DisconnectAsync(true);
                latencies.Sort();
                return $"submission: {label}: MAIL FROM to the last copy at the customer's server, median {latencies[latencies.Count / 2]:F0} ms, p90 {latencies[latencies.Count * 9 / 10]:F0} ms ({count} messages)";
            }
            rows.Add(await SeriesAsync("inbound, port 25, no AUTH (no filter, no policy)", null, 0));
            rows.Add(await SeriesAsync("AUTH on 587, no copies (policy + filter)", $"plain@{Domain}", 0));
            rows.Add(await SeriesAsync("AUTH on 587, a BCC recipient and a mirror (3 messages out)", $"copies@{Domain}", 2));
            return rows;
        }
        finally
        {
            await server.StopAsync(default);
        }
    }

    private async Task WriteMapAsync(string maps, int sinkPort)
    {
        static string Hash() => "{BLF-CRYPT}" + BCrypt.Net.BCrypt.HashPassword(Password, 10);
        string[] logins = [$"plain@{Domain}", $"copies@{Domain}"];
        var files = new Dictionary<string, string>
        {
            ["relay_domains"] = $"{Domain} x\n",
            ["relay_recipients"] = $"@{Domain} x\n",
            ["transport"] = $"{Domain} smtp:[127.0.0.1]:{sinkPort}\n",
            ["sender_logins"] = string.Concat(logins.Select(l => $"{l} {l}\n")),
            ["sasl_access"] = "",
            ["passwd"] = string.Concat(logins.Select(l => $"{l}:{Hash()}::::::\n")),
        };
        foreach (var (name, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(maps, name), text);
            if (name != "passwd")
            {
                // The relay's tables are lmdb (main.cf.relay); a cdb file beside them is never read.
                await RunAsync("postmap", "-c", relayDir, $"lmdb:{Path.Combine(maps, name)}");
            }
        }
        await File.WriteAllTextAsync(Path.Combine(maps, "sender_logins_sub.pcre"), "");
        await File.WriteAllLinesAsync(Path.Combine(maps, MapTables.OutboundAccounts), logins.Select(l => JsonSerializer.Serialize(
            new SubmissionAccount(l, "benchkey" + l[0], "bench", $"postmaster@{Domain}", [Domain],
                l.StartsWith("copies", StringComparison.Ordinal) ? [new SubmissionBcc("bcc1", $"archive@{Domain}")] : [],
                l.StartsWith("copies", StringComparison.Ordinal) ? [$"sent@{Domain}"] : [], "token", "automatic", 1_000_000),
            JsonSerializerOptions.Web)));
        await RunAsync("postfix", "-c", relayDir, "reload");
        await Task.Delay(1500);
    }

    /// <summary>
    /// Where the relay's pipe services run the agent (master.cf: agent/relay-agent): scripts/bench.sh published it to
    /// agent-bin (the bench's own folder lacks the agent's hosting assemblies, which the ASP.NET framework gives the bench).
    /// </summary>
    private void InstallAgent()
    {
        var target = Path.Combine(relayDir, "agent");
        Directory.CreateDirectory(target);
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileName(host) == "dotnet" ? host : "/usr/bin/dotnet";
        var script = Path.Combine(target, "relay-agent");
        File.WriteAllText(script, $"#!/bin/sh\nexec '{dotnet}' '{Path.Combine(relayDir, "agent-bin", "relay-agent.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        }
    }

    private static Process StartSink(string folder, out int port)
    {
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        var start = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine("scripts", "smtp-sink.mjs"), "0", folder })
        {
            start.ArgumentList.Add(a);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the sink did not start");
        port = int.Parse(line["listening ".Length..]);
        return process;
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args)) ?? throw new InvalidOperationException(file);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}");
        }
    }
}
