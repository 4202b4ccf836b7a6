using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Domains.Verification;

/// <summary>Queue trigger: checks one domain's proof of control.</summary>
public sealed class VerifyDomainsFunction(VerificationCheck check) : IQueueFunction
{
    public const string FunctionName = "VerifyDomains";
    public const string Queue = StorageNames.DomainVerificationsQueue;

    public string Name => FunctionName;

    public string QueueName => Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        check.RunAsync(CheckRequest.Parse(message.Body), cancellationToken);
}
