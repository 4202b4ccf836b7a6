using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayFunctions.Hosting;

/// <summary>
/// The custom-handler side of the Functions host protocol: a readiness probe at <c>/</c> and
/// <c>POST /{FunctionName}</c> for timer and queue invocations. A 2xx answer completes the invocation;
/// anything else fails it, so the host's queue retry and poison handling see the failure.
/// </summary>
public static partial class InvocationEndpoints
{
    public static void MapFunctionInvocations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Ok(new { status = "ready" })).ExcludeFromDescription();
        // An invocation runs as long as its function does; the host's functionTimeout bounds it, not the API's.
        app.MapPost("/{functionName}", InvokeAsync).ExcludeFromDescription().DisableRequestTimeout();
    }

    private static async Task<IResult> InvokeAsync(
        string functionName, HttpRequest request, FunctionCatalog catalog, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(InvocationEndpoints));
        var invocationId = request.Headers["X-Azure-Functions-InvocationId"].ToString();
        JsonElement root;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            Api.JsonBody.Validate(document.RootElement);
            root = document.RootElement.Clone();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return TypedResults.Problem(title: "The invocation body is not JSON text.", detail: e.Message, statusCode: 400);
        }

        try
        {
            if (catalog.FindTimer(functionName) is { } timer)
            {
                await timer.RunAsync(InvocationPayload.ReadTimer(root), cancellationToken);
            }
            else if (catalog.FindQueue(functionName) is { } queue)
            {
                await queue.RunAsync(InvocationPayload.ReadQueueMessage(root), cancellationToken);
            }
            else
            {
                return TypedResults.Problem(title: $"No function named '{functionName}'.", statusCode: 404);
            }
        }
        catch (MalformedMessageException e)
        {
            Log.Malformed(logger, functionName, invocationId, e.Message);
            return TypedResults.Problem(title: $"Function '{functionName}' cannot read its input.", detail: e.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.InvocationFailed(logger, e, functionName, invocationId);
            return TypedResults.Problem(title: $"Function '{functionName}' failed.", detail: e.Message, statusCode: 500);
        }

        return TypedResults.Ok(new InvocationResult());
    }

    /// <summary>The response body the host expects: <c>{"Outputs":{},"Logs":[],"ReturnValue":null}</c>.</summary>
    public sealed record InvocationResult
    {
        [JsonPropertyName("Outputs")]
        public Dictionary<string, object?> Outputs { get; init; } = [];

        [JsonPropertyName("Logs")]
        public List<string> Logs { get; init; } = [];

        [JsonPropertyName("ReturnValue")]
        public object? ReturnValue { get; init; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Invocation {InvocationId} of {FunctionName} has input it cannot read: {Reason}")]
        public static partial void Malformed(ILogger logger, string functionName, string invocationId, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Invocation {InvocationId} of {FunctionName} failed")]
        public static partial void InvocationFailed(ILogger logger, Exception exception, string functionName, string invocationId);
    }
}
