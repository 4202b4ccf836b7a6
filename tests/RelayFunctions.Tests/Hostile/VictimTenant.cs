using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Azure.Data.Tables;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The victim: an account with a domain in every mode, IP helpers (attached, and followed for a host name), verified
/// and pending domains, and addresses, set up with valid requests before the run and settled (its first checks run) so
/// that nothing about it is due while the attackers work. What it stored then is its snapshot; what no attacker was
/// ever told are its <see cref="Secrets"/>.
/// </summary>
internal sealed class VictimTenant
{
    private static readonly string[] LocalParts = ["owner-q7w3", "alerts-z9p4", "pm-r5t8"];

    /// <summary>Strings only the victim and the operator may ever see, by what they are.</summary>
    public List<(string What, string Value)> Secrets { get; } =
    [
        .. LocalParts.Select(l => ("e-mail address", l)), ("e-mail domain", Cast.VictimMail), ("recipient", "sales-h3k9"),
        .. Cast.VictimHiddenHosts.Select(h => ("destination host", h.Split('.')[0])), .. Cast.VictimHidden.Select(n => ("domain name", n.Split('.')[0])),
    ];

    /// <summary>The victim's ETags as the API gave them: an attacker sends them in If-Match.</summary>
    public List<string> ETags { get; } = [];

    public static async Task<VictimTenant> SetUpAsync(AppFactory app, Func<Task> settle)
    {
        var victim = new VictimTenant();
        var ops = app.ClientFor(Cast.Operator, "operator");
        var owner = app.ClientFor(Cast.Victim);
        await Ok(ops.PutAsJsonAsync($"/api/admin/accounts/{Cast.Victim}", new
        {
            serviceLevel = "enterprise",
            primaryEmail = $"{LocalParts[0]}@{Cast.VictimMail}",
            alertEmail = $"{LocalParts[1]}@{Cast.VictimMail}",
        }));
        foreach (var account in Cast.Attackers)
        {
            await Ok(ops.PutAsJsonAsync($"/api/admin/accounts/{account}", new { serviceLevel = "standard", primaryEmail = $"owner@{account}.example", alertEmail = $"alerts@{account}.example" }));
        }
        object[] domains =
        [
            new { name = "acme-victim.example", mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 2525, recipients = new[] { "sales-h3k9@acme-victim.example" } },
            new { name = "b\u00fccher-victim.example", mode = "hold" },
            new { name = "victim-redirect-name.example", mode = "redirect", destinationHost = Cast.VictimHiddenHosts[1], destinationPort = 25 },
            new { name = "victim-backup.example", mode = "backup-mx", messageSizeLimit = 2097152 },
            new { name = Cast.VictimHidden[0], mode = "hold" },
            new { name = Cast.VictimHidden[1], mode = "hold" },
            new { name = Cast.VictimExposed[6], mode = "hold" },
        ];
        foreach (var body in domains)
        {
            await Ok(owner.PostAsJsonAsync("/api/domains", body));
        }
        await Ok(owner.PutAsJsonAsync("/api/domains/b\u00fccher-victim.example/ip-helper", new { destinationHost = Cast.VictimHiddenHosts[0], destinationPort = 2525, alertOnChange = true }));
        foreach (var name in new[] { "acme-victim.example", "xn--bcher-victim-dlb.example", "victim-redirect-name.example", Cast.VictimHidden[0], Uri.EscapeDataString(Cast.VictimExposed[6]) })
        {
            await Ok(ops.PostAsync($"/api/admin/accounts/{Cast.Victim}/domains/{name}/verify", null));
        }

        // Its postmaster address, at one of its verified domains (the only place one may be).
        await Ok(ops.PutAsJsonAsync($"/api/admin/accounts/{Cast.Victim}", new
        {
            serviceLevel = "enterprise",
            primaryEmail = $"{LocalParts[0]}@{Cast.VictimMail}",
            alertEmail = $"{LocalParts[1]}@{Cast.VictimMail}",
            postmasterEmail = $"{LocalParts[2]}@acme-victim.example",
        }));

        // Its first checks, so that none is due during the run (every retry is an hour or more away).
        await settle();

        var list = await (await owner.GetAsync("/api/domains")).ReadJsonAsync();
        foreach (var d in list.GetProperty("domains").EnumerateArray())
        {
            var token = d.GetProperty("verification").GetProperty("recordValue").GetString()![VerificationOptions.RecordPrefix.Length..];
            victim.Secrets.Add(("verification token", token));
            var name = d.GetProperty("name").GetString()!;
            foreach (var path in new[] { $"/api/domains/{name}", $"/api/domains/{name}/ip-helper" })
            {
                var response = await owner.GetAsync(path);
                if (response.Headers.ETag is { } tag)
                {
                    victim.ETags.Add(tag.ToString());
                }
            }
        }
        victim.ETags.Add((await owner.GetAsync("/api/account")).Headers.ETag!.ToString());
        return victim;
    }

    /// <summary>Every stored row that is the victim's, as text: ETag, timestamp and every property.</summary>
    public static async Task<SortedDictionary<string, string>> SnapshotAsync(StorageClients storage)
    {
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in StorageNames.Tables)
        {
            await foreach (var e in storage.Table(table).QueryAsync<TableEntity>())
            {
                if (table == "DomainFamilies")
                {
                    var held = (EntityText.Read<List<DomainClaims.Member>>(e, "MemberChunks", "Members") ?? []).Where(m => m.Account == Cast.Victim).Select(m => m.Name).Order();
                    if (held.Any())
                    {
                        rows[$"{table}({e.PartitionKey}) held by the victim"] = string.Join(", ", held);
                    }
                }
                else if (e.PartitionKey == Cast.Victim || e.PartitionKey.StartsWith(Cast.Victim + "|", StringComparison.Ordinal) || e.RowKey.StartsWith(Cast.Victim + "|", StringComparison.Ordinal))
                {
                    rows[$"{table}({e.PartitionKey}, {e.RowKey})"] = Describe(e);
                }
            }
        }
        return rows;
    }

    private static string Describe(TableEntity e)
    {
        var text = new StringBuilder($"ETag {e.ETag}");
        foreach (var (name, value) in e.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append($"; {name}={Convert.ToString(value, CultureInfo.InvariantCulture)}");
        }
        return text.ToString();
    }

    private static async Task Ok(Task<HttpResponseMessage> call)
    {
        var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"setting up the victim: {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

}
