namespace RelayFunctions.Api;

/// <summary>
/// How a bearer token names the caller's account and grants operator rights. Token validation itself
/// (authority, audiences, signing keys) is configured under <c>Authentication:Schemes:Bearer</c>.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public string AccountClaimType { get; set; } = "account";

    public string OperatorRole { get; set; } = "operator";

    public static void Check(AuthOptions o, Hosting.SettingErrors errors)
    {
        errors.Require(!string.IsNullOrWhiteSpace(o.AccountClaimType), nameof(AccountClaimType), "must name the claim that carries the caller's account.");
        errors.Require(!string.IsNullOrWhiteSpace(o.OperatorRole), nameof(OperatorRole), "must name the role that unlocks /api/admin.");
    }
}
