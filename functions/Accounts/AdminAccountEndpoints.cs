using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Api;

namespace RelayFunctions.Accounts;

/// <summary>Operator routes: create an account or replace its settings, and read any account.</summary>
public static class AdminAccountEndpoints
{
    public static void MapAdminAccountEndpoints(this RouteGroupBuilder admin)
    {
        var accounts = admin.MapGroup("/accounts").WithTags("Operators").AddEndpointFilter<ValidationFilter>();
        accounts.MapPut("/{accountId}", PutAsync)
            .WithName("PutAccount").WithSummary("Creates an account, or replaces its settings.").Accepts<AccountSettingsRequest>("application/json")
            .WithETag().WithIfMatch();

        accounts.MapGet("/{accountId}", async Task<Results<Ok<AccountView>, NotFoundProblem>> (
            string accountId, HttpContext http, AccountStore accounts, CancellationToken cancellationToken) =>
        {
            if (!AccountId.TryParse(accountId, out var id))
            {
                return NotFoundProblem.InAccount($"Account '{accountId}'");
            }
            return await accounts.FindAsync(id.Value, cancellationToken) is { } account
                ? account.ToFound(http, "The account", AccountView.From, a => a.ETag)
                : new NotFoundProblem($"Account '{id}' does not exist.");
        }).WithName("GetAnyAccount").WithSummary("Any account.").WithETag();
    }

    private static async Task<Results<Created<AccountView>, Ok<AccountView>, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> PutAsync(
        string accountId, AccountSettingsRequest request, HttpContext http, AccountStore accounts, Domains.DomainStore domains, CancellationToken cancellationToken)
    {
        AccountId.TryParse(accountId, out var parsed);
        var id = parsed!.Value;
        var errors = new FieldErrors();
        var settings = request.ToSettings(errors)!;
        if (settings.PostmasterEmail is { } address)
        {
            // Operators too: the postmaster address becomes an envelope sender on the relays.
            await AccountFields.RequireVerifiedDomainAsync(errors, "postmasterEmail", address, id, domains, cancellationToken);
        }
        if (errors.Any)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        var outcome = await accounts.PutAsync(id, settings, EntityTags.IfMatch(http.Request), cancellationToken);
        return outcome.ToPut(http, $"Account '{id}'", AccountView.From, a => a.ETag, a => $"/api/admin/accounts/{a.Id}").Result switch
        {
            Created<AccountView> created => created,
            Ok<AccountView> ok => ok,
            ConflictProblem conflict => conflict,
            PreconditionFailedProblem stale => stale,
            ValidationProblem invalid => invalid,
            // A PUT creates the account that is not there: it is never not found.
            var other => throw new InvalidOperationException($"Unmapped result {other}."),
        };
    }
}

/// <summary>Body of <c>PUT /api/admin/accounts/{accountId}</c>.</summary>
public sealed record AccountSettingsRequest : IValidatable, IBindableFromHttpContext<AccountSettingsRequest>
{
    public required Optional<ServiceLevel?> ServiceLevel { get; init; }

    public required Optional<string?> PrimaryEmail { get; init; }

    public Optional<string?> AlertEmail { get; init; }

    public Optional<string?> PostmasterEmail { get; init; }

    public static ValueTask<AccountSettingsRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<AccountSettingsRequest>(context);

    /// <summary>Even without a readable body: the required fields and the path are named all the same.</summary>
    bool IValidatable.ChecksUnreadableBody => true;

    /// <summary>The body, and the account's id in the path.</summary>
    public void Validate(FieldErrors errors, HttpContext http)
    {
        if (!AccountId.TryParse(http.GetRouteValue("accountId") as string, out _))
        {
            errors.Add("accountId", "1–64 of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.");
        }
        ToSettings(errors);
    }

    /// <summary>The account's settings; null with errors added.</summary>
    public AccountSettings? ToSettings(FieldErrors errors)
    {
        if (ServiceLevel is { HasValue: true, Value: null } or { IsPresent: false })
        {
            errors.Add("serviceLevel", $"Required: one of {string.Join(", ", ServiceLevels.Names)}.");
        }
        EmailAddress? primary = null;
        if (PrimaryEmail.Value is null)
        {
            errors.Add("primaryEmail", "Required.");
        }
        else if (!EmailAddress.TryParse(PrimaryEmail.Value, out primary, out var error))
        {
            errors.Add("primaryEmail", error!);
        }
        var alert = AccountFields.Email(AlertEmail, "alertEmail", errors);
        var postmaster = AccountFields.Email(PostmasterEmail, "postmasterEmail", errors);
        return errors.Any ? null : new AccountSettings(ServiceLevel.Value!.Value, primary!, alert, postmaster);
    }
}
