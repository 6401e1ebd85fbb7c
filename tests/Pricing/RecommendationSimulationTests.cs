using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;
using Xunit.Abstractions;

namespace PricingOptimizer.Tests.Pricing;

/// <summary>
/// The recommendation engine against a known logit demand curve (issue 5, point 6): seeded simulated experiments,
/// the engine's optimum compared with the curve's true optimum, and its confidence compared with how often it is right.
/// </summary>
public sealed class RecommendationSimulationTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset End = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static SimulationSettings Settings(int seed, int usersPerPrice) => new()
    {
        Intercept = 0.2,
        Slope = -0.12,
        Prices = [7.99m, 9.99m, 11.99m, 13.99m, 15.99m],
        UsersPerPrice = usersPerPrice,
        Seed = seed,
    };

    private static Recommender Engine(int draws = 1000) =>
        new(new RecommendationOptions { Draws = draws }, new CharmPricing(new CharmOptions()));

    private static Recommendation Run(SimulationSettings settings, RecommendationRequest request, string control = "p0") =>
        Engine().Recommend("t", "sim", DemandSimulator.Users(settings, End), control, request, [], "USD");

    [Theory]
    [InlineData("revenue", 0)]
    [InlineData("profit", 4)]
    public void The_optimal_price_is_within_5_percent_of_the_true_optimum_in_at_least_90_percent_of_50_runs(string goal, double unitCost)
    {
        Goals.TryParse(goal, out var parsed);
        var request = new RecommendationRequest(parsed, parsed == Goal.Profit ? (decimal)unitCost : null);
        var truth = Settings(0, 0).Demand.OptimalPrice(7.99 * 0.9, 15.99 * 1.1, unitCost);
        var within = 0;
        var models = new Dictionary<string, int>();
        var errors = new List<double>();
        for (var seed = 1; seed <= 50; seed++)
        {
            var result = Run(Settings(seed, 20_000), request);
            Assert.Equal("ok", result.Status);
            var error = Math.Abs((double)result.OptimalPrice!.Value - truth) / truth;
            errors.Add(error);
            within += error <= 0.05 ? 1 : 0;
            models[result.Model!] = models.GetValueOrDefault(result.Model!) + 1;
        }

        output.WriteLine($"{goal}: true optimum {truth:0.000}; within 5% in {within}/50 runs; median error {errors.Order().ElementAt(25):P2}; models {string.Join(", ", models)}");
        Assert.True(within >= 45, $"{goal}: optimum within 5% of {truth:0.00} in only {within} of 50 runs");
    }

    /// <summary>
    /// Calibration is a statement over many situations, so each run draws its own true curve (slope −0.06 to −0.20,
    /// intercept −0.5 to 1.0), control price and goal from a seeded prior; it counts as right when the recommended
    /// price truly beats the control. Runs where the recommendation is the control's price are left out (no claim).
    /// Over all runs and over the runs at 80% or more, the share right must match the mean confidence within three
    /// binomial standard errors.
    /// </summary>
    [Fact]
    public void Confidence_is_calibrated_over_seeded_simulated_experiments()
    {
        var prior = new Random(7);
        var runs = new List<(double Confidence, bool Right)>();
        for (var seed = 1; seed <= 150; seed++)
        {
            var slope = -0.06 - (prior.NextDouble() * 0.14);
            var intercept = -0.5 + (prior.NextDouble() * 1.5);
            var control = prior.Next(5);
            var unitCost = seed % 2 == 0 ? 4.0 : 0.0;
            var settings = Settings(seed, 2000);
            settings.Intercept = intercept;
            settings.Slope = slope;
            var result = Run(settings, new RecommendationRequest(unitCost > 0 ? Goal.Profit : Goal.Revenue, unitCost > 0 ? (decimal)unitCost : null),
                DemandSimulator.VariantId(control));
            Assert.Equal("ok", result.Status);
            if (result.RecommendedPrice == settings.Prices[control])
            {
                continue;
            }

            var truth = settings.Demand;
            runs.Add((result.Confidence!.Value,
                truth.ValuePerUser((double)result.RecommendedPrice!.Value, unitCost) > truth.ValuePerUser((double)settings.Prices[control], unitCost)));
        }

        void Check(string label, List<(double Confidence, bool Right)> set)
        {
            var expected = set.Sum(r => r.Confidence);
            var observed = set.Count(r => r.Right);
            var se = Math.Sqrt(set.Sum(r => r.Confidence * (1 - r.Confidence)));
            output.WriteLine($"{label}: {set.Count} runs, mean confidence {expected / set.Count:P1}, right {(double)observed / set.Count:P1} (±{3 * se / set.Count:P1} allowed)");
            Assert.True(Math.Abs(observed - expected) <= 3 * Math.Max(se, 1), $"{label}: right {observed} times, confidence promised {expected:0.0}");
        }

        Assert.True(runs.Count >= 100, $"only {runs.Count} runs made a claim");
        Check("all runs", runs);
        Check("confidence >= 80%", [.. runs.Where(r => r.Confidence >= 0.8)]);
        Check("confidence < 95%", [.. runs.Where(r => r.Confidence < 0.95)]);
    }
}
