using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Hosting;

/// <summary>
/// <c>scripts/run-local.sh</c> as a newcomer meets it in the first hour, in one copy of the repository with an empty
/// HOME and its own Azurite (AZURITE_PORT) and app ports: a second start, a SPA's preflight, the sample data's token,
/// starting afresh, and what a start installs and repeats.
/// </summary>
public sealed class RunLocalTests(RunLocalTests.Copy copy, ITestOutputHelper output) : IClassFixture<RunLocalTests.Copy>
{
    [Fact]
    public async Task ASecondStartSaysInOneLineWhatIsInTheWayAndStopsNothingItDidNotStart()
    {
        await using var first = await LocalRun.StartAsync(copy.Directory, copy.Environment(), []);

        var (code, printed) = await LocalRun.RunToEndAsync(copy.Directory, copy.Environment(), [], TimeSpan.FromSeconds(30));
        output.WriteLine(printed);
        Assert.NotEqual(0, code);
        var line = Assert.Single(printed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{copy.AppPort} is already in use", line);
        Assert.True(await copy.IsHealthyAsync(), "the first run's app no longer answers");
        Assert.True(Listens(copy.AzuritePort), "the second start stopped the first run's Azurite");

        // On another app port a second run shares the first one's Azurite, and leaves it running when it stops.
        var otherPort = Azurite.FreePort();
        await using (var second = await LocalRun.StartAsync(copy.Directory, copy.Environment(new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{otherPort}" }), []))
        {
            Assert.Contains($"Azurite already listens on 127.0.0.1:{copy.AzuritePort}", second.Output);
            await second.InterruptAsync();
        }
        Assert.True(Listens(copy.AzuritePort), "the second run stopped the first run's Azurite");
        Assert.True(await copy.IsHealthyAsync());

        await first.InterruptAsync();
        Assert.False(Listens(copy.AzuritePort), "the first run left its own Azurite running");
    }

    [Fact]
    public async Task TheSpasOriginFromLocalSettingsOrTheEnvironmentPassesItsPreflight()
    {
        // local.settings.json as the README says to make it: a copy of the sample, whose origin is http://localhost:5173.
        var settings = Path.Combine(copy.Directory, "local.settings.json");
        File.Copy(Path.Combine(copy.Directory, "local.settings.sample.json"), settings, overwrite: true);
        try
        {
            await using (var run = await LocalRun.StartAsync(copy.Directory, copy.Environment(), []))
            {
                await AssertPreflight("http://localhost:5173", allowed: true);
                await AssertPreflight("http://localhost:3000", allowed: false);
                await run.InterruptAsync();
            }
            // An exported origin wins over the file's.
            await using (var run = await LocalRun.StartAsync(copy.Directory, copy.Environment(new() { ["Cors__AllowedOrigins__0"] = "http://localhost:3000" }), []))
            {
                await AssertPreflight("http://localhost:3000", allowed: true);
                await AssertPreflight("http://localhost:5173", allowed: false);
                await run.InterruptAsync();
            }
        }
        finally
        {
            File.Delete(settings);
        }
    }

    [Fact]
    public async Task WithSampleDataTheCustomersTokenCommandIsForTheDemoAccount()
    {
        await using var run = await LocalRun.StartAsync(copy.Directory, copy.Environment(), ["--sample"]);
        var command = run.TokenCommands[1];
        Assert.Contains("--claim account=demo", command);

        var token = (await Shell(command)).Trim();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{copy.AppPort}") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var account = await http.GetAsync("/api/account");
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        var domains = await http.GetStringAsync("/api/domains");
        Assert.Contains("demo.example", domains);
        await run.InterruptAsync();
    }

    [Fact]
    public async Task FreshDeletesTheLocalDataButNotWhileAnAzuriteUsesIt()
    {
        // The data folder of this run's Azurite port (AZURITE_PORT): .azurite/ of the default port stays out of it.
        var data = Path.Combine(copy.Directory, $".azurite-{copy.AzuritePort}");
        var other = Path.Combine(copy.Directory, ".azurite");
        Directory.CreateDirectory(other);
        await File.WriteAllTextAsync(Path.Combine(other, "default-port-data"), "");
        await using (var first = await LocalRun.StartAsync(copy.Directory, copy.Environment(), []))
        {
            await File.WriteAllTextAsync(Path.Combine(data, "earlier-run"), "");
            var (code, printed) = await LocalRun.RunToEndAsync(copy.Directory,
                copy.Environment(new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Azurite.FreePort()}" }), ["--fresh"], TimeSpan.FromSeconds(30));
            output.WriteLine(printed);
            Assert.NotEqual(0, code);
            Assert.Contains($"listens on 127.0.0.1:{copy.AzuritePort}", Assert.Single(printed.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
            Assert.True(File.Exists(Path.Combine(data, "earlier-run")), "--fresh deleted the data of a running Azurite");
            await first.InterruptAsync();
        }

        await using var fresh = await LocalRun.StartAsync(copy.Directory, copy.Environment(), ["--fresh"]);
        Assert.Contains("starting afresh", fresh.Output);
        Assert.False(File.Exists(Path.Combine(data, "earlier-run")), "the earlier data is still there");
        Assert.True(File.Exists(Path.Combine(other, "default-port-data")), "--fresh deleted the data of another port's Azurite");
        Assert.True(await copy.IsHealthyAsync());
        await fresh.InterruptAsync();
    }

    [Fact]
    public async Task RunningInstallsOnlyAzuriteAndALaterStartNeitherBuildsNorAsksForTheKeyAgain()
    {
        await using (var run = await LocalRun.StartAsync(copy.Directory, copy.Environment(), []))
        {
            await run.InterruptAsync();
        }
        var modules = Path.Combine(copy.Directory, "node_modules");
        Assert.True(File.Exists(Path.Combine(modules, ".bin", "azurite")));
        foreach (var tool in new[] { "@redocly/cli", "@hey-api/openapi-ts", "typescript" })
        {
            Assert.False(Directory.Exists(Path.Combine(modules, tool)), $"{tool} was installed just to run the app");
        }

        var watch = Stopwatch.StartNew();
        await using var again = await LocalRun.StartAsync(copy.Directory, copy.Environment(), []);
        output.WriteLine($"a later start answered after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("the app is up to date", again.Output);
        Assert.DoesNotContain("building the app", again.Output);
        Assert.DoesNotContain("npm ci", again.Output);
        Assert.DoesNotContain("signing key", again.Output);
        await again.InterruptAsync();
    }

    private async Task AssertPreflight(string origin, bool allowed)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Options, $"http://127.0.0.1:{copy.AppPort}/api/domains/acme.example");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "PATCH");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,if-match");
        var response = await http.SendAsync(request);
        if (allowed)
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Contains("PATCH", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Methods")));
            Assert.Contains("If-Match", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Headers")));
        }
        else
        {
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"{origin} was allowed");
        }
    }

    private async Task<string> Shell(string command)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { WorkingDirectory = copy.Directory, RedirectStandardOutput = true };
        foreach (var (key, value) in copy.Environment())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var printed = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return printed;
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The copy, its empty HOME and its ports, shared by the tests (the first run builds it and installs Azurite).</summary>
    public sealed class Copy : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "relay-runlocal-" + Guid.NewGuid().ToString("N")[..8]);

        public Copy()
        {
            Directory = Path.Combine(_root, "app");
            LocalCopy.Create(Directory);
            Home = System.IO.Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
            AzuritePort = ThreeFreePorts();
            AppPort = Azurite.FreePort();
        }

        public string Directory { get; }

        public string Home { get; }

        public int AzuritePort { get; }

        public int AppPort { get; }

        public Dictionary<string, string> Environment(Dictionary<string, string>? more = null)
        {
            var profile = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            var environment = new Dictionary<string, string>
            {
                ["HOME"] = Home,
                // What this machine already downloaded: a fresh HOME would otherwise download it all again.
                ["NUGET_PACKAGES"] = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(profile, ".nuget", "packages"),
                ["npm_config_cache"] = Path.Combine(profile, ".npm"),
                // The local Azurite of the script, not the tests' storage.
                ["AzureWebJobsStorage"] = "",
                ["AzureWebJobsStorage__blobServiceUri"] = "",
                ["AZURITE_PORT"] = AzuritePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{AppPort}",
            };
            foreach (var (key, value) in more ?? [])
            {
                environment[key] = value;
            }
            return environment;
        }

        public async Task<bool> IsHealthyAsync()
        {
            using var http = new HttpClient();
            return (await http.GetAsync($"http://127.0.0.1:{AppPort}/api/health")).IsSuccessStatusCode;
        }

        public void Dispose()
        {
            if (System.IO.Directory.Exists(_root))
            {
                System.IO.Directory.Delete(_root, recursive: true);
            }
        }

        private static int ThreeFreePorts()
        {
            while (true)
            {
                var port = Azurite.FreePort();
                if (port < 65000 && !Listens(port + 1) && !Listens(port + 2))
                {
                    return port;
                }
            }
        }
    }
}
