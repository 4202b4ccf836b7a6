using System.Diagnostics;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>
/// A wrong setting stops the app at start, before it serves anything, with one line naming the setting as it is
/// written in the environment, and without a stack trace.
/// </summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("Helpers__BucketSize", "00:00:07", "Helpers__BucketSize: must be at least one second and divide a day evenly")]
    [InlineData("Helpers__Schedule", "every minute", "Helpers__Schedule: 'every minute' is not a six-field NCRONTAB expression")]
    [InlineData("Hosting__LockLease", "00:05:00", "Hosting__LockLease: Blob storage leases last 15 to 60 seconds")]
    [InlineData("Dns__Servers__0", "ns1.example", "Dns__Servers__0: 'ns1.example' is not address:port")]
    [InlineData("Storage__Prefix", "Bad-Prefix", "Storage__Prefix: 'Bad-Prefix' must be lowercase letters and digits")]
    [InlineData("AzureWebJobsStorage", "not a connection string", "AzureWebJobsStorage: is not a storage connection string")]
    [InlineData("Alerts__Transport", "smtp", "Alerts__Smtp__Host: must be set when Alerts__Transport is smtp")]
    [InlineData("Helpers__MinimumInterval", "soon", "Helpers:MinimumInterval")]
    public async Task AWrongSettingStopsTheAppNamingItWithoutAStackTrace(string setting, string value, string message)
    {
        var (code, output) = await RunAppAsync((setting, value));
        Assert.Equal(2, code);
        Assert.Contains("some settings are not valid", output);
        Assert.Contains(message, output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public async Task EveryProblemIsListedAtOnce()
    {
        var (code, output) = await RunAppAsync(("Helpers__EnqueueConcurrency", "0"), ("RelayMap__SnapshotAfter", "0"), ("Destinations__AllowedRanges__0", "10.0.0.0/40"));
        Assert.Equal(2, code);
        Assert.Contains("Helpers__EnqueueConcurrency", output);
        Assert.Contains("RelayMap__SnapshotAfter", output);
        Assert.Contains("Destinations__AllowedRanges__0", output);
    }

    /// <summary>The built app, as run-local.sh runs it, with a storage that is never reached.</summary>
    private static async Task<(int Code, string Output)> RunAppAsync(params (string Name, string Value)[] settings)
    {
        var functions = Path.Combine(RepoRoot.Path, "functions");
        var dll = Path.Combine(AppContext.BaseDirectory, "RelayFunctions.dll");
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = functions, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Azurite.FreePort()}";
        start.Environment["AzureWebJobsStorage"] = "UseDevelopmentStorage=true";
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the app did not stop on a wrong setting:\n" + await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
