using RelayFunctions.Accounts;
using RelayFunctions.Domains;

namespace RelayFunctions.Hosting;

/// <summary>
/// With <c>Sample:Seed=true</c> (scripts/run-local.sh --sample), creates the account <c>acme</c> and its
/// domain <c>acme.example</c> on start, so a fresh local run has something to show. Leaves existing data alone.
/// </summary>
public sealed partial class SampleData(AccountStore accounts, DomainStore domains, ILogger<SampleData> logger) : IHostedService
{
    public const string Account = "acme";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(Account, cancellationToken) is null)
        {
            EmailAddress.TryParse("owner@acme.example", out var primary, out _);
            EmailAddress.TryParse("alerts@acme.example", out var alerts, out _);
            await accounts.PutAsync(Account, new AccountSettings(ServiceLevel.Standard, primary!, alerts, null), null, cancellationToken);
        }
        var name = DomainName.Parse("acme.example");
        if (await domains.FindAsync(Account, name, cancellationToken) is null)
        {
            await domains.CreateAsync(Account, name, new DomainSettings(DomainMode.Hold, null, ["@acme.example"], DomainSettings.DefaultMessageSizeLimit), cancellationToken);
        }
        Log.Seeded(logger, Account);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Sample data is in place: account {Account} with domain acme.example")]
        public static partial void Seeded(ILogger logger, string account);
    }
}
