using RelayFunctions.Domains.Verification;

namespace RelayFunctions.Tests.Domains;

/// <summary>The verification life cycle as pure rules: pending, verified, lapsing, withdrawn.</summary>
[Trait("Category", "Fast")]
public sealed class VerificationRulesTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly VerificationOptions Options = new();
    private static readonly Proof Found = new Proof.Found(VerificationMethods.Txt, "found");
    private static readonly Proof Absent = new Proof.Absent("no record");
    private static readonly Proof Failed = new Proof.Failed("SERVFAIL");

    [Fact]
    public void AFoundProofVerifiesAPendingDomainAndSchedulesTheDailyRecheck()
    {
        var next = VerificationRules.Next(DomainVerification.New(Start), Found, Start, Options);
        Assert.Equal(VerificationState.Verified, next.State);
        Assert.True(next.IsPublished);
        Assert.Equal(VerificationMethods.Txt, next.Method);
        Assert.Equal(Start, next.VerifiedAt);
        Assert.Equal(Start + Options.RecheckInterval, next.NextCheck);
    }

    [Theory]
    [InlineData(0, 60)]
    [InlineData(30, 60)]
    [InlineData(600, 600)]
    [InlineData(3 * 3600, 3600)]
    public void APendingDomainWithoutProofIsCheckedAgainAfterAsLongAsItHasWaitedBetweenAMinuteAndAnHour(int waitedSeconds, int delaySeconds)
    {
        var now = Start.AddSeconds(waitedSeconds);
        var next = VerificationRules.Next(DomainVerification.New(Start), Absent, now, Options);
        Assert.Equal(VerificationState.Pending, next.State);
        Assert.Equal(now.AddSeconds(delaySeconds), next.NextCheck);
        Assert.Equal("no record", next.Reason);
    }

    [Fact]
    public void APendingDomainIsNoLongerCheckedAfterAWeekUntilAskedAgain()
    {
        var now = Start + Options.PendingChecksFor;
        var next = VerificationRules.Next(DomainVerification.New(Start), Absent, now, Options);
        Assert.Null(next.NextCheck);
        var asked = VerificationRules.CheckNow(next, now);
        Assert.Equal(now, asked.NextCheck);
        Assert.Equal(now, asked.PendingSince);
        Assert.Equal(now + Options.FirstRetry, VerificationRules.Next(asked, Absent, now, Options).NextCheck);
    }

    [Fact]
    public void AVerifiedDomainThatLosesItsProofLapsesStaysPublishedAndIsWithdrawnAfterTheGracePeriod()
    {
        var verified = VerificationRules.Next(DomainVerification.New(Start), Found, Start, Options);
        var lost = Start.AddDays(1);
        var lapsing = VerificationRules.Next(verified, Absent, lost, Options);
        Assert.Equal(VerificationState.Lapsing, lapsing.State);
        Assert.True(lapsing.IsPublished);
        Assert.Equal(lost, lapsing.LapsingSince);
        Assert.Equal(lost + Options.MaximumRetry, lapsing.NextCheck);
        Assert.Contains("stays in service until", lapsing.Reason);

        var later = VerificationRules.Next(lapsing, Absent, lost.AddHours(5), Options);
        Assert.Equal(VerificationState.Lapsing, later.State);

        // The last hourly check of the grace period lands on its end.
        var last = VerificationRules.Next(lapsing, Absent, lost + Options.GracePeriod - TimeSpan.FromMinutes(10), Options);
        Assert.Equal(lost + Options.GracePeriod, last.NextCheck);

        var withdrawn = VerificationRules.Next(lapsing, Absent, lost + Options.GracePeriod, Options);
        Assert.Equal(VerificationState.Pending, withdrawn.State);
        Assert.False(withdrawn.IsPublished);
        Assert.Null(withdrawn.VerifiedAt);
        Assert.StartsWith("Withdrawn from service", withdrawn.Reason);
        Assert.Equal(lost + Options.GracePeriod + Options.FirstRetry, withdrawn.NextCheck);
    }

    [Fact]
    public void TheProofComingBackEndsTheLapse()
    {
        var verified = VerificationRules.Next(DomainVerification.New(Start), Found, Start, Options);
        var lapsing = VerificationRules.Next(verified, Absent, Start.AddDays(1), Options);
        var back = VerificationRules.Next(lapsing, Found, Start.AddDays(1).AddHours(2), Options);
        Assert.Equal(VerificationState.Verified, back.State);
        Assert.Null(back.LapsingSince);
        Assert.Equal(Start, back.VerifiedAt);
    }

    [Fact]
    public void FailedLookupsNeverChangeTheStateNorWithdrawADomain()
    {
        var verified = VerificationRules.Next(DomainVerification.New(Start), Found, Start, Options);
        var stillVerified = VerificationRules.Next(verified, Failed, Start.AddDays(1), Options);
        Assert.Equal(VerificationState.Verified, stillVerified.State);
        Assert.Equal(Start.AddDays(1) + Options.FailedRetry, stillVerified.NextCheck);

        var lapsing = VerificationRules.Next(verified, Absent, Start.AddDays(1), Options);
        var failedAfterGrace = VerificationRules.Next(lapsing, Failed, Start.AddDays(10), Options);
        Assert.Equal(VerificationState.Lapsing, failedAfterGrace.State);

        var pending = VerificationRules.Next(DomainVerification.New(Start), Failed, Start, Options);
        Assert.Equal(VerificationState.Pending, pending.State);
        Assert.Equal(Start + Options.FailedRetry, pending.NextCheck);
    }

    [Fact]
    public void AnOperatorsWordIsVerifiedWithNoCheckScheduled()
    {
        var vouched = VerificationRules.ByOperator(DomainVerification.New(Start), Start);
        Assert.Equal(VerificationState.Verified, vouched.State);
        Assert.Equal(VerificationMethods.Operator, vouched.Method);
        Assert.Null(vouched.NextCheck);
    }

    [Fact]
    public void TokensAreLongRandomAndFitATxtRecord()
    {
        var tokens = Enumerable.Range(0, 1000).Select(_ => DomainVerification.NewToken()).ToList();
        Assert.Equal(1000, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.Matches("^[a-z2-7]{26}$", t));
    }
}
