namespace RelayFunctions.Hosting.Queues;

/// <summary>
/// Randomized exponential back-off between empty polls, as the Functions host's queue listener does:
/// starts at 100 ms, doubles with ±20% jitter, capped at the maximum, reset when messages are found.
/// </summary>
public sealed class PollingBackoff(TimeSpan maximum, Random? random = null)
{
    public static readonly TimeSpan Minimum = TimeSpan.FromMilliseconds(100);

    private readonly Random _random = random ?? Random.Shared;
    private readonly TimeSpan _maximum = maximum < Minimum ? Minimum : maximum;
    private int _exponent;

    public TimeSpan NextDelay()
    {
        var baseDelay = Minimum.TotalMilliseconds * Math.Pow(2, _exponent);
        if (baseDelay < _maximum.TotalMilliseconds)
        {
            _exponent++;
        }
        var jittered = baseDelay * (0.8 + (_random.NextDouble() * 0.4));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _maximum.TotalMilliseconds));
    }

    public void Reset() => _exponent = 0;
}
