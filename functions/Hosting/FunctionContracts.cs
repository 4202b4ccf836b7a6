namespace RelayFunctions.Hosting;

/// <summary>What a timer function is told about its invocation, as the Functions host describes it.</summary>
public sealed record TimerInfo(bool IsPastDue, DateTimeOffset? Last, DateTimeOffset? Next);

/// <summary>A queue message as the function sees it: the decoded text and the host's bookkeeping.</summary>
public sealed record QueueMessage(string Id, string Body, long DequeueCount, DateTimeOffset? InsertedOn);

/// <summary>
/// A function with a timer trigger. Under the Functions host its function.json declares the schedule;
/// standalone, <see cref="Timers.TimerRunner"/> drives it on the same NCRONTAB schedule.
/// </summary>
public interface ITimerFunction
{
    /// <summary>The function name: the folder of its function.json and the path the host posts to.</summary>
    string Name { get; }

    /// <summary>Six-field NCRONTAB (seconds first), evaluated in UTC.</summary>
    string Schedule { get; }

    Task RunAsync(TimerInfo timer, CancellationToken cancellationToken);
}

/// <summary>
/// A function with a queue trigger. A thrown exception fails the invocation: the message becomes visible
/// again and, after <c>maxDequeueCount</c> failures, moves to <c>&lt;queue&gt;-poison</c>.
/// </summary>
public interface IQueueFunction
{
    string Name { get; }

    /// <summary>The logical queue name (the storage prefix is added by <see cref="Storage.StorageClients"/>).</summary>
    string QueueName { get; }

    Task RunAsync(QueueMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// A queue function whose message is one <typeparamref name="T"/>: the body is read with <paramref name="parse"/>
/// (which throws <see cref="MalformedMessageException"/> for a body it cannot read), then handled.
/// </summary>
public abstract class QueueFunction<T>(string name, string queue, Func<string, T> parse) : IQueueFunction
{
    public string Name => name;

    public string QueueName => queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) => RunAsync(parse(message.Body), cancellationToken);

    protected abstract Task RunAsync(T message, CancellationToken cancellationToken);
}

/// <summary>The binding names used in function.json; the invocation payload is keyed by them.</summary>
public static class BindingNames
{
    public const string Timer = "timer";
    public const string QueueMessage = "message";
}
