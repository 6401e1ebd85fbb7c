using PricingOptimizer.ControlPlane;
using PricingOptimizer.Errors;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Analytics;

/// <summary>One variant on one day: the cumulative metric, and against the control its lift with a 95% interval and the
/// always-valid interval on the difference.</summary>
public sealed record TimeseriesPoint(string VariantId, long Users, double? Value, double? Lift, double[]? LiftCi, double[]? DifferenceCs);

/// <summary>Every variant as of the end of one UTC day.</summary>
public sealed record TimeseriesDay(DateOnly Date, IReadOnlyList<TimeseriesPoint> Variants)
{
    /// <summary>An adaptive experiment's split at the day's end: each variant's share of new users under the version then in force.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }

    /// <summary>The weight version in force at the day's end (0: the burn-in); null for a fixed split.</summary>
    public int? WeightVersion { get; init; }
}

/// <summary><c>GET /v1/analytics/experiments/{id}/timeseries</c>: is the effect stable?</summary>
public sealed record Timeseries(string ExperimentId, string Metric, string? ControlVariantId, IReadOnlyList<TimeseriesDay> Days);

/// <summary>
/// The experiment day by day: the readout's statistics computed on what had arrived by the end of each UTC day
/// (cumulative users, buyers and revenue from the warm summary), for conversion rate or revenue per user.
/// </summary>
public sealed class TimeseriesService(LakeQueries lake, IExperimentStore experiments)
{
    public static readonly string[] Metrics = ["conversion_rate", "revenue_per_user"];

    public async Task<Timeseries> GetAsync(string tenantId, string experimentId, string? metric, CancellationToken cancellationToken)
    {
        if (metric is not null && !Metrics.Contains(metric))
        {
            throw new InvalidInputException($"metric must be one of {string.Join(", ", Metrics)}; got '{metric}'", "metric");
        }

        var definition = await experiments.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        // Without a metric, the experiment's goal decides: conversion rate for conversions, revenue per user otherwise (profit's nearest).
        metric ??= definition?.Goal == Pricing.Goal.Conversions ? "conversion_rate" : "revenue_per_user";
        var (stats, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, cancellationToken);
        if (definition is null && stats.Count == 0)
        {
            throw new NotFoundException($"no experiment '{experimentId}' (neither defined nor in the lake)", "experiment_id");
        }

        var prices = stats.ToDictionary(v => v.VariantId, v => v.Price);
        var control = definition?.ControlVariant.VariantId is { } c && prices.ContainsKey(c) ? c
            : prices.ContainsKey("control") ? "control" : prices.Keys.Order(StringComparer.Ordinal).FirstOrDefault();
        var daily = await lake.ExperimentDailyAsync(tenantId, experimentId, cancellationToken);
        var totals = prices.Keys.ToDictionary(v => v, _ => (Users: 0L, Buyers: 0L, Revenue: 0.0, Squares: 0.0));
        var days = new List<TimeseriesDay>();
        foreach (var day in daily.GroupBy(d => d.Day).OrderBy(g => g.Key))
        {
            foreach (var row in day.Where(r => totals.ContainsKey(r.VariantId)))
            {
                var t = totals[row.VariantId];
                totals[row.VariantId] = (t.Users + row.Users, t.Buyers + row.Buyers, t.Revenue + row.Revenue, t.Squares + row.Squares);
            }

            var present = totals.Where(t => t.Value.Users > 0).ToList();
            if (control is null || !present.Any(t => t.Key == control))
            {
                days.Add(new TimeseriesDay(day.Key,
                    [.. present.Select(t => new TimeseriesPoint(t.Key, t.Value.Users, Value(metric, t.Value), null, null, null))]));
                continue;
            }

            var asOf = present.Select(t => new VariantStats(t.Key, prices[t.Key], t.Value.Users, t.Value.Buyers, (decimal)t.Value.Revenue,
                t.Value.Squares)).ToList();
            var moments = new RevenueMoments(null, [.. present.Select(t => new VariantMoments(t.Key, t.Value.Users, t.Value.Revenue / t.Value.Users,
                t.Value.Users < 2 ? 0 : Math.Max(0,
                    (t.Value.Squares - (t.Value.Revenue * t.Value.Revenue / t.Value.Users)) / (t.Value.Users - 1)), 0, 0, 0, 0))]);
            var readout = ReadoutCalculator.Compute(tenantId, experimentId, asOf, 0, control, null, moments, new ReadoutOptions(Cuped: false));
            days.Add(new TimeseriesDay(day.Key, [.. readout.Variants.Select(v => metric == "conversion_rate"
                ? new TimeseriesPoint(v.VariantId, v.Users, v.ConversionRate, v.Lift, v.LiftCi, v.DifferenceCs)
                : new TimeseriesPoint(v.VariantId, v.Users, v.RevenuePerUser, v.RevenueLift, v.RevenueLiftCi, v.RevenueDifferenceCs))]));
        }

        if (definition is { Allocation.Mode: Experiments.AllocationMode.Adaptive } && experiments is IAllocationStore allocations)
        {
            var versions = await allocations.ListWeightVersionsAsync(tenantId, experimentId, cancellationToken);
            days = [.. days.Select(d =>
            {
                var end = new DateTimeOffset(d.Date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1);
                var inForce = versions.LastOrDefault(v => v.StartsAt < end);
                return d with
                {
                    WeightVersion = inForce?.Version ?? 0,
                    Weights = definition.Variants.ToDictionary(v => v.VariantId, v => Experiments.WeightVersion.Probability(definition, inForce, v.VariantId),
                        StringComparer.Ordinal),
                };
            })];
        }

        return new Timeseries(experimentId, metric, control, days);
    }

    private static double? Value(string metric, (long Users, long Buyers, double Revenue, double Squares) t) =>
        metric == "conversion_rate" ? (double)t.Buyers / t.Users : t.Revenue / t.Users;
}
