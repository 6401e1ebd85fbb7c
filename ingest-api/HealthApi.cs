using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.EventLog;

namespace PricingOptimizer.IngestApi;

/// <summary>Liveness, and readiness through ASP.NET Core health checks: the event log and the control-plane store.</summary>
public static class HealthApi
{
    /// <summary>The liveness answer: <c>{"status": "ok"}</c>.</summary>
    public sealed record HealthResponse(string Status);

    private const string Ready = "ready";

    /// <summary>How long each readiness check waits (both run at once, so /readyz answers within about this).</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(1.5);

    public static IServiceCollection AddReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<EventLogCheck>("event_log", tags: [Ready], timeout: TimeSpan.FromSeconds(2))
            .AddCheck<ControlPlaneCheck>("control_plane", tags: [Ready], timeout: TimeSpan.FromSeconds(2));
        return services;
    }

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new HealthResponse("ok")))
            .Produces<HealthResponse>()
            .WithName("Healthz").WithSummary("Liveness: the process answers.").WithTags("health");

        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .WithName("Readyz").WithSummary("Readiness: the event log and the control-plane store are reachable.").WithTags("health");
        return app;
    }

    /// <summary>200 <c>{status: ready, event_log: kind, control_plane: kind}</c> when ready; else 503 problem+json naming what is down.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        // A ready dependency says what it is (embedded or kafka; sqlite or postgresql), one that is not says why.
        var checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description ?? e.Value.Status.ToString());
        if (report.Status == HealthStatus.Healthy)
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>(checks) { ["status"] = "ready" }));
        }

        var down = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key.Replace('_', ' ')}: " +
            $"{e.Value.Description ?? "no answer"}");
        context.Response.ContentType = "application/problem+json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            ["title"] = "Not ready",
            ["status"] = 503,
            ["detail"] = string.Join("; ", down),
            ["checks"] = checks,
        }));
    }

    private sealed class EventLogCheck(IEventLog log) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                return await log.IsReachableAsync(cancellationToken).WaitAsync(CheckTimeout, cancellationToken)
                    ? HealthCheckResult.Healthy(log.Kind)
                    : HealthCheckResult.Unhealthy($"the {log.Kind} event log is not reachable");
            }
            catch (TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"the {log.Kind} event log did not answer within {CheckTimeout.TotalSeconds:0.#} s");
            }
        }
    }

    private sealed class ControlPlaneCheck(IControlPlaneStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var kind = store is ControlPlane.Postgres.PostgresControlPlaneStore ? "postgresql" : "sqlite";
            try
            {
                // WaitAsync: a frozen server may not honour the cancellation; readiness answers within its 2 s regardless.
                return await store.IsReachableAsync(cancellationToken).WaitAsync(CheckTimeout, cancellationToken)
                    ? HealthCheckResult.Healthy(kind)
                    : HealthCheckResult.Unhealthy($"the {kind} control plane does not answer");
            }
            catch (TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"the {kind} control plane did not answer within {CheckTimeout.TotalSeconds:0.#} s");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"the {kind} control plane is not reachable: {e.Message.Split('\n', 2)[0]}");
            }
        }
    }
}
