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
}
