using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs;
using MailKit.Security;
using RelayAgent;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using RelayShared;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// How long a login change takes from the API's answer to the relay honouring it, through the real path: the app
/// standalone (queue polled at most every 2 s, as host.json), the agent polling every 5 s (production's default), the
/// private Postfix + Dovecot. Per change it prints when (a) a current generation first held it, (b) the agent had applied
/// that generation, (c) the relay first honoured it. Timings are printed, not asserted; what is asserted is that each
/// change is honoured, and that it took one publication.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class LoginLatencyTests(ITestOutputHelper output)
{
    private const string Outside = "someone@outside.example";
    private const string Ok = "235 2.7.0 Authentication successful";
    private static int NextAddress;

    [Fact]
    public async Task EveryLoginChangeIsHonouredOnceTheAgentAppliedItsOnePublication()
    {
        await using var app = new HelperApp(
            [new("Destinations:AllowedRanges:0", "127.0.0.0/8"), new("AzureFunctionsJobHost:extensions:queues:maxPollingInterval", "00:00:02")]);
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var agentLogs = new CapturingLogs();
        var (worker, applier) = TestAgent.Create(new AgentOptions
        {
            RelayId = "login-latency",
            Prefix = app.Prefix,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
            PollInterval = TimeSpan.FromSeconds(5),
        }, logs: agentLogs);
        await worker.StartAsync(default);
        try
        {
            var id = Guid.NewGuid().ToString("N")[..6];
            var domain = $"lat-{id}.example";
            string alice = $"alice@{domain}", bob = $"bob@{domain}", carol = $"carol@{domain}";
            await app.NewAccountAsync("latency");
            var api = app.ClientFor("latency");
            Assert.True((await api.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).IsSuccessStatusCode);
            await app.VerifyAsync("latency", domain);
            await CreateAsync(api, alice, "alice's secret");
            await CreateAsync(api, bob, "bob's secret");
            await Eventually.WaitAsync(() => SendsAsync(bob, "bob's secret"), r => r.StartsWith("250", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "bob to send");
            await Eventually.WaitAsync(() => SendsAsync(alice, "alice's secret"), r => r.StartsWith("250", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "alice to send");
            var map = new BlobContainerClient(Azurite.ConnectionString, $"{app.Prefix}-relay-map");
            var lines = new List<string>();

            lines.Add(await MeasureAsync("new login", map, applier,
                () => CreateAsync(api, carol, "carol's secret"),
                files => files["passwd"].Contains(carol + ":", StringComparison.Ordinal) && files["sender_logins"].Contains(carol, StringComparison.Ordinal),
                async () => (await SendsAsync(carol, "carol's secret")).StartsWith("250", StringComparison.Ordinal)));

            lines.Add(await MeasureAsync("disabled login", map, applier,
                async () =>
                {
                    var etag = (await api.GetAsync($"/api/outbound-accounts/{bob}")).Headers.ETag!.Tag;
                    var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/outbound-accounts/{bob}") { Content = JsonContent.Create(new { enabled = false }) };
                    patch.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
                    Assert.True((await api.SendAsync(patch)).IsSuccessStatusCode);
                },
                files => files["sasl_access"].Contains($"{bob} REJECT", StringComparison.Ordinal),
                async () => (await SendsAsync(bob, "bob's secret")).Contains("Account disabled", StringComparison.Ordinal)));

            string? oldLine = null;
            lines.Add(await MeasureAsync("password change", map, applier,
                async () =>
                {
                    oldLine = PasswdLine(File.ReadAllText(Path.Combine(Relay.MapDirectory, "passwd")), alice);
                    var etag = (await api.GetAsync($"/api/outbound-accounts/{alice}")).Headers.ETag!.Tag;
                    var put = new HttpRequestMessage(HttpMethod.Put, $"/api/outbound-accounts/{alice}/password") { Content = JsonContent.Create(new { password = "alice's new secret" }) };
                    put.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
                    Assert.True((await api.SendAsync(put)).IsSuccessStatusCode);
                },
                files => PasswdLine(files["passwd"], alice) is { } line && line != oldLine,
                async () => await AuthAsync(alice, "alice's new secret") == Ok));

            lines.Add(await MeasureAsync("deleted login", map, applier,
                async () => Assert.True((await api.DeleteAsync($"/api/outbound-accounts/{carol}")).IsSuccessStatusCode),
                files => !files["passwd"].Contains(carol + ":", StringComparison.Ordinal),
                async () => (await AuthAsync(carol, "carol's secret")).StartsWith("535", StringComparison.Ordinal)));

            output.WriteLine("From the API's answer (agent polling every 5 s, app queue polled at most every 2 s):");
            foreach (var line in lines)
            {
                output.WriteLine(line);
            }
            output.WriteLine("The agent's applies:\n" + string.Join('\n', agentLogs.Lines.Where(l => l.Contains("Applied", StringComparison.Ordinal))));
        }
        finally
        {
            await worker.StopAsync(default);
        }
    }

    /// <summary>
    /// Makes the change, then watches the pointer (a), the agent's applied generation (b) and the relay (c) at once. Asserts
    /// the change was in the first generation published after it, and that the relay honoured it.
    /// </summary>
    private async Task<string> MeasureAsync(
        string name, BlobContainerClient map, MapApplier applier, Func<Task> change, Func<IReadOnlyDictionary<string, string>, bool> published, Func<Task<bool>> honoured)
    {
        var before = await PointerAsync(map);
        await change();
        var watch = Stopwatch.StartNew();
        TimeSpan? current = null, applied = null, relay = null;
        long? generation = null;
        var generations = 0;
        var seen = before.Generation;
        var probes = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && (applied is null || relay is null))
            {
                if (generation is null)
                {
                    var pointer = await PointerAsync(map);
                    if (pointer.Generation != seen)
                    {
                        seen = pointer.Generation;
                        generations++;
                        if (published(await FilesAsync(map, pointer)))
                        {
                            (generation, current) = (pointer.Generation, watch.Elapsed);
                        }
                    }
                }
                else if (applied is null && applier.AppliedGeneration >= generation)
                {
                    applied = watch.Elapsed;
                }
                await Task.Delay(20);
            }
        });
        while (relay is null && !stop.IsCancellationRequested)
        {
            probes++;
            if (await honoured())
            {
                relay = watch.Elapsed;
            }
        }
        await sampler;
        Assert.True(relay is not null, $"{name}: the relay did not honour it within 60 s");
        Assert.True(generation is not null && applied is not null, $"{name}: published {current}, applied {applied}");
        Assert.Equal(1, generations);
        Assert.Equal(before.Generation + 1, generation);
        return $"  {name,-16} (a) published {current!.Value.TotalSeconds,5:F1} s   (b) applied {applied!.Value.TotalSeconds,5:F1} s   (c) honoured {relay!.Value.TotalSeconds,5:F1} s  ({probes} probes; generation {generation})";
    }

    private static async Task<MapPointer> PointerAsync(BlobContainerClient map) =>
        (await map.GetBlobClient(RelayMapBlobs.Pointer).DownloadContentAsync()).Value.Content.ToObjectFromJson<MapPointer>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    /// <summary>The outbound tables of the generation the pointer names (a delta that carries them, or a snapshot).</summary>
    private static async Task<IReadOnlyDictionary<string, string>> FilesAsync(BlobContainerClient map, MapPointer pointer)
    {
        var manifest = (await map.GetBlobClient(pointer.Manifest).DownloadContentAsync()).Value.Content
            .ToObjectFromJson<Manifest>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { ["passwd"] = "", ["sender_logins"] = "", ["sasl_access"] = "" };
        foreach (var file in manifest.Files.Where(f => files.ContainsKey(f.Name)))
        {
            files[file.Name] = (await map.GetBlobClient(file.Path).DownloadContentAsync()).Value.Content.ToString();
        }
        return files;
    }

    private static string? PasswdLine(string passwd, string login) =>
        passwd.Split('\n').FirstOrDefault(l => l.StartsWith(login + ":", StringComparison.Ordinal));

    private static async Task CreateAsync(HttpClient api, string address, string password)
    {
        var response = await api.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address, password });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Each try from a loopback address no other try used: Dovecot slows every AUTH from an address that failed recently.</summary>
    private static Task<Submission> FreshAsync()
    {
        var n = Interlocked.Increment(ref NextAddress);
        return Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, $"127.1.{n / 250 % 250}.{n % 250 + 1}");
    }

    private static async Task<string> AuthAsync(string login, string password)
    {
        await using var client = await FreshAsync();
        return await client.AuthenticateAsync(login, password);
    }

    /// <summary>AUTH, then a message from the login's own address: the reply to AUTH if refused, else the send's.</summary>
    private static async Task<string> SendsAsync(string login, string password)
    {
        await using var client = await FreshAsync();
        var auth = await client.AuthenticateAsync(login, password);
        return auth == Ok ? await client.SendAsync(login, Outside) : auth;
    }
}
