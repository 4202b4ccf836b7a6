using Microsoft.Extensions.Time.Testing;
using RelayAgent;
using RelayAgent.Submission;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// The counting behind the relay's temporary blocks, on a fake clock: failures per address in a sliding window, blocks
/// that end on time, and repeat offenders blocked twice as long each time within a day, at most a day.
/// </summary>
[Trait("Category", "Fast")]
public sealed class AuthFailuresTests
{
    private const string Guesser = "192.0.2.7";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
    private readonly AuthFailures _failures;

    public AuthFailuresTests() => _failures = new AuthFailures(new AgentOptions(), _time);

    [Fact]
    public void TenFailuresWithinTenMinutesBlockTheAddressForFifteenMinutes()
    {
        for (var i = 0; i < 9; i++)
        {
            Assert.Null(_failures.Fail(Guesser));
            _time.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.Null(_failures.Fail("2001:db8::7"));

        var block = _failures.Fail(Guesser);

        Assert.Equal(new AuthBlock(Guesser, _time.GetUtcNow().AddMinutes(15), 10, 1, "10 failed authentications within 00:10:00"), block);
        Assert.Equal([block!], _failures.Active);
    }

    [Fact]
    public void FailuresOlderThanTheWindowNoLongerCount()
    {
        for (var i = 0; i < 9; i++)
        {
            Assert.Null(_failures.Fail(Guesser));
        }
        _time.Advance(TimeSpan.FromMinutes(10));
        for (var i = 0; i < 9; i++)
        {
            Assert.Null(_failures.Fail(Guesser));
        }
        Assert.NotNull(_failures.Fail(Guesser));
    }

    [Fact]
    public void ABlockEndsOnTimeAndFailuresDuringItDoNotLengthenIt()
    {
        var block = BlockGuesser();
        _time.Advance(TimeSpan.FromMinutes(14));
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(_failures.Fail(Guesser));
        }
        Assert.Empty(_failures.Expire());
        Assert.Single(_failures.Active);

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal([block], _failures.Expire());
        Assert.Empty(_failures.Active);
        Assert.Empty(_failures.Expire());
    }

    [Fact]
    public void EachRepeatWithinADayOfTheLastBlockLastsTwiceAsLongUpToADay()
    {
        var minutes = new List<double>();
        for (var i = 0; i < 9; i++)
        {
            var block = BlockGuesser();
            Assert.Equal(i + 1, block.Level);
            minutes.Add((block.Until - _time.GetUtcNow()).TotalMinutes);
            _time.Advance(block.Until - _time.GetUtcNow());
            Assert.Equal([block], _failures.Expire());
            _time.Advance(TimeSpan.FromHours(23));
            _failures.Expire();
        }
        Assert.Equal([15, 30, 60, 120, 240, 480, 960, 1440, 1440], minutes);
    }

    [Fact]
    public void ABlockMoreThanADayAfterTheLastStartsOverAtFifteenMinutes()
    {
        BlockGuesser();
        _time.Advance(TimeSpan.FromMinutes(15));
        _failures.Expire();
        _time.Advance(AuthFailures.Day);
        _failures.Expire();

        var block = BlockGuesser();

        Assert.Equal(1, block.Level);
        Assert.Equal(_time.GetUtcNow().AddMinutes(15), block.Until);
    }

    [Fact]
    public void ARestoredBlockEndsWhenItWouldHave()
    {
        var restored = new AuthBlock(Guesser, _time.GetUtcNow().AddMinutes(3), 10, 2, "restored");
        _failures.Restore(restored);
        _failures.Restore(restored with { Address = "198.51.100.1", Until = _time.GetUtcNow().AddMinutes(-1) });

        Assert.Equal(["198.51.100.1"], _failures.Expire().Select(b => b.Address));
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal([restored], _failures.Expire());
    }

    [Theory]
    [InlineData("Dec  2 17:44:13 relay.test postfix/submission/smtpd[4242]: warning: unknown[127.0.0.3]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice@cust.example", "127.0.0.3")]
    [InlineData("Dec  2 17:44:13 relay postfix/smtps/smtpd[7]: warning: mail.example.net[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", "192.0.2.7")]
    [InlineData("2026-12-02T17:44:13.123456+00:00 relay postfix/smtpd[7]: warning: unknown[2001:db8::7]: SASL PLAIN authentication failed: ", "2001:db8::7")]
    [InlineData("Dec  2 17:44:13 relay postfix/smtpd[7]: warning: unknown[::1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", "::1")]
    [InlineData("Dec 12 17:44:13 relay postfix/smtpd[7]: warning: unknown[192.0.2.7]: SASL PLAIN authentication failed: x", "192.0.2.7")]
    [InlineData("Dec  2 17:44:13 relay postfix/smtpd[7]: lost connection after AUTH from unknown[192.0.2.7]", null)]
    [InlineData("Dec  2 17:44:13 relay postfix/smtpd[7]: warning: unknown[192.0.2.7]: SASL CRAM-MD5 authentication failed: x", null)]
    [InlineData("Dec  2 17:44:13 relay postfix/smtpd[7]: warning: unknown[not.an.address]: SASL PLAIN authentication failed: x", null)]
    [InlineData("Dec  2 17:44:13 relay postfix/cleanup[7]: 4dTqzK: message-id=<x postfix/smtpd[1]: warning: unknown[192.0.2.7]: SASL PLAIN authentication failed>", null)]
    public void TheClientAddressOfAFailedAuthIsReadFromPostfixsLogLine(string line, string? address) =>
        Assert.Equal(address, AuthGuard.FailedAddress(line));

    private AuthBlock BlockGuesser()
    {
        for (var i = 0; i < 9; i++)
        {
            Assert.Null(_failures.Fail(Guesser));
        }
        return _failures.Fail(Guesser) ?? throw new InvalidOperationException("the 10th failure did not block");
    }
}
