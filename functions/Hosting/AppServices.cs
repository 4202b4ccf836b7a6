using System.Text.Json.Serialization;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RelayFunctions.Accounts;
using RelayFunctions.Alerts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;
using RelayFunctions.Development;
using RelayFunctions.Domains;
using RelayFunctions.Health;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Hosting.Timers;
using RelayFunctions.IpHelpers;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.Hosting;

/// <summary>Every registration of the app, in one place.</summary>
public static class AppServices
{
    /// <summary>The service name in telemetry, and the name of the app's own ActivitySource and Meter.</summary>
    public const string ServiceName = "RelayFunctions";

    public static WebApplicationBuilder AddRelayFunctions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        HostJson.AddTo(configuration, builder.Environment.ContentRootPath);
        var mode = HostingMode.From(configuration);
        services.AddSingleton(mode);
        services.AddSingleton(TimeProvider.System);
        builder.AddRelayTelemetry(ServiceName, t => t.AddAspNetCoreInstrumentation(), m => m.AddAspNetCoreInstrumentation());

        services.AddStorage(configuration, prefixQueues: !mode.IsCustomHandler);
        services.AddCheckedOptions<QueueRunnerOptions>(configuration, QueueRunnerOptions.Section, QueueRunnerOptions.Check);
        services.AddCheckedOptions<TimerRunnerOptions>(configuration, TimerRunnerOptions.Section, TimerRunnerOptions.Check);
        services.AddCheckedOptions<DestinationOptions>(configuration, DestinationOptions.Section, DestinationOptions.Check);
        services.AddSingleton<QueueSignals>();
        services.AddSingleton<QueueWriter>();
        services.AddSingleton<FunctionCatalog>();
        services.AddSingleton<DestinationPolicy>();

        services.AddAccounts();
        services.AddDomains(configuration);
        services.AddIpHelpers(configuration);
        services.AddOutbound();
        services.AddRelayMap(configuration);
        services.AddAlerts(configuration);

        if (configuration.GetValue<bool>("Sample:Seed"))
        {
            services.AddHostedService<SampleData>();
        }
        if (!mode.IsCustomHandler)
        {
            services.AddHostedService<TimerRunner>();
            services.AddHostedService<QueueRunner>();
        }
        else
        {
            services.AddHostedService<TimerScheduleCheck>();
        }

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
            // Numbers are numbers: the web default also reads and documents them as strings.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        services.AddStorageHealthChecks();
        // Bearer tokens only: nothing is protected with ASP.NET Core data protection, which authentication registers
        // anyway and whose start-up key generation would warn about an unencrypted key ring.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        // Every runner stops within a second or two of being asked; the host need not wait longer.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        services.AddProblemDetails();
        services.AddStorageFaults();
        services.AddApiDocument();
        services.AddApiSecurity(configuration);
        return builder;
    }
}
