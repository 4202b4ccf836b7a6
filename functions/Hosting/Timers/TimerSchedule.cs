using System.Diagnostics.CodeAnalysis;
using NCrontab;

namespace RelayFunctions.Hosting.Timers;

/// <summary>A six-field NCRONTAB schedule (seconds first) in UTC, as the Functions timer trigger reads it.</summary>
public sealed class TimerSchedule
{
    private readonly CrontabSchedule _schedule;

    private TimerSchedule(CrontabSchedule schedule, string expression)
    {
        _schedule = schedule;
        Expression = expression;
    }

    public string Expression { get; }

    public static TimerSchedule Parse(string expression) =>
        TryParse(expression, out var schedule)
            ? schedule
            : throw new FormatException($"'{expression}' is not a six-field NCRONTAB expression (second minute hour day month day-of-week).");

    public static bool TryParse(string? expression, [NotNullWhen(true)] out TimerSchedule? schedule)
    {
        var parsed = string.IsNullOrWhiteSpace(expression)
            ? null
            : CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        schedule = parsed is null ? null : new TimerSchedule(parsed, expression!);
        return schedule is not null;
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset after)
    {
        var next = _schedule.GetNextOccurrence(after.UtcDateTime);
        return new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc));
    }
}
