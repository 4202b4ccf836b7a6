using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>A logger factory that keeps every line as "Level: message", for assertions on what the agent logged.</summary>
internal sealed class CapturingLogs : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception?.Message}");

    public void Dispose()
    {
    }
}
