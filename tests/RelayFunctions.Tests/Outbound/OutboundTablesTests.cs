using System.Net;
using System.Text.RegularExpressions;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Outbound;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// The generated sender tables mean what the product's rules say: for every sender, Postfix's lookup (simulated: the full
/// address in the cdb, then in the pcre rules in order, then <c>@domain</c> in the cdb; the first answer wins) finds
/// exactly the logins <see cref="OutboundTables.Authorizes"/> allows. Checked on hand-picked overlaps and on thousands
/// of random configurations with a fixed seed.
/// </summary>
[Trait("Category", "Fast")]
public sealed class OutboundTablesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    private static OutboundAccount Single(string address, bool identities = false, bool subdomains = false, bool enabled = true)
    {
        var parsed = EmailAddress.TryParse(address, out var a, out _) ? a : throw new ArgumentException(address);
        return Account(OutboundType.SingleAddress, address, parsed.Domain, parsed, OutboundSettings.Basic(enabled, OutboundFilters.None, identities, subdomains));
    }

    private static OutboundAccount Any(string domain, bool subdomains = false) =>
        Account(OutboundType.AnyAddress, "@" + domain, DomainName.Parse(domain), null, OutboundSettings.Basic(true, OutboundFilters.None, false, subdomains));

    private static OutboundAccount Server(string login, OutboundFilters filters, bool enabled = true) =>
        Account(OutboundType.MailServer, login, DomainName.Parse(login[(login.IndexOf('@') + 1)..]), null, OutboundSettings.Basic(enabled, filters, false, false));

    private static OutboundAccount Account(OutboundType type, string login, DomainName domain, EmailAddress? address, OutboundSettings settings) =>
        new("acct", login, type, domain, address, "{BLF-CRYPT}$2a$10$abcdefghijklmnopqrstuu0123456789012345678901234567890", settings, FilterResolution.None, "key", "token", [], Now, Now, default);

    /// <summary>Postfix's smtpd_sender_login_maps lookup over the generated tables.</summary>
    private static IReadOnlySet<string> Lookup(OutboundTables.Tables tables, string sender)
    {
        var cdb = tables.SenderLogins.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1]);
        var pcre = tables.SenderLoginsPcre.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            var end = l.LastIndexOf("/i ", StringComparison.Ordinal);
            return (Pattern: new Regex(l[1..end].Replace("\\/", "/"), RegexOptions.IgnoreCase), Logins: l[(end + 3)..]);
        }).ToList();
        var key = sender.ToLowerInvariant();
        var found = cdb.GetValueOrDefault(key) ?? pcre.FirstOrDefault(r => r.Pattern.IsMatch(key)).Logins ?? cdb.GetValueOrDefault(key[key.IndexOf('@')..]);
        return found is null or OutboundTables.Nobody ? new HashSet<string>() : found.Split(',').ToHashSet();
    }

    private static IReadOnlySet<string> Expected(IEnumerable<OutboundAccount> accounts, string sender)
    {
        var at = sender.LastIndexOf('@');
        return accounts.Where(a => OutboundTables.Authorizes(a, sender[..at], sender[(at + 1)..])).Select(a => a.Login).ToHashSet();
    }

    [Fact]
    public void EachAccountTypeOwnsWhatTheSeedSays()
    {
        OutboundAccount[] accounts =
        [
            Single("alice@cust.example"),
            Single("ident@cust.example", identities: true),
            Any("other.example", subdomains: true),
            Single("bob@sub.other.example"),
            Server("mailserver@cust.example", new OutboundFilters(Networks("203.0.113.0/24"), null, null, null)),
        ];
        var tables = OutboundTables.Build(accounts);
        Assert.Equal(["alice@cust.example", "ident@cust.example"], Lookup(tables, "alice@cust.example").Order());
        Assert.Equal(["ident@cust.example"], Lookup(tables, "someone@cust.example"));
        Assert.Empty(Lookup(tables, "x@sub.cust.example"));
        Assert.Equal(["@other.example"], Lookup(tables, "x@other.example"));
        Assert.Equal(["@other.example"], Lookup(tables, "x@a.b.other.example"));
        Assert.Equal(["@other.example", "bob@sub.other.example"], Lookup(tables, "bob@sub.other.example").Order());
        Assert.Equal(["@other.example"], Lookup(tables, "carol@sub.other.example"));
        Assert.Empty(Lookup(tables, "x@unrelated.example"));
        // Mail servers are not in the sender tables: sasl_access lets them use any sender.
        Assert.Contains("mailserver@cust.example OK", tables.SaslAccess);
    }

    [Fact]
    public void RandomConfigurationsMeanWhatTheRulesSay()
    {
        var random = new Random(20261123);
        string[] zones = ["a.example", "b.a.example", "c.b.a.example", "d.example", "e.d.example", "x.c.b.a.example"];
        string[] locals = ["alice", "bob", "carol"];
        for (var round = 0; round < 400; round++)
        {
            var accounts = new Dictionary<string, OutboundAccount>();
            for (var i = random.Next(1, 7); i > 0; i--)
            {
                var zone = zones[random.Next(zones.Length)];
                var account = random.Next(2) == 0
                    ? Single($"{locals[random.Next(locals.Length)]}@{zone}", random.Next(2) == 0, random.Next(2) == 0)
                    : Any(zone, random.Next(2) == 0);
                accounts[account.Login] = account;
            }
            var tables = OutboundTables.Build(accounts.Values);
            foreach (var domain in zones.Concat(["n.a.example", "m.b.a.example", "q.x.c.b.a.example", "elsewhere.example", "z.e.d.example"]))
            {
                foreach (var local in locals.Append("dave"))
                {
                    var sender = $"{local}@{domain}";
                    Assert.True(Expected(accounts.Values, sender).SetEquals(Lookup(tables, sender)),
                        $"round {round}, {sender}: expected [{string.Join(",", Expected(accounts.Values, sender))}] but the tables give [{string.Join(",", Lookup(tables, sender))}]\n{tables.SenderLogins}\n{tables.SenderLoginsPcre}");
                }
            }
        }
    }

    [Fact]
    public void SourceFiltersBecomeAllowNets()
    {
        Assert.Null(OutboundTables.AllowNets(Single("a@cust.example")));
        var v4 = Single("a@cust.example") with { Settings = OutboundSettings.Basic(true, new OutboundFilters(Networks("198.51.100.7"), null, null, null), false, false) };
        Assert.Equal(["198.51.100.7/32", "::/0"], OutboundTables.AllowNets(v4));
        var noV6 = v4 with { Settings = v4.Settings with { Filters = v4.Settings.Filters with { Ipv6 = Loopback6 } } };
        Assert.Equal(["198.51.100.7/32"], OutboundTables.AllowNets(noV6));
        var alternate = v4 with { Settings = v4.Settings with { Filters = v4.Settings.Filters with { AlternateIpv4 = Networks("192.0.2.0/24") } } };
        Assert.Equal(["198.51.100.7/32", "192.0.2.0/24", "::/0"], OutboundTables.AllowNets(alternate));
        // A mail server is let in only from where its filters say.
        Assert.Equal(["203.0.113.0/24"], OutboundTables.AllowNets(Server("m@cust.example", new OutboundFilters(Networks("203.0.113.0/24"), null, null, null))));
        // A host name counts for the addresses it resolved to; none yet, nobody.
        var host = new SourceFilter("home.dyn.example", null, DomainName.Parse("home.dyn.example"), false);
        var byName = Server("m@cust.example", new OutboundFilters(host, null, null, null));
        Assert.Empty(OutboundTables.AllowNets(byName)!);
        Assert.Contains("allow_nets=\n", OutboundTables.Build([byName]).Passwd);
        var resolved = byName with { Resolution = FilterResolution.None with { Addresses = new Dictionary<FilterSlot, IReadOnlyList<IPAddress>> { [FilterSlot.Ipv4] = [IPAddress.Parse("198.51.100.9")] } } };
        Assert.Equal(["198.51.100.9/32"], OutboundTables.AllowNets(resolved));
    }

    [Fact]
    public void ADisabledLoginKeepsItsPasswordLineAndIsRefusedWithAReason()
    {
        var tables = OutboundTables.Build([Single("off@cust.example", enabled: false)]);
        Assert.StartsWith("off@cust.example:{BLF-CRYPT}$2a$10$", tables.Passwd);
        Assert.Equal("off@cust.example REJECT 5.7.1 Account disabled\n", tables.SaslAccess);
    }

    private static readonly SourceFilter Loopback6 = new("::1", null, null, true);

    private static SourceFilter Networks(string text) => new(text, RelayFunctions.Destinations.Networks.Parse(text), null, false);
}
