using PricingOptimizer.Analytics;

namespace PricingOptimizer.IngestApi;

/// <summary><c>GET /v1/analytics/…</c>: the dashboard over every experiment of the tenant.</summary>
public static class AnalyticsApi
{
    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/analytics/experiments", async (HttpContext context, DashboardService dashboard, CancellationToken ct) =>
                Results.Ok(await dashboard.GetAsync(context.TenantId(), QueryParameters.Double(context.Request.Query, "mde"), ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<Dashboard>()
            .WithName("AnalyticsExperiments")
            .WithSummary("Every experiment: status, days running, users and metrics per variant, the leading variant, health flags, users still " +
                "needed for 80% power (?mde=0.05).")
            .WithTags("analytics");

        app.MapGet("/v1/analytics/experiments/{experimentId}/timeseries", async (string experimentId, string? metric, HttpContext context,
                    TimeseriesService timeseries, CancellationToken ct) =>
                Results.Ok(await timeseries.GetAsync(context.TenantId(), experimentId, metric, ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<Timeseries>()
            .WithName("AnalyticsTimeseries")
            .WithSummary("Day by day: the cumulative metric per variant (?metric=conversion_rate|revenue_per_user; default: the experiment's " +
                "goal), the lift with its interval and the always-valid interval on the difference.")
            .WithTags("analytics");

        app.MapGet("/v1/analytics/compare", async (string? experiments, HttpContext context, DashboardService dashboard, CancellationToken ct) =>
                Results.Ok(await dashboard.CompareAsync(context.TenantId(),
                    (experiments ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    context.Request.Query.ContainsKey("goal") ? ExperimentsApi.RecommendationQuery(context.Request.Query)
                        : new Pricing.RecommendationRequest(Pricing.Goal.Revenue),
                    QueryParameters.Double(context.Request.Query, "mde"), ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<ExperimentComparison>()
            .WithName("AnalyticsCompare")
            .WithSummary("Experiments side by side (?experiments=a,b,…): the dashboard's figures, their prices and recommendations (?goal=revenue " +
                "by default, &unit_cost= for profit).")
            .WithTags("analytics");
        return app;
    }
}
