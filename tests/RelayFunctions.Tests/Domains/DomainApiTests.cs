using System.Net;
using System.Net.Http.Json;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Domains;

public sealed class DomainApiTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public DomainApiTests(AppFactory app) => _app = app;

    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..8]}.example";

    [Fact]
    public async Task ADomainIsCreatedListedReadUpdatedAndDeleted()
    {
        var acme = await _app.NewAccountAsync("lifecycle");
        var name = Unique("mail");

        var created = await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "mx.customer.example", destinationPort = 2525 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/domains/{name}", created.Headers.Location?.OriginalString);
        Assert.NotNull(created.Headers.ETag);
        var body = await created.ReadViewAsync<DomainView>();
        Assert.Equal(name, body.Name);
        Assert.Equal(DomainMode.Redirect, body.Mode);
        Assert.Equal("mx.customer.example", body.DestinationHost);
        Assert.Equal(2525, body.DestinationPort);
        Assert.Equal(10485760, body.MessageSizeLimit);

        var list = await (await acme.GetAsync("/api/domains")).ReadViewAsync<DomainList>();
        Assert.Contains(list.Domains, d => d.Name == name);

        var read = await acme.GetAsync($"/api/domains/{name}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var etag = read.Headers.ETag!.ToString();

        var patched = await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}",
            new { mode = "hold", recipients = new[] { "Alice@" + name, "@" + name }, messageSizeLimit = 20971520 }, ifMatch: etag);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await patched.ReadViewAsync<DomainView>();
        Assert.Equal(DomainMode.Hold, after.Mode);
        Assert.Equal("mx.customer.example", after.DestinationHost);
        Assert.Equal(new[] { "@" + name, "alice@" + name }, after.Recipients);
        Assert.Equal(20971520, after.MessageSizeLimit);
        Assert.NotEqual(etag, patched.Headers.ETag!.ToString());

        var deleted = await acme.SendAsync(HttpMethod.Delete, $"/api/domains/{name}", ifMatch: patched.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await acme.GetAsync($"/api/domains/{name}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AStaleIfMatchIsRefusedWith412AndChangesNothing()
    {
        var acme = await _app.NewAccountAsync("stale");
        var name = Unique("stale");
        var created = await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold" });
        var first = created.Headers.ETag!.ToString();
        var second = await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { messageSizeLimit = 2097152 }, ifMatch: first);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { mode = "backup-mx" }, ifMatch: first))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await acme.SendAsync(HttpMethod.Delete, $"/api/domains/{name}", ifMatch: first))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { mode = "backup-mx" }, ifMatch: "\"not-a-tag-we-issued\""))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        var now = await (await acme.GetAsync($"/api/domains/{name}")).ReadViewAsync<DomainView>();
        Assert.Equal(DomainMode.Hold, now.Mode);
        Assert.Equal(2097152, now.MessageSizeLimit);
    }

    [Fact]
    public async Task ConcurrentPatchesWithoutIfMatchAreAllApplied()
    {
        var acme = await _app.NewAccountAsync("racers");
        var name = Unique("race");
        await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold" });

        // Each writer adds one recipient by reading the list and writing it back with If-Match, retrying on 412:
        // the storage ETags must make every one of them count.
        var writers = Enumerable.Range(0, 8).Select(async i =>
        {
            while (true)
            {
                var read = await acme.GetAsync($"/api/domains/{name}");
                var current = (await read.ReadViewAsync<DomainView>()).Recipients.ToList();
                current.Add($"user{i}@{name}");
                var write = await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { recipients = current }, ifMatch: read.Headers.ETag!.ToString());
                if (write.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                Assert.Equal(HttpStatusCode.PreconditionFailed, write.StatusCode);
            }
        });
        await Task.WhenAll(writers);

        // Without If-Match, concurrent patches of different fields both land.
        var both = await Task.WhenAll(
            acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { messageSizeLimit = 3145728 }),
            acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 25 }));
        foreach (var response in both)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        var final = await (await acme.GetAsync($"/api/domains/{name}")).ReadViewAsync<DomainView>();
        Assert.Equal(8, final.Recipients.Count);
        Assert.Equal(3145728, final.MessageSizeLimit);
        Assert.Equal(DomainMode.Redirect, final.Mode);
    }

    [Fact]
    public async Task InternationalNamesAreStoredAsPunycodeAndCompareCaseInsensitively()
    {
        var acme = await _app.NewAccountAsync("idn");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var created = await acme.PostAsJsonAsync("/api/domains", new { name = $"Bücher-{suffix}.Example.", mode = "hold" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadViewAsync<DomainView>();
        var ascii = body.Name;
        Assert.StartsWith("xn--", ascii);
        Assert.EndsWith(".example", ascii);
        Assert.Equal($"bücher-{suffix}.example", body.DisplayName);

        Assert.Equal(HttpStatusCode.OK, (await acme.GetAsync($"/api/domains/{Uri.EscapeDataString($"BÜCHER-{suffix}.example")}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await acme.GetAsync($"/api/domains/{ascii.ToUpperInvariant()}")).StatusCode);
        await (await acme.PostAsJsonAsync("/api/domains", new { name = ascii.ToUpperInvariant(), mode = "hold" })).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task AVerifiedDomainBelongsToOneAccountOnly()
    {
        var first = await _app.NewAccountAsync("first-owner");
        var second = await _app.NewAccountAsync("second-owner");
        var name = Unique("taken");
        Assert.Equal(HttpStatusCode.Created, (await first.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        await _app.VerifyAsync("first-owner", name);

        var problem = await (await second.PostAsJsonAsync("/api/domains", new { name = name.ToUpperInvariant(), mode = "hold" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("another account", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("first-owner", problem.GetRawText());

        // Once the owner deletes it, the name is free again.
        Assert.Equal(HttpStatusCode.NoContent, (await first.DeleteAsync($"/api/domains/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await second.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        await _app.VerifyAsync("second-owner", name);
    }

    [Fact]
    public async Task APendingDomainBlocksNobodyAndTheFirstToProveControlWins()
    {
        var squatter = await _app.NewAccountAsync("squatter");
        var owner = await _app.NewAccountAsync("real-owner");
        var name = Unique("popular");
        Assert.Equal(HttpStatusCode.Created, (await squatter.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        await _app.VerifyAsync("real-owner", name);

        var refused = await _app.Operator().PostAsync($"/api/admin/accounts/squatter/domains/{name}/verify", null);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        var squatted = await (await squatter.GetAsync($"/api/domains/{name}")).ReadViewAsync<DomainView>();
        Assert.Equal(VerificationState.Pending, squatted.Verification.State);
    }

    [Fact]
    public async Task ConcurrentVerificationsOfOneNameByTwoAccountsLeaveExactlyOneOwner()
    {
        var a = await _app.NewAccountAsync("race-a");
        var b = await _app.NewAccountAsync("race-b");
        var name = Unique("contested");
        Assert.Equal(HttpStatusCode.Created, (await a.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await b.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).StatusCode);
        var results = await Task.WhenAll(
            _app.Operator().PostAsync($"/api/admin/accounts/race-a/domains/{name}/verify", null),
            _app.Operator().PostAsync($"/api/admin/accounts/race-b/domains/{name}/verify", null));
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.Conflict);
        var verified = 0;
        foreach (var client in new[] { a, b })
        {
            var domain = await (await client.GetAsync($"/api/domains/{name}")).ReadViewAsync<DomainView>();
            verified += domain.Verification.State == VerificationState.Verified ? 1 : 0;
        }
        Assert.Equal(1, verified);
    }

    [Fact]
    public async Task InvalidBodiesGetProblemDetailsNamingEachField()
    {
        var acme = await _app.NewAccountAsync("validation");
        var name = Unique("valid");

        await (await acme.PostAsJsonAsync("/api/domains", new { name = "not a domain", mode = "teleport" }))
            .AssertFieldErrorsAsync("name", "mode");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "localhost", mode = "hold" }))
            .AssertFieldErrorsAsync("name");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "192.0.2.1", mode = "hold" }))
            .AssertFieldErrorsAsync("name");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect" }))
            .AssertFieldErrorsAsync("destinationHost", "destinationPort");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "mx.example.net", destinationPort = 70000 }))
            .AssertFieldErrorsAsync("destinationPort");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "10.1.2.3", destinationPort = 25 }))
            .AssertFieldErrorsAsync("destinationHost");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "::1", destinationPort = 25 }))
            .AssertFieldErrorsAsync("destinationHost");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "backup-mx", destinationHost = "mx.example.net", destinationPort = 25 }))
            .AssertFieldErrorsAsync("destinationHost");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", recipients = new[] { "bob@elsewhere.example", "@" + name, "not an address" } }))
            .AssertFieldErrorsAsync("recipients[0]", "recipients[2]");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", messageSizeLimit = 10 }))
            .AssertFieldErrorsAsync("messageSizeLimit");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", destinationPort = "25" }))
            .AssertFieldErrorsAsync("destinationPort");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", colour = "blue" }))
            .AssertFieldErrorsAsync("colour");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", "{\"name\": "))
            .AssertFieldErrorsAsync("body");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", "[1,2]"))
            .AssertFieldErrorsAsync("body");
        // Malformed in every way a parser can be surprised: duplicate keys, escapes of lone surrogates, bytes that are not UTF-8.
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", $"{{\"name\":\"{name}\",\"name\":\"b.example\",\"mode\":\"hold\"}}"))
            .AssertFieldErrorsAsync("body");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", "{\"\\ud800\":1}"))
            .AssertFieldErrorsAsync("body");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", $"{{\"name\":\"{name}\\udc00\",\"mode\":\"hold\"}}"))
            .AssertFieldErrorsAsync("body");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", (byte[])[.. "{\"name\":\""u8, 0xff, 0xfe, .. "\",\"mode\":\"hold\"}"u8]))
            .AssertFieldErrorsAsync("body");
        await (await acme.SendAsync(HttpMethod.Post, "/api/domains", new string('[', 5000) + new string(']', 5000)))
            .AssertFieldErrorsAsync("body");
        // Names by the IDNA rules, and never a public suffix.
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "xn--z.example", mode = "hold" })).AssertFieldErrorsAsync("name");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "a\u200Db.example", mode = "hold" })).AssertFieldErrorsAsync("name");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "co.uk", mode = "hold" })).AssertFieldErrorsAsync("name");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = "in-addr.arpa", mode = "hold" })).AssertFieldErrorsAsync("name");
        // An IPv6 zone id names a link of the relay, and Postfix reads '#' as the start of a comment.
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "2001:db8::1%1", destinationPort = 25 }))
            .AssertFieldErrorsAsync("destinationHost");
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", recipients = new[] { "#comment@" + name } }))
            .AssertFieldErrorsAsync("recipients[0]");
        // What Azure would refuse to store is refused here, sized as stored (UTF-16): 5,000 long recipients do not fit in one entity.
        var huge = Enumerable.Range(0, 5000).Select(i => $"&{i}@{new string('a', 60)}.{new string('b', 60)}.{name}").ToArray();
        await (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold", recipients = huge })).AssertFieldErrorsAsync("recipients");

        // None of those created anything.
        await (await acme.GetAsync($"/api/domains/{name}")).AssertProblemAsync(HttpStatusCode.NotFound);

        await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold" });
        await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { name = "other.example" }))
            .AssertFieldErrorsAsync("name");
        await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { mode = "redirect" }))
            .AssertFieldErrorsAsync("destinationHost", "destinationPort");
        var unchanged = await (await acme.GetAsync($"/api/domains/{name}")).ReadViewAsync<DomainView>();
        Assert.Equal(DomainMode.Hold, unchanged.Mode);
    }

    [Fact]
    public async Task APatchMaySendTheDomainsOwnNameAndEveryBadEntryIsNamed()
    {
        var acme = await _app.NewAccountAsync("patch-name");
        var name = Unique("bücher");
        (await acme.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();
        var ascii = (await (await acme.GetAsync($"/api/domains/{name}")).ReadJsonAsync()).GetProperty("name").GetString()!;

        // The name as it is, in any case or form, is no rename.
        foreach (var same in new[] { name, name.ToUpperInvariant(), ascii })
        {
            (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { name = same, messageSizeLimit = 2_000_000 })).EnsureSuccessStatusCode();
        }
        var problem = await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", "{\"name\":5}")).AssertFieldErrorsAsync("name");
        Assert.Equal(["Must be a string.", "A domain cannot be renamed; create the new name and delete the old one."],
            problem.GetProperty("errors").GetProperty("name").EnumerateArray().Select(e => e.GetString()));

        // Every entry that is not a string, and every string that is not a recipient.
        await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", $"{{\"recipients\":[1,\"bad\",null,\"a@{ascii}\",true]}}"))
            .AssertFieldErrorsAsync("recipients[0]", "recipients[2]", "recipients[4]");
        // A list too long is refused whole, whatever its entries.
        var tooLong = "{\"recipients\":[" + string.Join(",", Enumerable.Repeat("1", 5001)) + "]}";
        problem = await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", tooLong)).AssertFieldErrorsAsync("recipients");
        Assert.Equal("At most 5000 entries (this list has 5001).", problem.GetProperty("errors").GetProperty("recipients")[0].GetString());
        // A port beyond an int is out of the port range, not a number of another kind.
        problem = await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", "{\"mode\":\"redirect\",\"destinationHost\":\"mx.example.net\",\"destinationPort\":3000000000}"))
            .AssertFieldErrorsAsync("destinationPort");
        Assert.Equal("Must be a port from 1 to 65535.", problem.GetProperty("errors").GetProperty("destinationPort")[0].GetString());
    }

    [Fact]
    public async Task RedirectAcceptsPublicIpv6AndIpLiteralsInBrackets()
    {
        var acme = await _app.NewAccountAsync("literals");
        var v6 = await acme.PostAsJsonAsync("/api/domains", new { name = Unique("v6"), mode = "redirect", destinationHost = "[ipv6:2606:4700::6810:85e5]", destinationPort = 25 });
        Assert.True(v6.StatusCode == HttpStatusCode.Created, await v6.Content.ReadAsStringAsync());
        Assert.Equal("2606:4700::6810:85e5", (await v6.ReadViewAsync<DomainView>()).DestinationHost);
        var v4 = await acme.PostAsJsonAsync("/api/domains", new { name = Unique("v4"), mode = "redirect", destinationHost = "[192.0.32.10]", destinationPort = 2525 });
        Assert.Equal("192.0.32.10", (await v4.ReadViewAsync<DomainView>()).DestinationHost);
    }

    [Theory]
    [InlineData("010.2.3.4")]
    [InlineData("1.2.3")]
    [InlineData("08.8.8.8")]
    [InlineData("134744072")]
    [InlineData("[0x7f.0.0.1]")]
    public async Task ADestinationIpInAFormThatMeansAnotherAddressIsRefused(string host)
    {
        var acme = await _app.NewAccountAsync("lenient-ip");
        await (await acme.PostAsJsonAsync("/api/domains", new { name = Unique("lenient"), mode = "redirect", destinationHost = host, destinationPort = 25 }))
            .AssertFieldErrorsAsync("destinationHost");
    }

    [Fact]
    public async Task MovingToBackupMxDropsTheDestination()
    {
        var acme = await _app.NewAccountAsync("to-backup");
        var name = Unique("backup");
        await acme.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "mx.example.net", destinationPort = 25 });
        var patched = await (await acme.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { mode = "backup-mx" })).ReadViewAsync<DomainView>();
        Assert.Equal(DomainMode.BackupMx, patched.Mode);
        Assert.Null(patched.DestinationHost);
    }
}
