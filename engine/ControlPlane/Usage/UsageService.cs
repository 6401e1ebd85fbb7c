using PricingOptimizer.Errors;
using PricingOptimizer.Caching;
using System.Globalization;
using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Usage;

/// <summary>Usage from the lake (events, each event_id once) and the control plane (API calls).</summary>
public sealed class UsageService(IUsageStore store, ITenantStore tenants, LakeQueries lake, ApiCallCounter calls, IOptions<PlanOptions> plans,
    TimeProvider time)
{
    private static readonly TimeSpan PercentCacheTime = TimeSpan.FromSeconds(60);
    private readonly TimedCache<string, double> percentCache = new(time, maxEntries: 100_000);

    public string CurrentMonth() => time.GetUtcNow().ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public async Task<MonthlyUsage> GetAsync(string tenantId, string? month, CancellationToken cancellationToken)
    {
        month ??= CurrentMonth();
        var (from, to) = Months.Range(month);
        var tenant = await tenants.GetTenantAsync(tenantId, cancellationToken)
                     ?? throw new NotFoundException($"tenant '{tenantId}' is not in the control plane");
        var plan = plans.Value.Get(tenant.Plan);
        var events = (await lake.EventsByDayAsync(tenantId, from, to, cancellationToken)).ToDictionary(d => d.Day, d => d.Events);
        var apiCalls = (await store.GetApiCallsAsync(tenantId, from, to, cancellationToken)).ToDictionary(d => d.Day);
        foreach (var pending in calls.PendingByDay(tenantId).Where(p => p.Day >= from && p.Day <= to))
        {
            apiCalls[pending.Day] = apiCalls.TryGetValue(pending.Day, out var stored)
                ? new(pending.Day, stored.Calls + pending.Calls, Math.Max(stored.PeakPerMinute, pending.PeakPerMinute))
                : pending;
        }

        var days = events.Keys.Union(apiCalls.Keys).Order()
            .Select(d => new UsageDay(d, events.GetValueOrDefault(d), apiCalls.GetValueOrDefault(d)?.Calls ?? 0,
                apiCalls.GetValueOrDefault(d)?.PeakPerMinute ?? 0))
            .ToList();
        var total = days.Sum(d => d.Events);
        var percent = plan.IncludedEventsPerMonth == 0 ? (total > 0 ? 100.0 : 0.0) : 100.0 * total / plan.IncludedEventsPerMonth;
        percentCache.Set(tenantId, percent, PercentCacheTime);
        return new MonthlyUsage(tenantId, month, tenant.Plan, plan.RequestsPerMinute, plan.IncludedEventsPerMonth, total, Math.Round(percent, 2),
            days.Sum(d => d.ApiCalls), days.Select(d => d.PeakRequestsPerMinute).DefaultIfEmpty(0).Max(), days,
            Warnings(percent, total, plan.IncludedEventsPerMonth));
    }

    private static List<string> Warnings(double percent, long events, long included) => percent switch
    {
        >= 100 => [string.Create(CultureInfo.InvariantCulture,
            $"{events:N0} events are over the {included:N0} included this month: the rest is billed as overage")],
        >= 80 => [string.Create(CultureInfo.InvariantCulture, $"{percent:F0}% of the {included:N0} included events are used this month")],
        _ => [],
    };

    /// <summary>The share of included events used this month, from a cache refreshed at most every minute (for response headers).</summary>
    public async Task<double> PercentUsedAsync(string tenantId, CancellationToken cancellationToken)
    {
        if (percentCache.TryGetFresh(tenantId, out var cached))
        {
            return cached;
        }

        try
        {
            return (await GetAsync(tenantId, null, cancellationToken)).PercentOfIncludedEvents;
        }
        catch (Errors.ProblemException)
        {
            percentCache.Set(tenantId, 0, PercentCacheTime);
            return 0;
        }
    }
}
