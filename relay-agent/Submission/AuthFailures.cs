using System.Globalization;

namespace RelayAgent.Submission;

/// <summary>
/// A client address blocked after repeated failed AUTHs: until when, how many failures it took, its level (1 the first
/// block, 2 a repeat within a day of the previous one's end, …) and the reason operators read.
/// </summary>
public sealed record AuthBlock(string Address, DateTimeOffset Until, int Failures, int Level, string Reason);

/// <summary>
/// Counts failed AUTHs per client address in a sliding window (<see cref="AgentOptions.AuthFailureWindow"/>) and decides
/// the blocks: <see cref="AgentOptions.AuthFailureLimit"/> failures block the address for
/// <see cref="AgentOptions.BlockDuration"/>; a block that follows the previous one's end within a day lasts twice as
/// long as that one did, at most a day. Failures are counted when the agent reads them, not by the log's own
/// timestamps (which have no year and no time zone). One caller at a time.
/// </summary>
public sealed class AuthFailures(AgentOptions options, TimeProvider time)
{
    /// <summary>How long an ended block still makes the next one longer; also the longest block.</summary>
    public static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private readonly Dictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthBlock> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthBlock> _ended = new(StringComparer.Ordinal);

    /// <summary>The blocks in force, by address.</summary>
    public IReadOnlyCollection<AuthBlock> Active => _active.Values;

    /// <summary>A block written before the agent restarted; it ends as it would have.</summary>
    public void Restore(AuthBlock block) => _active[block.Address] = block;

    /// <summary>Counts a failed AUTH from <paramref name="address"/>; returns the block it starts, if it reaches the limit.</summary>
    public AuthBlock? Fail(string address)
    {
        var now = time.GetUtcNow();
        if (_active.ContainsKey(address))
        {
            // A session opened before the block (or a client sending AUTH unasked) is no reason to lengthen it.
            return null;
        }
        if (!_failures.TryGetValue(address, out var failures))
        {
            _failures[address] = failures = new Queue<DateTimeOffset>();
        }
        Forget(failures, now);
        failures.Enqueue(now);
        if (failures.Count < options.AuthFailureLimit)
        {
            return null;
        }

        _failures.Remove(address);
        var level = _ended.Remove(address, out var previous) && now - previous.Until < Day ? previous.Level + 1 : 1;
        var reason = string.Create(CultureInfo.InvariantCulture, $"{failures.Count} failed authentications within {options.AuthFailureWindow}");
        var block = new AuthBlock(address, now + Duration(level), failures.Count, level, reason);
        _active[address] = block;
        return block;
    }

    /// <summary>Ends the blocks whose time is up and returns them; forgets failures and ended blocks that no longer count.</summary>
    public IReadOnlyList<AuthBlock> Expire()
    {
        var now = time.GetUtcNow();
        var ended = _active.Values.Where(b => b.Until <= now).ToList();
        foreach (var block in ended)
        {
            _active.Remove(block.Address);
            _ended[block.Address] = block;
        }
        foreach (var (address, block) in _ended.Where(e => now - e.Value.Until >= Day).ToList())
        {
            _ended.Remove(address);
        }
        foreach (var (address, failures) in _failures.ToList())
        {
            Forget(failures, now);
            if (failures.Count == 0)
            {
                _failures.Remove(address);
            }
        }
        return ended;
    }

    /// <summary><see cref="AgentOptions.BlockDuration"/> doubled for each level above the first, at most a day.</summary>
    public TimeSpan Duration(int level)
    {
        var duration = options.BlockDuration;
        for (var i = 1; i < level && duration < Day; i++)
        {
            duration *= 2;
        }
        return duration < Day ? duration : Day;
    }

    private void Forget(Queue<DateTimeOffset> failures, DateTimeOffset now)
    {
        while (failures.Count > 0 && now - failures.Peek() >= options.AuthFailureWindow)
        {
            failures.Dequeue();
        }
    }
}
