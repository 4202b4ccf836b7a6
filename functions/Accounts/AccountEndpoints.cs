using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Api;

namespace RelayFunctions.Accounts;

/// <summary>The caller's own account: read it, and change its preferences.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this RouteGroupBuilder scoped)
    {
        var account = scoped.MapGroup("/account").WithTags("Account").AddEndpointFilter<ValidationFilter>();
        // The caller's account is there: without it the request is refused (403) before it gets here.
        account.MapGet("", (HttpContext http, Caller caller) =>
        {
            EntityTags.Set(http.Response, caller.Account.ETag);
            return TypedResults.Ok(AccountView.From(caller.Account));
        })
            .WithName("GetAccount").WithSummary("The caller's account.").WithETag();

        account.MapPatch("", PatchAsync)
            .WithName("UpdateAccountPreferences").WithSummary("Changes the caller's preferences: alert and postmaster addresses.")
            .Accepts<AccountPreferencesRequest>("application/merge-patch+json", "application/json").WithETag().WithIfMatch();
    }

    private static async Task<Results<Ok<AccountView>, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> PatchAsync(
        AccountPreferencesRequest request, HttpContext http, Caller caller, AccountStore accounts, Domains.DomainStore domains, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var alert = AccountFields.Email(request.AlertEmail, "alertEmail", errors);
        var postmaster = AccountFields.Email(request.PostmasterEmail, "postmasterEmail", errors);
        if (postmaster is not null)
        {
            await AccountFields.RequireVerifiedDomainAsync(errors, "postmasterEmail", postmaster, caller.AccountId, domains, cancellationToken);
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }

        var outcome = await accounts.UpdatePreferencesAsync(caller.AccountId, EntityTags.IfMatch(http.Request), current =>
            new AccountSettings(
                current.ServiceLevel, current.PrimaryEmail,
                request.AlertEmail.IsPresent ? alert : current.AlertEmail,
                request.PostmasterEmail.IsPresent ? postmaster : current.PostmasterEmail),
            cancellationToken);
        return outcome.ToChanged(http, "The account", AccountView.From, a => a.ETag).Result switch
        {
            Ok<AccountView> ok => ok,
            ConflictProblem conflict => conflict,
            PreconditionFailedProblem stale => stale,
            ValidationProblem invalid => invalid,
            // Accounts are never deleted, and the caller's was found before the request got here.
            var other => throw new InvalidOperationException($"Unmapped result {other}."),
        };
    }
}

/// <summary>Body of <c>PATCH /api/account</c> (merge patch: absent keeps, null clears).</summary>
public sealed record AccountPreferencesRequest : IValidatable, IBindableFromHttpContext<AccountPreferencesRequest>
{
    private static readonly Dictionary<string, string> Refused = new()
    {
        ["serviceLevel"] = "Only an operator can change this.",
        ["primaryEmail"] = "Only an operator can change this.",
    };

    /// <summary>Where IP helper alerts go; null: no alerts.</summary>
    public Optional<string?> AlertEmail { get; init; }

    /// <summary>
    /// Rewrites the null sender of outbound mail (and a mail server's sender outside the account's domains). Must be at one
    /// of the account's verified domains; null: the primary address where it is at one, otherwise postmaster@ the login's
    /// own domain.
    /// </summary>
    public Optional<string?> PostmasterEmail { get; init; }

    public static ValueTask<AccountPreferencesRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<AccountPreferencesRequest>(context, Refused);

    public void Validate(FieldErrors errors, HttpContext http)
    {
        AccountFields.Email(AlertEmail, "alertEmail", errors);
        AccountFields.Email(PostmasterEmail, "postmasterEmail", errors);
    }
}

public sealed record AccountView(
    string Id, ServiceLevel ServiceLevel, string PrimaryEmail, string? AlertEmail, string? PostmasterEmail,
    DateTimeOffset Created, DateTimeOffset Updated)
{
    public static AccountView From(Account a) => new(
        a.Id, a.ServiceLevel, a.PrimaryEmail.ToString(), a.AlertEmail?.ToString(),
        a.PostmasterEmail?.ToString(), a.Created, a.Updated);
}

internal static class AccountFields
{
    /// <summary>The address a field holds; null when it is absent, null or blank, or not an address (error added).</summary>
    public static EmailAddress? Email(Optional<string?> field, string name, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(field.Value))
        {
            return null;
        }
        if (EmailAddress.TryParse(field.Value, out var address, out var error))
        {
            return address;
        }
        errors.Add(name, error!);
        return null;
    }

    /// <summary>
    /// An address the relays may put in an envelope sender (the postmaster address) must be at one of the account's
    /// verified domains or under one: an account never sends as a domain it has not proven.
    /// </summary>
    public static async Task RequireVerifiedDomainAsync(
        FieldErrors errors, string field, EmailAddress address, string accountId, Domains.DomainStore domains, CancellationToken cancellationToken)
    {
        // The account holds a verified name with everything under it: bounces@mail.example.com is as much its own. One
        // point read per label of the address's domain, however many domains the account has.
        for (var name = address.Domain; name is not null; name = name.Parent)
        {
            if (await domains.FindAsync(accountId, name, cancellationToken) is { Verification.IsPublished: true })
            {
                return;
            }
        }
        errors.Add(field, $"{address.Domain.Unicode} is not one of this account's verified domains, nor under one: the postmaster address must be.");
    }
}
