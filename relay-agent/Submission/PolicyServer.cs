using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RelayAgent.Submission;

/// <summary>
/// Postfix's policy delegation protocol (SMTPD_POLICY_README) on a loopback TCP port: a request is <c>name=value</c>
/// lines ended by an empty line, the answer <c>action=…</c> and an empty line; Postfix keeps a connection for many
/// requests. Decisions are <see cref="SubmissionPolicy"/>'s; the usage counts are written every few seconds. Should
/// this service be down, Postfix defers the submissions it would have asked about (main.cf).
/// </summary>
public sealed partial class PolicyServer(SubmissionPolicy policy, UsageCounter usage, AgentOptions options, ILogger<PolicyServer> logger) : BackgroundService
{
    private TcpListener? _listener;

    /// <summary>The port it listens on (useful when the endpoint asked for port 0).</summary>
    public int Port => ((IPEndPoint)(_listener?.LocalEndpoint ?? throw new InvalidOperationException("not started"))).Port;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new TcpListener(IPEndPoint.Parse(options.PolicyEndpoint));
        // A restart must not wait for the previous connections' TIME_WAIT to pass.
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        Log.Listening(logger, _listener.LocalEndpoint.ToString()!);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var flush = FlushLoopAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await _listener!.AcceptTcpClientAsync(stoppingToken);
                _ = ServeAsync(client, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _listener!.Stop();
            await flush;
            await FlushAsync(CancellationToken.None);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken ct)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var request = new Dictionary<string, string>(StringComparer.Ordinal);
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Length > 0)
                    {
                        var eq = line.IndexOf('=');
                        if (eq > 0)
                        {
                            request[line[..eq]] = line[(eq + 1)..];
                        }
                        continue;
                    }
                    string action;
                    try
                    {
                        action = await policy.DecideAsync(request, ct);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Log.Failed(logger, e);
                        action = "451 4.3.5 Submission checks failed, try again later";
                    }
                    await stream.WriteAsync(Encoding.UTF8.GetBytes($"action={action}\n\n"), ct);
                    request.Clear();
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
                // Postfix closed the connection, or the agent is stopping.
            }
        }
    }

    private async Task FlushLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(options.UsageFlushInterval, ct);
                await FlushAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try
        {
            await usage.FlushAsync(ct);
        }
        catch (Exception e) when (e is Azure.RequestFailedException or IOException or HttpRequestException)
        {
            Log.FlushFailed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Policy service listening on {Endpoint}")]
        public static partial void Listening(ILogger logger, string endpoint);

        [LoggerMessage(Level = LogLevel.Error, Message = "A policy request failed; the submission is deferred")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Writing usage counts failed; will retry")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}
