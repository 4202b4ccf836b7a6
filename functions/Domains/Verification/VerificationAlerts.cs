using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Alerts;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// Tells the account, at its alert address (else its primary address), when a domain's proof of control is lost and
/// when the domain is withdrawn for it; once per event. The SPA shows the same under the domain's verification.
/// </summary>
public sealed class VerificationAlerts(AccountStore accounts, AlertOnce alerts, IOptions<VerificationOptions> options)
{
    public async Task SendOnceAsync(MailDomain domain, DomainVerification before, string token, CancellationToken cancellationToken)
    {
        var after = domain.Verification;
        var (subject, body) = (before.State, after.State) switch
        {
            (VerificationState.Verified, VerificationState.Lapsing) => (
                $"Domain {domain.Name.Unicode}: proof of control lost",
                $"The proof that your account controls {domain.Name.Unicode} is gone: {after.Reason}\n"
                + $"Restore the TXT record {VerificationOptions.RecordName}.{domain.Name.Value} with \"{VerificationOptions.RecordPrefix}{after.Token}\""
                + $" within {options.Value.GracePeriod.TotalHours:0} hours, or mail for the domain will no longer be relayed."),
            (VerificationState.Lapsing, VerificationState.Pending) => (
                $"Domain {domain.Name.Unicode}: withdrawn from service",
                $"Mail for {domain.Name.Unicode} is no longer relayed: {after.Reason}\n"
                + "It comes back into service as soon as the proof is in place again."),
            _ => (null, null),
        };
        if (subject is null || await accounts.FindAsync(domain.AccountId, cancellationToken) is not { } account)
        {
            return;
        }
        var to = account.AlertEmail ?? account.PrimaryEmail;
        await alerts.SendAsync($"verification|{domain.AccountId}|{domain.Name.Value}", token,
            new AlertMessage(to.ToString(), subject, $"{body}\n--\nAccount '{account.Id}'. This is an automated message.\n"), cancellationToken);
    }
}
