using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The agent as a real process, as systemd runs it: it stops promptly and quietly on a signal whatever it is doing,
/// tells a notify socket it is ready, and exports its telemetry over OTLP.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class AgentProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-agent-process-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("TERM", "idle")]
    [InlineData("INT", "idle")]
    [InlineData("TERM", "polling")]
    [InlineData("TERM", "applying")]
    public async Task ASignalStopsTheAgentWithinSecondsAndWithoutAnErrorWhateverItIsDoing(string signal, string doing)
    {
        await using var app = AppFactory.UnderFunctionsHost();
        using var blackHole = new BlackHole();
        var marker = Path.Combine(_folder, "reloading");
        var settings = AgentProcess.Settings(app.Prefix, "stop-" + doing, Path.Combine(_folder, "maps"));
        switch (doing)
        {
            case "polling":
                // Storage that accepts the connection and never answers: the poll hangs until it is cancelled.
                settings["Agent__ConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Convert.ToBase64String(new byte[64])};"
                    + $"BlobEndpoint=http://127.0.0.1:{blackHole.Port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{blackHole.Port}/devstoreaccount1;";
                break;
            case "applying":
                // A generation to apply, and a "postfix reload" that takes a minute.
                await PublishAsync(app, "stop");
                settings["Agent__PostfixConfigDirectory"] = await EmptyPostfixConfigAsync();
                settings["Agent__Postfix"] = await AgentProcess.ScriptAsync(Path.Combine(_folder, "slow-postfix"), $"echo $$ > '{marker}'; sleep 60");
                break;
        }
        await using var agent = AgentProcess.Start(settings);
        await agent.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(30));
        switch (doing)
        {
            case "idle":
                // It has polled (no map yet) and reported, and now waits for the next poll.
                await Eventually.WaitAsync(() => ReportExistsAsync(app.Prefix, "stop-idle"), exists => exists, TimeSpan.FromSeconds(30), "the first report");
                break;
            case "polling":
                await blackHole.Connected.WaitAsync(TimeSpan.FromSeconds(30));
                break;
            case "applying":
                await Eventually.WaitAsync(() => Task.FromResult(File.Exists(marker)), exists => exists, TimeSpan.FromSeconds(30), "the agent to reload Postfix");
                break;
        }

        var watch = Stopwatch.StartNew();
        agent.Signal(signal);
        var exitCode = await agent.WaitForExitAsync(TimeSpan.FromSeconds(10));
        watch.Stop();
        output.WriteLine($"SIG{signal} while {doing}: exited {exitCode} after {watch.Elapsed.TotalMilliseconds:F0} ms");
        output.WriteLine(string.Join('\n', agent.Output));

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(agent.Output, line => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal));
        Assert.Contains(agent.Output, line => line.Contains("Relay agent stopped", StringComparison.Ordinal));
        if (doing == "applying")
        {
            // The tool it was running went with it.
            var tool = int.Parse(await File.ReadAllTextAsync(marker));
            await Eventually.WaitAsync(() => Task.FromResult(Directory.Exists($"/proc/{tool}")), running => !running, TimeSpan.FromSeconds(5), "the slow postfix to be gone");
            Assert.False(File.Exists(Path.Combine(_folder, "maps", "applied.json")), "an apply cut short must not be recorded as done");
        }
    }

    [Fact]
    public async Task UnderSystemdTheAgentNotifiesReadyAndStopping()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var path = Path.Combine(_folder, "notify");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var settings = AgentProcess.Settings(app.Prefix, "notify", Path.Combine(_folder, "maps"), ("NOTIFY_SOCKET", path));

        await using var agent = AgentProcess.StartUnderFakeSystemd(_folder, settings);
        Assert.Equal("READY=1", await ReceiveAsync(socket));
        // Its logs are in the journal's format (priority prefixes): the library took the systemd path.
        Assert.Contains(agent.Output, line => line.StartsWith("<6>", StringComparison.Ordinal));

        agent.Signal("TERM");
        Assert.Equal("STOPPING=1", await ReceiveAsync(socket));
        Assert.NotNull(await agent.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        output.WriteLine(string.Join('\n', agent.Output));
        Assert.DoesNotContain(agent.Output, line => line.StartsWith("<3>", StringComparison.Ordinal) || line.StartsWith("<2>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheAgentExportsItsSpansMetricsAndLogsOverOtlp()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var app = AppFactory.UnderFunctionsHost();
        var generation = await PublishAsync(app, "otel");
        var settings = AgentProcess.Settings(app.Prefix, "otel", Path.Combine(_folder, "maps"),
            ("Agent__PostfixConfigDirectory", await EmptyPostfixConfigAsync()),
            ("Agent__Postfix", "/bin/true"),
            ("Agent__Postqueue", "/bin/true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"));

        await using var agent = AgentProcess.Start(settings);
        await agent.WaitForOutputAsync($"Applied relay map generation {generation}", TimeSpan.FromSeconds(30));
        foreach (var (signal, expected) in new[]
        {
            ("traces", "relay_map.poll"), ("traces", "relay_map.download"), ("traces", "relay_map.apply"), ("traces", "RelayAgent"),
            ("metrics", "relay_agent.generations.applied"), ("metrics", "relay_agent.apply.duration"), ("metrics", "relay_agent.generation"),
            ("logs", "Applied relay map generation"),
        })
        {
            await Eventually.WaitAsync(() => Task.FromResult(collector.Received(signal)), r => r.Contains(expected, StringComparison.Ordinal), TimeSpan.FromSeconds(20), $"{expected} in OTLP {signal}");
        }

        var watch = Stopwatch.StartNew();
        agent.Signal("TERM");
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        output.WriteLine($"SIGTERM with OTLP export: exited after {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static async Task<long> PublishAsync(AppFactory app, string account)
    {
        var client = await app.NewAccountAsync(account);
        (await client.PostAsJsonAsync("/api/domains", new { name = $"held.{account}.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync(account, $"held.{account}.example");
        return (await app.Services.GetRequiredService<RelayMapPublisher>().PublishAsync("v", default)).Generation;
    }

    private static async Task<bool> ReportExistsAsync(string prefix, string relay)
    {
        var reports = TestAgent.Reports(prefix);
        await reports.CreateIfNotExistsAsync();
        return (await reports.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("relay", relay)).HasValue;
    }

    private async Task<string> EmptyPostfixConfigAsync()
    {
        var config = Directory.CreateDirectory(Path.Combine(_folder, "config")).FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "");
        return config;
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }
}
