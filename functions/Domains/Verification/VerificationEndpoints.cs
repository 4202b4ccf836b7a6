using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;
using RelayFunctions.Api;

namespace RelayFunctions.Domains.Verification;

/// <summary>
/// A domain's proof of control, as the SPA shows it: the state, the record to publish (or the MX to point at), the last
/// check and why it failed, and for a lapsing domain when it leaves service.
/// </summary>
public sealed record VerificationView(
    VerificationState State,
    string? Method,
    string RecordName,
    string RecordValue,
    IReadOnlyList<string> RelayHosts,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? LastCheck,
    DateTimeOffset? NextCheck,
    string? Reason,
    DateTimeOffset? WithdrawnAfter);

/// <summary>Turns stored domains into what the API shows; one place, because the verification part needs the settings.</summary>
public sealed class DomainViews(IOptions<VerificationOptions> options)
{
    public DomainView From(MailDomain d)
    {
        var v = d.Verification;
        var o = options.Value;
        var verification = new VerificationView(
            v.State, v.Method, $"{VerificationOptions.RecordName}.{d.Name.Value}", VerificationOptions.RecordPrefix + v.Token,
            o.RelayHosts, v.VerifiedAt, v.LastCheck, v.NextCheck, v.Reason, v.LapsingSince + o.GracePeriod);
        return new DomainView(
            d.Name.Value, d.Name.Unicode, d.Settings.Mode, d.Settings.Destination?.Host, d.Settings.Destination?.Port,
            d.Settings.Recipients, d.Settings.MessageSizeLimit, verification, d.Created, d.Updated);
    }
}

/// <summary>
/// <c>POST /api/domains/{name}/verify</c>: check the proof at the next tick (about a minute). <c>POST
/// /api/admin/accounts/{id}/domains/{name}/verify</c>: an operator vouches for the domain (it still may not collide
/// with another account's).
/// </summary>
public static class VerificationEndpoints
{
    public static void MapVerificationEndpoints(this RouteGroupBuilder scoped)
    {
        scoped.MapPost("/domains/{name}/verify", async Task<Results<Accepted<DomainView>, NotFoundProblem, ConflictProblem>> (
            string name, Caller caller, DomainStore domains, DomainViews views, TimeProvider time, CancellationToken ct) =>
        {
            if (!DomainName.TryParse(name, out var parsed, out _))
            {
                return NotFoundProblem.InAccount($"Domain '{name}'");
            }
            var outcome = await domains.UpdateVerificationAsync(caller.AccountId, parsed, d =>
                // An operator's word needs no DNS; checking it could only take it away.
                d.Verification.Method == VerificationMethods.Operator ? null : VerificationRules.CheckNow(d.Verification, time.GetUtcNow()), ct);
            return outcome switch
            {
                Outcome<MailDomain>.Ok ok => TypedResults.Accepted($"/api/domains/{ok.Value.Name.Value}", views.From(ok.Value)),
                Outcome<MailDomain>.Conflict c => new ConflictProblem(c.Reason),
                // No precondition and no body: nothing else can come of it.
                _ => NotFoundProblem.InAccount($"Domain '{name}'"),
            };
        }).WithName("VerifyDomain").WithTags("Domains")
            .WithSummary("Asks for a check of the domain's proof of control at the next tick (about a minute).");
    }

    public static void MapAdminVerificationEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/accounts/{accountId}/domains/{name}/verify", async Task<Results<Ok<DomainView>, NotFoundProblem, ConflictProblem>> (
            string accountId, string name, HttpContext http, DomainStore domains, DomainClaims claims, DomainViews views, TimeProvider time,
            CancellationToken ct) =>
        {
            if (!AccountId.TryParse(accountId, out var account) || !DomainName.TryParse(name, out var parsed, out _)
                || await domains.FindAsync(account.Value, parsed, ct) is null)
            {
                return NotFoundProblem.InAccount($"Domain '{name}' of account '{accountId}'");
            }
            var claim = await claims.ClaimAsync(account.Value, parsed, ct);
            if (claim.Conflict is { } held)
            {
                return new ConflictProblem(DomainStore.Collision(parsed, held));
            }
            var outcome = await domains.UpdateVerificationAsync(account.Value, parsed, d => VerificationRules.ByOperator(d.Verification, time.GetUtcNow()), ct);
            if (outcome is not Outcome<MailDomain>.Ok && claim.Took)
            {
                await domains.ReleaseClaimAsync(account.Value, parsed, ct);
            }
            else if (outcome is Outcome<MailDomain>.Ok)
            {
                await domains.HoldIfPublishedAsync(account.Value, parsed, ct);
            }
            return outcome.ToApplied(http, $"Domain '{name}'", views.From, d => d.ETag);
        }).WithName("VerifyDomainAsOperator").WithTags("Operators")
            .WithSummary("Marks a customer's domain verified on the operator's word (no DNS check, never withdrawn by one).").WithETag();
    }
}
