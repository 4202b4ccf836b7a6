using Microsoft.Extensions.Options;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Outbound;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Helpers;

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

/// <summary>Enqueues checks on <c>helper-checks</c> for every helper whose due time has come, in batches.</summary>
public sealed class CheckScheduler(ScheduleIndex index, QueueWriter queues, TimeProvider time, IOptions<HelperOptions> options, ILogger<CheckScheduler> logger)
    : DueScheduler(index, queues, CheckHelpersFunction.Queue, "helpers", time, options, logger, options.Value.CheckBatchSize);

/// <summary>Queue trigger: runs the helper checks of one batch.</summary>
public sealed class CheckHelpersFunction(HelperCheck check) : IQueueFunction
{
    public const string FunctionName = "CheckHelpers";
    public const string Queue = "helper-checks";

    public string Name => FunctionName;

    public string QueueName => Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        check.RunAsync(CheckBatch.Parse(message.Body), cancellationToken);
}

