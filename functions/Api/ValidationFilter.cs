namespace RelayFunctions.Api;

/// <summary>A request body that checks itself: every error under the name of its field as the JSON spells it.</summary>
public interface IValidatable
{
    /// <summary>
    /// Adds an error for each field that is not valid on its own or beside the others. What needs stored state (a
    /// merge patch over the current resource) is checked where that state is read.
    /// </summary>
    void Validate(FieldErrors errors, HttpContext http);

    /// <summary>
    /// Whether a body that could not be read (no object: every field absent) is checked all the same, so that what a
    /// request must hold is named along with the body's error.
    /// </summary>
    bool ChecksUnreadableBody => false;
}

/// <summary>
/// Runs before every handler of a route group: a body argument that could not be read, or that is not valid, is
/// answered with a validation problem naming each field, and the handler never sees it.
/// </summary>
public sealed class ValidationFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var request in context.Arguments.OfType<IValidatable>())
        {
            var errors = JsonBody.ErrorsOf(context.HttpContext);
            // A body that is not an object has no fields to check, unless the request names what it lacks all the same.
            if (!errors.Has("body") || request.ChecksUnreadableBody)
            {
                request.Validate(errors, context.HttpContext);
            }
            foreach (var field in JsonBody.UnknownFieldsOf(context.HttpContext))
            {
                errors.Add(field, "Unknown field.");
            }
            if (errors.Any)
            {
                return TypedResults.ValidationProblem(errors.ToDictionary());
            }
        }
        return await next(context);
    }
}
