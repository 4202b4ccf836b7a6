using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Outbound;
using RelayShared;

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
    OutboundStore outbound, AccountStore accountStore, DomainStore domainStore, DomainClaims claims,
    IOptions<RelayMapOptions> options)
{
    /// <summary>The whole map as it is now, in memory: every table, and how many domains (tests and tools; publishing streams).</summary>
    public async Task<(IReadOnlyList<MapFile> Files, int Domains)> BuildAsync(CancellationToken cancellationToken)
    {
        var writers = MapTables.DomainTables.ToDictionary(t => t, MapTextWriter.InMemory, StringComparer.Ordinal);
        var count = await WriteDomainTablesAsync(writers, cancellationToken);
        var files = new List<MapFile>();
        foreach (var (table, writer) in writers)
        {
            var listed = await writer.CompleteAsync(cancellationToken);
            files.Add(new MapFile(table, writer.Content, listed.Sha256));
        }
        files.AddRange(await OutboundFilesAsync(cancellationToken));
        return (files, count);
    }

    /// <summary>
    /// Writes the domain tables of every published domain, read from the <c>Domains</c> table page by page and written as
    /// they come (memory does not grow with the number of domains). Returns how many domains it wrote.
    /// </summary>
    /// <param name="published">When given, its keys (domain names) are set to whether the snapshot holds them.</param>
    public async Task<int> WriteDomainTablesAsync(
        IReadOnlyDictionary<string, MapTextWriter> tables, CancellationToken cancellationToken, Dictionary<string, bool>? published = null)
    {
        var count = 0;
        await foreach (var domain in domainStore.AllAsync(cancellationToken))
        {
            // Only proven domains are relayed: a pending one could be anybody's claim on somebody else's mail.
            if (!domain.Verification.IsPublished)
            {
                continue;
            }
            foreach (var (table, key, value) in Entries(domain))
            {
                await tables[table].WriteLineAsync(key, value);
            }
            if (published?.ContainsKey(domain.Name.Value) == true)
            {
                published[domain.Name.Value] = true;
            }
            count++;
        }
        return count;
    }

    /// <summary>A published domain's entries in the domain tables.</summary>
    public IEnumerable<(string Table, string Key, string Value)> Entries(MailDomain domain)
    {
        var name = domain.Name.Value;
        var next = NextHop(domain.Settings);
        yield return (MapTables.Transport, name, next);
        yield return (MapTables.Transport, "." + name, next);
        yield return (MapTables.SizeLimits, name, domain.Settings.MessageSizeLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (domain.Settings.Recipients.Count == 0)
        {
            yield return (MapTables.RelayRecipients, "@" + name, "OK");
        }
        foreach (var recipient in domain.Settings.Recipients)
        {
            yield return (MapTables.RelayRecipients, recipient, "OK");
        }
        yield return (MapTables.RelayDomains, name, "OK");
    }

    /// <summary>The domain an entry of a domain table belongs to: <c>.example.com</c> and <c>user@example.com</c> are example.com's.</summary>
    public static string DomainOf(string table, string key) => table switch
    {
        MapTables.RelayRecipients => key[(key.LastIndexOf('@') + 1)..],
        MapTables.Transport when key.StartsWith('.') => key[1..],
        _ => key,
    };

    /// <summary><paramref name="domain"/> is <paramref name="zone"/> or under it (a domain's recipients may be in its subdomains).</summary>
    public static bool Within(string domain, string zone) =>
        domain == zone || (domain.Length > zone.Length && domain.EndsWith(zone, StringComparison.Ordinal) && domain[^(zone.Length + 1)] == '.');

    /// <summary>
    /// The delta of <paramref name="changes"/>: for each changed domain its current entries (put) and the keys an earlier
    /// state may have left that it no longer has (deleted). Reads two rows per domain (who holds the name, and that
    /// account's domain): the cost follows the changes, not the map.
    /// </summary>
    public async Task<MapDelta> DeltaAsync(IReadOnlyList<MapChange> changes, CancellationToken cancellationToken)
    {
        var domains = changes.Where(c => !c.IsOutbound).ToList();
        var states = new (MailDomain? Domain, MapChange Change)[domains.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, domains.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var change = domains[i];
            MailDomain? domain = null;
            if (DomainName.TryParse(change.Key, out var name, out _) && name.Value == change.Key)
            {
                var holder = await claims.HolderAsync(name, ct) ?? change.Account;
                domain = holder is null ? null : await domainStore.FindAsync(holder, name, ct);
            }
            states[i] = (domain is { Verification.IsPublished: true } ? domain : null, change);
        });

        var published = new Dictionary<string, bool>(StringComparer.Ordinal);
        var puts = new List<(string Table, string Key, string Value)>();
        var deletes = new List<(string Table, string Key, string Domain)>();
        var added = 0;
        foreach (var (domain, change) in states.OrderBy(s => s.Change.Key, StringComparer.Ordinal))
        {
            var name = change.Key;
            var entries = domain is null ? [] : Entries(domain).ToList();
            puts.AddRange(entries);
            var kept = entries.Select(e => (e.Table, e.Key)).ToHashSet();
            // Every key the domain can have had: those that follow from its name, and the recipients it listed.
            IEnumerable<(string, string)> possible =
                [(MapTables.Transport, name), (MapTables.Transport, "." + name), (MapTables.SizeLimits, name), (MapTables.RelayRecipients, "@" + name), (MapTables.RelayDomains, name),
                 .. change.Stale.Where(r => Within(DomainOf(MapTables.RelayRecipients, r), name)).Select(r => (MapTables.RelayRecipients, r))];
            deletes.AddRange(possible.Distinct().Where(k => !kept.Contains(k)).Select(k => (k.Item1, k.Item2, name)));
            added += (domain is null ? 0 : 1) - (change.WasPublished ? 1 : 0);
            published[name] = domain is not null;
        }
        // A key one domain no longer has may be another's: one changed in the same delta puts it (the put stands), or a
        // registered subdomain of the same name lists the same recipient (it stays).
        var putKeys = puts.Select(p => (p.Table, p.Key)).ToHashSet();
        var lines = new StringBuilder();
        foreach (var (table, key, value) in puts.DistinctBy(p => (p.Table, p.Key)))
        {
            lines.Append("+ ").Append(table).Append(' ').Append(key).Append(' ').Append(value).Append('\n');
        }
        foreach (var (table, key, domain) in deletes)
        {
            if (!putKeys.Contains((table, key)) && !await ListedBelowAsync(table, key, domain, cancellationToken))
            {
                lines.Append("- ").Append(table).Append(' ').Append(key).Append('\n');
            }
        }
        return new MapDelta(MapFile.Create(RelayMapBlobs.Delta, lines), added, changes.Any(c => c.IsOutbound), published);
    }

    /// <summary>
    /// Whether a recipient key in a subdomain of <paramref name="domain"/> is listed by a published domain registered at
    /// that subdomain or between (an account may hold example.com and sub.example.com, and list x@sub.example.com in both).
    /// </summary>
    private async Task<bool> ListedBelowAsync(string table, string key, string domain, CancellationToken cancellationToken)
    {
        if (table != MapTables.RelayRecipients)
        {
            return false;
        }
        for (var at = DomainOf(table, key); at.Length > domain.Length && Within(at, domain); at = at[(at.IndexOf('.') + 1)..])
        {
            if (DomainName.TryParse(at, out var name, out _) && await claims.HolderAsync(name, cancellationToken) is { } holder
                && await domainStore.FindAsync(holder, name, cancellationToken) is { Verification.IsPublished: true } listed
                && listed.Settings.Recipients.Contains(key, StringComparer.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The outbound tables: every outbound account whose domain its account holds, published. Reads the account's
    /// domains once per account that has outbound accounts.
    /// </summary>
    public async Task<IReadOnlyList<MapFile>> OutboundFilesAsync(CancellationToken cancellationToken)
    {
        var all = new List<OutboundAccount>();
        await foreach (var account in outbound.AllAsync(cancellationToken))
        {
            all.Add(account);
        }
        var domainsOf = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var owners = new Dictionary<string, Account?>(StringComparer.Ordinal);
        foreach (var id in all.Select(a => a.AccountId).Distinct(StringComparer.Ordinal))
        {
            domainsOf[id] = (await domainStore.ListAsync(id, cancellationToken))
                .Where(d => d.Verification.IsPublished).Select(d => d.Name.Value).Order(StringComparer.Ordinal).ToList();
            owners[id] = await accountStore.FindAsync(id, cancellationToken);
        }
        // Outbound accounts send for their domain only while their account holds it, proven.
        var accounts = all.Where(a => domainsOf[a.AccountId].Contains(a.Domain.Value, StringComparer.Ordinal)).ToList();
        var tables = OutboundTables.Build(accounts);
        return
        [
            MapFile.Create(MapTables.SenderLoginsPcre, new StringBuilder(tables.SenderLoginsPcre)), MapFile.Create(MapTables.SenderLogins, new StringBuilder(tables.SenderLogins)),
            MapFile.Create(MapTables.SaslAccess, new StringBuilder(tables.SaslAccess)), MapFile.Create(MapTables.OutboundAccounts, new StringBuilder(OutboundTables.SubmissionData(accounts, owners, domainsOf))),
            MapFile.Create(MapTables.Passwd, new StringBuilder(tables.Passwd)),
        ];
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

/// <summary>
/// A delta: the <c>delta</c> file (<c>+ table key value</c> and <c>- table key</c> lines), how many domains it adds (negative when it removes more), whether the outbound
/// tables are to be republished, and whether some change lost track of its stale keys (then only a snapshot is right).
/// </summary>
public sealed record MapDelta(MapFile File, int Added, bool Outbound, IReadOnlyDictionary<string, bool> Published);
