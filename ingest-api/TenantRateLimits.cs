using PricingOptimizer.Caching;
using System.Globalization;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// Per-tenant request limits by plan: a fixed one-minute window per tenant, aligned to the clock's minutes and
/// counted in <see cref="IRequestWindows"/>, sized by the tenant's current plan (looked up in the control plane,
/// cached briefly, so a plan change takes effect within a minute). Anonymous calls to the token endpoint are limited
/// per client address. A 429 carries Retry-After: the whole seconds until the window ends, when a request would
/// pass again. Every limited answer carries X-RateLimit-Limit and X-RateLimit-Remaining.
/// </summary>
public sealed class TenantRateLimits
{
    public const int AnonymousPerMinute = 120;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PlanCacheTime = TimeSpan.FromSeconds(30);
    private const int MaxCachedPlans = 100_000;
    private readonly TimedCache<string, string> planCache;
    private readonly ITenantStore store;
    private readonly IRequestWindows windows;
    private readonly IOptions<PlanOptions> plans;
    private readonly TimeProvider time;
    private readonly Telemetry.PoMetrics metrics;

    private readonly ControlPlaneStatus status;

    /// <summary>Counts kept in this process while the shared windows' store is down (degraded mode: a limit per process).</summary>
    private readonly InMemoryRequestWindows fallback = new();

    public TenantRateLimits(ITenantStore store, IRequestWindows windows, IOptions<PlanOptions> plans, TimeProvider time, ControlPlaneChanges changes,
        Telemetry.PoMetrics metrics, ControlPlaneStatus status)
    {
        this.status = status;
        this.metrics = metrics;
        this.store = store;
        this.windows = windows;
        this.plans = plans;
        this.time = time;
        planCache = new(time, MaxCachedPlans, keepLastKnown: true);
        // A plan changed through another process (PostgreSQL's NOTIFY) counts here at once, not after the cache time.
        changes.Changed += change =>
        {
            if (change.Kind == ControlPlaneChangeKind.Tenant)
            {
                planCache.Remove(change.TenantId!);
            }
            else if (change.Kind == ControlPlaneChangeKind.Everything)
            {
                // Out of date, but kept as the last-known plan for degraded mode.
                planCache.MarkAllStale();
            }
        };
    }

    /// <summary>The middleware: counts the request against its partition, or answers 429.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (await PartitionAsync(context) is not var (partition, limit))
        {
            await next(context);
            return;
        }

        var now = time.GetUtcNow();
        var start = WindowStart(now);
        long count;
        if (status.RecentlyDown || windows is InMemoryRequestWindows)
        {
            count = await (windows is InMemoryRequestWindows ? windows : fallback).IncrementAsync(partition, start, context.RequestAborted);
        }
        else
        {
            try
            {
                count = await windows.IncrementAsync(partition, start, context.RequestAborted);
            }
            catch (Exception fault) when (status.Failed(fault))
            {
                // Degraded mode: the store that shares the limit across processes is down; this process counts alone.
                count = await fallback.IncrementAsync(partition, start, context.RequestAborted);
            }
        }

        var remaining = Math.Max(0, limit - count);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        if (count <= limit)
        {
            await next(context);
            return;
        }

        metrics.RateLimited.Add(1);
        context.Response.Headers.RetryAfter = Problems.Seconds(start + Window - now);
        await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                detail: "the plan's requests per minute are used up; retry after the number of seconds in Retry-After",
                type: "https://tools.ietf.org/html/rfc6585#section-4")
            .ExecuteAsync(context);
    }

    /// <summary>The start of the clock-aligned window holding <paramref name="now"/>.</summary>
    public static DateTimeOffset WindowStart(DateTimeOffset now) => new(now.UtcTicks - (now.UtcTicks % Window.Ticks), TimeSpan.Zero);

    private async ValueTask<(string Partition, int Limit)?> PartitionAsync(HttpContext context)
    {
        if (context.User.FindFirst(TenantClaims.TenantId)?.Value is { } tenantId)
        {
            return ("t:" + tenantId, await RequestsPerMinuteAsync(tenantId, context.User.FindFirst(TenantClaims.Plan)?.Value, context.RequestAborted));
        }

        return context.Request.Path.StartsWithSegments("/v1/auth/token")
            ? ("ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), AnonymousPerMinute)
            : null;
    }

    /// <summary>The tenant's plan limit; the token's plan claim stands in for tenants the control plane does not know (development tokens).</summary>
    public async ValueTask<int> RequestsPerMinuteAsync(string tenantId, string? claimedPlan, CancellationToken cancellationToken)
    {
        if (!planCache.TryGetFresh(tenantId, out var planName))
        {
            var had = planCache.TryGetLastKnown(tenantId, out var lastKnown);
            if (status.RecentlyDown)
            {
                // Degraded mode: the last-known plan, else the one the token was issued with.
                planName = had ? lastKnown : claimedPlan ?? "free";
            }
            else
            {
                try
                {
                    var tenant = await store.GetTenantAsync(tenantId, cancellationToken);
                    planName = tenant?.Plan ?? claimedPlan ?? "free";
                    planCache.Set(tenantId, planName, PlanCacheTime);
                }
                catch (Exception fault) when (status.Failed(fault))
                {
                    planName = had ? lastKnown : claimedPlan ?? "free";
                }
            }
        }

        return plans.Value.TryGet(planName, out var plan) ? plan.RequestsPerMinute
            : plans.Value.TryGet("free", out var free) ? free.RequestsPerMinute
            : plans.Value.Plans.Values.Min(p => p.RequestsPerMinute);
    }
}
