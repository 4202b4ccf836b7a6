using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;

namespace RelayFunctions.IpHelpers;

/// <summary>The registrations of IP address helpers: DNS, their store, checks, alerts and the scheduling tick they share.</summary>
public static class IpHelperServices
{
    public static IServiceCollection AddIpHelpers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCheckedOptions<HelperOptions>(configuration, HelperOptions.Section, HelperOptions.Check);
        services.AddCheckedOptions<DnsOptions>(configuration, DnsOptions.Section, DnsOptions.Check);
        services.AddSingleton<IHostResolver, DnsClientResolver>().AddSingleton<ScheduleIndex>().AddSingleton<HelperStore>()
            .AddSingleton<HelperHistory>().AddSingleton<HelperAlerts>().AddSingleton<HelperService>()
            .AddSingleton<HelperCheck>().AddSingleton<CheckScheduler>().AddSingleton<IQueueFunction, CheckHelpersFunction>()
            .AddSingleton<ITimerFunction, ScheduleChecksFunction>();
        return services;
    }
}
