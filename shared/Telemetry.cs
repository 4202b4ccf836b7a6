using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace RelayShared;

/// <summary>
/// OpenTelemetry traces, metrics and logs for the app and the relay agent (both call <see cref="AddRelayTelemetry"/>).
/// Exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the standard <c>OTEL_*</c> variables apply),
/// and to Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (with Entra ID when
/// <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> is <c>Authorization=AAD[;ClientId=…]</c>). Neither set: nothing is
/// collected, and nothing costs anything.
/// </summary>
public static class Telemetry
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string AzureMonitorSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AzureMonitorAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Adds telemetry for <paramref name="service"/>: its own <see cref="ActivitySource"/> and <see cref="Meter"/> of that name, outgoing HTTP, the runtime.</summary>
    public static IHostApplicationBuilder AddRelayTelemetry(
        this IHostApplicationBuilder builder, string service, Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var configuration = builder.Configuration;
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        var azureMonitor = configuration[AzureMonitorSetting];
        if (!otlp && string.IsNullOrWhiteSpace(azureMonitor))
        {
            return builder;
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(service))
            .WithTracing(t =>
            {
                t.AddSource(service).AddHttpClientInstrumentation();
                tracing?.Invoke(t);
            })
            .WithMetrics(m =>
            {
                m.AddMeter(service).AddHttpClientInstrumentation().AddRuntimeInstrumentation();
                metrics?.Invoke(m);
            })
            .WithLogging();
        if (otlp)
        {
            otel.UseOtlpExporter();
        }
        if (!string.IsNullOrWhiteSpace(azureMonitor))
        {
            otel.UseAzureMonitorExporter(o =>
            {
                o.ConnectionString = azureMonitor;
                o.Credential = EntraCredential(configuration[AzureMonitorAuthenticationSetting]);
            });
        }
        return builder;
    }

    /// <summary><c>Authorization=AAD;ClientId=…</c> as App Service writes it; null for key-based ingestion.</summary>
    internal static TokenCredential? EntraCredential(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }
        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var kind) || !kind.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
