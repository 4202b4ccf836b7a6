using System.Net.Http.Json;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The app standalone with its own timer and queue runners, ticking every second against Knot DNS, so tests can
/// change a record with knsupdate and watch the helper react.
/// </summary>
public class HelperApp : AppFactory
{
    public HelperApp()
        : this([])
    {
    }

    internal HelperApp(IEnumerable<KeyValuePair<string, string?>> extra, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
        : base([.. FastEngine(), .. extra], services)
    {
    }

    public static IEnumerable<KeyValuePair<string, string?>> FastEngine() =>
    [
        new("Dns:Servers:0", Knot.Endpoint),
        new("Dns:Timeout", "00:00:01"),
        new("Dns:Retries", "0"),
        new("Helpers:Schedule", "* * * * * *"),
        new("Helpers:BucketSize", "00:00:01"),
        new("Helpers:MinimumInterval", "00:00:01"),
        new("Hosting:HostId", "tests-" + Guid.NewGuid().ToString("N")[..8]),
        new("Hosting:LockLease", "00:00:15"),
        new("Hosting:LockRecoveryInterval", "00:00:01"),
        new("AzureFunctionsJobHost:extensions:queues:maxPollingInterval", "00:00:00.500"),
    ];

    /// <summary>An account with a domain in <paramref name="mode"/>, ready for a helper.</summary>
    public async Task<(HttpClient Client, string Domain)> NewDomainAsync(string account, string mode = "hold", string? alertEmail = null)
    {
        var client = await NewAccountAsync(account, alertEmail: alertEmail);
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..8]}.example";
        object body = mode == "redirect"
            ? new { name = domain, mode, destinationHost = "192.0.32.10", destinationPort = 25 }
            : new { name = domain, mode };
        (await client.PostAsJsonAsync("/api/domains", body)).EnsureSuccessStatusCode();
        return (client, domain);
    }

    /// <summary>Attaches (or replaces) the domain's IP helper, failing the test with the problem if the API refuses.</summary>
    public static async Task AttachAsync(HttpClient client, string domain, string host, int port = 2525, bool alertOnChange = false, bool allowIpv6 = false)
    {
        var response = await client.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = host, destinationPort = port, alertOnChange, allowIpv6 });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<DomainView> DomainAsync(HttpClient client, string domain) =>
        await (await client.GetAsync($"/api/domains/{domain}")).ReadViewAsync<DomainView>();

    public static async Task<HelperView> HelperAsync(HttpClient client, string domain) =>
        await (await client.GetAsync($"/api/domains/{domain}/ip-helper")).ReadViewAsync<HelperView>();

    /// <summary>Waits until the domain's mode and destination are as given.</summary>
    public static Task<DomainView> RoutingAsync(HttpClient client, string domain, string mode, string? host = null, int? port = null, int seconds = 60) =>
        Eventually.WaitAsync(() => DomainAsync(client, domain), d =>
                DomainModes.ToName(d.Mode) == mode
                && (host is null || d.DestinationHost == host)
                && (port is null || d.DestinationPort == port),
            TimeSpan.FromSeconds(seconds), $"{domain} to be {mode} {host}:{port}");
}
