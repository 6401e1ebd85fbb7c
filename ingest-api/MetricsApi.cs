using OpenTelemetry.Metrics;
using PricingOptimizer.Telemetry;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// <c>GET /metrics</c>: the engine's meter (ingest, rejections by field, log append latency, rate-limited requests,
/// compactions, the lander's and dispatcher's backlog, dead letters) and ASP.NET Core's request metrics, in Prometheus
/// text format through OpenTelemetry's exporter.
/// </summary>
public static class MetricsApi
{
    public static IServiceCollection AddOperatorMetrics(this IServiceCollection services)
    {
        services.AddSingleton<BacklogMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<BacklogMonitor>());
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(PoMetrics.MeterName, "Microsoft.AspNetCore.Hosting")
            // Every scrape sees the figures of that moment (the exporter would otherwise answer from a 300 ms cache).
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics")
            .WithName("Metrics").WithSummary("Prometheus text format: ingest, rejections, log latency, backlogs, dead letters, compactions.").WithTags("health");
        return app;
    }
}
