using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Storage;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>The app in-process against Azurite, with a storage prefix of its own and the test token key.</summary>
public class AppFactory : WebApplicationFactory<Program>
{
    private readonly List<KeyValuePair<string, string?>> _settings;
    private readonly Action<IServiceCollection>? _services;

    public AppFactory()
        : this(null, null)
    {
    }

    internal AppFactory(IEnumerable<KeyValuePair<string, string?>>? settings, Action<IServiceCollection>? services = null)
    {
        Prefix = Azurite.NewPrefix();
        _settings =
        [
            new("AzureWebJobsStorage", Azurite.ConnectionString),
            new("Storage:Prefix", Prefix),
            new("Cors:AllowedOrigins:0", "https://control.example"),
            .. TestTokens.Settings(),
            .. settings ?? [],
        ];
        _services = services;
    }

    public string Prefix { get; }

    /// <summary>
    /// Whether the app keeps the host's queue names. Under the Functions host it sends to the literal names of
    /// function.json (helper-checks, domain-verifications…), and so would every other app under the host on this
    /// Azurite: tests running side by side would fill, drain and clear each other's queues. So a test's app prefixes its
    /// queues as it does standalone, unless the test is about those literal names and sets this.
    /// </summary>
    public bool HostQueueNames { get; init; }

    /// <summary>
    /// The app as the Functions host runs it: no timer or queue runner of its own, so a test drives ticks and checks
    /// by hand, on queues of its own (<see cref="HostQueueNames"/>). The port only selects the mode; the in-memory test
    /// server never binds it.
    /// </summary>
    public static AppFactory UnderFunctionsHost(params KeyValuePair<string, string?>[] settings) =>
        new([new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), .. settings]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (!HostQueueNames)
        {
            builder.ConfigureTestServices(s => s.PostConfigure<StorageOptions>(o => o.PrefixQueues = true));
        }
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    public HttpClient ClientFor(string? account, params string[] roles)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For(account, roles));
        return client;
    }

    public HttpClient Operator() => ClientFor("ops", "operator");

    /// <summary>An operator vouches for an account's domain: it is verified, holds its name and is published.</summary>
    public async Task VerifyAsync(string account, string domain)
    {
        var response = await Operator().PostAsync($"/api/admin/accounts/{account}/domains/{domain}/verify", null);
        Assert.True(response.IsSuccessStatusCode, $"verifying {domain}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Registers an account through the operator API and returns a client acting as it.</summary>
    public async Task<HttpClient> NewAccountAsync(string id, string level = "standard", string? alertEmail = null)
    {
        var response = await Operator().PutAsJsonAsync($"/api/admin/accounts/{id}", new
        {
            serviceLevel = level,
            primaryEmail = $"owner@{id}.example",
            alertEmail,
        });
        response.EnsureSuccessStatusCode();
        return ClientFor(id);
    }
}
