using MathNet.Numerics.Distributions;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Statistics;

public sealed class SequentialAndPowerTests
{
    [Fact]
    public void Peeking_daily_at_2000_AA_tests_the_always_valid_p_keeps_false_positives_under_5_percent_while_the_naive_p_does_not()
    {
        const int experiments = 2000, days = 30, usersPerDay = 200;
        const double rate = 0.1;
        var random = new Random(20261125);
        var binomial = new Binomial(rate, usersPerDay, random);
        int naiveFalsePositives = 0, sequentialFalsePositives = 0;
        for (var e = 0; e < experiments; e++)
        {
            long users = 0, conversionsA = 0, conversionsB = 0;
            bool naive = false, sequential = false;
            for (var day = 0; day < days; day++)
            {
                users += usersPerDay;
                conversionsA += binomial.Sample();
                conversionsB += binomial.Sample();
                var stats = new[]
                {
                    new VariantStats("control", 10, users, conversionsA, conversionsA * 10m, conversionsA * 100.0),
                    new VariantStats("b", 10, users, conversionsB, conversionsB * 10m, conversionsB * 100.0),
                };
                var b = ReadoutCalculator.Compute("t", "aa", stats, 0, "control", null).Variants.Single(v => v.VariantId == "b");
                naive |= b.PValue < 0.05;
                sequential |= b.SequentialPValue < 0.05;
            }

            naiveFalsePositives += naive ? 1 : 0;
            sequentialFalsePositives += sequential ? 1 : 0;
        }

        var naiveRate = (double)naiveFalsePositives / experiments;
        var sequentialRate = (double)sequentialFalsePositives / experiments;
        Assert.True(sequentialRate <= 0.05, $"always-valid false positives {sequentialRate:P1}");
        Assert.True(naiveRate > 0.05, $"naive daily peeking false positives {naiveRate:P1}");
    }

    [Fact]
    public void A_real_difference_is_still_found_by_the_sequential_test()
    {
        var stats = new[]
        {
            new VariantStats("control", 10, 20_000, 2_000, 20_000m, 200_000),
            new VariantStats("b", 10, 20_000, 2_300, 23_000m, 230_000),
        };
        var b = ReadoutCalculator.Compute("t", "e", stats, 0, "control", null).Variants.Single(v => v.VariantId == "b");
        Assert.True(b.SequentialPValue < 0.01);
        Assert.True(b.SequentialPValue >= b.PValue);
    }

    [Theory]
    [InlineData(0.10, 0.12, 0.05, 0.80, 2, 3841)] // Fleiss (1981) without continuity correction; also G*Power
    [InlineData(0.05, 0.06, 0.05, 0.80, 2, 8158)] // these two checked with Python's statistics.NormalDist
    [InlineData(0.20, 0.25, 0.05, 0.90, 2, 1464)]
    public void Users_per_variant_follow_the_textbook_formula(double p1, double p2, double alpha, double power, int variants, long expected) =>
        Assert.Equal(expected, Power.UsersPerVariant(p1, p2, alpha, power, variants));

    [Fact]
    public void More_variants_need_more_users_per_variant()
    {
        var two = Power.UsersPerVariant(0.1, 0.12);
        var four = Power.UsersPerVariant(0.1, 0.12, variants: 4);
        Assert.True(four > two);
        var level = 0.05 / 3;
        var z = Normal.InvCDF(0, 1, 1 - (level / 2));
        var manual = Math.Ceiling(Math.Pow((z * Math.Sqrt(2 * 0.11 * 0.89)) + (Normal.InvCDF(0, 1, 0.8) * Math.Sqrt((0.1 * 0.9) + (0.12 * 0.88))), 2) / 0.0004);
        Assert.Equal((long)manual, four);
    }

    [Theory]
    [InlineData(10, 30, 0.1, 0.0, 14128)] // (1.959964 + 0.841621)² × 2 × 900 / 1² = 14,127.98, by hand
    [InlineData(10, 30, 0.1, 0.36, 9042)] // the same × 0.64: CUPED removing 36% of the variance
    [InlineData(20, 10, 0.05, 0.0, 1570)] // (2.801585)² × 2 × 100 / 1² = 1,569.78
    public void Users_per_variant_for_revenue_per_user_follow_the_test_of_means_and_shrink_with_CUPED(double mean, double sd, double mde, double reduction,
        long expected) =>
        Assert.Equal(expected, Power.UsersPerVariantForMean(mean, sd * sd, mde, varianceReduction: reduction));

    [Fact]
    public async Task Po_power_answers_for_revenue_per_user_with_and_without_CUPED_and_says_what_is_missing()
    {
        using var folder = new Fixtures.TempDirectory();
        var result = await Fixtures.PoProcess.RunAsync(folder.Path, null, "power", "--metric", "revenue_per_user", "--baseline-mean", "10",
            "--baseline-sd", "30",
            "--mde", "0.1", "--cuped-reduction", "0.36");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("without CUPED: 14,128 users per variant", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("with CUPED removing 36.0% of the variance: 9,042 users per variant", result.Stdout, StringComparison.Ordinal);

        var missing = await Fixtures.PoProcess.RunAsync(folder.Path, null, "power", "--metric", "revenue_per_user", "--mde", "0.1");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.StartsWith("po: give --baseline-mean", Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)),
            StringComparison.Ordinal);
    }
}
