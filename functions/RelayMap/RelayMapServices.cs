using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

/// <summary>The registrations of the relay map: its change log, builder, publisher and both publishing triggers.</summary>
public static class RelayMapServices
{
    public static IServiceCollection AddRelayMap(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCheckedOptions<RelayMapOptions>(configuration, RelayMapOptions.Section, RelayMapOptions.Check);
        services.AddSingleton<MapChanges>().AddSingleton<RelayReportStore>().AddSingleton<RelayMapBuilder>().AddSingleton<RelayMapPublisher>()
            .AddSingleton<RelayMapPublication>().AddSingleton<ITimerFunction, PublishRelayMapFunction>().AddSingleton<IQueueFunction, RelayMapChangedFunction>();
        return services;
    }
}
