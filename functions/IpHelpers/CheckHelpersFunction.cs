using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.IpHelpers;

/// <summary>Queue trigger: runs the helper checks of one batch.</summary>
public sealed class CheckHelpersFunction(HelperCheck check) : QueueFunction<CheckBatch>(FunctionName, StorageNames.HelperChecksQueue, CheckBatch.Parse)
{
    public const string FunctionName = "CheckHelpers";

    protected override Task RunAsync(CheckBatch message, CancellationToken cancellationToken) => check.RunAsync(message, cancellationToken);
}
