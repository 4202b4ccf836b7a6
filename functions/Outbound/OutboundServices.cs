using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Outbound;

/// <summary>The registrations of outbound smarthost accounts: their store, usage, filter lookups and BCC bounces.</summary>
public static class OutboundServices
{
    public static IServiceCollection AddOutbound(this IServiceCollection services)
    {
        services.AddSingleton<OutboundStore>();
        services.AddSingleton<OutboundUsage>();
        services.AddSingleton<FilterIndex>();
        services.AddSingleton<FilterScheduler>();
        services.AddSingleton<FilterLookup>();
        services.AddSingleton<IQueueFunction, ResolveFiltersFunction>();
        services.AddSingleton<IQueueFunction, BccBouncesFunction>();
        return services;
    }
}
