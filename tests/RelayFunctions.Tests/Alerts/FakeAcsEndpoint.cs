using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RelayFunctions.Tests.Alerts;

/// <summary>
/// A stand-in for the Azure Communication Services endpoint: Kestrel on a free loopback port that records each
/// request exactly as it arrived and plays back the answers it was given (202 Accepted when none are left).
/// </summary>
public sealed class FakeAcsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Answer> _answers = new();
    private readonly ConcurrentQueue<Received> _received = new();

    private FakeAcsEndpoint(WebApplication app) => _app = app;

    public Uri Endpoint => new(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());

    public IReadOnlyList<Received> Requests => _received.ToList();

    public static async Task<FakeAcsEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var fake = new FakeAcsEndpoint(builder.Build());
        fake._app.Run(fake.HandleAsync);
        await fake._app.StartAsync();
        return fake;
    }

    /// <summary>Answers the next request with this status, body and headers (and after a delay, if given).</summary>
    public void Enqueue(int status, string body = "", Dictionary<string, string>? headers = null, TimeSpan delay = default) =>
        _answers.Enqueue(new Answer(status, body, headers ?? [], delay));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        _received.Enqueue(new Received(
            context.Request.Method,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray()));

        var answer = _answers.TryDequeue(out var next)
            ? next
            : new Answer(202, """{"id":"operation-1","status":"Running"}""", new() { ["Operation-Location"] = "https://acs.example/emails/operations/operation-1" }, default);
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted);
        }
        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            context.Response.Headers[name] = value;
        }
        if (answer.Body.Length > 0)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }
    }

    public sealed record Received(string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    private sealed record Answer(int Status, string Body, Dictionary<string, string> Headers, TimeSpan Delay);
}
