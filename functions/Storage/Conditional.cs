using Azure;
using RelayFunctions.Api;

namespace RelayFunctions.Storage;

/// <summary>
/// How every update and delete of a stored resource opens and how it ends a lost race: read the current row, NotFound
/// (404) when it is not there, Stale (412) when the caller's If-Match no longer holds; a write that loses a race is
/// tried again on a fresh read when the caller gave no precondition, and is Stale when it did.
/// </summary>
public static class Conditional
{
    /// <summary>
    /// Runs <paramref name="write"/> on the current value when it exists and <paramref name="ifMatch"/> holds; a null
    /// from <paramref name="write"/> (a lost race, see <see cref="LostRace{T}"/>) reads again, up to
    /// <see cref="Retry.Attempts"/> times, then answers Conflict naming <paramref name="what"/>. The outcome is of the
    /// stored value itself, or of what the caller makes of it (a view).
    /// </summary>
    public static Task<Outcome<TResult>> ChangeAsync<T, TResult>(
        string what, ETag? ifMatch, Func<Task<T?>> find, Func<T, ETag> etagOf, Func<T, Task<Outcome<TResult>?>> write)
        where T : class =>
        Retry.OnStaleAsync<Outcome<TResult>>(async () =>
        {
            var current = await find();
            if (current is null)
            {
                return new Outcome<TResult>.NotFound();
            }
            if (!EntityTags.Satisfied(ifMatch, etagOf(current)))
            {
                return new Outcome<TResult>.Stale();
            }
            return await write(current);
        }, () => new Outcome<TResult>.Conflict($"The {what} is being changed by someone else; try again."));

    /// <summary>
    /// A write that lost a race (its stored ETag changed between the read and the write): null (read again and re-apply)
    /// when the caller gave no precondition or <c>*</c>; Stale when it named a version.
    /// </summary>
    public static Outcome<T>? LostRace<T>(ETag? ifMatch) =>
        ifMatch is null || ifMatch == ETag.All ? null : new Outcome<T>.Stale();
}
