using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Options;

namespace RelayFunctions.Alerts;

/// <summary>
/// Sends alerts through Azure Communication Services Email (REST API <c>emails:send</c>; its SDK is not used).
/// The service answers 202 once it has queued the message; delivery itself is not awaited.
/// </summary>
public sealed partial class AcsEmailAlertSender : IAlertSender
{
    public const string Scope = "https://communication.azure.com//.default";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly AlertOptions _options;
    private readonly HttpPipeline _pipeline;
    private readonly Uri _sendUri;
    private readonly ILogger<AcsEmailAlertSender> _logger;

    public AcsEmailAlertSender(IOptions<AlertOptions> options, TimeProvider time, ILogger<AcsEmailAlertSender> logger)
    {
        _options = options.Value;
        _logger = logger;
        var acs = _options.Acs;
        var endpoint = acs.Endpoint ?? throw new InvalidOperationException("Alerts:Acs:Endpoint is not set.");
        _sendUri = new Uri($"{endpoint.AbsoluteUri.TrimEnd('/')}/emails:send?api-version={Uri.EscapeDataString(acs.ApiVersion)}");

        HttpPipelinePolicy authentication = string.IsNullOrWhiteSpace(acs.AccessKey)
            ? new BearerTokenAuthenticationPolicy(new DefaultAzureCredential(), Scope)
            : new AcsHmacAuthenticationPolicy(acs.AccessKey, time);
        var clientOptions = new AcsClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Delay = TimeSpan.FromSeconds(1);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(10);
        clientOptions.Retry.NetworkTimeout = acs.Timeout;
        _pipeline = HttpPipelineBuilder.Build(clientOptions, [], [authentication], new ThrottlingClassifier());
    }

    public async Task SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        using var http = _pipeline.CreateMessage();
        var request = http.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(_sendUri);
        request.Headers.SetValue("Content-Type", "application/json");
        // The operation id stays the same across the pipeline's retries, so the service sees one operation.
        request.Headers.SetValue("Operation-Id", Guid.NewGuid().ToString());
        request.Headers.SetValue("x-ms-client-request-id", request.ClientRequestId);
        request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(new SendRequest(
            _options.From,
            new SendContent(_options.TaggedSubject(message.Subject), message.Body),
            new SendRecipients([new SendAddress(message.To)])), Json));

        try
        {
            await _pipeline.SendAsync(http, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new AlertDeliveryException($"Sending the alert through {_sendUri.Host} failed: {e.Message}", NothingWasSent(e), e);
        }

        var response = http.Response;
        if (response.Status != 202)
        {
            // An error status is the service's refusal; any other answer leaves it open whether the message was queued.
            throw new AlertDeliveryException(
                $"Azure Communication Services answered {response.Status} {response.ReasonPhrase}: {Excerpt(response.Content)}",
                definite: response.Status >= 400,
                permanent: response.Status is >= 400 and < 500 and not (408 or 429));
        }
        Log.Accepted(_logger, message.Subject, message.RecipientDomain, OperationId(response));
    }

    /// <summary>True for failures before the request could reach the service: no connection, no name, no token.</summary>
    private static bool NothingWasSent(Exception e) => e switch
    {
        AuthenticationFailedException or CredentialUnavailableException => true,
        RequestFailedException { InnerException: HttpRequestException h } => h.HttpRequestError is
            HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError,
        _ => false,
    };

    private static string Excerpt(BinaryData content) =>
        content.ToString() is { Length: > 500 } text ? text[..500] + "…" : content.ToString();

    private static string OperationId(Response response)
    {
        try
        {
            return response.Content.ToObjectFromJson<SendResult>(Json)?.Id ?? "(none)";
        }
        catch (JsonException)
        {
            return "(unreadable)";
        }
    }

    private sealed record SendRequest(string SenderAddress, SendContent Content, SendRecipients Recipients);
    private sealed record SendContent(string Subject, string PlainText);
    private sealed record SendRecipients(IReadOnlyList<SendAddress> To);
    private sealed record SendAddress(string Address);
    private sealed record SendResult(string? Id, string? Status);

    private sealed class AcsClientOptions : ClientOptions;

    /// <summary>
    /// Retries only what the service asks to be retried later (429, 503, honouring Retry-After); a timeout or a
    /// lost connection is left to the caller, who knows whether a possible duplicate alert matters.
    /// </summary>
    private sealed class ThrottlingClassifier : ResponseClassifier
    {
        public override bool IsRetriableResponse(HttpMessage message) => message.Response.Status is 429 or 503;

        public override bool IsRetriableException(Exception exception) => false;

        public override bool IsRetriable(HttpMessage message, Exception exception) => false;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Alert \"{Subject}\" to a recipient at {RecipientDomain} accepted by Azure Communication Services as operation {OperationId}")]
        public static partial void Accepted(ILogger logger, string subject, string recipientDomain, string operationId);
    }
}
