namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The accounts of the hostile run and the names they use. The victim is set up before the run with valid requests and
/// is never the caller of a fuzzed request; the attackers know the victim's <see cref="VictimExposed"/> names (and attack
/// them, in every disguise) but never its <see cref="VictimHidden"/> ones, its tokens, destinations or addresses, so any
/// answer to them that holds one of those was given away.
/// </summary>
internal static class Cast
{
    public const string Victim = "victim";
    public const string Operator = "ops";
    public const string Unregistered = "eve";
    public static readonly string[] Attackers = ["mallory", "trudy"];

    /// <summary>Accounts an operator creates during the run (and may replace): never the victim.</summary>
    public static readonly string[] Extra = ["acct-a", "acct-b", "acct-c", "acct-d"];

    public static readonly string[] VictimExposed =
    [
        "acme-victim.example", "b\u00fccher-victim.example", "xn--bcher-victim-dlb.example", "victim-redirect-name.example",
        "victim-backup.example", "victim-parent.example", "\u0915\u094d\u0937-victim.example",
    ];

    /// <summary>Names the victim holds that no request ever names: one under an exposed name, one on its own.</summary>
    public static readonly string[] VictimHidden = ["h7q2k9.victim-parent.example", "p8x3m1-victim.example"];

    /// <summary>Where the victim's mail goes and who it is: never sent by anyone but the victim's own setup.</summary>
    public const string VictimMail = "victim-mail-k2.example";

    public static readonly string[] VictimHiddenHosts = ["dyn-j4m8.victim-dns.example", "mx-w2c6.victim-dns.example"];

    /// <summary>Domains of the first attacker that only the sweep changes: one it patches, one whose IP helper it replaces.</summary>
    public static readonly string[] SweepDomains = ["patch.mallory-sweep.example", "helper.mallory-sweep.example"];

    /// <summary>The names an attacker registers, in several families and under real public suffixes.</summary>
    public static IReadOnlyList<string> OwnNames(string account) => Names.GetValueOrDefault(account) ?? Names[Attackers[0]];

    private static readonly Dictionary<string, IReadOnlyList<string>> Names = Attackers.ToDictionary(a => a, a => (IReadOnlyList<string>)
    [
        .. Enumerable.Range(0, 8).Select(i => $"{a}{i}.example"),
        .. Enumerable.Range(0, 4).Select(i => $"mail.{a}{i}.example"),
        .. Enumerable.Range(0, 3).Select(i => $"b\u00fccher-{a}{i}.example"),
        $"{a}.co.uk", $"{a}.github.io", $"lists.{a}.co.uk", $"{a}-\u0430pple.example", $"{a}-\u00e9t\u00e9.example", $"{a}.xn--p1ai",
    ]);
}
