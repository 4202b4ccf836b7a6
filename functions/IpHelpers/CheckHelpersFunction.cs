using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.IpHelpers;

/// <summary>Queue trigger: runs the helper checks of one batch.</summary>
public sealed class CheckHelpersFunction(HelperCheck check) : IQueueFunction
{
    public const string FunctionName = "CheckHelpers";
    public const string Queue = StorageNames.HelperChecksQueue;

    public string Name => FunctionName;

    public string QueueName => Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        check.RunAsync(CheckBatch.Parse(message.Body), cancellationToken);
}
