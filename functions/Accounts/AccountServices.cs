namespace RelayFunctions.Accounts;

/// <summary>The registrations of accounts.</summary>
public static class AccountServices
{
    public static IServiceCollection AddAccounts(this IServiceCollection services) => services.AddSingleton<AccountStore>();
}
