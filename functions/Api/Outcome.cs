namespace RelayFunctions.Api;

/// <summary>What a store verb did, as data: the endpoints map each case to an HTTP answer.</summary>
public abstract record Outcome<T>
{
    private Outcome()
    {
    }

    public sealed record Ok(T Value, bool Created = false) : Outcome<T>;

    public sealed record NotFound : Outcome<T>;

    /// <summary>The request conflicts with the current state (a name taken, a rule of the domain).</summary>
    public sealed record Conflict(string Reason) : Outcome<T>;

    /// <summary>The caller's If-Match no longer matches: someone changed the resource first.</summary>
    public sealed record Stale : Outcome<T>;

    /// <summary>The change is invalid against the stored resource; field name to messages.</summary>
    public sealed record Invalid(IDictionary<string, string[]> Errors) : Outcome<T>;
}
