using System.Globalization;
using PricingOptimizer.Analytics;
using PricingOptimizer.Errors;

namespace PricingOptimizer.IngestApi;

/// <summary><c>GET /v1/analytics/…</c>: the dashboard over every experiment of the tenant.</summary>
public static class AnalyticsApi
{
    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/analytics/experiments", async (HttpContext context, DashboardService dashboard, CancellationToken ct) =>
                Results.Ok(await dashboard.GetAsync(context.TenantId(), Number(context.Request.Query, "mde"), ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<Dashboard>()
            .WithName("AnalyticsExperiments")
            .WithSummary("Every experiment: status, days running, users and metrics per variant, the leading variant, health flags, users still needed for 80% power (?mde=0.05).")
            .WithTags("analytics");
        return app;
    }

    private static double? Number(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new InvalidInputException($"{name} '{text}' is not a number", name);
    }
}
