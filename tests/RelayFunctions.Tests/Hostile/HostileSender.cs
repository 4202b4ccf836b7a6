using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Sends a <see cref="HostileRequest"/> to its host through the in-memory test server, resolving what it leaves to send
/// time (the caller's current ETag, a message peeked from the queue), and judges the answer: never a 5xx; a 4xx is a
/// problem details document when the caller accepts JSON; nothing of the victim's in an answer to anyone but the
/// operator; no success without credentials; at most one winner of a conditional race.
/// </summary>
internal sealed class HostileSender(
    IReadOnlyDictionary<string, HttpClient> hosts, VictimTenant victim, Func<string?, Task<IReadOnlyList<string>>> peek, IReadOnlySet<string> timers)
{
    private readonly ConcurrentDictionary<string, string> _etags = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _timer = new(1);
    private int _sent;

    /// <summary>The status recorded for a request the server refuses before the app sees it.</summary>
    public const int Refused = 499;

    /// <summary>Every request sent, the setup and every copy of a burst included.</summary>
    public int Sent => _sent;

    public async Task<Answer> SendAsync(HostileRequest request)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answer = request.Burst > 1 ? await RaceAsync(request) : await SendOneAsync(request);
        return answer with { Elapsed = clock.Elapsed };
    }

    private async Task<Answer> SendOneAsync(HostileRequest request)
    {
        // The Functions host runs a timer function on one instance at a time; so do we.
        var isTimer = request.Kind == CallerKind.FunctionsHost && timers.Contains(request.Path.TrimStart('/'));
        if (isTimer)
        {
            await _timer.WaitAsync();
        }
        try
        {
            var body = request.LateMessage is { } encoding ? await LateBodyAsync(request, encoding) : request.Body;
            var (response, text) = await SendOnceAsync(request, body);
            return Judge(request, body, response, text);
        }
        finally
        {
            if (isTimer)
            {
                _timer.Release();
            }
        }
    }

    private async Task<(HttpResponseMessage Response, string Text)> SendOnceAsync(HostileRequest request, byte[]? body, string? ifMatch = null)
    {
        // As a client sends it: System.Uri escapes what may not be sent raw and resolves dot segments (the test server
        // reads the path from the Uri, so it cannot be sent uncanonicalized).
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri("http://localhost" + request.Path));
        message.Headers.TryAddWithoutValidation(RequestLog.Header, request.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (request.Authorization is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", request.Authorization);
        }
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, name == "If-Match" ? ifMatch ?? Resolve(request, value) : value);
        }
        if (body is not null)
        {
            message.Content = request.Chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }
        Interlocked.Increment(ref _sent);
        HttpResponseMessage response;
        try
        {
            response = await hosts[request.Host].SendAsync(message);
        }
        catch (InvalidOperationException e) when (e.StackTrace?.Contains("PathString.FromUriComponent", StringComparison.Ordinal) == true)
        {
            // The test server decodes the path before the app runs, and throws where Kestrel answers 400 (a NUL in the path).
            return (new HttpResponseMessage((HttpStatusCode)Refused) { Content = new StringContent(e.Message) }, e.Message);
        }
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        if (response.IsSuccessStatusCode && response.Headers.ETag is { } tag && request.Account is { } account)
        {
            var path = response.Headers.Location?.OriginalString ?? request.Path.Split('?')[0];
            _etags[account + "|" + Uri.UnescapeDataString(path).TrimEnd('/')] = tag.ToString();
        }
        return (response, text);
    }

    /// <summary>If-Match placeholders: the latest ETag the caller was given for this path (or for anything), or one of the victim's.</summary>
    private string Resolve(HostileRequest request, string value) => value switch
    {
        HostileRequest.OwnETag => _etags.GetValueOrDefault(request.Account + "|" + Uri.UnescapeDataString(request.Path.Split('?')[0]).TrimEnd('/'))
            ?? _etags.Where(e => e.Key.StartsWith(request.Account + "|", StringComparison.Ordinal)).Select(e => e.Value).FirstOrDefault() ?? "*",
        HostileRequest.VictimETag => victim.ETags[request.Index % victim.ETags.Count],
        _ => value,
    };

    private async Task<byte[]> LateBodyAsync(HostileRequest request, string encoding)
    {
        var messages = await peek(request.Path.TrimStart('/'));
        var rng = new Random(request.Index);
        var message = messages.Count == 0 ? null : messages[rng.Next(messages.Count)];
        return InvocationBodies.Queue(rng, message, encoding).Bytes;
    }

    private Answer Judge(HostileRequest request, byte[]? body, HttpResponseMessage response, string text)
    {
        var problems = new List<string>();
        var status = (int)response.StatusCode;
        if (status == Refused)
        {
            return new Answer(request, status, null, text, body, problems);
        }
        var media = response.Content.Headers.ContentType?.MediaType;
        if (status >= 500)
        {
            problems.Add($"{status}: the app failed on this input");
        }
        var accept = request.Headers.FirstOrDefault(h => h.Key == "Accept").Value;
        var acceptsJson = accept is null || accept.Contains("json", StringComparison.Ordinal) || accept.Contains("*/*", StringComparison.Ordinal);
        if (status is >= 400 and < 500 && request.Method != "HEAD" && acceptsJson && media != "application/problem+json")
        {
            problems.Add($"{status} answered with '{media ?? "no content type"}', not application/problem+json");
        }
        if (response.IsSuccessStatusCode && request.Method is "POST" or "PUT" or "PATCH" && media?.Contains("json", StringComparison.Ordinal) == true)
        {
            problems.AddRange(AnswerAudit.Check(text, body));
        }
        if (request.Kind != CallerKind.Operator)
        {
            var said = text + " " + string.Join(" ", response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value));
            var asked = request.Path + " " + Encoding.UTF8.GetString(body ?? []) + " " + string.Join(" ", request.Headers.Select(h => h.Value));
            foreach (var (what, secret) in victim.Secrets)
            {
                if (said.Contains(secret, StringComparison.OrdinalIgnoreCase) && !asked.Contains(secret, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"leak: the answer holds the victim's {what} '{secret}'");
                }
            }
        }
        // The path as the server saw it (dot segments resolved by the client), without a trailing slash.
        var path = Uri.UnescapeDataString((response.RequestMessage?.RequestUri ?? new Uri("http://localhost" + request.Path)).AbsolutePath).TrimEnd('/').ToLowerInvariant();
        var open = path is "/api/health" or "/api/openapi.json" || path.StartsWith("/api/reference", StringComparison.Ordinal) || !path.StartsWith("/api", StringComparison.Ordinal);
        if (response.IsSuccessStatusCode && request.Method != "OPTIONS" && !open
            && (request.Kind == CallerKind.Stranger || (request.Kind == CallerKind.Attacker && path.Contains("/admin", StringComparison.Ordinal))))
        {
            problems.Add($"{status} for a caller that may not use this route ({request.Caller})");
        }
        return new Answer(request, status, media, text, body, problems);
    }

    private async Task<Answer> RaceAsync(HostileRequest request)
    {
        var domain = request.Path.Split('/')[3];
        var create = request with
        {
            Method = "POST",
            Path = "/api/domains",
            Headers = [],
            Burst = 1,
            ContentType = "application/json",
            Body = Encoding.UTF8.GetBytes($$"""{"name":"{{domain}}","mode":"hold"}""")
        };
        var (created, _) = await SendOnceAsync(create, create.Body);
        var etag = created.Headers.ETag?.ToString();
        if (request.Path.EndsWith("/ip-helper", StringComparison.Ordinal))
        {
            var attach = create with { Method = "PUT", Path = request.Path, Body = Encoding.UTF8.GetBytes($$"""{"destinationHost":"dyn.{{domain}}","destinationPort":2525}""") };
            var (attached, _) = await SendOnceAsync(attach, attach.Body);
            etag = attached.Headers.ETag?.ToString();
        }
        var ifMatch = request.Headers.FirstOrDefault(h => h.Key == "If-Match").Value is HostileRequest.OwnETag ? etag : null;
        var answers = await Task.WhenAll(Enumerable.Range(0, request.Burst).Select(_ => SendOnceAsync(request, request.Body, ifMatch)));
        var first = Judge(request, request.Body, answers[0].Response, answers[0].Text);
        var problems = answers.Skip(1).SelectMany(a => Judge(request, request.Body, a.Response, a.Text).Problems).Concat(first.Problems).Distinct().ToList();
        var winners = answers.Count(a => a.Response.IsSuccessStatusCode);
        var exclusive = request.Method == "DELETE" || (ifMatch is not null && ifMatch != "*");
        if (created.StatusCode == HttpStatusCode.Created && exclusive && winners > 1)
        {
            problems.Add($"{winners} of {request.Burst} identical {(request.Method == "DELETE" ? "deletes" : "conditional patches")} succeeded: only one may");
        }
        // A race is shown by its winner's status, or by its worst one when nobody won.
        var status = answers.Select(a => (int)a.Response.StatusCode).OrderBy(s => s is >= 200 and < 300 ? 0 : 1).ThenByDescending(s => s).First();
        return first with { Problems = problems, Status = status };
    }

    /// <summary>A body without a Content-Length: the server reads it to the end, however long.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
