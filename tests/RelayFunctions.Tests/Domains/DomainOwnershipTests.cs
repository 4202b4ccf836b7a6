using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Domains;

/// <summary>
/// No account can receive, redirect or block another's mail through the API: a verified name holds everything at and
/// under it (look-alikes included), public suffixes are nobody's, pending names are never published, and of any number
/// of racing deletes exactly one happens.
/// </summary>
public sealed class DomainOwnershipTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public DomainOwnershipTests(AppFactory app) => _app = app;

    private static string Unique(string stem) => $"{stem}{Guid.NewGuid().ToString("N")[..8]}.example";

    [Fact]
    public async Task ANameUnderAnotherAccountsDomainIsRefusedNamingTheDomainButNotTheAccount()
    {
        var owner = await _app.NewAccountAsync("sub-owner");
        var thief = await _app.NewAccountAsync("sub-thief");
        var parent = Unique("acme");
        (await owner.PostAsJsonAsync("/api/domains", new { name = parent, mode = "hold", recipients = new[] { $"@lists.{parent}" } })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("sub-owner", parent);

        foreach (var name in new[] { $"lists.{parent}", $"deep.lists.{parent}", parent.ToUpperInvariant() })
        {
            var problem = await (await thief.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 25 }))
                .AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains(parent, problem.GetProperty("detail").GetString());
            Assert.DoesNotContain("sub-owner", problem.GetRawText());
        }
        // The owner may use its own subdomains.
        (await owner.PostAsJsonAsync("/api/domains", new { name = $"lists.{parent}", mode = "hold" })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task AParentOfAnotherAccountsVerifiedSubdomainIsRefused()
    {
        var child = await _app.NewAccountAsync("child-owner");
        var parentSeeker = await _app.NewAccountAsync("parent-seeker");
        var parent = Unique("family");
        (await child.PostAsJsonAsync("/api/domains", new { name = $"shop.{parent}", mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("child-owner", $"shop.{parent}");

        var problem = await (await parentSeeker.PostAsJsonAsync("/api/domains", new { name = parent, mode = "hold" })).AssertProblemAsync(HttpStatusCode.Conflict);
        // Says where the collision is, but names neither the other account nor its name.
        Assert.Contains("a name under it", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("shop.", problem.GetRawText());
        Assert.DoesNotContain("child-owner", problem.GetRawText());
    }

    [Fact]
    public async Task ALookAlikeOfAnotherAccountsDomainIsRefused()
    {
        var owner = await _app.NewAccountAsync("latin-owner");
        var mimic = await _app.NewAccountAsync("cyrillic-mimic");
        var stem = "paypal" + Guid.NewGuid().ToString("N")[..6].Replace('a', 'c');
        var name = $"{stem}.example";
        (await owner.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("latin-owner", name);

        // Cyrillic а (U+0430) for the first Latin a: another name, the same look.
        var lookAlike = "p\u0430" + name[2..];
        var problem = await (await mimic.PostAsJsonAsync("/api/domains", new { name = lookAlike, mode = "hold" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("looks the same", problem.GetProperty("detail").GetString());
        // A decomposed form is the same name, not a look-alike.
        var composed = Unique("b\u00FCcher");
        (await owner.PostAsJsonAsync("/api/domains", new { name = composed, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("latin-owner", composed);
        await (await mimic.PostAsJsonAsync("/api/domains", new { name = composed.Replace("\u00FC", "u\u0308", StringComparison.Ordinal), mode = "hold" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("co.uk")]
    [InlineData("in-addr.arpa")]
    [InlineData("github.io")]
    [InlineData("com")]
    public async Task APublicSuffixIsNobodysDomain(string name)
    {
        var client = await _app.NewAccountAsync("suffix-seeker");
        await (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).AssertFieldErrorsAsync("name");
    }

    [Fact]
    public async Task OnlyVerifiedDomainsArePublished()
    {
        var client = await _app.NewAccountAsync("publisher-check");
        var pending = Unique("pending");
        var verified = Unique("verified");
        (await client.PostAsJsonAsync("/api/domains", new { name = pending, mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 25 })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/domains", new { name = verified, mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 25 })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("publisher-check", verified);

        var (files, _) = await _app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        var all = string.Join('\n', files.Select(f => System.Text.Encoding.UTF8.GetString(f.Content)));
        Assert.Contains($"{verified} smtp:[192.0.32.10]:25", all);
        Assert.DoesNotContain(pending, all);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OfFiftyRacingDeletesExactlyOneDeletes(bool withIfMatch)
    {
        var client = await _app.NewAccountAsync("delete-race");
        var name = Unique("doomed");
        var created = await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" });
        created.EnsureSuccessStatusCode();
        var etag = created.Headers.ETag!.ToString();

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            client.SendAsync(HttpMethod.Delete, $"/api/domains/{name}", ifMatch: withIfMatch ? etag : null)));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.NoContent);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.NoContent),
            r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.PreconditionFailed }));
    }

    [Fact]
    public async Task OfFiftyRacingHelperDeletesExactlyOneDeletes()
    {
        var client = await _app.NewAccountAsync("helper-delete-race");
        var name = Unique("helped");
        (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync($"/api/domains/{name}/ip-helper", new { destinationHost = "home.dyn.example", destinationPort = 2525 })).EnsureSuccessStatusCode();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => client.DeleteAsync($"/api/domains/{name}/ip-helper")));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.NoContent);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.NoContent), r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
    }
}
