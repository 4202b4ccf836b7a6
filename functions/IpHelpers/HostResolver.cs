using System.Net;
using DnsClient;
using Microsoft.Extensions.Options;
using RelayFunctions.Domains;
using RelayFunctions.Hosting;

namespace RelayFunctions.IpHelpers;

public sealed class DnsOptions
{
    public const string Section = "Dns";

    /// <summary>Servers to ask, as <c>address:port</c> (IPv6 as <c>[::1]:53</c>); empty = the machine's resolvers.</summary>
    public List<string> Servers { get; set; } = [];

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    public int Retries { get; set; } = 1;

    public static void Check(DnsOptions o, SettingErrors errors)
    {
        for (var i = 0; i < o.Servers.Count; i++)
        {
            errors.Require(string.IsNullOrWhiteSpace(o.Servers[i]) || Destinations.IpAddresses.TryParseEndpoint(o.Servers[i], out _), $"{nameof(Servers)}__{i}",
                $"'{o.Servers[i]}' is not address:port (IPv6 as [::1]:53).");
        }
        errors.Positive(o.Timeout, nameof(Timeout));
        errors.Require(o.Retries is >= 0 and <= 10, nameof(Retries), $"must be from 0 to 10 (is {o.Retries}).");
    }
}

/// <summary>The DNS seam: looks up the address records of a destination host, and the text of TXT and MX records.</summary>
public interface IHostResolver
{
    Task<IReadOnlyList<Lookup>> ResolveAsync(DomainName host, bool includeIpv6, CancellationToken cancellationToken);

    /// <summary>The A (or, with <paramref name="ipv6"/>, AAAA) records of a host.</summary>
    Task<Lookup> LookupAddressesAsync(DomainName host, bool ipv6, CancellationToken cancellationToken);

    /// <summary>The TXT strings (each record's strings joined) or MX host names (no trailing dot) of a name.</summary>
    Task<TextLookup> LookupTextAsync(string name, TextRecord type, CancellationToken cancellationToken);
}

public enum TextRecord
{
    Txt,
    Mx,
}

/// <summary>One TXT or MX query's result, as data.</summary>
public sealed record TextLookup(string RecordType, IReadOnlyList<string> Values, LookupError Error, string? Detail = null)
{
    /// <summary>No answer to rely on (as opposed to a definite "there is none").</summary>
    public bool Failed => Error is LookupError.ServerFailure or LookupError.Timeout or LookupError.Unreachable;
}

/// <summary>
/// Resolves with DnsClient against the configured servers, without a cache (every check must see the current
/// record). DNS errors are data (DnsClient's <c>HasError</c>/response code), network failures become
/// <see cref="LookupError.Timeout"/> or <see cref="LookupError.Unreachable"/>.
/// </summary>
public sealed class DnsClientResolver : IHostResolver
{
    private readonly LookupClient _client;

    public DnsClientResolver(IOptions<DnsOptions> options)
    {
        var o = options.Value;
        var servers = o.Servers.Where(s => !string.IsNullOrWhiteSpace(s)).Select(ParseEndpoint).ToArray();
        var clientOptions = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        clientOptions.UseCache = false;
        clientOptions.Timeout = o.Timeout;
        clientOptions.Retries = o.Retries;
        clientOptions.ThrowDnsErrors = false;
        clientOptions.ContinueOnDnsError = true;
        clientOptions.ContinueOnEmptyResponse = false;
        clientOptions.UseTcpFallback = true;
        _client = new LookupClient(clientOptions);
    }

    public Task<Lookup> LookupAddressesAsync(DomainName host, bool ipv6, CancellationToken cancellationToken) =>
        QueryAsync(host, ipv6 ? QueryType.AAAA : QueryType.A, cancellationToken);

    public async Task<IReadOnlyList<Lookup>> ResolveAsync(DomainName host, bool includeIpv6, CancellationToken cancellationToken)
    {
        var queries = new List<Task<Lookup>> { QueryAsync(host, QueryType.A, cancellationToken) };
        if (includeIpv6)
        {
            queries.Add(QueryAsync(host, QueryType.AAAA, cancellationToken));
        }
        return await Task.WhenAll(queries);
    }

    public async Task<TextLookup> LookupTextAsync(string name, TextRecord type, CancellationToken cancellationToken)
    {
        var queryType = type == TextRecord.Txt ? QueryType.TXT : QueryType.MX;
        try
        {
            var response = await _client.QueryAsync(name.TrimEnd('.') + ".", queryType, QueryClass.IN, cancellationToken);
            if (response.HasError)
            {
                var error = response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain ? LookupError.NameDoesNotExist : LookupError.ServerFailure;
                return new TextLookup(queryType.ToString(), [], error, response.Header.ResponseCode.ToString());
            }
            IEnumerable<string> values = type == TextRecord.Txt
                ? response.Answers.TxtRecords().Select(r => string.Concat(r.Text))
                : response.Answers.MxRecords().Select(r => r.Exchange.Value.TrimEnd('.').ToLowerInvariant());
            return new TextLookup(queryType.ToString(), values.ToList(), LookupError.None);
        }
        catch (DnsResponseException e)
        {
            return new TextLookup(queryType.ToString(), [], e.Code == DnsResponseCode.ConnectionTimeout ? LookupError.Timeout : LookupError.Unreachable, e.DnsError);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TextLookup(queryType.ToString(), [], LookupError.Timeout);
        }
    }

    private async Task<Lookup> QueryAsync(DomainName host, QueryType type, CancellationToken cancellationToken)
    {
        var name = type.ToString();
        try
        {
            var response = await _client.QueryAsync(host.Value + ".", type, QueryClass.IN, cancellationToken);
            if (response.HasError)
            {
                var error = response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                    ? LookupError.NameDoesNotExist
                    : LookupError.ServerFailure;
                return new Lookup(name, [], error, response.Header.ResponseCode.ToString());
            }
            // A dynamic-DNS name is often a CNAME: the chain is only as fresh as its shortest TTL.
            var chainTtl = response.Answers.Count == 0 ? int.MaxValue : response.Answers.Min(r => r.TimeToLive);
            var records = type == QueryType.A
                ? response.Answers.ARecords().Select(r => new AddressRecord(r.Address, Math.Min(r.TimeToLive, chainTtl)))
                : response.Answers.AaaaRecords().Select(r => new AddressRecord(r.Address, Math.Min(r.TimeToLive, chainTtl)));
            return new Lookup(name, records.ToList(), LookupError.None);
        }
        catch (DnsResponseException e)
        {
            var error = e.Code == DnsResponseCode.ConnectionTimeout ? LookupError.Timeout : LookupError.Unreachable;
            return new Lookup(name, [], error, e.DnsError);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Lookup(name, [], LookupError.Timeout);
        }
    }

    /// <summary>Checked at start (<see cref="DnsOptions.Check"/>); a missing port means 53.</summary>
    internal static IPEndPoint ParseEndpoint(string text)
    {
        if (!Destinations.IpAddresses.TryParseEndpoint(text, out var endpoint))
        {
            throw new FormatException($"'{text}' is not address:port (IPv6 as [::1]:53).");
        }
        return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
    }
}
