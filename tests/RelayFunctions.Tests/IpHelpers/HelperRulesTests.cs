using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Destinations;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>The helper's rules as pure logic: classification, routing decision, next check.</summary>
[Trait("Category", "Fast")]
public sealed class HelperRulesTests
{
    private static readonly DestinationPolicy Policy = new(Options.Create(new DestinationOptions()));

    private static Lookup A(params (string Address, int Ttl)[] records) =>
        new("A", records.Select(r => new AddressRecord(IPAddress.Parse(r.Address), r.Ttl)).ToList(), LookupError.None);

    [Fact]
    public void PublicAddressesResolveWithTheSmallestTtlAndPrivateOnesAreLeftOut()
    {
        var outcome = CheckOutcome.Classify([A(("1.2.3.4", 300), ("10.0.0.1", 30), ("5.6.7.8", 120))], Policy);
        Assert.Equal(OutcomeKind.Resolved, outcome.Kind);
        Assert.Equal([IPAddress.Parse("1.2.3.4"), IPAddress.Parse("5.6.7.8")], outcome.Addresses);
        Assert.Equal(120, outcome.Ttl);
    }

    [Fact]
    public void OnlyNonPublicAddressesAreInvalid()
    {
        var outcome = CheckOutcome.Classify([A(("192.168.0.10", 60), ("127.0.0.1", 60))], Policy);
        Assert.Equal(OutcomeKind.Invalid, outcome.Kind);
        Assert.Contains("192.168.0.10", outcome.Reason);
    }

    [Theory]
    [InlineData(LookupError.NameDoesNotExist, OutcomeKind.Invalid, "NXDOMAIN")]
    [InlineData(LookupError.None, OutcomeKind.Invalid, "NODATA")]
    [InlineData(LookupError.ServerFailure, OutcomeKind.Failed, "failed")]
    [InlineData(LookupError.Timeout, OutcomeKind.Failed, "timed out")]
    [InlineData(LookupError.Unreachable, OutcomeKind.Failed, "reached")]
    public void AnswersWithoutAddressesAreClassifiedByTheirError(LookupError error, OutcomeKind kind, string reason)
    {
        var outcome = CheckOutcome.Classify([new Lookup("A", [], error)], Policy);
        Assert.Equal(kind, outcome.Kind);
        Assert.Contains(reason, outcome.Reason);
    }

    [Fact]
    public void AValidAddressFromEitherFamilyWinsOverAFailedQueryOfTheOther()
    {
        var outcome = CheckOutcome.Classify(
            [new Lookup("A", [], LookupError.Timeout), new Lookup("AAAA", [new(IPAddress.Parse("2606:4700::1"), 60)], LookupError.None)], Policy);
        Assert.Equal(OutcomeKind.Resolved, outcome.Kind);
        var failed = CheckOutcome.Classify([new Lookup("A", [], LookupError.None), new Lookup("AAAA", [], LookupError.Timeout)], Policy);
        Assert.Equal(OutcomeKind.Failed, failed.Kind);
    }

    [Fact]
    public void TheAddressInUseIsKeptWhileOfferedAndOtherwiseOneIsPickedAtRandom()
    {
        var offered = CheckOutcome.Classify([A(("1.1.1.1", 60), ("2.2.2.2", 60), ("3.3.3.3", 60))], Policy);
        var inUse = new Routing(DomainMode.Redirect, new Destination("2.2.2.2", 2525));
        for (var seed = 0; seed < 20; seed++)
        {
            Assert.Same(inUse, RoutingDecision.Decide(offered, inUse, 2525, new Random(seed)));
        }

        // A different port, or the address gone: a new pick among the offered, spread over all of them.
        var picks = Enumerable.Range(0, 60)
            .Select(seed => RoutingDecision.Decide(offered, new Routing(DomainMode.Hold, null), 2525, new Random(seed)))
            .ToList();
        Assert.All(picks, p => Assert.Equal(DomainMode.Redirect, p.Mode));
        Assert.All(picks, p => Assert.Equal(2525, p.Destination!.Port));
        Assert.Equal(["1.1.1.1", "2.2.2.2", "3.3.3.3"], picks.Select(p => p.Destination!.Host).Distinct().Order());
        Assert.Equal(587, RoutingDecision.Decide(offered, inUse, 587, new Random(1)).Destination!.Port);
    }

    [Fact]
    public void AFailedOrInvalidCheckHoldsAndKeepsTheLastDestination()
    {
        var current = new Routing(DomainMode.Redirect, new Destination("2.2.2.2", 25));
        var held = RoutingDecision.Decide(CheckOutcome.Classify([new Lookup("A", [], LookupError.Timeout)], Policy), current, 25, new Random(1));
        Assert.Equal(new Routing(DomainMode.Hold, current.Destination), held);
    }

    [Theory]
    [InlineData(OutcomeKind.Resolved, 3600, 3600)]
    [InlineData(OutcomeKind.Resolved, 5, 60)]
    [InlineData(OutcomeKind.Resolved, 0, 60)]
    [InlineData(OutcomeKind.Resolved, 604800, 86400)]
    [InlineData(OutcomeKind.Failed, null, 300)]
    [InlineData(OutcomeKind.Invalid, null, 3600)]
    public void TheNextCheckFollowsTheTtlOrTheRetryOfTheOutcome(OutcomeKind kind, int? ttl, int seconds)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        var outcome = new CheckOutcome(kind, kind == OutcomeKind.Resolved ? [IPAddress.Parse("1.2.3.4")] : [], [], ttl, "");
        Assert.Equal(time.GetUtcNow().AddSeconds(seconds), RoutingDecision.NextCheck(outcome, time.GetUtcNow(), new HelperOptions()));
    }

    [Fact]
    public void RoutingIsDescribedAsTheSeedsAlertSample()
    {
        Assert.Equal("SMTP Redirection to 1.2.3.4:2525", new Routing(DomainMode.Redirect, new Destination("1.2.3.4", 2525)).Describe());
        Assert.Equal("SMTP Redirection to [2001:db8::1]:25", new Routing(DomainMode.Redirect, new Destination("2001:db8::1", 25)).Describe());
        Assert.Equal("Accept and Hold Messages", new Routing(DomainMode.Hold, null).Describe());
    }
}
