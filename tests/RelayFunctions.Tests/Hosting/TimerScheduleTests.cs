using RelayFunctions.Hosting.Timers;

namespace RelayFunctions.Tests.Hosting;

[Trait("Category", "Fast")]
public sealed class TimerScheduleTests
{
    [Fact]
    public void SixFieldExpressionsIncludeSecondsAndRunInUtc()
    {
        var everyMinute = TimerSchedule.Parse("0 * * * * *");
        var at = new DateTimeOffset(2026, 11, 23, 10, 15, 30, TimeSpan.FromHours(2));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 8, 16, 0, TimeSpan.Zero), everyMinute.NextAfter(at));

        var everyFiveSeconds = TimerSchedule.Parse("*/5 * * * * *");
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 5, TimeSpan.Zero), everyFiveSeconds.NextAfter(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("* * * * *")]
    [InlineData("every minute")]
    [InlineData("61 * * * * *")]
    public void FiveFieldOrMalformedExpressionsAreRefused(string expression)
    {
        Assert.Throws<FormatException>(() => TimerSchedule.Parse(expression));
    }
}
