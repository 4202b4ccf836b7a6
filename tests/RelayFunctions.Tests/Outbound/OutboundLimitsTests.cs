using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>Lists too long for any service level are refused before any entry costs a storage read; bad logins name their field.</summary>
public sealed class OutboundLimitsTests(OutboundLimitsTests.CountingApp app) : IClassFixture<OutboundLimitsTests.CountingApp>
{
    /// <summary>The app with every storage request counted, and no runner of its own (as under the Functions host) to add to the count.</summary>
    public sealed class CountingApp() : AppFactory([new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999")], s => s.AddSingleton<StorageRequestCounter>())
    {
        public StorageRequestCounter Counter => Services.GetRequiredService<StorageRequestCounter>();
    }

    private async Task<(HttpClient Client, string Domain)> VerifiedAsync(string account)
    {
        var client = await app.NewAccountAsync(account, "enterprise");
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync(account, domain);
        return (client, domain);
    }

    [Theory]
    [InlineData("mirrors")]
    [InlineData("bccRecipients")]
    public async Task TwentyThousandEntriesAreRefusedBeforeAnyEntryIsLookedUp(string field)
    {
        var (client, domain) = await VerifiedAsync("out-long-" + field.ToLowerInvariant());
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"long@{domain}", password = "secret" })).EnsureSuccessStatusCode();
        // Each in a domain of its own: a lookup per entry would be 20,000 storage reads.
        var entries = Enumerable.Range(0, 20_000).Select(i => $"m@d{i}.example").ToArray();

        app.Counter.Reset();
        var clock = Stopwatch.StartNew();
        var patched = await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/long@{domain}", new Dictionary<string, object> { [field] = entries });
        var tables = app.Counter.Tables;
        await patched.AssertFieldErrorsAsync(field);
        Assert.True(tables <= 5, $"{tables} table requests for one refused PATCH");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered in {clock.Elapsed}");

        var created = await client.PostAsJsonAsync("/api/outbound-accounts", new Dictionary<string, object>
        {
            ["type"] = "single-address",
            ["address"] = $"long2@{domain}",
            ["password"] = "secret",
            [field] = entries,
        });
        await created.AssertFieldErrorsAsync(field);
    }

    [Fact]
    public async Task MirrorsInOneDomainCostOneLookup()
    {
        var (client, domain) = await VerifiedAsync("out-mirror-reads");
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"few@{domain}", password = "secret" })).EnsureSuccessStatusCode();
        var mirrors = Enumerable.Range(0, 25).Select(i => $"m{i}@unverified-{domain}").ToArray();

        app.Counter.Reset();
        var patched = await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/few@{domain}", new { mirrors });
        var tables = app.Counter.Tables;
        await patched.AssertFieldErrorsAsync([.. Enumerable.Range(0, 25).Select(i => $"mirrors[{i}]")]);
        Assert.True(tables <= 5, $"{tables} table requests for 25 mirrors in one domain");
    }

    [Theory]
    [InlineData("a?b")]
    [InlineData("a#b")]
    [InlineData("a/b")]
    public async Task AMailServerNameThatCannotBeALoginNamesTheNameField(string name)
    {
        var (client, domain) = await VerifiedAsync("out-server-name");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, name, password = "secret", ipv4Filter = "198.51.100.7" }))
            .AssertFieldErrorsAsync("name");
    }

    [Theory]
    [InlineData("010.2.3.4")]
    [InlineData("1.2.3")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("010.2.3.0/24")]
    public async Task AFilterInAFormThatMeansAnotherAddressIsRefused(string filter)
    {
        var (client, domain) = await VerifiedAsync("out-lenient-filter");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, name = "mx", password = "secret", ipv4Filter = filter }))
            .AssertFieldErrorsAsync("ipv4Filter");
    }
}
