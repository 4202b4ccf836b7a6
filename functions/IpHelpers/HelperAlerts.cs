using RelayFunctions.Accounts;
using RelayFunctions.Alerts;

namespace RelayFunctions.IpHelpers;

/// <summary>The alert a helper sends when it changes a domain's routing, worded as the seed's sample; once per change.</summary>
public sealed class HelperAlerts(AlertOnce alerts)
{
    /// <summary>The seed's sample; the sender puts the service tag in front of the subject ("[relay] IP Helper example.com").</summary>
    public static AlertMessage Compose(IpHelper helper, Account account, PendingChange change) => new(
        account.AlertEmail!.ToString(),
        $"IP Helper {helper.Domain}",
        $"{change.To.Describe()}\n--\nHelper alert: '{account.AlertEmail}' account '{account.Id}'.\nThis is an automated message.\n");

    public Task SendOnceAsync(IpHelper helper, Account account, CancellationToken cancellationToken) =>
        helper.Change is not { } change || !helper.Settings.AlertOnChange || account.AlertEmail is null || helper.LastCheckToken is null
            ? Task.CompletedTask
            : alerts.SendAsync($"helper|{helper.AccountId}|{helper.Domain.Value}", helper.LastCheckToken, Compose(helper, account, change), cancellationToken);
}
