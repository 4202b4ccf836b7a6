using Azure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace RelayFunctions.Api;

/// <summary>Maps store outcomes to HTTP: problem details (RFC 9457) for every failure, an ETag on success.</summary>
public static class OutcomeResults
{
    /// <summary>A change of an existing resource: its view, or why not.</summary>
    public static Results<Ok<TView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem> ToChanged<T, TView>(
        this Outcome<T> outcome, HttpContext http, string what, Func<T, TView> view, Func<T, ETag> etag) =>
        outcome switch
        {
            Outcome<T>.Ok ok => Tagged(http, etag(ok.Value), TypedResults.Ok(view(ok.Value))),
            Outcome<T>.NotFound => NotFoundProblem.InAccount(what),
            Outcome<T>.Conflict c => new ConflictProblem(c.Reason),
            Outcome<T>.Stale => new PreconditionFailedProblem(what),
            Outcome<T>.Invalid invalid => TypedResults.ValidationProblem(invalid.Errors),
            _ => throw new InvalidOperationException($"Unmapped outcome {outcome}."),
        };

    /// <summary>A change that takes no precondition and no body: its view, or 404, or 409 (a collision, a lost race).</summary>
    public static Results<Ok<TView>, NotFoundProblem, ConflictProblem> ToApplied<T, TView>(
        this Outcome<T> outcome, HttpContext http, string what, Func<T, TView> view, Func<T, ETag> etag) =>
        outcome switch
        {
            Outcome<T>.Ok ok => Tagged(http, etag(ok.Value), TypedResults.Ok(view(ok.Value))),
            Outcome<T>.NotFound => NotFoundProblem.InAccount(what),
            Outcome<T>.Conflict c => new ConflictProblem(c.Reason),
            _ => throw new InvalidOperationException($"Unmapped outcome {outcome}."),
        };

    /// <summary>A create-or-replace (PUT): 201 with its address when it was created, 200 when it was replaced.</summary>
    public static Results<Created<TView>, Ok<TView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem> ToPut<T, TView>(
        this Outcome<T> outcome, HttpContext http, string what, Func<T, TView> view, Func<T, ETag> etag, Func<T, string> location) =>
        outcome is Outcome<T>.Ok { Created: true } created
            ? Tagged(http, etag(created.Value), TypedResults.Created(location(created.Value), view(created.Value)))
            : outcome.ToChanged(http, what, view, etag).Result switch
            {
                Ok<TView> ok => ok,
                NotFoundProblem notFound => notFound,
                ConflictProblem conflict => conflict,
                PreconditionFailedProblem stale => stale,
                var invalid => (ValidationProblem)invalid,
            };

    /// <summary>A creation (POST): 201 with its address, or why not.</summary>
    public static Results<Created<TView>, ConflictProblem, ValidationProblem> ToCreated<T, TView>(
        this Outcome<T> outcome, HttpContext http, Func<T, TView> view, Func<T, ETag> etag, Func<T, string> location) =>
        outcome switch
        {
            Outcome<T>.Ok ok => Tagged(http, etag(ok.Value), TypedResults.Created(location(ok.Value), view(ok.Value))),
            Outcome<T>.Conflict c => new ConflictProblem(c.Reason),
            Outcome<T>.Invalid invalid => TypedResults.ValidationProblem(invalid.Errors),
            _ => throw new InvalidOperationException($"Unmapped outcome {outcome}."),
        };

    /// <summary>A read of one resource: its view with its ETag, or 404.</summary>
    public static Results<Ok<TView>, NotFoundProblem> ToFound<T, TView>(this T? value, HttpContext http, string what, Func<T, TView> view, Func<T, ETag> etag)
        where T : class =>
        value is null ? NotFoundProblem.InAccount(what) : Tagged(http, etag(value), TypedResults.Ok(view(value)));

    /// <summary>A read through a verb that finds the resource or not.</summary>
    public static Results<Ok<TView>, NotFoundProblem> ToRead<T, TView>(this Outcome<T> outcome, HttpContext http, string what, Func<T, TView> view, Func<T, ETag> etag)
        where T : class =>
        (outcome as Outcome<T>.Ok)?.Value.ToFound(http, what, view, etag) ?? NotFoundProblem.InAccount(what);

    /// <summary>A delete: 204, or why not.</summary>
    public static Results<NoContent, NotFoundProblem, ConflictProblem, PreconditionFailedProblem> ToDeleted<T>(this Outcome<T> outcome, string what) =>
        outcome switch
        {
            Outcome<T>.Ok => TypedResults.NoContent(),
            Outcome<T>.NotFound => NotFoundProblem.InAccount(what),
            Outcome<T>.Conflict c => new ConflictProblem(c.Reason),
            Outcome<T>.Stale => new PreconditionFailedProblem(what),
            _ => throw new InvalidOperationException($"Unmapped outcome {outcome}."),
        };

    private static TResult Tagged<TResult>(HttpContext http, ETag tag, TResult result)
    {
        EntityTags.Set(http.Response, tag);
        return result;
    }
}
