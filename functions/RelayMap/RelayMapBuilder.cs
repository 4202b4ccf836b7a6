using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Outbound;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>One Postfix source table of a generation, with what the manifest says of it.</summary>
public sealed record MapFile(string Name, byte[] Content, string Sha256)
{
    public static MapFile Create(string name, StringBuilder text)
    {
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return new MapFile(name, bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}

/// <summary>
/// Builds the relay map from every verified domain (pending ones are nobody's yet): Postfix-ready source tables for <c>postmap</c>.
/// <list type="bullet">
/// <item><c>relay_domains</c>: each domain (Postfix relays its subdomains too).</item>
/// <item><c>transport</c>: redirect to an IP → <c>smtp:[ip]:port</c> (IPv6 as <c>[ipv6:…]</c>); to a name → held
/// until its IP helper has resolved it (a name would let Postfix resolve it to any address, and bounce accepted mail
/// on NXDOMAIN, reference §1); hold → the <c>hold</c> transport (deferred by <c>defer_transports</c>) towards a dead
/// loopback port;
/// backup-mx → <c>relay:</c> (MX-based). Each also as <c>.domain</c> for subdomains.</item>
/// <item><c>relay_recipients</c>: the valid-recipient list, or <c>@domain</c> when every recipient is accepted.</item>
/// <item><c>message_size_limits</c>: domain and its limit in bytes, for the relay's policy check.</item>
/// <item><c>passwd</c>, <c>sender_logins</c>, <c>sender_logins_sub.pcre</c>, <c>sasl_access</c>: the outbound accounts
/// of verified domains (<see cref="OutboundTables"/>); <c>outbound_accounts</c>: what the relay's submission filter and
/// policy need of each login (postmaster address, domains, BCC and mirrors, quota), one JSON object a line.</item>
/// </list>
/// </summary>
public sealed class RelayMapBuilder(
    StorageClients storage, StorageInitializer initializer, OutboundStore outbound, AccountStore accountStore, IOptions<RelayMapOptions> options)
{
    public const string RelayDomains = "relay_domains";
    public const string Transport = "transport";
    public const string RelayRecipients = "relay_recipients";
    public const string SizeLimits = "message_size_limits";
    public const string Passwd = "passwd";
    public const string SenderLogins = "sender_logins";
    public const string SenderLoginsPcre = "sender_logins_sub.pcre";
    public const string SaslAccess = "sasl_access";
    public const string OutboundAccounts = "outbound_accounts";

    public async Task<(IReadOnlyList<MapFile> Files, int Domains)> BuildAsync(CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var domains = new StringBuilder();
        var transport = new StringBuilder();
        var recipients = new StringBuilder();
        var sizes = new StringBuilder();
        var count = 0;
        var published = new HashSet<(string, string)>();
        await foreach (var entity in storage.Table("Domains").QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            // Only proven domains are relayed: a pending one could be anybody's claim on somebody else's mail.
            if (DomainStore.TryFromEntity(entity) is not { Verification.IsPublished: true } domain)
            {
                continue;
            }
            var name = domain.Name.Value;
            var next = NextHop(domain.Settings);
            domains.Append(name).Append(" OK\n");
            transport.Append(name).Append(' ').Append(next).Append('\n');
            transport.Append('.').Append(name).Append(' ').Append(next).Append('\n');
            if (domain.Settings.Recipients.Count == 0)
            {
                recipients.Append('@').Append(name).Append(" OK\n");
            }
            foreach (var recipient in domain.Settings.Recipients)
            {
                recipients.Append(recipient).Append(" OK\n");
            }
            sizes.Append(name).Append(' ').Append(domain.Settings.MessageSizeLimit).Append('\n');
            published.Add((domain.AccountId, name));
            count++;
        }

        // Outbound accounts send for their domain only while their account holds it, proven.
        var accounts = new List<OutboundAccount>();
        await foreach (var account in outbound.AllAsync(cancellationToken))
        {
            if (published.Contains((account.AccountId, account.Domain.Value)))
            {
                accounts.Add(account);
            }
        }
        var tables = OutboundTables.Build(accounts);
        var owners = new Dictionary<string, Account?>(StringComparer.Ordinal);
        foreach (var id in accounts.Select(a => a.AccountId).Distinct())
        {
            owners[id] = await accountStore.FindAsync(id, cancellationToken);
        }
        var domainsOf = published.GroupBy(p => p.Item1).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(p => p.Item2).Order(StringComparer.Ordinal).ToList());
        var submission = OutboundTables.SubmissionData(accounts, owners, domainsOf);
        return (
        [
            MapFile.Create(RelayDomains, domains), MapFile.Create(Transport, transport), MapFile.Create(RelayRecipients, recipients), MapFile.Create(SizeLimits, sizes),
            MapFile.Create(Passwd, new StringBuilder(tables.Passwd)), MapFile.Create(SenderLogins, new StringBuilder(tables.SenderLogins)),
            MapFile.Create(SenderLoginsPcre, new StringBuilder(tables.SenderLoginsPcre)), MapFile.Create(SaslAccess, new StringBuilder(tables.SaslAccess)),
            MapFile.Create(OutboundAccounts, new StringBuilder(submission)),
        ], count);
    }

    public string NextHop(DomainSettings settings) => settings.Mode switch
    {
        // A host name is never published: Postfix would resolve it itself, to any address, and bounce on NXDOMAIN. Its
        // IP helper turns it into the public address it resolves to; until then the mail is held.
        DomainMode.Redirect when settings.Destination is { Address: null } => $"hold:{options.Value.HoldNextHop}",
        DomainMode.Redirect when settings.Destination is { } d => $"smtp:{Bracketed(d)}",
        DomainMode.Hold => $"hold:{options.Value.HoldNextHop}",
        DomainMode.BackupMx => "relay:",
        // A redirect without a destination cannot be stored; should one appear, holding is the safe reading.
        _ => $"hold:{options.Value.HoldNextHop}",
    };

    private static string Bracketed(Destination d) => d.Address switch
    {
        { AddressFamily: AddressFamily.InterNetworkV6 } a => $"[ipv6:{a}]:{d.Port}",
        _ => $"[{d.Host}]:{d.Port}",
    };
}
