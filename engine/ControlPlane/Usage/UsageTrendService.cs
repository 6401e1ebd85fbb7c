using System.Globalization;
using Microsoft.Extensions.Options;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Usage;

/// <summary>
/// A month's usage as it trends: every day so far (events and API calls), the month-end projection at the last seven
/// full days' rate, the day the plan's included events run out, and the bill that projection would make.
/// </summary>
public sealed record UsageTrend(string TenantId, string Month, string Plan, DateTimeOffset AsOf, IReadOnlyList<UsageDay> Days, long Events, long ApiCalls,
    double EventsPerDay, long ProjectedEvents, long IncludedEvents, DateOnly? IncludedEventsRunOutOn, decimal ProjectedBill, string Currency,
    IReadOnlyList<string> Notes);

/// <summary>
/// The usage tracker's trends (seed architecture: "usage summaries and trends", "detects when approaching limits") for
/// <c>GET /v1/usage/trend</c>. The rate is the last seven full days' events per day (before today, across a month
/// boundary if need be); today counts what arrived so far plus the rate for the rest of the day.
/// </summary>
public sealed class UsageTrendService(UsageService usage, LakeQueries lake, IOptions<PlanOptions> plans, TimeProvider time)
{
    public const int RateDays = 7;

    public async Task<UsageTrend> GetAsync(string tenantId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var month = now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var (first, last) = Months.Range(month);
        var used = await usage.GetAsync(tenantId, month, cancellationToken);
        var byDay = used.Days.ToDictionary(d => d.Date);
        var days = Enumerable.Range(0, today.DayNumber - first.DayNumber + 1).Select(first.AddDays)
            .Select(d => byDay.GetValueOrDefault(d) ?? new UsageDay(d, 0, 0, 0)).ToList();

        var notes = new List<string>();
        var window = await lake.EventsByDayAsync(tenantId, today.AddDays(-RateDays), today.AddDays(-1), cancellationToken);
        var rate = (double)window.Sum(d => d.Events) / RateDays;
        if (rate == 0)
        {
            notes.Add($"no events in the last {RateDays} full days: the projection is what arrived so far");
        }

        var restOfToday = 1 - (now.UtcDateTime.TimeOfDay.TotalDays);
        var projected = used.Events + (long)Math.Round(rate * (restOfToday + (last.DayNumber - today.DayNumber)));
        var plan = plans.Value.Get(used.Plan);
        var bill = PlanCosts.Of(used.Plan, plan, projected);
        return new UsageTrend(tenantId, month, used.Plan, now, days, used.Events, used.ApiCalls, Math.Round(rate, 2), projected, plan.IncludedEventsPerMonth,
            RunOut(days, rate, restOfToday, plan.IncludedEventsPerMonth, today, last, notes), bill.Total, BillingService.Currency, notes);
    }

    /// <summary>The day the cumulative events reach the included ones: a day already past, or projected at the rate within this month; else null.</summary>
    private static DateOnly? RunOut(List<UsageDay> days, double rate, double restOfToday, long included, DateOnly today, DateOnly last, List<string> notes)
    {
        long total = 0;
        foreach (var day in days)
        {
            total += day.Events;
            if (total >= included)
            {
                return day.Date;
            }
        }

        var projected = total + (rate * restOfToday);
        if (projected >= included)
        {
            return today;
        }

        for (var day = today.AddDays(1); day <= last; day = day.AddDays(1))
        {
            projected += rate;
            if (projected >= included)
            {
                return day;
            }
        }

        notes.Add("at this rate the included events last the month");
        return null;
    }
}
