using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Api;

/// <summary>
/// The OpenAPI document is good enough for a SPA developer to generate a client from: it passes Redocly's recommended
/// rules with no error and no warning, it says what a generator needs (security, statuses, headers, enums, integer types,
/// required fields), and a client generated from it with @hey-api/openapi-ts compiles and creates and lists a domain.
/// </summary>
public sealed class OpenApiDocumentTests(ITestOutputHelper output)
{
    private static readonly string[] Methods = ["get", "put", "post", "patch", "delete"];

    [Fact]
    public async Task TheDocumentPassesTheLinterWithNoErrorAndNoWarning()
    {
        var file = await SaveDocumentAsync();
        var (code, stdout, stderr) = await RunAsync(Tool("redocly"), ["lint", file, "--format=json"], RepoRoot.Path);
        output.WriteLine(stdout);
        var totals = JsonDocument.Parse(stdout).RootElement.GetProperty("totals");
        Assert.True(code == 0, stderr);
        Assert.Equal(0, totals.GetProperty("errors").GetInt32());
        Assert.Equal(0, totals.GetProperty("warnings").GetInt32());
    }

    [Fact]
    public async Task EveryOperationSaysWhatAClientNeeds()
    {
        var document = JsonDocument.Parse(await File.ReadAllTextAsync(await SaveDocumentAsync())).RootElement;
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/domains", "/api/domains/{name}", "/api/account", "/api/admin/accounts/{accountId}", "/api/domains/{name}/ip-helper", "/api/admin/relay-map" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        var tags = document.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToHashSet();

        foreach (var (path, item) in paths.EnumerateObject().Select(p => (p.Name, p.Value)))
        {
            foreach (var method in Methods.Where(m => item.TryGetProperty(m, out _)))
            {
                var operation = item.GetProperty(method);
                var name = $"{method.ToUpperInvariant()} {path}";
                Assert.False(string.IsNullOrEmpty(operation.GetProperty("operationId").GetString()), name);
                Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()), name);
                Assert.Contains(operation.GetProperty("tags")[0].GetString(), tags);
                var responses = operation.GetProperty("responses");
                Assert.True(operation.TryGetProperty("security", out var security) && security[0].TryGetProperty("bearer", out _), $"{name} has no bearer requirement");
                Assert.True(responses.TryGetProperty("401", out _), $"{name} has no 401");
                Assert.True(responses.TryGetProperty("403", out _), $"{name} has no 403");
                if (path.Contains('{') && method != "put")
                {
                    Assert.True(responses.TryGetProperty("404", out _), $"{name} has no 404");
                }
                if (method is "patch" or "delete" || (method == "put" && path.EndsWith("}", StringComparison.Ordinal)))
                {
                    Assert.Contains(operation.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "If-Match" && p.GetProperty("in").GetString() == "header");
                    Assert.True(responses.TryGetProperty("412", out _), $"{name} has no 412");
                }
                if (responses.TryGetProperty("201", out var created))
                {
                    Assert.True(created.GetProperty("headers").TryGetProperty("Location", out _), $"{name} 201 has no Location");
                    Assert.True(created.GetProperty("headers").TryGetProperty("ETag", out _), $"{name} 201 has no ETag");
                }
            }
        }
        Assert.True(paths.GetProperty("/api/domains/{name}").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("ETag", out _));

        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal(["redirect", "hold", "backup-mx"], Enum(schemas, "DomainMode"));
        Assert.Equal(["personal", "personal-plus", "standard", "professional", "enterprise"], Enum(schemas, "ServiceLevel"));
        Assert.Equal(["resolved", "failed", "invalid"], Enum(schemas, "OutcomeKind"));
        Assert.Equal(["name", "mode"], schemas.GetProperty("DomainCreateRequest").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.False(schemas.GetProperty("DomainPatchRequest").TryGetProperty("required", out _), "every field of a merge patch is optional");
        Assert.Equal(["destinationHost", "destinationPort"], schemas.GetProperty("HelperRequest").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("integer", Types(schemas.GetProperty("DomainView").GetProperty("properties").GetProperty("messageSizeLimit")).Single(t => t != "null"));
        Assert.DoesNotContain("\"pattern\":\"^-?(?:0|[1-9]\\\\d*)$\"", document.GetRawText());
    }

    [Fact]
    public async Task AClientGeneratedFromTheDocumentCreatesAndListsADomain()
    {
        await using var app = new AppFactory();
        var port = Azurite.FreePort();
        app.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        app.StartServer();
        var work = Directory.CreateDirectory(Path.Combine(RepoRoot.Path, ".artifacts", "openapi-client-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            var document = await SaveDocumentAsync(app, Path.Combine(work, "openapi.json"));
            foreach (var file in new[] { "smoke.ts", "tsconfig.json" })
            {
                File.Copy(Path.Combine(RepoRoot.Path, "tests", "openapi-client", file), Path.Combine(work, file));
            }
            await Succeeds(Tool("openapi-ts"), ["-i", document, "-o", "client", "-c", "@hey-api/client-fetch"], work);
            await Succeeds(Tool("tsc"), ["-p", "."], work);

            var account = "gen" + Guid.NewGuid().ToString("N")[..8];
            var (code, stdout, stderr) = await RunAsync("node",
                [Path.Combine(work, "dist", "smoke.js"), $"http://127.0.0.1:{port}", TestTokens.For("ops", "operator"), TestTokens.For(account), account], work);
            output.WriteLine(stdout + stderr);
            Assert.True(code == 0, stdout + stderr);
            var result = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal($"{account}.example", result.GetProperty("created").GetString());
            Assert.Equal("redirect", result.GetProperty("mode").GetString());
            Assert.Equal(2525, result.GetProperty("port").GetInt32());
            Assert.Equal($"/api/domains/{account}.example", result.GetProperty("location").GetString());
            Assert.False(string.IsNullOrEmpty(result.GetProperty("etag").GetString()));
            Assert.Equal([$"{account}.example"], result.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task TheApiReferencePageIsServedWithItsScriptFromTheAppItself()
    {
        await using var app = new AppFactory();
        var http = app.CreateClient();
        var page = await http.GetAsync("/api/reference");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("\"url\":\"api/openapi.json\"", html);
        var script = System.Text.RegularExpressions.Regex.Match(html, "<script[^>]+src=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(script.StartsWith("http", StringComparison.Ordinal), $"the page loads its script from elsewhere: {script}");
        var asset = await http.GetAsync(new Uri(new Uri("http://localhost/api/reference/"), script));
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.True((await asset.Content.ReadAsByteArrayAsync()).Length > 100_000, "the reference's script is not served");
    }

    private static IEnumerable<string?> Enum(JsonElement schemas, string name) =>
        schemas.GetProperty(name).GetProperty("enum").EnumerateArray().Select(e => e.GetString());

    private static IEnumerable<string?> Types(JsonElement schema) =>
        schema.GetProperty("type") is { ValueKind: JsonValueKind.Array } types ? types.EnumerateArray().Select(t => t.GetString()) : [schema.GetProperty("type").GetString()];

    private static async Task<string> SaveDocumentAsync(string? file = null)
    {
        await using var app = new AppFactory();
        return await SaveDocumentAsync(app, file);
    }

    private static async Task<string> SaveDocumentAsync(AppFactory app, string? file = null)
    {
        file ??= Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        // As a deployment serves it: from its public host name, which becomes the document's server.
        var client = app.CreateClient();
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/openapi.json") { Headers = { Host = "relay.contoso.test" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await File.WriteAllTextAsync(file, await response.Content.ReadAsStringAsync());
        return file;
    }

    private static string Tool(string name) => Path.Combine(RepoRoot.Path, "node_modules", ".bin", name);

    private async Task Succeeds(string file, string[] args, string directory)
    {
        var (code, stdout, stderr) = await RunAsync(file, args, directory);
        output.WriteLine(stdout + stderr);
        Assert.True(code == 0, $"{Path.GetFileName(file)} failed:\n{stdout}{stderr}");
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, string[] args, string directory)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        // Offline and quiet: no telemetry, no update check.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
