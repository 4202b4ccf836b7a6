using System.Text.Json.Serialization;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RelayFunctions.Accounts;
using RelayFunctions.Alerts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;
using RelayFunctions.Development;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Health;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Hosting.Timers;
using RelayFunctions.IpHelpers;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

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
        void Bind<T>(string section, Action<T, SettingErrors> check)
            where T : class => services.AddOptions<T>().Bind(configuration.GetSection(section)).Checked(section, check);
        HostJson.AddTo(configuration, builder.Environment.ContentRootPath);
        var mode = HostingMode.From(configuration);
        services.AddSingleton(mode);
        services.AddSingleton(TimeProvider.System);
        builder.AddRelayTelemetry(ServiceName, t => t.AddAspNetCoreInstrumentation(), m => m.AddAspNetCoreInstrumentation());

        services.AddOptions<StorageOptions>().Configure(o =>
        {
            var section = configuration.GetSection(StorageOptions.ConnectionSetting);
            o.ConnectionString = section.Value;
            o.BlobServiceUri = Uri(section["blobServiceUri"]);
            o.QueueServiceUri = Uri(section["queueServiceUri"]);
            o.TableServiceUri = Uri(section["tableServiceUri"]);
            o.ClientId = section["clientId"];
            o.Prefix = configuration["Storage:Prefix"] ?? "";
            o.NetworkTimeout = configuration.GetValue("Storage:NetworkTimeout", o.NetworkTimeout);
            o.RequestTimeout = configuration.GetValue("Storage:RequestTimeout", o.RequestTimeout);
            o.PrefixQueues = !mode.IsCustomHandler;
        }).Checked("", StorageOptions.Check);
        Bind<QueueRunnerOptions>(QueueRunnerOptions.Section, QueueRunnerOptions.Check);
        Bind<TimerRunnerOptions>(TimerRunnerOptions.Section, TimerRunnerOptions.Check);
        Bind<DestinationOptions>(DestinationOptions.Section, DestinationOptions.Check);
        Bind<AuthOptions>(AuthOptions.Section, AuthOptions.Check);
        Bind<HelperOptions>(HelperOptions.Section, HelperOptions.Check);
        Bind<DnsOptions>(DnsOptions.Section, DnsOptions.Check);
        Bind<RelayMapOptions>(RelayMapOptions.Section, RelayMapOptions.Check);

        services.AddSingleton<StorageClients>();
        services.AddSingleton<StorageInitializer>();
        services.AddSingleton<QueueSignals>();
        services.AddSingleton<QueueWriter>();
        services.AddSingleton<FunctionCatalog>();
        services.AddSingleton<DestinationPolicy>();
        services.AddSingleton<AccountStore>();
        Bind<VerificationOptions>(VerificationOptions.Section, VerificationOptions.Check);
        services.AddSingleton<DomainStore>();
        services.AddSingleton<DomainClaims>();
        services.AddSingleton<DomainViews>();
        services.AddSingleton<VerificationIndex>();
        services.AddSingleton<VerificationScheduler>();
        services.AddSingleton<VerificationAlerts>();
        services.AddSingleton<VerificationCheck>();
        services.AddSingleton<IQueueFunction, VerifyDomainsFunction>();
        services.AddSingleton<AlertOnce>();
        services.AddSingleton<OutboundStore>();
        services.AddSingleton<FilterIndex>();
        services.AddSingleton<FilterScheduler>();
        services.AddSingleton<FilterLookup>();
        services.AddSingleton<IQueueFunction, ResolveFiltersFunction>();
        services.AddSingleton<IQueueFunction, BccBouncesFunction>();
        services.AddSingleton<OutboundUsage>();
        services.AddSingleton<DomainRequest>();
        services.AddScoped<Caller>();
        services.AddSingleton<MapChanges>();
        services.AddSingleton<RelayMapBuilder>();
        services.AddSingleton<RelayMapPublisher>();
        services.AddSingleton<RelayMapPublication>();
        services.AddSingleton<ITimerFunction, PublishRelayMapFunction>();
        services.AddSingleton<IQueueFunction, RelayMapChangedFunction>();
        services.AddAlerts(configuration);

        services.AddSingleton<IHostResolver, DnsClientResolver>();
        services.AddSingleton<ScheduleIndex>();
        services.AddSingleton<HelperStore>();
        services.AddSingleton<HelperHistory>();
        services.AddSingleton<HelperAlerts>();
        services.AddSingleton<HelperService>();
        services.AddSingleton<HelperCheck>();
        services.AddSingleton<CheckScheduler>();
        services.AddSingleton<ITimerFunction, ScheduleChecksFunction>();
        services.AddSingleton<IQueueFunction, CheckHelpersFunction>();

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

    private static Uri? Uri(string? text) => System.Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null;
}
