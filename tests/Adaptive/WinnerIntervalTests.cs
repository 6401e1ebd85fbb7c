using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>
/// The winner-vs-control interval on simulated estimates: the ordinary interval of the variant that looked best
/// covers too little when variants are tied; the hybrid one covers about 95% whether tied or clear, and is about as
/// narrow as the ordinary one when the winner is clear.
/// </summary>
public sealed class WinnerIntervalTests
{
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Coverage of the ordinary and the hybrid interval, and their mean widths, over <paramref name="runs"/> draws (control: the first).</summary>
    private static (double Ordinary, double Hybrid, double OrdinaryWidth, double HybridWidth) Simulate(double[] truth, double[] sds, int runs, int seed)
    {
        var random = new Random(seed);
        var (ordinary, hybrid, ordinaryWidth, hybridWidth, counted) = (0, 0, 0.0, 0.0, 0);
        for (var r = 0; r < runs; r++)
        {
            var means = truth.Select((m, j) => m + (sds[j] * Normal(random))).ToArray();
            var winner = Array.IndexOf(means, means.Max());
            if (winner == 0)
            {
                continue;
            }

            counted++;
            var target = truth[winner] - truth[0];
            var d = means[winner] - means[0];
            var sd = Math.Sqrt((sds[winner] * sds[winner]) + (sds[0] * sds[0]));
            ordinary += Math.Abs(d - target) <= 1.959964 * sd ? 1 : 0;
            ordinaryWidth += 2 * 1.959964 * sd;
            var (low, high) = WinnerInterval.Hybrid(means, [.. sds.Select(s => s * s)], winner, 0)!.Value;
            // Never wider than the projection interval (all K − 1 differences at once, Bonferroni at β = α/10).
            var c = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, 1 - (0.005 / (2 * (truth.Length - 1))));
            Assert.True(low >= d - (c * sd) - 1e-9 && high <= d + (c * sd) + 1e-9 && low < high, $"[{low}, {high}] for {d} ± {c * sd}");
            hybrid += low <= target && target <= high ? 1 : 0;
            hybridWidth += high - low;
        }

        return ((double)ordinary / counted, (double)hybrid / counted, ordinaryWidth / counted, hybridWidth / counted);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(5, 0)]
    [InlineData(8, 0)]
    [InlineData(8, 1)]
    public void When_the_challengers_are_tied_the_ordinary_interval_of_the_winner_covers_too_little_and_the_hybrid_about_95_percent(int k, int seed)
    {
        // The control 1 below; every challenger truly equal.
        var truth = Enumerable.Range(0, k).Select(j => j == 0 ? -1.0 : 0.0).ToArray();
        var sds = Enumerable.Range(0, k).Select(j => 0.5 + (0.1 * j)).ToArray();
        var (ordinary, hybrid, _, _) = Simulate(truth, sds, 20_000, seed);
        if (k >= 5)
        {
            Assert.True(ordinary < 0.92, $"ordinary coverage {ordinary:P1}");
        }

        Assert.True(hybrid is >= 0.94 and <= 0.975, $"hybrid coverage {hybrid:P1} (ordinary {ordinary:P1})");
    }

    [Fact]
    public void When_the_winner_is_clear_the_hybrid_interval_is_the_ordinary_one_or_nearly()
    {
        double[] truth = [0, 1, 2, 6, 1.5];
        double[] sds = [0.5, 0.5, 0.6, 0.5, 0.7];
        var (ordinary, hybrid, ordinaryWidth, hybridWidth) = Simulate(truth, sds, 20_000, 2);
        Assert.True(ordinary is >= 0.94 and <= 0.96 && hybrid is >= 0.94 and <= 0.965 && hybridWidth / ordinaryWidth is >= 1.0 and <= 1.06,
            $"ordinary {ordinary:P1}, hybrid {hybrid:P1}, widths {hybridWidth / ordinaryWidth:F3}");
    }

    [Fact]
    public void A_winner_that_is_not_the_highest_estimate_or_the_control_itself_is_refused_and_no_variance_gives_none()
    {
        Assert.Throws<ArgumentException>(() => WinnerInterval.Hybrid([1, 2, 3], [1, 1, 1], 1, 0));
        Assert.Throws<ArgumentException>(() => WinnerInterval.Hybrid([3, 2, 1], [1, 1, 1], 0, 0));
        Assert.Null(WinnerInterval.Hybrid([1, 2, 3], [1, 0, 1], 2, 0));
    }
}

/// <summary>The readout's best-vs-control figures, as a user reads them off a readout of plain counts.</summary>
public sealed class BestVsControlReadoutTests
{
    /// <summary>A variant with <paramref name="users"/> users of whom <paramref name="buyers"/> paid the price once.</summary>
    private static PricingOptimizer.Lake.VariantStats Stats(string id, decimal price, long users, long buyers) =>
        new(id, price, users, buyers, price * buyers, (double)(price * price) * buyers);

    [Fact]
    public void A_clear_leader_gets_the_ordinary_interval_or_nearly_and_near_tied_challengers_a_wider_one_below()
    {
        // Revenue per user 1.00 (control), 1.50 and 1.20: a clear leader.
        var clear = ReadoutCalculator.Compute("t", "e", [Stats("c", 10m, 4000, 400), Stats("x", 10m, 4000, 600), Stats("y", 10m, 4000, 480)], 0, "c", null);
        var best = clear.BestVsControl!;
        Assert.Equal(("x", 10m), (best.VariantId, best.Price));
        Assert.Equal(0.5, best.RevenueDifference, 9);
        // Each user pays 10 or nothing: the variance of a mean is 100·p(1−p)/(n−1)… by hand, per variant, over n users.
        double Variance(double p, long n) => ((100 * p * n) - (n * 100 * p * p)) / (n - 1) / n;
        var half = 1.959964 * Math.Sqrt(Variance(0.15, 4000) + Variance(0.10, 4000));
        Assert.Equal(0.5 - half, best.RevenueDifferenceCi[0], 5);
        Assert.Equal(0.5 + half, best.RevenueDifferenceCi[1], 5);
        Assert.InRange(best.RevenueDifferenceCorrectedCi[0], best.RevenueDifferenceCi[0] - (0.1 * half), best.RevenueDifferenceCi[0] + (0.1 * half));
        Assert.InRange(best.RevenueDifferenceCorrectedCi[1], best.RevenueDifferenceCi[1] - (0.1 * half), best.RevenueDifferenceCi[1] + (0.1 * half));

        // Four challengers within a hair of each other: the leader's corrected interval reaches well below its ordinary one.
        var tied = ReadoutCalculator.Compute("t", "e",
            [Stats("c", 10m, 4000, 400), Stats("a", 10m, 4000, 482), Stats("b", 10m, 4000, 480), Stats("d", 10m, 4000, 479), Stats("f", 10m, 4000, 481)], 0, "c",
            null);
        var leader = tied.BestVsControl!;
        Assert.Equal("a", leader.VariantId);
        Assert.True(leader.RevenueDifferenceCorrectedCi[0] < leader.RevenueDifferenceCi[0] - 0.05,
            $"corrected [{leader.RevenueDifferenceCorrectedCi[0]}, …] against ordinary [{leader.RevenueDifferenceCi[0]}, …]");
    }

    [Fact]
    public void When_the_control_leads_or_a_variant_is_below_the_minimum_sample_there_is_no_best_vs_control()
    {
        Assert.Null(ReadoutCalculator.Compute("t", "e", [Stats("c", 10m, 4000, 500), Stats("x", 10m, 4000, 400)], 0, "c", null).BestVsControl);
        Assert.Null(ReadoutCalculator.Compute("t", "e", [Stats("c", 10m, 4000, 400), Stats("x", 10m, ReadoutCalculator.MinUsersPerVariant - 1, 20)], 0, "c", null).BestVsControl);
    }
}
