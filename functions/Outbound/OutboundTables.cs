using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using RelayFunctions.Domains;
using RelayShared;

namespace RelayFunctions.Outbound;

/// <summary>
/// The relay's tables for outbound accounts (reference outbound.md §1, §2, §5):
/// <list type="bullet">
/// <item><c>passwd</c>: Dovecot's passwd-file, <c>login:{BLF-CRYPT}hash::::::allow_nets=…</c>;</item>
/// <item><c>sender_logins</c> (lmdb) and <c>sender_logins_sub.pcre</c>: who may use which envelope sender;</item>
/// <item><c>sasl_access</c> (lmdb): <c>OK</c> for mail-server logins (any sender), <c>REJECT</c> with a readable reason for
/// disabled ones.</item>
/// </list>
/// Postfix looks a sender up by its full address in every table, then by <c>@domain</c> in the lmdb table (pcre tables only ever
/// see the full address), and the first answer wins. So every exact key repeats the owners of its domain, and a pcre rule,
/// which answers for every address it matches, carries every owner of the addresses it covers; the rules go from the
/// deepest domain up, so a rule never answers for an address a deeper one is about. <see cref="Authorizes"/> is what the
/// tables must mean; the tests check them against it, Postfix's lookup order simulated.
/// </summary>
public static class OutboundTables
{
    /// <summary>A login that no account has: the owner of addresses that no login owns (Postfix then says "not owned").</summary>
    public const string Nobody = "-";

    public sealed record Tables(string Passwd, string SenderLogins, string SenderLoginsPcre, string SaslAccess);

    /// <summary>May <paramref name="account"/> send with the envelope sender <c>local@domain</c>? The product's rules.</summary>
    public static bool Authorizes(OutboundAccount account, string local, string domain)
    {
        var home = account.Domain.Value;
        var under = domain.EndsWith("." + home, StringComparison.OrdinalIgnoreCase);
        var at = string.Equals(domain, home, StringComparison.OrdinalIgnoreCase);
        return account.Type switch
        {
            OutboundType.AnyAddress => at || (under && account.Settings.AllowSubdomains),
            OutboundType.SingleAddress => (at || (under && account.Settings.AllowSubdomains))
                && (account.Settings.AllowIdentities || string.Equals(local, account.Address!.LocalPart, StringComparison.OrdinalIgnoreCase)),
            _ => false,
        };
    }

    public static Tables Build(IReadOnlyCollection<OutboundAccount> accounts)
    {
        var senders = accounts.Where(a => a.Type != OutboundType.MailServer).ToList();
        string Owners(string local, string domain)
        {
            var owners = senders.Where(a => Authorizes(a, local, domain)).Select(a => a.Login).Order(StringComparer.Ordinal).ToList();
            return owners.Count == 0 ? Nobody : string.Join(',', owners);
        }

        var cdb = new StringBuilder();
        foreach (var address in senders.Where(a => a.Address is not null).Select(a => a.Address!.ToString()).Distinct().Order(StringComparer.Ordinal))
        {
            var at = address.LastIndexOf('@');
            cdb.Append(address).Append(' ').Append(Owners(address[..at], address[(at + 1)..])).Append('\n');
        }
        var zones = senders.Select(a => a.Domain.Value).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var zone in zones)
        {
            if (Owners(Generic, zone) is var owners and not Nobody)
            {
                cdb.Append('@').Append(zone).Append(' ').Append(owners).Append('\n');
            }
        }

        var pcre = new StringBuilder();
        var subZones = senders.Where(a => a.Settings.AllowSubdomains).Select(a => a.Domain.Value).ToHashSet(StringComparer.Ordinal);
        // Locals that single-address accounts may use under their subdomains: their rules come before the generic ones.
        var subLocals = senders.Where(a => a is { Type: OutboundType.SingleAddress, Settings: { AllowSubdomains: true, AllowIdentities: false } })
            .Select(a => a.Address!.LocalPart.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var zone in zones.OrderByDescending(z => z.Count(c => c == '.')).ThenBy(z => z, StringComparer.Ordinal))
        {
            var covered = subZones.Any(s => s == zone || zone.EndsWith("." + s, StringComparison.Ordinal));
            if (!covered)
            {
                continue;
            }
            var escaped = Escape(zone);
            // The zone itself, if a wider rule (one of its ancestors') would otherwise answer for it.
            if (subZones.Any(s => zone.EndsWith("." + s, StringComparison.Ordinal)))
            {
                foreach (var local in subLocals)
                {
                    pcre.Append($"/^{Escape(local)}@{escaped}$/i ").Append(Owners(local, zone)).Append('\n');
                }
                pcre.Append($"/@{escaped}$/i ").Append(Owners(Generic, zone)).Append('\n');
            }
            // Every name strictly under it (deeper zones have their rules above).
            var below = "sub." + zone;
            foreach (var local in subLocals)
            {
                pcre.Append($"/^{Escape(local)}@[^@]+\\.{escaped}$/i ").Append(Owners(local, below)).Append('\n');
            }
            pcre.Append($"/@[^@]+\\.{escaped}$/i ").Append(Owners(Generic, below)).Append('\n');
        }

        var sasl = new StringBuilder();
        var passwd = new StringBuilder();
        foreach (var account in accounts.OrderBy(a => a.Login, StringComparer.Ordinal))
        {
            if (!account.Settings.Enabled)
            {
                // Still in the passwd-file: the login authenticates, and is then told why it may not send.
                sasl.Append(account.Login).Append(" REJECT 5.7.1 Account disabled\n");
            }
            else if (account.Type == OutboundType.MailServer)
            {
                sasl.Append(account.Login).Append(" OK\n");
            }
            passwd.Append(account.Login).Append(':').Append(account.PasswordHash).Append("::::::");
            if (AllowNets(account) is { } nets)
            {
                passwd.Append("allow_nets=").Append(string.Join(',', nets));
            }
            passwd.Append('\n');
        }
        return new Tables(passwd.ToString(), cdb.ToString(), pcre.ToString(), sasl.ToString());
    }

    /// <summary>
    /// The networks a login may connect from (Dovecot's <c>allow_nets</c>), or null for anywhere. Per family: no filter
    /// is any address (for a mail server: none, a mail server is never authorised by its login alone); the loopback
    /// filter is none; otherwise the primary and alternate filters, host names as resolved at the last lookup.
    /// </summary>
    public static IReadOnlyList<string>? AllowNets(OutboundAccount account)
    {
        var v4 = Family(account, FilterSlot.Ipv4, FilterSlot.AlternateIpv4, "0.0.0.0/0");
        var v6 = Family(account, FilterSlot.Ipv6, FilterSlot.AlternateIpv6, "::/0");
        return v4 is ["0.0.0.0/0"] && v6 is ["::/0"] ? null : [.. v4, .. v6];
    }

    private static List<string> Family(OutboundAccount account, FilterSlot primary, FilterSlot alternate, string any)
    {
        var filters = account.Settings.Filters;
        if (filters[primary] is null && filters[alternate] is null)
        {
            return account.Type == OutboundType.MailServer ? [] : [any];
        }
        if (filters[primary]?.Disables == true)
        {
            return [];
        }
        var nets = new List<string>();
        foreach (var slot in new[] { primary, alternate })
        {
            switch (filters[slot])
            {
                case { Network: { } network }:
                    nets.Add(network.ToString());
                    break;
                case { IsHost: true }:
                    nets.AddRange(account.Resolution.For(slot).Select(a => $"{a}/{(a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)}"));
                    break;
            }
        }
        return nets.Distinct().ToList();
    }

    /// <summary>
    /// The <c>outbound_accounts</c> file: per login its key (named in BCC copies' envelope senders), its account, the
    /// account's postmaster address (see <see cref="Postmaster"/>: it replaces a null sender), the account's verified
    /// domains (a mail server's sender outside them is replaced the same way), BCC recipients, mirrors (mailboxes in those
    /// domains; one in a domain the account lost since is left out) and the header
    /// value of mirror copies, the action on submission errors, and the account's daily quota.
    /// </summary>
    public static string SubmissionData(
        IReadOnlyCollection<OutboundAccount> accounts, IReadOnlyDictionary<string, Accounts.Account?> owners, IReadOnlyDictionary<string, IReadOnlyList<string>> domains)
    {
        var text = new StringBuilder();
        foreach (var a in accounts.OrderBy(a => a.Login, StringComparer.Ordinal))
        {
            if (owners.GetValueOrDefault(a.AccountId) is not { } owner)
            {
                continue;
            }
            var verified = domains.GetValueOrDefault(a.AccountId, []);
            var line = new SubmissionAccount(
                a.Login, a.Key, a.AccountId, Postmaster(owner, a, verified), verified,
                a.Settings.BccRecipients.Select(b => new SubmissionBcc(b.Id, b.Address.ToString())).ToList(), a.Settings.Mirrors.Where(m => verified.Contains(m.Domain.Value, StringComparer.OrdinalIgnoreCase)).Select(m => m.ToString()).ToList(),
                a.MirrorToken, a.Settings.SubmissionErrors == SubmissionErrors.Always5xx ? SubmissionAccount.Always5xxErrors : SubmissionAccount.Automatic,
                Accounts.ServiceLimits.For(owner.ServiceLevel).DailyMessages);
            text.Append(line.ToJsonLine()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The address the relays put in place of a null sender (and of a mail server's sender outside its account's domains):
    /// an envelope sender is only ever rewritten into the account's own verified domains. The postmaster address (the
    /// primary one when none is set) where its domain is one of <paramref name="verified"/> or under one, otherwise postmaster@ the
    /// login's own domain (which is verified: only such logins are published). Checked when the address is set, and here
    /// again, for a domain deleted, withdrawn or never verified since.
    /// </summary>
    public static string Postmaster(Accounts.Account owner, OutboundAccount login, IReadOnlyList<string> verified)
    {
        var chosen = owner.PostmasterEmail ?? owner.PrimaryEmail;
        return verified.Any(v => DomainName.TryParse(v, out var name, out _) && name.Contains(chosen.Domain))
            ? chosen.ToString() : $"postmaster@{login.Domain.Value}";
    }

    /// <summary>A local part no account has: the representative of "any other address".</summary>
    private const string Generic = "\u0001";

    private static string Escape(string text) => Regex.Escape(text).Replace("/", "\\/", StringComparison.Ordinal);
}
