using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;

namespace RelayFunctions.Outbound;

/// <summary>The registrations of outbound smarthost accounts: their store, usage, filter lookups and BCC bounces.</summary>
public static class OutboundServices
{
    public static IServiceCollection AddOutbound(this IServiceCollection services)
    {
        services.AddSingleton<OutboundStore>().AddSingleton<OutboundUsage>().AddSingleton<FilterIndex>()
            .AddSingleton<FilterScheduler>().AddSingleton<FilterLookup>().AddSingleton<IQueueFunction, ResolveFiltersFunction>()
            .AddSingleton<IQueueFunction, BccBouncesFunction>();
        return services;
    }
}
