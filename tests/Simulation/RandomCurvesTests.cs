using System.Globalization;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;
using Xunit.Abstractions;

namespace PricingOptimizer.Tests.Simulation;

public sealed class RandomCurvesTests(ITestOutputHelper output)
{
    [Fact]
    public void The_same_seed_gives_the_same_curves_and_prices_and_another_seed_others()
    {
        static string Describe(IEnumerable<BacktestSettings> settings) => string.Join("\n", settings.Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"{s.Curve} {string.Join(",", s.Prices)} {s.Request.Goal} {s.ControlIndex}")));
        Assert.Equal(Describe(RandomCurves.Settings(20, 3, 5, 1000)), Describe(RandomCurves.Settings(20, 3, 5, 1000)));
        Assert.NotEqual(Describe(RandomCurves.Settings(20, 3, 5, 1000)), Describe(RandomCurves.Settings(20, 4, 5, 1000)));
    }

    [Fact]
    public void Every_curve_is_tested_as_a_team_would_around_its_revenue_optimum_for_both_goals()
    {
        var settings = RandomCurves.Settings(60, 1, 20, 5000).ToList();
        Assert.Equal(120, settings.Count);
        Assert.Equal(7, settings.Select(s => s.Curve.Kind).Distinct().Count());
        foreach (var pair in settings.Chunk(2))
        {
            Assert.Equal(pair[0].Curve.ToString(), pair[1].Curve.ToString());
            Assert.Equal(Goal.Revenue, pair[0].Request.Goal);
            Assert.Equal(Goal.Profit, pair[1].Request.Goal);
            Assert.Equal(Math.Round(pair[1].Prices[0] / 2, 2), pair[1].Request.UnitCost);
        }

        foreach (var s in settings)
        {
            Assert.Null(s.Problem());
            Assert.Equal(5, s.Prices.Count);
            Assert.Equal(s.Prices.Order(), s.Prices);
            Assert.True(s.Prices[0] >= 0.5m);
            Assert.Equal(2, s.ControlIndex);
            Assert.Equal(5000, s.UsersPerPrice);

            // Steps of 10–25% around the current price (the control), which is 0.6–1.5 times the revenue optimum.
            var current = (double)s.Prices[2];
            for (var i = 0; i < 5; i++)
            {
                var step = ((double)s.Prices[i] / current) - 1;
                Assert.InRange(Math.Abs(step), (i == 2 ? 0 : 0.10 * Math.Abs(i - 2)) - 0.01, (0.25 * Math.Abs(i - 2)) + 0.01);
            }

            var optimum = s.Curve.Optimum(0.01, current * 10, (p, r) => p * r).Price;
            Assert.InRange(current / optimum, 0.58, 1.52);

            // The printed spec is the curve: po backtest --curve reproduces it.
            var parsed = DemandShape.Parse(s.Curve.ToString());
            foreach (var price in s.Prices)
            {
                Assert.Equal(s.Curve.Rate((double)price), parsed.Rate((double)price), 12);
            }
        }
    }

    [Fact]
    public void On_random_curves_following_the_advice_loses_at_most_half_what_the_best_tested_price_loses()
    {
        var recommender = new Recommender(new RecommendationOptions { Draws = 300 }, new CharmPricing(new CharmOptions()));
        var backtests = RandomCurves.Settings(12, 2026, 5,
            5000).Select(s => (Settings: s, Runs: (IReadOnlyList<BacktestRun>)Backtest.RunInMemory(s, recommender))).ToList();
        output.WriteLine(Backtest.Overall("all", backtests));
        var runs = backtests.SelectMany(b => b.Runs).ToList();
        Assert.All(runs, r => Assert.Equal("ok", r.Status));
        var ours = runs.Average(r => r.Regret!.Value);
        var naive = runs.Average(r => r.BestTestedRegret!.Value);
        Assert.True(ours <= naive / 2, $"mean regret {ours:P3}, best tested price {naive:P3}");
        // Calibration: the mean confidence matches how often the advice truly beats the control (the current price), and
        // a confidence of 95% or more is wrong in at most 5% of the runs that have it.
        var confidence = runs.Average(r => r.Confidence!.Value);
        var beats = runs.Average(r => r.TrulyBeats!.Value);
        Assert.True(Math.Abs(confidence - beats) <= 0.05, $"mean confidence {confidence:P1}, truly beats the control {beats:P1}");
        var confident = runs.Where(r => r.Confidence >= 0.95).ToList();
        Assert.True(confident.Count(r => r.TrulyBeats == 0) <= 0.05 * confident.Count,
            $"{confident.Count(r => r.TrulyBeats == 0)} of {confident.Count} runs at confidence ≥ 95% lose to the control");
    }
}
