using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The JSON the app answers in (its HTTP JSON options in AppServices: web defaults, nulls written, numbers only as
/// numbers; enums are strings by their own converters), so tests read answers as the API's view records. Every member
/// of a view must be in the answer: a field the app left out fails the read, so a test that reads a null has seen the
/// app write <c>null</c>, as it always does.
/// </summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.Strict,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads the answer as the view <typeparamref name="T"/>, failing the test if its body is <c>null</c>.</summary>
    public static async Task<T> ReadViewAsync<T>(this HttpResponseMessage response)
        where T : class
    {
        var view = await response.Content.ReadFromJsonAsync<T>(Options);
        Assert.NotNull(view);
        return view;
    }
}
