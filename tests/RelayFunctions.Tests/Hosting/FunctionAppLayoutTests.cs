using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Hosting.Timers;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>
/// `dotnet publish` must yield a deployable function-app folder, and the published executable must speak the
/// custom-handler protocol on the port the Functions host gives it, on loopback.
/// </summary>
public sealed class FunctionAppLayoutTests : IClassFixture<FunctionAppLayoutTests.Published>
{
    public sealed class Published : IDisposable
    {
        public Published()
        {
            Folder = Path.Combine(Path.GetTempPath(), "relay-publish-" + Guid.NewGuid().ToString("N")[..8]);
            var project = Path.Combine(RepoRoot.Path, "functions", "RelayFunctions.csproj");
            var (code, output) = Run("dotnet", ["publish", project, "-c", "Release", "-o", Folder, "--nologo"], RepoRoot.Path, TimeSpan.FromMinutes(5));
            Assert.True(code == 0, "dotnet publish failed:\n" + output);
        }

        public string Folder { get; }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    private readonly Published _published;

    public FunctionAppLayoutTests(Published published) => _published = published;

    [Fact]
    public void ThePublishFolderIsAFunctionApp()
    {
        var folder = _published.Folder;
        var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "host.json"))).RootElement;
        Assert.Equal("2.0", host.GetProperty("version").GetString());
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", host.GetProperty("extensionBundle").GetProperty("id").GetString());
        var handler = host.GetProperty("customHandler");
        Assert.True(handler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        var description = handler.GetProperty("description");
        Assert.Equal("dotnet", description.GetProperty("defaultExecutablePath").GetString());
        var entry = description.GetProperty("arguments")[0].GetString()!;
        Assert.True(File.Exists(Path.Combine(folder, entry)), $"{entry} is not in the publish folder");

        var functions = Directory.GetDirectories(folder).Where(d => File.Exists(Path.Combine(d, "function.json"))).Select(Path.GetFileName).ToList();
        Assert.Contains("Api", functions);
        var api = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "Api", "function.json"))).RootElement.GetProperty("bindings");
        // Forwarding applies only to exactly one httpTrigger in and one http out.
        Assert.Equal(2, api.GetArrayLength());
        var trigger = api.EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger");
        Assert.Equal("{*path}", trigger.GetProperty("route").GetString());
        Assert.Equal("anonymous", trigger.GetProperty("authLevel").GetString());
        Assert.Single(api.EnumerateArray(), b => b.GetProperty("type").GetString() == "http" && b.GetProperty("direction").GetString() == "out");
    }

    [Fact]
    public void ThePublishFolderHoldsOnlyWhatAFunctionAppNeeds()
    {
        var folder = _published.Folder;
        var entries = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var expected = new[] { "Api", "CheckHelpers", "PublishRelayMap", "RelayMapChanged", "ScheduleChecks", "RelayFunctions", "RelayFunctions.deps.json", "RelayFunctions.dll", "RelayFunctions.pdb", "RelayFunctions.runtimeconfig.json", "appsettings.json", "host.json" };
        foreach (var entry in expected)
        {
            Assert.Contains(entry, entries);
        }
        // Besides those, only the libraries the app uses: no web.config, no development settings, no second copy of
        // the function definitions, no runtimes/ folder of Windows-only assets, no documentation or static-asset manifests.
        var others = entries.Except(expected).Where(e => !Directory.Exists(Path.Combine(folder, e!))).ToList();
        Assert.All(others, e => Assert.EndsWith(".dll", e));
        Assert.All(Directory.GetDirectories(folder), d => Assert.True(File.Exists(Path.Combine(d, "function.json")), $"{Path.GetFileName(d)} is not a function folder"));
        // Built for Linux, framework-dependent: the host starts it with `dotnet RelayFunctions.dll`.
        var runtime = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "RelayFunctions.runtimeconfig.json"))).RootElement.GetProperty("runtimeOptions");
        Assert.Contains(runtime.GetProperty("frameworks").EnumerateArray(), f => f.GetProperty("name").GetString() == "Microsoft.AspNetCore.App");
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], File.ReadAllBytes(Path.Combine(folder, "RelayFunctions"))[..4]);
    }

    [Fact]
    public async Task UnderAPrefixThePublishedQueueNamesAndSchedulesAreTheOnesTheAppUses()
    {
        // As Azure runs it: under the host, with a storage prefix, and no schedule setting anywhere.
        await using var app = new AppFactory([new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999")]) { HostQueueNames = true };
        Assert.NotEmpty(app.Prefix);
        var catalog = app.Services.GetRequiredService<FunctionCatalog>();
        var storage = app.Services.GetRequiredService<StorageClients>();
        var published = Directory.GetDirectories(_published.Folder).Where(d => File.Exists(Path.Combine(d, "function.json"))).Select(Path.GetFileName).ToHashSet();
        Assert.Equal(published.Order().ToList(), catalog.Timers.Select(t => t.Name).Concat(catalog.Queues.Select(q => q.Name)).Append("Api").Order().ToList<string?>());

        Assert.NotEmpty(catalog.Timers);
        foreach (var timer in catalog.Timers)
        {
            var binding = Binding(timer.Name);
            Assert.Equal("timerTrigger", binding.GetProperty("type").GetString());
            Assert.Equal(BindingNames.Timer, binding.GetProperty("name").GetString());
            // A literal: the host needs no setting to resolve it (a %setting% with no value leaves the timer unindexed).
            var schedule = binding.GetProperty("schedule").GetString()!;
            Assert.DoesNotContain("%", schedule);
            Assert.True(TimerSchedule.TryParse(schedule, out _), $"{timer.Name}: '{schedule}' is not NCRONTAB");
            Assert.Equal(schedule, timer.Schedule);
        }

        Assert.NotEmpty(catalog.Queues);
        var writer = app.Services.GetRequiredService<QueueWriter>();
        var raw = new QueueServiceClient(Azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        foreach (var queue in catalog.Queues)
        {
            var binding = Binding(queue.Name);
            Assert.Equal("queueTrigger", binding.GetProperty("type").GetString());
            Assert.Equal(BindingNames.QueueMessage, binding.GetProperty("name").GetString());
            Assert.Equal("AzureWebJobsStorage", binding.GetProperty("connection").GetString());
            var queueName = binding.GetProperty("queueName").GetString()!;
            Assert.DoesNotContain("%", queueName);
            Assert.Equal(queueName, storage.QueueName(queue.QueueName));

            // What the app sends lands in the queue the host listens on (base64, as the host reads it).
            var body = $$"""{"probe":"{{Guid.NewGuid():N}}"}""";
            await writer.SendAsync(queue.QueueName, body);
            Assert.True(await ReceiveAsync(raw.GetQueueClient(queueName), body), $"{queue.Name}: the app's message is not in '{queueName}'");
        }

        JsonElement Binding(string function) =>
            JsonDocument.Parse(File.ReadAllText(Path.Combine(_published.Folder, function, "function.json"))).RootElement.GetProperty("bindings").EnumerateArray().Single();
    }

    [Fact]
    public async Task UnderTheHostAScheduleSettingThatDiffersFromFunctionJsonIsReportedAtStart()
    {
        var logs = new RelayFunctions.Tests.RelayMap.CapturingLogs();
        await using var app = new AppFactory(
            [new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), new("Helpers:Schedule", "*/10 * * * * *")],
            services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(new CapturedProvider(logs)));
        _ = app.Services;
        Assert.Equal("0 * * * * *", TimerScheduleCheck.HostSchedule("ScheduleChecks"));
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning: ScheduleChecks runs on '0 * * * * *' under the Functions host", StringComparison.Ordinal) && l.Contains("'*/10 * * * * *'", StringComparison.Ordinal));
        // The other timer, on its default, says nothing.
        Assert.DoesNotContain(logs.Lines, l => l.Contains("PublishRelayMap runs on", StringComparison.Ordinal));
    }

    private sealed class CapturedProvider(RelayFunctions.Tests.RelayMap.CapturingLogs logs) : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => logs;

        public void Dispose()
        {
        }
    }

    /// <summary>Finds (and deletes) one message among any others in a queue other tests also use.</summary>
    private static async Task<bool> ReceiveAsync(QueueClient queue, string body)
    {
        for (var i = 0; i < 50; i++)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(5))).Value;
            if (batch.FirstOrDefault(m => m.Body.ToString() == body) is { } found)
            {
                await queue.DeleteMessageAsync(found.MessageId, found.PopReceipt);
                return true;
            }
            if (batch.Length == 0)
            {
                return false;
            }
        }
        return false;
    }

    [Fact]
    public async Task ThePublishedAppServesTheHostOnLoopbackAtTheGivenPort()
    {
        var port = Azurite.FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(_published.Folder, "RelayFunctions.dll")])
        {
            WorkingDirectory = _published.Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString();
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "Custom";
        start.Environment["AzureWebJobsStorage"] = Azurite.ConnectionString;
        start.Environment["ASPNETCORE_URLS"] = "http://0.0.0.0:5999";
        var prefix = Azurite.NewPrefix();
        start.Environment["Storage__Prefix"] = prefix;
        using var process = Process.Start(start)!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var ready = false;
            for (var i = 0; i < 150 && !ready; i++)
            {
                try
                {
                    ready = (await http.GetAsync("/")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }
            Assert.True(ready, "the handler did not answer the readiness probe");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/health")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/domains")).StatusCode);

            // Only loopback, and only the host's port: ASPNETCORE_URLS is ignored under the host.
            var listening = await File.ReadAllTextAsync("/proc/net/tcp");
            Assert.Contains($"0100007F:{port:X4}", listening);
            Assert.DoesNotContain($":{5999:X4}", listening);

            // The host invokes each function by its folder's name: every timer of the published layout runs, and a
            // relay-map message publishes a generation under the prefix.
            static StringContent Invocation(string data) => new($$$"""{"Data":{{{data}}},"Metadata":{"DequeueCount":"1"}}""", System.Text.Encoding.UTF8, "application/json");
            foreach (var folder in Directory.GetDirectories(_published.Folder).Where(d => File.ReadAllText(Path.Combine(d, "function.json")).Contains("timerTrigger")))
            {
                var response = await http.PostAsync("/" + Path.GetFileName(folder), Invocation("""{"timer":{"ScheduleStatus":null,"IsPastDue":false}}"""));
                Assert.True(response.IsSuccessStatusCode, $"{Path.GetFileName(folder)}: {await response.Content.ReadAsStringAsync()}");
            }
            var changed = await http.PostAsync("/RelayMapChanged", Invocation("""{"message":"{\"requestedAt\":\"2026-01-01T00:00:00Z\"}"}"""));
            Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
            var map = new Azure.Storage.Blobs.BlobServiceClient(Azurite.ConnectionString).GetBlobContainerClient($"{prefix}-relay-map");
            Assert.True((await map.GetBlobClient("current.json").ExistsAsync()).Value, "no generation was published under the prefix");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    internal static (int Code, string Output) Run(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
