using System.Text;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The hostile-input suite (issue 8): generated requests from a fixed seed over every route of both hosts, the
/// custom-handler invocations included, and what they may never do. Each test prints its figures; a failure lists every
/// offending request (seed index, method, path, headers, body) so that it can be sent again.
/// </summary>
public sealed class HostileInputTests(HostileCampaign campaign, ITestOutputHelper output) : IClassFixture<HostileCampaign>
{
    private const int ShownPerFailure = 40;

    [Fact]
    public void TenThousandRequestsReachEveryRouteOfBothHosts()
    {
        var byRoute = campaign.Answers.GroupBy(a => a.Request.Route).ToDictionary(g => g.Key, g => g.ToList());
        Print($"seed {campaign.Seed}: {campaign.Answers.Count} generated requests, {campaign.Sent} sent (setup and race bursts included); "
            + string.Join(", ", campaign.Phases.Select(p => $"{p.Key} {p.Value.TotalSeconds:0.0} s")));
        Print(Classes(campaign.Answers) + $"  ({HostileSender.Refused}: refused by the in-memory server before the app, where Kestrel answers 400)");
        int Count(Func<string, bool> problem) => campaign.Answers.Count(a => a.Problems.Any(problem));
        Print($"figures: {campaign.Sent} requests sent, {campaign.Answers.Count} answers judged (a race burst as one): 2xx {campaign.Answers.Count(a => a.Status / 100 == 2)}, 4xx {campaign.Answers.Count(a => a.Status / 100 == 4)}, "
            + $"5xx {campaign.Answers.Count(a => a.Status / 100 == 5)}; changes that stored an invalid value {Count(p => p.StartsWith("stored and answered", StringComparison.Ordinal))}; "
            + $"invalid values at rest {campaign.Audit.Invalid.Count} of {campaign.Audit.Values}; answers revealing the victim {Count(p => p.StartsWith("leak", StringComparison.Ordinal))}; "
            + $"answers without rights {Count(p => p.Contains("may not use", StringComparison.Ordinal))}; victim rows changed {campaign.VictimChanges.Count}; "
            + $"races with two winners {Count(p => p.Contains("only one may", StringComparison.Ordinal))}; 4xx not problem details {Count(p => p.Contains("problem+json", StringComparison.Ordinal))}");
        foreach (var (route, answers) in byRoute.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            Print($"  {answers.Count,5}  {route,-80} {answers.Average(a => a.Elapsed.TotalMilliseconds),6:0} ms  {Classes(answers)}");
        }
        Print("by kind of input:");
        foreach (var kind in campaign.Answers.GroupBy(a => Kind(a.Request.Mutation)).OrderByDescending(g => g.Count()).Take(60))
        {
            Print($"  {kind.Count(),5}  {kind.Key,-60} {Classes(kind)}");
        }
        if (campaign.Replay is not null)
        {
            foreach (var answer in campaign.Answers.OrderBy(a => a.Request.Index))
            {
                Print(answer.Describe(campaign.Log));
            }
            return;
        }
        Assert.True(campaign.Sent >= 10_000, $"only {campaign.Sent} requests were sent");
        var missed = campaign.Routes.Where(r => byRoute.GetValueOrDefault(r.Key)?.Count is not > 50).Select(r => r.Key).ToList();
        Assert.True(missed.Count == 0, "routes with 50 requests or fewer: " + string.Join(", ", missed));
    }

    [Fact]
    public void NoHostileRequestIsAnsweredWithA5xx()
    {
        var failed = With(p => p.Contains("the app failed", StringComparison.Ordinal));
        Print($"5xx answers: {failed.Count}; errors logged outside requests (standalone runners): {campaign.Log.OutsideRequests.Count}");
        foreach (var entry in campaign.Log.OutsideRequests.Distinct().Take(10))
        {
            Print("  runner: " + entry);
        }
        Verdict(Show(failed, "requests answered with a 5xx"));
    }

    [Fact]
    public void EveryRefusalIsAProblemDetailsDocument()
    {
        var failed = With(p => p.Contains("not application/problem+json", StringComparison.Ordinal));
        Print($"4xx answers: {campaign.Answers.Count(a => a.Status is >= 400 and < 500)}, not problem details: {failed.Count}");
        Verdict(Show(failed, "4xx answers that are not problem details"));
    }

    [Fact]
    public void NothingInvalidIsStored()
    {
        var answered = With(p => p.StartsWith("stored and answered", StringComparison.Ordinal));
        Print($"successful changes whose answer shows an invalid stored value: {answered.Count}");
        var changes = Show(answered, "changes that stored an invalid value");
        Print($"stored at the end: {campaign.Audit.Rows} rows ({string.Join(", ", campaign.Audit.ByTable.Select(t => $"{t.Key} {t.Value}"))}), "
            + $"{campaign.Audit.Values} values read back; invalid: {campaign.Audit.Invalid.Count}");
        foreach (var line in campaign.Audit.Invalid.Take(100))
        {
            Print("  " + line);
        }
        Verdict(changes, campaign.Audit.Invalid.Count == 0 ? null : $"{campaign.Audit.Invalid.Count} stored values are invalid");
    }

    [Fact]
    public void NoOtherCallerReadsOrChangesTheVictimsAccount()
    {
        var leaks = With(p => p.StartsWith("leak", StringComparison.Ordinal) || p.Contains("may not use this route", StringComparison.Ordinal));
        var races = With(p => p.Contains("only one may", StringComparison.Ordinal));
        var lookAlikes = campaign.Audit.Invalid.Where(i => i.Contains("of two accounts", StringComparison.Ordinal) && i.Contains(Cast.Victim, StringComparison.Ordinal)).ToList();
        Print($"victim rows changed: {campaign.VictimChanges.Count}; answers revealing the victim or served without rights: {leaks.Count}; "
            + $"races with more than one winner: {races.Count}; names held by another account that overlap or look like the victim's: {lookAlikes.Count}; "
            + $"victim check requests seen on the queues: {campaign.VictimMessagesSeen}; invocations with a message peeked from the queue: {campaign.QueuedMessagesReplayed}");
        foreach (var line in campaign.VictimChanges.Take(20).Concat(lookAlikes))
        {
            Print("  " + line);
        }
        Verdict(
            Show(leaks, "answers that reveal the victim or serve a caller without rights"),
            Show(races, "races with more than one winner"),
            campaign.VictimChanges.Count == 0 ? null : $"{campaign.VictimChanges.Count} of the victim's stored rows changed",
            lookAlikes.Count == 0 ? null : $"{lookAlikes.Count} names that overlap or look like the victim's are held by other accounts");
    }

    private List<Answer> With(Func<string, bool> problem) =>
        [.. campaign.Answers.Where(a => a.Problems.Any(problem)).OrderBy(a => a.Request.Index)];

    /// <summary>Prints the first offending requests in full; returns what to say of them all, or null when there are none.</summary>
    private string? Show(IReadOnlyList<Answer> failed, string what)
    {
        foreach (var answer in failed.Take(ShownPerFailure))
        {
            Print(answer.Describe(campaign.Log));
        }
        return failed.Count == 0
            ? null
            : $"{failed.Count} {what} (replay with RELAY_HOSTILE_SEED={campaign.Seed} RELAY_HOSTILE_REPLAY={string.Join(",", failed.Select(a => a.Request.Index).Take(100))})";
    }

    private static void Verdict(params string?[] failures)
    {
        var said = failures.OfType<string>().ToList();
        Assert.True(said.Count == 0, string.Join("; ", said) + "; see the output");
    }

    /// <summary>What kind of input a request was: its mutations without the values.</summary>
    private static string Kind(string mutation) =>
        string.Join("; ", mutation.Split("; ").Select(m => m.Split('=')[0].Split(" as ")[0].Split(" deep")[0].Split(" for ")[0].Split(" key ")[0])).Trim();

    private static string Classes(IEnumerable<Answer> answers)
    {
        var byClass = answers.GroupBy(a => a.Status / 100).OrderBy(g => g.Key).Select(g => $"{g.Key}xx {g.Count()}");
        var byStatus = answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}");
        return $"[{string.Join(", ", byClass)}] ({string.Join(" ", byStatus)})";
    }

    private void Print(string text) => output.WriteLine(new StringBuilder(text).Replace("\0", "\\0").ToString());
}
