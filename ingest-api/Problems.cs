using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>problem+json answers for errors a caller can fix.</summary>
internal static class Problems
{
    public static IResult From(TenancyException e) => Results.Problem(
        statusCode: e.Error switch
        {
            TenancyError.NotFound => StatusCodes.Status404NotFound,
            TenancyError.Unauthorized => StatusCodes.Status401Unauthorized,
            _ => StatusCodes.Status400BadRequest,
        },
        title: e.Error switch
        {
            TenancyError.NotFound => "Not found",
            TenancyError.Unauthorized => "Unauthorized",
            _ => "Invalid request",
        },
        detail: e.Message,
        extensions: e.Field is null ? null : new Dictionary<string, object?> { ["field"] = e.Field });

    /// <summary>Runs <paramref name="action"/>, turning a <see cref="TenancyException"/> into its problem answer.</summary>
    public static async Task<IResult> Guard(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (TenancyException e)
        {
            return From(e);
        }
    }

    public static IResult MissingBody(string fields) =>
        Results.Problem(statusCode: 400, title: "Invalid request", detail: $"send a JSON body with {fields}");
}
