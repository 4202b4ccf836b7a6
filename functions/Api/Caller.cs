using System.Security.Claims;
using Microsoft.Extensions.Options;
using RelayFunctions.Accounts;

namespace RelayFunctions.Api;

/// <summary>The calling account, resolved once per request by <see cref="CallerFilter"/> from the token.</summary>
public sealed class Caller
{
    private Account? _account;

    public Account Account => _account ?? throw new InvalidOperationException("The caller's account has not been resolved.");

    public string AccountId => Account.Id;

    internal void Set(Account account) => _account = account;
}

/// <summary>
/// Scopes every account route: the token must carry an account claim naming a registered account. Every
/// store call below takes the account id from here, never from the request.
/// </summary>
public sealed class CallerFilter(AccountStore accounts, IOptions<AuthOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var claim = http.User.FindFirst(options.Value.AccountClaimType)?.Value;
        // The claim as issued, not a normalised form of it: " VICTIM" is not "victim".
        if (claim is null || !AccountId.TryParse(claim, out var accountId) || accountId.Value.Value != claim)
        {
            return TypedResults.Problem(
                title: "No account in the token.",
                detail: $"The bearer token must carry a valid '{options.Value.AccountClaimType}' claim.",
                statusCode: StatusCodes.Status403Forbidden);
        }
        var account = await accounts.FindAsync(accountId, http.RequestAborted);
        if (account is null)
        {
            return TypedResults.Problem(
                title: "The account is not registered.",
                detail: $"Account '{accountId}' has not been set up by an operator.",
                statusCode: StatusCodes.Status403Forbidden);
        }
        http.RequestServices.GetRequiredService<Caller>().Set(account);
        return await next(context);
    }
}

public static class OperatorPolicy
{
    public const string Name = "operator";

    /// <summary>Role claims arrive as <c>roles</c> (Entra ID), <c>role</c> (dotnet user-jwts) or the long URI form.</summary>
    public static bool IsOperator(ClaimsPrincipal user, string role) =>
        user.Claims.Any(c => c.Type is "roles" or "role" or ClaimTypes.Role && string.Equals(c.Value, role, StringComparison.Ordinal));
}
