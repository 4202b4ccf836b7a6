using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Domains.Verification;

/// <summary>Queue trigger: checks one domain's proof of control.</summary>
public sealed class VerifyDomainsFunction(VerificationCheck check) : QueueFunction<CheckRequest>(FunctionName, StorageNames.DomainVerificationsQueue, CheckRequest.Parse)
{
    public const string FunctionName = "VerifyDomains";

    protected override Task RunAsync(CheckRequest message, CancellationToken cancellationToken) => check.RunAsync(message, cancellationToken);
}
