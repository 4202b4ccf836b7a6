using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Domains.Verification;

/// <summary>Queue trigger: checks one domain's proof of control.</summary>
public sealed class VerifyDomainsFunction(VerificationCheck check) : QueueFunction<CheckRequest>(FunctionName, Queue, CheckRequest.Parse)
{
    public const string FunctionName = "VerifyDomains";
    public const string Queue = "domain-verifications";

    protected override Task RunAsync(CheckRequest message, CancellationToken cancellationToken) => check.RunAsync(message, cancellationToken);
}
