using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RelayFunctions.Hosting;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>
/// The custom-handler contract as the Functions host speaks it (reference §1): readiness at <c>/</c>,
/// <c>POST /{FunctionName}</c> with <c>{Data, Metadata}</c>, an answer of <c>{Outputs, Logs, ReturnValue}</c>,
/// and a non-2xx status when the function fails so the host retries.
/// </summary>
public sealed class CustomHandlerProtocolTests : IClassFixture<CustomHandlerProtocolTests.HandlerApp>
{
    public sealed class Recorder
    {
        public ConcurrentQueue<QueueMessage> Messages { get; } = new();
        public ConcurrentQueue<TimerInfo> Ticks { get; } = new();
    }

    private sealed class EchoQueue(Recorder recorder) : IQueueFunction
    {
        public string Name => "EchoQueue";
        public string QueueName => "echo";

        public Task RunAsync(QueueMessage message, CancellationToken cancellationToken)
        {
            recorder.Messages.Enqueue(message);
            return message.Body.Contains("fail", StringComparison.Ordinal) ? throw new InvalidOperationException("asked to fail") : Task.CompletedTask;
        }
    }

    private sealed class Tock(Recorder recorder) : ITimerFunction
    {
        public string Name => "Tock";
        public string Schedule => "0 */5 * * * *";

        public Task RunAsync(TimerInfo timer, CancellationToken cancellationToken)
        {
            recorder.Ticks.Enqueue(timer);
            return Task.CompletedTask;
        }
    }

    public sealed class HandlerApp() : AppFactory(
        [new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999")],
        services =>
        {
            services.AddSingleton<Recorder>();
            services.AddSingleton<IQueueFunction, EchoQueue>();
            services.AddSingleton<ITimerFunction, Tock>();
        });

    private readonly HandlerApp _app;
    private readonly Recorder _recorder;

    public CustomHandlerProtocolTests(HandlerApp app)
    {
        _app = app;
        _recorder = app.Services.GetRequiredService<Recorder>();
    }

    private async Task<HttpResponseMessage> InvokeAsync(string function, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/" + function) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        request.Headers.Add("User-Agent", "Azure-Functions-Host/4.1040.100");
        return await _app.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task TheReadinessProbeAnswers()
    {
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task UnderTheHostTheAppRunsNoTriggersOfItsOwn()
    {
        var hosted = _app.Services.GetServices<IHostedService>().Select(s => s.GetType().Name).ToList();
        Assert.DoesNotContain("TimerRunner", hosted);
        Assert.DoesNotContain("QueueRunner", hosted);
    }

    [Theory]
    [InlineData("""{"Data":{"message":"{\"id\":\"quoted\"}"},"Metadata":{"DequeueCount":2,"Id":"m-1","InsertionTime":"2026-11-23T10:00:00+00:00"}}""", """{"id":"quoted"}""", 2)]
    [InlineData("""{"Data":{"message":"\"{\\\"id\\\":\\\"twice\\\"}\""},"Metadata":{"DequeueCount":"1","Id":"m-2"}}""", """{"id":"twice"}""", 1)]
    [InlineData("""{"Data":{"message":"eyJpZCI6ImJhc2U2NCJ9"},"Metadata":{"DequeueCount":3,"Id":"m-3"}}""", """{"id":"base64"}""", 3)]
    [InlineData("""{"Data":{"message":{"id":"object"}},"Metadata":{"DequeueCount":1,"Id":"m-4"}}""", """{"id":"object"}""", 1)]
    public async Task AQueueMessageIsDecodedInEveryFormTheHostSends(string invocation, string expectedBody, long expectedDequeueCount)
    {
        var response = await InvokeAsync("EchoQueue", invocation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.ReadJsonAsync();
        Assert.Equal(System.Text.Json.JsonValueKind.Object, result.GetProperty("Outputs").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, result.GetProperty("Logs").ValueKind);
        Assert.True(result.TryGetProperty("ReturnValue", out _));

        var seen = _recorder.Messages.Last(m => m.Body == expectedBody);
        Assert.Equal(expectedDequeueCount, seen.DequeueCount);
    }

    [Fact]
    public async Task AFailingFunctionAnswersNon2xxSoTheHostRetries()
    {
        var response = await InvokeAsync("echoqueue", """{"Data":{"message":"{\"please\":\"fail\"}"},"Metadata":{"DequeueCount":1}}""");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task ATimerInvocationCarriesPastDueAndScheduleStatus()
    {
        var response = await InvokeAsync("Tock",
            """{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-23T09:55:00Z","Next":"2026-11-23T10:00:00Z","LastUpdated":"2026-11-23T09:55:00Z"},"IsPastDue":true}},"Metadata":{}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tick = _recorder.Ticks.Last();
        Assert.True(tick.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), tick.Next);

        Assert.Equal(HttpStatusCode.OK, (await InvokeAsync("Tock", """{"Data":{"timer":{"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}""")).StatusCode);
        Assert.False(_recorder.Ticks.Last().IsPastDue);
    }

    [Fact]
    public async Task AnUnknownFunctionOrABrokenBodyIsRefused()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await InvokeAsync("NoSuchFunction", """{"Data":{},"Metadata":{}}""")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await InvokeAsync("EchoQueue", "{not json")).StatusCode);
    }

    [Fact]
    public async Task TheForwardedApiIsServedAsIs()
    {
        var response = await _app.CreateClient().GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
