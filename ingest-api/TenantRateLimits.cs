using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// Per-tenant request limits by plan, on ASP.NET Core's rate limiter: a fixed one-minute window per tenant sized by
/// the tenant's current plan (looked up in the control plane, cached briefly, so a plan change takes effect within
/// a minute). Anonymous calls to the token endpoint are limited per client address. 429 answers carry Retry-After;
/// every limited answer carries X-RateLimit-Limit and X-RateLimit-Remaining.
/// </summary>
public sealed class TenantRateLimits
{
    private const int AnonymousPerMinute = 120;
    private const string LimitItem = "PricingOptimizer.RateLimit";
    private static readonly TimeSpan PlanCacheTime = TimeSpan.FromSeconds(30);
    private readonly IControlPlaneStore store;
    private readonly IOptions<PlanOptions> plans;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, (string Plan, DateTimeOffset Until)> planCache = new();

    public TenantRateLimits(IControlPlaneStore store, IOptions<PlanOptions> plans, TimeProvider time)
    {
        this.store = store;
        this.plans = plans;
        this.time = time;
        Limiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
    }

    public PartitionedRateLimiter<HttpContext> Limiter { get; }

    private RateLimitPartition<string> Partition(HttpContext context)
    {
        var tenantId = context.User.FindFirst(TenantClaims.TenantId)?.Value;
        if (tenantId is not null)
        {
            var limit = RequestsPerMinute(tenantId, context.User.FindFirst(TenantClaims.Plan)?.Value);
            context.Items[LimitItem] = limit;
            // The limit is part of the key: a plan change starts a partition of the new size.
            return RateLimitPartition.GetFixedWindowLimiter(string.Create(CultureInfo.InvariantCulture, $"t:{tenantId}:{limit}"), _ => Window(limit));
        }

        if (context.Request.Path.StartsWithSegments("/v1/auth/token"))
        {
            var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return RateLimitPartition.GetFixedWindowLimiter("ip:" + address, _ => Window(AnonymousPerMinute));
        }

        return RateLimitPartition.GetNoLimiter("unlimited");
    }

    private static FixedWindowRateLimiterOptions Window(int limit) => new()
    {
        PermitLimit = limit,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>The tenant's plan limit; the token's plan claim stands in for tenants the control plane does not know (development tokens).</summary>
    public int RequestsPerMinute(string tenantId, string? claimedPlan)
    {
        var now = time.GetUtcNow();
        if (!planCache.TryGetValue(tenantId, out var cached) || cached.Until < now)
        {
            // Synchronous on purpose: the partition callback is synchronous, and this runs once per tenant per 30 s.
            var tenant = store.GetTenantAsync(tenantId, CancellationToken.None).GetAwaiter().GetResult();
            cached = (tenant?.Plan ?? claimedPlan ?? "free", now + PlanCacheTime);
            planCache[tenantId] = cached;
        }

        return plans.Value.TryGet(cached.Plan, out var plan) ? plan.RequestsPerMinute
            : plans.Value.TryGet("free", out var free) ? free.RequestsPerMinute
            : plans.Value.Plans.Values.Min(p => p.RequestsPerMinute);
    }

    internal static void Configure(RateLimiterOptions options, TenantRateLimits limits)
    {
        options.GlobalLimiter = limits.Limiter;
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, cancellationToken) =>
        {
            var http = context.HttpContext;
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            limits.WriteHeaders(http);
            await Results.Problem(statusCode: 429, title: "Too many requests",
                detail: "the plan's requests per minute are used up; retry after the number of seconds in Retry-After")
                .ExecuteAsync(http);
        };
    }

    /// <summary>Adds the remaining-quota headers for the request's partition, when it is limited.</summary>
    internal void WriteHeaders(HttpContext context)
    {
        if (context.Items[LimitItem] is int limit && Limiter.GetStatistics(context) is { } statistics)
        {
            context.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-RateLimit-Remaining"] = statistics.CurrentAvailablePermits.ToString(CultureInfo.InvariantCulture);
        }
    }
}
