using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Ties what the app logs at warning level and above (the exception behind a 500, a failed invocation, a runner's error)
/// to the hostile request that caused it: a middleware ahead of the app's pipeline reads the request's
/// <see cref="Header"/> into an async-local the logger sees. Entries logged outside any request (the standalone
/// host's timer and queue runners) are kept under -1.
/// </summary>
internal sealed class RequestLog : ILoggerProvider
{
    public const string Header = "X-Hostile-Request";

    private static readonly AsyncLocal<int?> Current = new();
    private readonly ConcurrentDictionary<int, ConcurrentQueue<string>> _entries = new();

    public IReadOnlyList<string> For(int index) => _entries.TryGetValue(index, out var list) ? [.. list] : [];

    public IReadOnlyList<string> OutsideRequests => For(-1);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Put first in the pipeline, before the app's exception handler, so everything it logs is attributed.</summary>
    public sealed class Filter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                Current.Value = int.TryParse(context.Request.Headers[Header], out var index) ? index : -2;
                await inner(context);
            });
            next(app);
        };
    }

    private sealed class Logger(RequestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var text = $"{logLevel} {category}: {formatter(state, exception)}";
            if (exception is not null)
            {
                text += $" | {exception.GetType().Name}: {exception.Message} at {AppFrame(exception)}";
            }
            log._entries.GetOrAdd(Current.Value ?? -1, _ => new()).Enqueue(text);
        }

        /// <summary>The innermost frame in the app's own code: where to look first.</summary>
        private static string AppFrame(Exception exception)
        {
            var inner = exception;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }
            var frames = new System.Diagnostics.StackTrace(inner, fNeedFileInfo: true).GetFrames();
            var frame = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("RelayFunctions", StringComparison.Ordinal) == true);
            return frame is null
                ? "(no frame in the app)"
                : $"{frame.GetMethod()?.DeclaringType?.FullName}.{frame.GetMethod()?.Name} ({Path.GetFileName(frame.GetFileName())}:{frame.GetFileLineNumber()})";
        }
    }
}
