using Azure;

namespace RelayFunctions.Api;

/// <summary>Maps store outcomes to HTTP: problem details (RFC 9457) for every failure, an ETag on success.</summary>
public static class OutcomeResults
{
    public static IResult ToHttp<T>(
        this Outcome<T> outcome, HttpContext http, string what, Func<T, object> view, Func<T, ETag> etag, Func<T, string>? location = null) =>
        outcome switch
        {
            Outcome<T>.Ok { Created: true } ok when location is not null => WithTag(http, etag(ok.Value), TypedResults.Created(location(ok.Value), view(ok.Value))),
            Outcome<T>.Ok ok => WithTag(http, etag(ok.Value), TypedResults.Ok(view(ok.Value))),
            Outcome<T>.NotFound => NotFound(what),
            Outcome<T>.Conflict c => TypedResults.Problem(title: "Conflict.", detail: c.Reason, statusCode: StatusCodes.Status409Conflict),
            Outcome<T>.Stale => PreconditionFailed(what),
            Outcome<T>.Invalid invalid => TypedResults.ValidationProblem(invalid.Errors),
            _ => throw new InvalidOperationException($"Unmapped outcome {outcome}."),
        };

    public static IResult NotFound(string what) =>
        TypedResults.Problem(title: "Not found.", detail: $"{what} does not exist in your account.", statusCode: StatusCodes.Status404NotFound);

    public static IResult PreconditionFailed(string what) =>
        TypedResults.Problem(
            title: "The resource has changed.",
            detail: $"{what} was changed since you read it (If-Match no longer matches its ETag). Read it again and reapply your change.",
            statusCode: StatusCodes.Status412PreconditionFailed);

    public static IResult Invalid(FieldErrors errors) => TypedResults.ValidationProblem(errors.ToDictionary());

    private static IResult WithTag(HttpContext http, ETag tag, IResult result)
    {
        EntityTags.Set(http.Response, tag);
        return result;
    }
}
