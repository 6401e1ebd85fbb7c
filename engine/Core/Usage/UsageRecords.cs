using System.Globalization;
using PricingOptimizer.Errors;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Usage;

/// <summary>One day of a tenant's usage.</summary>
public sealed record UsageDay(DateOnly Date, long Events, long ApiCalls, long PeakRequestsPerMinute);

/// <summary>A tenant's usage in a month against its plan.</summary>
public sealed record MonthlyUsage(
    string TenantId, string Month, string Plan, int RequestsPerMinute, long IncludedEvents, long Events, double PercentOfIncludedEvents,
    long ApiCalls, long PeakRequestsPerMinute, IReadOnlyList<UsageDay> Days, IReadOnlyList<string> Warnings);

/// <summary>What one plan would have cost for the month's usage.</summary>
public sealed record PlanCost(string Plan, decimal BasePrice, long IncludedEvents, long OverageEvents, decimal OverageCharge, decimal Total);

/// <summary>The plan that would have cost least while allowing the busiest minute seen, with the figures that justify it.</summary>
public sealed record PlanRecommendation(string Plan, decimal Total, decimal Savings, string Reason, IReadOnlyList<PlanCost> ByPlan);

/// <summary>A month's bill: base + overage, and the cheapest plan for that usage.</summary>
public sealed record MonthlyBill(
    string TenantId, string Month, string Plan, string Currency, long Events, decimal BasePrice, long IncludedEvents, long OverageEvents,
    decimal OveragePricePer1000, decimal OverageCharge, decimal Total, PlanRecommendation Recommendation);

/// <summary>What a month of usage costs on a plan: its base price plus its overage price for every started 1,000 events over the included ones.</summary>
public static class PlanCosts
{
    public static PlanCost Of(string name, PlanDefinition plan, long events)
    {
        var overage = Math.Max(0, events - plan.IncludedEventsPerMonth);
        var overageCharge = Math.Ceiling(overage / 1000m) * plan.OveragePricePer1000;
        return new PlanCost(name, plan.BasePrice, plan.IncludedEventsPerMonth, overage, overageCharge, plan.BasePrice + overageCharge);
    }
}

/// <summary>Months as usage, billing and reports name them: yyyy-MM.</summary>
public static class Months
{
    public const int MinYear = 1970;
    public const int MaxYear = 2999;

    /// <summary>The first and last day of <paramref name="month"/> (yyyy-MM).</summary>
    /// <exception cref="InvalidInputException">Not yyyy-MM, or outside the years events may carry.</exception>
    public static (DateOnly From, DateOnly To) Range(string month)
    {
        if (!DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first))
        {
            throw new InvalidInputException("month must be yyyy-MM, e.g. 2026-11", "month");
        }

        // Events carry dates of this era; the bound also keeps every date computed from the month representable.
        if (first.Year is < MinYear or > MaxYear)
        {
            throw new InvalidInputException($"month must be between {MinYear}-01 and {MaxYear}-12", "month");
        }

        return (first, first.AddMonths(1).AddDays(-1));
    }
}

/// <summary>A tenant's month of usage and its bill, for reports (the control plane implements it; a lake alone has none).</summary>
public interface IMonthlyUsage
{
    Task<MonthlyUsage> UsageAsync(string tenantId, string month, CancellationToken cancellationToken);

    Task<MonthlyBill> BillAsync(string tenantId, string month, CancellationToken cancellationToken);
}
