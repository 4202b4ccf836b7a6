using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Hosting;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;
using RelayShared;

namespace RelayFunctions.Tests.Outbound;

/// <summary>BCC recipients, mirrors and the action on submission errors, their limits by service level, the BCC removal a bounce causes, and usage.</summary>
public sealed class SubmissionSettingsTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public SubmissionSettingsTests(AppFactory app) => _app = app;

    private async Task<(HttpClient Client, string Domain)> VerifiedAsync(string account, string level)
    {
        var client = await _app.NewAccountAsync(account, level);
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync(account, domain);
        return (client, domain);
    }

    [Fact]
    public async Task PersonalLevelsHaveOneBccAndOneMirrorAndTheProblemNamesTheLevelNeeded()
    {
        var (client, domain) = await VerifiedAsync("copies-personal", "personal-plus");
        var problem = await (await client.PostAsJsonAsync("/api/outbound-accounts", new
        {
            type = "single-address",
            address = $"me@{domain}",
            password = "secret",
            bccRecipients = new[] { "archive@elsewhere.example", "audit@elsewhere.example" },
        })).AssertFieldErrorsAsync("bccRecipients");
        Assert.Contains("standard", problem.GetProperty("errors").GetProperty("bccRecipients")[0].GetString());

        var created = await (await client.PostAsJsonAsync("/api/outbound-accounts", new
        {
            type = "single-address",
            address = $"me@{domain}",
            password = "secret",
            bccRecipients = new[] { "archive@elsewhere.example" },
            mirrors = new[] { $"sent@{domain}" },
            submissionErrors = "always-5xx",
        })).ReadViewAsync<OutboundAccountView>();
        Assert.Equal(["archive@elsewhere.example"], created.BccRecipients);
        Assert.Equal([$"sent@{domain}"], created.Mirrors);
        Assert.Equal(SubmissionErrors.Always5xx, created.SubmissionErrors);
        var header = created.MirrorHeader;
        Assert.Equal("X-Relay-AuthMirror", header.Name);
        Assert.Matches("^[a-z2-7]{20}$", header.Value);

        // A mirror is a mailbox of the account's own.
        await (await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/me@{domain}", new { mirrors = new[] { "me@gmail.com" } }))
            .AssertFieldErrorsAsync("mirrors[0]");
        await (await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/me@{domain}", new { submissionErrors = "sometimes" }))
            .AssertFieldErrorsAsync("submissionErrors");
    }

    [Fact]
    public async Task ABouncingBccRecipientIsRemovedAndTheAccountSaysWhy()
    {
        var (client, domain) = await VerifiedAsync("copies-bounce", "standard");
        (await client.PostAsJsonAsync("/api/outbound-accounts", new
        {
            type = "any-address",
            domain,
            password = "secret",
            bccRecipients = new[] { "gone@elsewhere.example", "kept@elsewhere.example" },
        })).EnsureSuccessStatusCode();
        var published = await PublishedAsync($"@{domain}");
        var gone = published.GetProperty("bcc").EnumerateArray().Single(b => b.GetProperty("address").GetString() == "gone@elsewhere.example");

        var function = _app.Services.GetServices<IQueueFunction>().Single(f => f.Name == BccBouncesFunction.FunctionName);
        var bounce = new BccBounce(published.GetProperty("key").GetString()!, gone.GetProperty("id").GetString()!, "gone@elsewhere.example", "5.1.1", "user unknown");
        await function.RunAsync(new QueueMessage("1", bounce.ToJson(), 1, null), default);
        await function.RunAsync(new QueueMessage("2", bounce.ToJson(), 1, null), default);

        var account = await (await client.GetAsync($"/api/outbound-accounts/@{domain}")).ReadViewAsync<OutboundAccountView>();
        Assert.Equal(["kept@elsewhere.example"], account.BccRecipients);
        var removed = Assert.Single(account.RemovedBccRecipients);
        Assert.Equal("gone@elsewhere.example", removed.Address);
        Assert.Contains("5.1.1", removed.Reason);
        Assert.Equal(["kept@elsewhere.example"], (await PublishedAsync($"@{domain}")).GetProperty("bcc").EnumerateArray().Select(b => b.GetProperty("address").GetString()));
    }

    [Fact]
    public async Task TheRelaysGetWhatTheFilterNeedsOfEachLogin()
    {
        var (client, domain) = await VerifiedAsync("copies-data", "standard");
        (await _app.Operator().PutAsJsonAsync("/api/admin/accounts/copies-data", new { serviceLevel = "standard", primaryEmail = $"owner@{domain}", postmasterEmail = $"postmaster@{domain}" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, password = "secret", ipv4Filter = "198.51.100.0/24" })).EnsureSuccessStatusCode();
        var line = await PublishedAsync($"mailserver@{domain}");
        Assert.Equal($"postmaster@{domain}", line.GetProperty("postmaster").GetString());
        Assert.Equal([domain], line.GetProperty("domains").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(5000, line.GetProperty("dailyQuota").GetInt32());
        Assert.Equal("automatic", line.GetProperty("submissionErrors").GetString());
    }

    [Fact]
    public async Task UsageAddsUpEveryRelaysCountsPerLoginAndDay()
    {
        var (client, domain) = await VerifiedAsync("usage-read", "personal");
        var table = _app.Services.GetRequiredService<StorageClients>().Table(OutboundUsage.Table);
        var day = $"usage-read|{DateTime.UtcNow:yyyyMMdd}";
        await table.UpsertEntityAsync(new TableEntity(day, $"a@{domain}|relay-1") { ["Messages"] = 3L, ["Recipients"] = 4L, ["Bytes"] = 3000L, ["Copies"] = 2L, ["CopyBytes"] = 2000L });
        await table.UpsertEntityAsync(new TableEntity(day, $"a@{domain}|relay-2") { ["Messages"] = 1L, ["Recipients"] = 1L, ["Bytes"] = 500L });
        var answer = await client.GetAsync("/api/account/usage?days=2");
        var usage = await answer.ReadViewAsync<UsageView>();
        Assert.Equal(200, usage.DailyQuota);
        var today = usage.Days[1];
        Assert.Equal(4, today.Total.Messages);
        Assert.Equal(2, today.Total.Copies);
        // UsageCounts computes Counted itself when read: the answer's own "counted" is what the API says.
        Assert.Equal(6, (await answer.ReadJsonAsync()).GetProperty("days")[1].GetProperty("total").GetProperty("counted").GetInt64());
        Assert.Equal($"a@{domain}", today.Logins[0].Login);
        await (await client.GetAsync("/api/account/usage?days=abc")).AssertFieldErrorsAsync("days");
        await (await client.GetAsync("/api/account/usage?days=90")).AssertFieldErrorsAsync("days");
    }

    private async Task<JsonElement> PublishedAsync(string login)
    {
        var (files, _) = await _app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        var lines = System.Text.Encoding.UTF8.GetString(files.Single(f => f.Name == "outbound_accounts").Content).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("login").GetString() == login);
    }
}
