using System.Net;
using DnsClient;

namespace RelayAgent.Submission;

public static class Dns
{
    /// <summary>A resolver for the block lists: the given name servers (<c>address[:port]</c>), or the machine's. No cache: a listing must show at once.</summary>
    public static LookupClient Client(IReadOnlyList<string> servers)
    {
        var endpoints = servers.Select(s => IPEndPoint.TryParse(s, out var e) ? (e.Port == 0 ? new IPEndPoint(e.Address, 53) : e)
            : throw new InvalidOperationException($"Agent__DnsServers: '{s}' is not an address[:port].")).ToArray();
        var options = endpoints.Length > 0 ? new LookupClientOptions(endpoints) : new LookupClientOptions();
        options.UseCache = false;
        options.Timeout = TimeSpan.FromSeconds(3);
        options.Retries = 1;
        return new LookupClient(options);
    }
}
