using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the app exports traces, metrics and logs over OTLP; without it, nothing.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task TheAppExportsTracesMetricsAndLogsOverOtlpWhenConfigured()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var app = new AppFactory(
        [
            new("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Endpoint),
            new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            new("OTEL_BSP_SCHEDULE_DELAY", "200"),
            new("OTEL_BLRP_SCHEDULE_DELAY", "200"),
            new("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ]);
        var client = await app.NewAccountAsync("otel" + Guid.NewGuid().ToString("N")[..6]);
        (await client.GetAsync("/api/domains")).EnsureSuccessStatusCode();

        // Protobuf keeps strings as UTF-8, so the service name, the route and the instrument names can be read off the bodies.
        await Eventually.WaitAsync(() => Task.FromResult(collector.Received("traces")), t => t.Contains("RelayFunctions") && t.Contains("/api/domains"),
            TimeSpan.FromSeconds(20), "a trace of GET /api/domains");
        await Eventually.WaitAsync(() => Task.FromResult(collector.Received("metrics")), m => m.Contains("http.server.request.duration"),
            TimeSpan.FromSeconds(20), "the HTTP server metrics");
        await Eventually.WaitAsync(() => Task.FromResult(collector.Received("logs")), l => l.Contains("RelayFunctions"),
            TimeSpan.FromSeconds(20), "the app's logs");
    }

    [Fact]
    public async Task WithoutAnExporterConfiguredNothingIsCollected()
    {
        await using var app = new AppFactory();
        Assert.Null(app.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
    }
}
