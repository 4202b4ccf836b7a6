using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Scheduling;

/// <summary>Timer trigger: enqueues a check for every IP helper, domain verification and source-filter lookup that is due or flagged.</summary>
public sealed class ScheduleChecksFunction(
    CheckScheduler helpers, VerificationScheduler verifications, FilterScheduler filters, IOptions<HelperOptions> options) : ITimerFunction
{
    public const string FunctionName = "ScheduleChecks";

    public string Name => FunctionName;

    public string Schedule => options.Value.Schedule;

    public Task RunAsync(TimerInfo timer, CancellationToken cancellationToken) =>
        Task.WhenAll(helpers.TickAsync(cancellationToken), verifications.TickAsync(cancellationToken), filters.TickAsync(cancellationToken));
}
