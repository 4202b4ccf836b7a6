using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace RelayFunctions.Api;

/// <summary>
/// A refusal as a typed result: a problem details document (RFC 9457) whose status the OpenAPI document learns from the
/// handler's return type, as it does for <see cref="Microsoft.AspNetCore.Http.HttpResults.ValidationProblem"/>.
/// </summary>
public abstract class ProblemResult(int status, string title, string detail) : IResult
{
    public string Detail => detail;

    public Task ExecuteAsync(HttpContext httpContext) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(httpContext);

    protected static void Produces(EndpointBuilder builder, int status) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
}

/// <summary>404: the resource does not exist (for an account route: not in the caller's account).</summary>
public sealed class NotFoundProblem(string detail) : ProblemResult(StatusCodes.Status404NotFound, "Not found.", detail), IEndpointMetadataProvider
{
    public static NotFoundProblem InAccount(string what) => new($"{what} does not exist in your account.");

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Produces(builder, StatusCodes.Status404NotFound);
}

/// <summary>409: the request conflicts with the current state (a name taken, a rule of the domain).</summary>
public sealed class ConflictProblem(string reason) : ProblemResult(StatusCodes.Status409Conflict, "Conflict.", reason), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Produces(builder, StatusCodes.Status409Conflict);
}

/// <summary>412: the caller's If-Match no longer matches: someone changed the resource first.</summary>
public sealed class PreconditionFailedProblem(string what) : ProblemResult(
    StatusCodes.Status412PreconditionFailed,
    "The resource has changed.",
    $"{what} was changed since you read it (If-Match no longer matches its ETag). Read it again and reapply your change."), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Produces(builder, StatusCodes.Status412PreconditionFailed);
}
