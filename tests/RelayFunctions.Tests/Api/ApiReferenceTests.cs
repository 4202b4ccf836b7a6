using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>
/// The reference page at <c>/api/reference</c> works on a machine without internet access and sends nothing out of it:
/// its page and scripts come from the app, its configuration turns off everything of Scalar's that calls home (CDN
/// fonts, the AI agent, MCP, telemetry, the developer toolbar with Deploy and Share), the bearer scheme is the one
/// selected, and behind a proxy that ends TLS its server is the address the caller used.
/// </summary>
public sealed partial class ApiReferenceTests
{
    [Fact]
    public async Task ThePageAndItsScriptsComeFromTheAppAndItsConfigurationCallsNowhere()
    {
        await using var app = new AppFactory();
        var http = app.CreateClient();
        var html = await http.GetStringAsync("/api/reference/");

        Assert.DoesNotMatch(ExternalReference(), html);
        foreach (var script in ScriptSource().Matches(html).Select(m => m.Groups[1].Value))
        {
            var asset = await http.GetAsync(new Uri(new Uri("http://localhost/api/reference/"), script));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        }

        var configuration = Configuration(html);
        Assert.False(configuration.GetProperty("withDefaultFonts").GetBoolean(), "fonts would come from fonts.scalar.com");
        Assert.True(configuration.GetProperty("agent").GetProperty("disabled").GetBoolean(), "Ask AI would be offered");
        Assert.True(configuration.GetProperty("mcp").GetProperty("disabled").GetBoolean());
        Assert.False(configuration.GetProperty("telemetry").GetBoolean());
        Assert.Equal("never", configuration.GetProperty("showDeveloperTools").GetString());
        Assert.False(configuration.TryGetProperty("proxyUrl", out _), "requests would go through proxy.scalar.com");
    }

    [Fact]
    public async Task TheBearerSchemeIsPreselected()
    {
        await using var app = new AppFactory();
        var html = await app.CreateClient().GetStringAsync("/api/reference/");

        var preferred = Configuration(html).GetProperty("authentication").GetProperty("preferredSecurityScheme");
        Assert.Equal(["bearer"], preferred.EnumerateArray().Select(s => s.GetString()));
    }

    [Theory]
    [InlineData("https", "https://relay.contoso.test")]
    [InlineData("https, http", "https://relay.contoso.test")]
    [InlineData(null, "http://relay.contoso.test")]
    [InlineData("gopher", "http://relay.contoso.test")]
    public async Task BehindAProxyTheServerHasTheSchemeTheCallerUsed(string? forwardedProto, string server)
    {
        await using var app = new AppFactory();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/openapi.json") { Headers = { Host = "relay.contoso.test" } };
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }
        var response = await app.CreateClient().SendAsync(request);

        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(server, document.GetProperty("servers")[0].GetProperty("url").GetString());
    }

    private static JsonElement Configuration(string html) =>
        JsonDocument.Parse(InitializeConfiguration().Match(html).Groups[1].Value).RootElement;

    [GeneratedRegex(@"(?:src|href)=""(?:https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    [GeneratedRegex(@"<script[^>]+src=""([^""]+)""")]
    private static partial Regex ScriptSource();

    [GeneratedRegex(@"^\s*(\{.*\}),\s*$", RegexOptions.Multiline)]
    private static partial Regex InitializeConfiguration();
}
