using RelayFunctions.Domains.Verification;
using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Domains;

/// <summary>The registrations of mail domains and their verification.</summary>
public static class DomainServices
{
    public static IServiceCollection AddDomains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCheckedOptions<VerificationOptions>(configuration, VerificationOptions.Section, VerificationOptions.Check);
        services.AddSingleton<DomainStore>().AddSingleton<DomainClaims>().AddSingleton<DomainViews>()
            .AddSingleton<VerificationIndex>().AddSingleton<VerificationScheduler>().AddSingleton<VerificationAlerts>()
            .AddSingleton<VerificationCheck>().AddSingleton<IQueueFunction, VerifyDomainsFunction>();
        return services;
    }
}
