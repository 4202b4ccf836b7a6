using RelayFunctions.Api;

namespace RelayFunctions.Accounts;

/// <summary>The caller's own account: read it, and change its preferences.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this RouteGroupBuilder scoped)
    {
        var account = scoped.MapGroup("/account").WithTags("Account");
        account.MapGet("", (HttpContext http, Caller caller) =>
            new Outcome<Account>.Ok(caller.Account).ToHttp(http, "The account", AccountView.From, a => a.ETag))
            .WithName("GetAccount").WithSummary("The caller's account.").Produces<AccountView>().WithETag();

        account.MapPatch("", PatchAsync)
            .WithName("UpdateAccountPreferences").WithSummary("Changes the caller's preferences: alert and postmaster addresses.")
            .Accepts<AccountPreferencesRequest>("application/merge-patch+json", "application/json")
            .Produces<AccountView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();
    }

    private static async Task<IResult> PatchAsync(
        HttpContext http, Caller caller, AccountStore accounts, Domains.DomainStore domains, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(http.Request, cancellationToken);
        var alert = AccountFields.OptionalEmail(body, "alertEmail");
        var postmaster = AccountFields.OptionalEmail(body, "postmasterEmail");
        foreach (var field in new[] { "serviceLevel", "primaryEmail" })
        {
            if (body.Has(field))
            {
                body.String(field);
                body.Errors.Add(field, "Only an operator can change this.");
            }
        }
        body.RejectUnknownFields();
        if (!body.Errors.Any && postmaster.Value is { } address)
        {
            await AccountFields.RequireVerifiedDomainAsync(body, "postmasterEmail", address, caller.AccountId, domains, cancellationToken);
        }
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }

        var outcome = await accounts.UpdatePreferencesAsync(caller.AccountId, EntityTags.IfMatch(http.Request), current =>
            new AccountSettings(
                current.ServiceLevel, current.PrimaryEmail,
                alert.Present ? alert.Value : current.AlertEmail,
                postmaster.Present ? postmaster.Value : current.PostmasterEmail),
            cancellationToken);
        return outcome.ToHttp(http, "The account", AccountView.From, a => a.ETag);
    }
}

/// <summary>Body of <c>PATCH /api/account</c> (merge patch: absent keeps, null clears).</summary>
public sealed record AccountPreferencesRequest
{
    /// <summary>Where IP helper alerts go; null: no alerts.</summary>
    public string? AlertEmail { get; init; }

    /// <summary>
    /// Rewrites the null sender of outbound mail (and a mail server's sender outside the account's domains). Must be at one
    /// of the account's verified domains; null: the primary address where it is at one, otherwise postmaster@ the login's
    /// own domain.
    /// </summary>
    public string? PostmasterEmail { get; init; }
}

public sealed record AccountView(
    string Id, ServiceLevel ServiceLevel, string PrimaryEmail, string? AlertEmail, string? PostmasterEmail,
    DateTimeOffset Created, DateTimeOffset Updated)
{
    public static object From(Account a) => new AccountView(
        a.Id, a.ServiceLevel, a.PrimaryEmail.ToString(), a.AlertEmail?.ToString(),
        a.PostmasterEmail?.ToString(), a.Created, a.Updated);
}

internal static class AccountFields
{
    public static (bool Present, EmailAddress? Value) OptionalEmail(JsonBody body, string field)
    {
        var (present, text) = body.String(field);
        if (!present || string.IsNullOrWhiteSpace(text))
        {
            return (present, null);
        }
        if (EmailAddress.TryParse(text, out var address, out var error))
        {
            return (true, address);
        }
        body.Errors.Add(field, error!);
        return (true, null);
    }

    /// <summary>
    /// An address the relays may put in an envelope sender (the postmaster address) must be at one of the account's
    /// verified domains or under one: an account never sends as a domain it has not proven.
    /// </summary>
    public static async Task RequireVerifiedDomainAsync(
        JsonBody body, string field, EmailAddress address, string accountId, Domains.DomainStore domains, CancellationToken cancellationToken)
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
        body.Errors.Add(field, $"{address.Domain.Unicode} is not one of this account's verified domains, nor under one: the postmaster address must be.");
    }
}
