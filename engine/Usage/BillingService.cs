using Microsoft.Extensions.Options;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Usage;

/// <summary>What one plan would have cost for the month's usage.</summary>
public sealed record PlanCost(string Plan, decimal BasePrice, long IncludedEvents, long OverageEvents, decimal OverageCharge, decimal Total);

/// <summary>The plan that would have cost least while allowing the busiest minute seen, with the figures that justify it.</summary>
public sealed record PlanRecommendation(string Plan, decimal Total, decimal Savings, string Reason, IReadOnlyList<PlanCost> ByPlan);

/// <summary>A month's bill: base + overage, and the cheapest plan for that usage.</summary>
public sealed record MonthlyBill(
    string TenantId, string Month, string Plan, string Currency, long Events, decimal BasePrice, long IncludedEvents, long OverageEvents,
    decimal OveragePricePer1000, decimal OverageCharge, decimal Total, PlanRecommendation Recommendation);

/// <summary>
/// Charges: the plan's base price plus its overage price for every started 1,000 events over the included ones.
/// Prices are in USD.
/// </summary>
public sealed class BillingService(UsageService usage, IOptions<PlanOptions> plans)
{
    public const string Currency = "USD";

    public static PlanCost Cost(string name, PlanDefinition plan, long events)
    {
        var overage = Math.Max(0, events - plan.IncludedEventsPerMonth);
        var overageCharge = Math.Ceiling(overage / 1000m) * plan.OveragePricePer1000;
        return new PlanCost(name, plan.BasePrice, plan.IncludedEventsPerMonth, overage, overageCharge, plan.BasePrice + overageCharge);
    }

    public async Task<MonthlyBill> GetAsync(string tenantId, string month, CancellationToken cancellationToken)
    {
        var used = await usage.GetAsync(tenantId, month, cancellationToken);
        var current = plans.Value.Get(used.Plan);
        var bill = Cost(used.Plan, current, used.Events);
        var byPlan = plans.Value.Plans.Select(p => Cost(p.Key, p.Value, used.Events)).OrderBy(c => c.Total).ThenBy(c => c.BasePrice).ToList();
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
