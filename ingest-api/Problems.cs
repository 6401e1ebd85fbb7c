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
            TenancyError.Conflict => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status400BadRequest,
        },
        title: e.Error switch
        {
            TenancyError.NotFound => "Not found",
            TenancyError.Unauthorized => "Unauthorized",
            TenancyError.Conflict => "Conflict",
            _ => "Invalid request",
        },
        detail: e.Message,
        extensions: Extensions(e));

    private static Dictionary<string, object?>? Extensions(TenancyException e)
    {
        var extensions = new Dictionary<string, object?>();
        if (e.Field is not null)
        {
            extensions["field"] = e.Field;
        }

        if (e.Allowed is not null)
        {
            extensions["allowed"] = e.Allowed;
        }

        return extensions.Count == 0 ? null : extensions;
    }

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

    /// <summary>503 with Retry-After: the event log did not take the events, so nothing was kept.</summary>
    public static IResult Unavailable(HttpContext context, EventLog.EventLogUnavailableException e, string detail)
    {
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(e.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: 503, title: "Event log unavailable", detail: detail);
    }

    public static IResult MissingBody(string fields) =>
        Results.Problem(statusCode: 400, title: "Invalid request", detail: $"send a JSON body with {fields}");
}
