using PricingOptimizer.EventLog;

namespace PricingOptimizer.IngestApi;

/// <summary>Liveness and readiness.</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { Status = "ok" }))
            .WithName("Healthz").WithSummary("Liveness: the process answers.").WithTags("health");

        app.MapGet("/readyz", async (IEventLog log, CancellationToken ct) =>
                await log.IsReachableAsync(ct)
                    ? Results.Ok(new { Status = "ready", EventLog = log.Kind })
                    : Results.Problem(statusCode: 503, title: "Not ready", detail: $"the {log.Kind} event log is not reachable"))
            .WithName("Readyz").WithSummary("Readiness: the event log is reachable.").WithTags("health");
        return app;
    }
}
