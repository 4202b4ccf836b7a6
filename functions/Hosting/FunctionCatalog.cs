namespace RelayFunctions.Hosting;

/// <summary>Every timer and queue function the app has, looked up by name (case-insensitively, as the host does).</summary>
public sealed class FunctionCatalog(IEnumerable<ITimerFunction> timers, IEnumerable<IQueueFunction> queues)
{
    private readonly Dictionary<string, ITimerFunction> _timers = timers.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IQueueFunction> _queues = queues.ToDictionary(q => q.Name, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<ITimerFunction> Timers => _timers.Values;
    public IReadOnlyCollection<IQueueFunction> Queues => _queues.Values;

    public ITimerFunction? FindTimer(string name) => _timers.GetValueOrDefault(name);
    public IQueueFunction? FindQueue(string name) => _queues.GetValueOrDefault(name);
}
