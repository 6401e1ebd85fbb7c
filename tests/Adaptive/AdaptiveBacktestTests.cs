using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>
/// The day-by-day simulation of <c>po backtest --adaptive</c> on a few seeds (the full table is README "Adaptive
/// allocation"): adaptation moves traffic to the better prices, so it loses less than an equal split, and still ends
/// on a good price with honest intervals; an allocation fault is caught.
/// </summary>
public sealed class AdaptiveBacktestTests
{
    private static readonly RecommendationOptions Fit = new() { Draws = 100, Folds = 2 };

    private static readonly CharmPricing Charm = new(new CharmOptions());

    /// <summary>Revenue per user 2.30, 2.55, 2.31, 1.82, 1.31 at 4 … 12: the best price (6) leads by 9%.</summary>
    private static readonly AdaptiveScenario Clear = new("clear", [4m, 6m, 8m, 10m, 12m], DemandShape.Parse("logit:a=1.5,b=-0.3"), 2_000, Days: 10,
        WeeklyAmplitude: 0.3);

    [Fact]
    public void On_a_clear_best_price_adaptation_loses_less_during_the_test_and_chooses_as_well()
    {
        var runs = AdaptiveBacktest.RunMany(Clear, 6, 100, AdaptiveBacktest.DefaultAllocation(Clear), Fit, Charm);
        var summary = AdaptiveSummary.Of(Clear, runs);
        Assert.True(summary.LostRatio < 0.8, $"adaptive lost {summary.LostRatio:P0} of the equal split's revenue");
        Assert.All(runs, r => Assert.True(r.Adaptive.Updates >= 3, $"seed {r.Seed}: {r.Adaptive.Updates} updates"));
        Assert.True(summary.RegretAdaptive <= summary.RegretEqual + 1, $"{summary.RegretAdaptive} vs {summary.RegretEqual}");
        Assert.True(summary.CoverageAdaptive >= 0.8, $"coverage {summary.CoverageAdaptive:P0}");
        Assert.All(runs, r => Assert.False(r.Adaptive.SampleRatioAlarm || r.Equal.SampleRatioAlarm));
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_a_two_point_fault_at_volume_is_caught()
    {
        var scenario = Clear with { UsersPerDay = 20_000, Days = 6, AllocationBug = 0.02 };
        var first = AdaptiveBacktest.Run(scenario, 5, AdaptiveBacktest.DefaultAllocation(scenario), Fit, Charm);
        var again = AdaptiveBacktest.Run(scenario, 5, AdaptiveBacktest.DefaultAllocation(scenario), Fit, Charm);
        Assert.Equal(first.Adaptive.Lost, again.Adaptive.Lost);
        Assert.Equal(first.Adaptive.Chosen, again.Adaptive.Chosen);
        Assert.True(first.Adaptive.SampleRatioAlarm);
        Assert.True(first.Equal.SampleRatioAlarm);
    }
}
