using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>With storage frozen (SIGSTOP), every request still answers in bounded time: 503 with Retry-After.</summary>
public sealed class StorageHangTests
{
    [Fact]
    public async Task RequestsAnswer503WithRetryAfterWhileStorageHangsAndWorkAgainAfter()
    {
        using var azurite = new PrivateAzurite();
        // Under the Functions host: no runners of the app's own, so only the requests wait on storage.
        await using var app = new AppFactory(
        [
            new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"),
            new("AzureWebJobsStorage", azurite.ConnectionString),
        ]);
        var client = await app.NewAccountAsync("frozen");
        var name = $"frozen-{Guid.NewGuid().ToString("N")[..8]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();
        (await client.GetAsync("/api/domains")).EnsureSuccessStatusCode();

        azurite.Freeze();
        try
        {
            var clock = Stopwatch.StartNew();
            var answers = await Task.WhenAll(
                client.GetAsync("/api/domains"),
                client.PostAsJsonAsync("/api/domains", new { name = "other-" + name, mode = "hold" }),
                client.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { messageSizeLimit = 2097152 }));
            clock.Stop();

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"answered after {clock.Elapsed}");
            foreach (var answer in answers)
            {
                var problem = await answer.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.Equal(503, problem.GetProperty("status").GetInt32());
                Assert.True(answer.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero, $"Retry-After: {answer.Headers.RetryAfter}");
            }
        }
        finally
        {
            azurite.Thaw();
        }

        // Storage is back: so is the API, with what it held before.
        var list = await Eventually.WaitAsync(() => client.GetAsync("/api/domains"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the API after the thaw");
        Assert.Contains(name, await list.Content.ReadAsStringAsync());
    }
}
