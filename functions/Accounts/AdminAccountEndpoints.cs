using RelayFunctions.Api;

namespace RelayFunctions.Accounts;

/// <summary>Operator routes: create an account or replace its settings, and read any account.</summary>
public static class AdminAccountEndpoints
{
    public static void MapAdminAccountEndpoints(this RouteGroupBuilder admin)
    {
        var accounts = admin.MapGroup("/accounts").WithTags("Operators");
        accounts.MapPut("/{accountId}", PutAsync)
            .WithName("PutAccount").WithSummary("Creates an account, or replaces its settings.").Accepts<AccountSettingsRequest>("application/json")
            .Produces<AccountView>().Produces<AccountView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();

        accounts.MapGet("/{accountId}", async (string accountId, HttpContext http, AccountStore accounts, CancellationToken cancellationToken) =>
        {
            if (!AccountId.TryParse(accountId, out var id))
            {
                return OutcomeResults.NotFound($"Account '{accountId}'");
            }
            var account = await accounts.FindAsync(id.Value, cancellationToken);
            return account is null
                ? TypedResults.Problem(title: "Not found.", detail: $"Account '{id}' does not exist.", statusCode: StatusCodes.Status404NotFound)
                : new Outcome<Account>.Ok(account).ToHttp(http, "The account", AccountView.From, a => a.ETag);
        }).WithName("GetAnyAccount").WithSummary("Any account.").Produces<AccountView>().ProducesProblem(StatusCodes.Status404NotFound).WithETag();
    }

    private static async Task<IResult> PutAsync(
        string accountId, HttpContext http, AccountStore accounts, Domains.DomainStore domains, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (!AccountId.TryParse(accountId, out var id))
        {
            body.Errors.Add("accountId", "1–64 of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.");
        }
        var (_, levelText) = body.String("serviceLevel");
        if (!ServiceLevels.TryParse(levelText, out var level))
        {
            body.Errors.Add("serviceLevel", $"Required: one of {string.Join(", ", ServiceLevels.Names)}.");
        }
        var (_, primaryText) = body.String("primaryEmail");
        EmailAddress? primary = null;
        if (primaryText is null)
        {
            body.Errors.Add("primaryEmail", "Required.");
        }
        else if (!EmailAddress.TryParse(primaryText, out primary, out var error))
        {
            body.Errors.Add("primaryEmail", error!);
        }
        var alert = AccountFields.OptionalEmail(body, "alertEmail");
        var postmaster = AccountFields.OptionalEmail(body, "postmasterEmail");
        body.RejectUnknownFields();
        if (!body.Errors.Any && postmaster.Value is { } address)
        {
            // Operators too: the postmaster address becomes an envelope sender on the relays.
            await AccountFields.RequireVerifiedDomainAsync(body, "postmasterEmail", address, id!.Value, domains, cancellationToken);
        }
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }

        var settings = new AccountSettings(level, primary!, alert.Value, postmaster.Value);
        var outcome = await accounts.PutAsync(id!.Value, settings, EntityTags.IfMatch(http.Request), cancellationToken);
        return outcome.ToHttp(http, $"Account '{id}'", AccountView.From, a => a.ETag, a => $"/api/admin/accounts/{a.Id}");
    }
}

/// <summary>Body of <c>PUT /api/admin/accounts/{accountId}</c>.</summary>
public sealed record AccountSettingsRequest
{
    public required ServiceLevel ServiceLevel { get; init; }

    public required string PrimaryEmail { get; init; }

    public string? AlertEmail { get; init; }

    public string? PostmasterEmail { get; init; }
}
