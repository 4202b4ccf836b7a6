using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;

namespace RelayFunctions.Development;

/// <summary>
/// With <c>Sample:Seed=true</c> (scripts/run-local.sh --sample), creates the account <c>demo</c> and its
/// domain <c>demo.example</c> (verified, as an operator would) on start, so a fresh local run has something to show. Leaves existing data alone.
/// </summary>
public sealed partial class SampleData(
    AccountStore accounts, DomainStore domains, DomainClaims claims, TimeProvider time, ILogger<SampleData> logger) : IHostedService
{
    public const string Account = "demo";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(Account, cancellationToken) is null)
        {
            EmailAddress.TryParse("owner@demo.example", out var primary, out _);
            EmailAddress.TryParse("alerts@demo.example", out var alerts, out _);
            await accounts.PutAsync(Account, new AccountSettings(ServiceLevel.Standard, primary!, alerts, null), null, cancellationToken);
        }
        var name = DomainName.Parse("demo.example");
        if (await domains.FindAsync(Account, name, cancellationToken) is null)
        {
            await domains.CreateAsync(Account, name, new DomainSettings(DomainMode.Hold, null, ["@demo.example"], DomainSettings.DefaultMessageSizeLimit), cancellationToken);
            // No DNS proves a sample domain: it is verified on the operator's word, as an operator would.
            if ((await claims.ClaimAsync(Account, name, cancellationToken)).Conflict is null)
            {
                await domains.UpdateVerificationAsync(Account, name, d => VerificationRules.ByOperator(d.Verification, time.GetUtcNow()), cancellationToken);
            }
        }
        Log.Seeded(logger, Account);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Sample data is in place: account {Account} with domain demo.example")]
        public static partial void Seeded(ILogger logger, string account);
    }
}
