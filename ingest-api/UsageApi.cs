using System.Globalization;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Usage;

namespace PricingOptimizer.IngestApi;

/// <summary><c>GET /v1/usage</c> and <c>GET /v1/billing/{yyyy-MM}</c>, plus API-call counting and the approaching-limit header.</summary>
public static class UsageApi
{
    public const string UsageWarningHeader = "X-Usage-Warning";

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/usage", async (string? month, HttpContext context, UsageService usage, CancellationToken ct) =>
                Results.Ok(await usage.GetAsync(context.TenantId(), month, ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<MonthlyUsage>()
            .WithName("Usage").WithSummary("Events and API calls per day of a month (default: this one) against the plan.").WithTags("usage");

        app.MapGet("/v1/usage/trend", async (HttpContext context, UsageTrendService trend, CancellationToken ct) =>
                Results.Ok(await trend.GetAsync(context.TenantId(), ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<UsageTrend>()
            .WithName("UsageTrend")
            .WithSummary("This month's events and API calls per day, the month-end projection at the last 7 days' rate, when the included events " +
                "run out, the projected bill.")
            .WithTags("usage");

        app.MapGet("/v1/billing/{month}", async (string month, HttpContext context, BillingService billing, CancellationToken ct) =>
                Results.Ok(await billing.GetAsync(context.TenantId(), month, ct)))
            .RequireAuthorization(IngestApiExtensions.TenantPolicy)
            .Produces<MonthlyBill>()
            .WithName("Billing").WithSummary("The month's charge (base + overage) and the plan that would cost least.").WithTags("usage");
        return app;
    }

    /// <summary>How long a response waits for the usage figure behind its warning header before it goes without.</summary>
    public static readonly TimeSpan UsageLookupTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>Counts every authenticated tenant request, and warns on responses when the month's included events run low.</summary>
    public static IApplicationBuilder UseUsageTracking(this IApplicationBuilder app)
    {
        var counter = app.ApplicationServices.GetRequiredService<ApiCallCounter>();
        var usage = app.ApplicationServices.GetRequiredService<UsageService>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("PricingOptimizer.IngestApi.UsageTracking");
        return app.Use((context, next) =>
        {
            if (context.User.FindFirst(TenantClaims.TenantId)?.Value is { } tenantId)
            {
                counter.Count(tenantId);
                context.Response.OnStarting(async () =>
                {
                    // A warning header is a courtesy: the answer never waits long for it, nor fails because of it.
                    try
                    {
                        using var timeout = new CancellationTokenSource(UsageLookupTimeout);
                        var percent = await usage.PercentUsedAsync(tenantId, timeout.Token);
                        if (percent >= 80)
                        {
                            context.Response.Headers[UsageWarningHeader] = string.Create(CultureInfo.InvariantCulture,
                                $"{percent:F0}% of this month's included events used");
                        }
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        UsageTrackingLog.Skipped(logger, tenantId, e.Message);
                    }
                });
            }

            return next(context);
        });
    }
}

internal static partial class UsageTrackingLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No usage warning header for tenant {TenantId}: the usage figure could not be had ({Reason})")]
    public static partial void Skipped(ILogger logger, string tenantId, string reason);
}
