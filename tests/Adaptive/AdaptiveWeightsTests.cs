using FsCheck;
using FsCheck.Fluent;
using PricingOptimizer.Adaptive;
using ExperimentAllocation = PricingOptimizer.Experiments.Allocation;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>The weights of an adaptive update: top-two Thompson shares, the floor on top, damped moves, dominated variants at the floor.</summary>
public sealed class AdaptiveWeightsTests
{
    private static readonly ExperimentAllocation Adaptive = new() { Mode = PricingOptimizer.Experiments.AllocationMode.Adaptive, Floor = 0.05, MaxStep = 0.25 };

    /// <summary>Normal draws per variant around the given means, with one shared noise level.</summary>
    private static double[][] Draws(double[] means, double sd, int n, int seed)
    {
        var random = new Random(seed);
        return [.. means.Select(m => Enumerable.Range(0, n).Select(_ => m + (sd * Normal(random))).ToArray())];
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double[] Equal(int k) => [.. Enumerable.Repeat(1.0 / k, k)];

    private static string[] Ids(int k) => [.. Enumerable.Range(0, k).Select(i => "p" + i)];

    [Fact]
    public void Two_clear_leaders_share_the_traffic_a_hopeless_price_sinks_to_the_floor_and_no_weight_moves_more_than_max_step()
    {
        // Values per user 3.0 and 2.95 (close), 2.0 (hopeless): the first two are each best or second in nearly every draw.
        var draws = Draws([3.0, 2.95, 2.0], 0.05, 4000, 1);
        var next = AdaptiveWeights.Next(Ids(3), draws, Equal(3), Adaptive);

        Assert.Equal(1.0, next.Sum(w => w.Weight), 9);
        Assert.Equal(1.0, next.Sum(w => w.TopTwoShare), 9);
        Assert.True(next[2].Sunk, $"chance worse than best {next[2].ChanceWorseThanBest}");
        Assert.Equal(0.05, next[2].Target, 9);
        Assert.All(next, w => Assert.True(Math.Abs(w.Weight - (1.0 / 3)) <= 0.25 + 1e-12, $"{w.VariantId} moved to {w.Weight}"));
        Assert.True(next[0].Weight > 1.0 / 3 && next[1].Weight > 1.0 / 3, string.Join(", ", next.Select(w => $"{w.VariantId} {w.Weight:F3}")));

        // Repeated updates settle at the target: the floor for the sunk price, the rest shared by the top two.
        IReadOnlyList<double> weights = Equal(3);
        for (var i = 0; i < 10; i++)
        {
            weights = [.. AdaptiveWeights.Next(Ids(3), draws, weights, Adaptive).Select(w => w.Weight)];
        }

        Assert.Equal(0.05, weights[2], 9);
        Assert.InRange(weights[0] + weights[1], 0.95 - 1e-9, 0.95 + 1e-9);
    }

    [Fact]
    public void Indistinguishable_prices_keep_an_equal_split()
    {
        var draws = Draws([2.5, 2.5, 2.5, 2.5, 2.5], 0.3, 20_000, 2);
        var next = AdaptiveWeights.Next(Ids(5), draws, Equal(5), Adaptive);
        Assert.All(next, w => Assert.InRange(w.Weight, 0.2 - 0.01, 0.2 + 0.01));
        Assert.All(next, w => Assert.False(w.Sunk));
    }

    [Fact]
    public void The_best_variant_is_never_sunk_even_when_every_draw_ties()
    {
        double[][] draws = [[1, 1, 1], [1, 1, 1]];
        var next = AdaptiveWeights.Next(Ids(2), draws, Equal(2), Adaptive);
        Assert.All(next, w => Assert.False(w.Sunk));
        Assert.Equal(1.0, next.Sum(w => w.Weight), 12);
    }

    [Fact]
    public void Mismatched_or_non_finite_input_is_refused()
    {
        Assert.Throws<ArgumentException>(() => AdaptiveWeights.Next(Ids(2), [[1.0]], Equal(2), Adaptive));
        Assert.Throws<ArgumentException>(() => AdaptiveWeights.Next(Ids(2), [[1.0], [double.NaN]], Equal(2), Adaptive));
        Assert.Throws<ArgumentException>(() => AdaptiveWeights.Next(Ids(2), [[1.0, 2], [1.0]], Equal(2), Adaptive));
        Assert.Throws<ArgumentException>(() => AdaptiveWeights.Next(Ids(2), [[1.0], [2.0]], [0.7, 0.7], Adaptive));
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Any_update_is_a_distribution_above_the_floor_that_moves_each_weight_at_most_max_step(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var k = random.Next(2, 9);
        var floor = random.NextDouble() * 0.99 / k;
        var step = 0.01 + (random.NextDouble() * 0.99);
        var allocation = Adaptive with { Floor = floor, MaxStep = step };
        var means = Enumerable.Range(0, k).Select(_ => random.NextDouble() * 5).ToArray();
        var draws = Draws(means, random.NextDouble() * 2, 1 + random.Next(500), seed.Get);

        // A current split that is itself a valid allocation: the floor plus a random share of the rest.
        var shares = Enumerable.Range(0, k).Select(_ => random.NextDouble() + 1e-6).ToArray();
        var current = shares.Select(s => floor + ((1 - (k * floor)) * s / shares.Sum())).ToArray();
        var next = AdaptiveWeights.Next(Ids(k), draws, current, allocation);

        var weights = next.Select(w => w.Weight).ToArray();
        return (Math.Abs(weights.Sum() - 1) < 1e-9
                && weights.All(w => w >= floor - 1e-12)
                && weights.Select((w, v) => Math.Abs(w - current[v])).All(move => move <= step + 1e-12)
                && Math.Abs(next.Sum(w => w.TopTwoShare) - 1) < 1e-9
                && next.Where(w => w.Sunk).All(w => Math.Abs(w.Target - floor) < 1e-12))
            .Label($"k {k}, floor {floor:F4}, step {step:F3}: {string.Join(", ", weights.Select(w => w.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
    }
}
