using Microsoft.Extensions.Options;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Usage;

/// <summary>
/// Charges: the plan's base price plus its overage price for every started 1,000 events over the included ones.
/// Prices are in USD.
/// </summary>
public sealed class BillingService(UsageService usage, IOptions<PlanOptions> plans) : IMonthlyUsage
{
    Task<MonthlyUsage> IMonthlyUsage.UsageAsync(string tenantId, string month, CancellationToken cancellationToken) =>
        usage.GetAsync(tenantId, month, cancellationToken);

    Task<MonthlyBill> IMonthlyUsage.BillAsync(string tenantId, string month, CancellationToken cancellationToken) =>
        GetAsync(tenantId, month, cancellationToken);

    public const string Currency = "USD";

    public async Task<MonthlyBill> GetAsync(string tenantId, string month, CancellationToken cancellationToken)
    {
        var used = await usage.GetAsync(tenantId, month, cancellationToken);
        var current = plans.Value.Get(used.Plan);
        var bill = PlanCosts.Of(used.Plan, current, used.Events);
        var byPlan = plans.Value.Plans.Select(p => PlanCosts.Of(p.Key, p.Value, used.Events)).OrderBy(c => c.Total).ThenBy(c => c.BasePrice).ToList();
        // A plan whose rate limit is below the busiest minute seen would have turned requests away: not a candidate.
        var fitting = byPlan.Where(c => plans.Value.Get(c.Plan).RequestsPerMinute >= used.PeakRequestsPerMinute).ToList();
        var best = fitting.Count > 0 ? fitting[0] : byPlan.First(c => c.Plan.Equals(used.Plan, StringComparison.OrdinalIgnoreCase));
        var usageText = $"{used.Events:N0} events and at most {used.PeakRequestsPerMinute:N0} requests in a minute";
        var reason = best.Plan.Equals(used.Plan, StringComparison.OrdinalIgnoreCase) || best.Total == bill.Total
            ? $"{used.Plan} is already the cheapest plan for {usageText} ({bill.Total:0.00} {Currency})."
            : $"For {usageText}, {best.Plan} would have cost {best.Total:0.00} {Currency} instead of {bill.Total:0.00} {Currency} on {used.Plan}.";
        var recommended = best.Total == bill.Total ? used.Plan : best.Plan;
        return new MonthlyBill(tenantId, used.Month, used.Plan, Currency, used.Events, bill.BasePrice, bill.IncludedEvents, bill.OverageEvents,
            current.OveragePricePer1000, bill.OverageCharge, bill.Total,
            new PlanRecommendation(recommended, Math.Min(best.Total, bill.Total), bill.Total - Math.Min(best.Total, bill.Total), reason, byPlan));
    }
}
