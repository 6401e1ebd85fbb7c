using PricingOptimizer.Statistics;
using Xunit.Abstractions;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>
/// Tiny samples: no confident figures below the minimum sample, and the always-valid interval on the difference in
/// conversion rates holding the truth at every look of a test that starts at its first user.
/// </summary>
public sealed class TinySampleTests(ITestOutputHelper output)
{
    private static Readout Read(long usersV, long conversionsV, long usersC, long conversionsC) =>
        ReadoutCalculator.Compute("t", "e", [
            new VariantStats("control", 10m, usersC, conversionsC, conversionsC * 10m, conversionsC * 100.0),
            new VariantStats("b", 9m, usersV, conversionsV, conversionsV * 9m, conversionsV * 81.0),
        ], 0, "control", null);

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(1, 0, 1, 1)]
    [InlineData(20, 0, 20, 0)]
    [InlineData(20, 17, 20, 3)]
    [InlineData(29, 5, 400, 40)]
    public void Below_the_minimum_sample_no_comparison_is_given_and_a_note_says_why(long usersV, long conversionsV, long usersC, long conversionsC)
    {
        var readout = Read(usersV, conversionsV, usersC, conversionsC);
        var b = readout.Variants.Single(v => v.VariantId == "b");
        Assert.Equal(usersV, b.Users);
        Assert.NotNull(b.ConversionRateCi); // a variant's own rate and its Wilson interval are valid at any n
        Assert.Null(b.SequentialPValue);
        Assert.Null(b.DifferenceCs);
        Assert.Null(b.PValue);
        Assert.Null(b.ChanceToBeatControl);
        Assert.Null(b.LiftCi);
        Assert.Contains(readout.Notes, n => n.Contains($"at least {ReadoutCalculator.MinUsersPerVariant} users", StringComparison.Ordinal));
    }

    [Fact]
    public void No_conversions_in_either_arm_is_not_certainty_about_the_difference()
    {
        var b = Read(500, 0, 500, 0).Variants.Single(v => v.VariantId == "b");
        Assert.True(b.DifferenceCs![0] < 0 && b.DifferenceCs[1] > 0, $"[{b.DifferenceCs[0]}, {b.DifferenceCs[1]}]");
        Assert.True(b.SequentialPValue > 0.5, $"sequential p {b.SequentialPValue} on 0/500 against 0/500");
    }

    /// <summary>
    /// Paths of a test that adds one user to each arm at a time, looked at after every user up to 100 and every tenth
    /// after that up to 2,000: the share of paths whose interval ever misses the true difference, for several pairs of
    /// true rates (rare, common, equal, different). An always-valid 95% interval misses on at most 5% of paths.
    /// </summary>
    [Fact]
    public void The_always_valid_interval_holds_the_truth_at_every_look_from_the_first_user()
    {
        var cases = new (double Control, double Variant)[] { (0.02, 0.02), (0.05, 0.03), (0.3, 0.35), (0.5, 0.5), (0.01, 0.05), (0.9, 0.85) };
        const int paths = 150;
        var missedPaths = 0;
        foreach (var (pc, pv) in cases)
        {
            var random = new Random(HashCode.Combine(pc, pv) & 0x7fffffff);
            var missed = 0;
            for (var path = 0; path < paths; path++)
            {
                long xc = 0, xv = 0;
                for (var n = 1; n <= 2_000; n++)
                {
                    xc += random.NextDouble() < pc ? 1 : 0;
                    xv += random.NextDouble() < pv ? 1 : 0;
                    if (n > 100 && n % 10 != 0)
                    {
                        continue;
                    }

                    var cs = Read(n, xv, n, xc).Variants.Single(v => v.VariantId == "b").DifferenceCs;
                    if (n < ReadoutCalculator.MinUsersPerVariant)
                    {
                        Assert.Null(cs);
                    }
                    else if (cs![0] > pv - pc || cs[1] < pv - pc)
                    {
                        missed++;
                        break;
                    }
                }
            }

            output.WriteLine($"control {pc:0.00}, variant {pv:0.00}: interval missed the truth on {missed} of {paths} paths");
            Assert.True(missed <= paths * 0.09, $"rates {pc} and {pv}: missed on {missed} of {paths} paths");
            missedPaths += missed;
        }

        Assert.True(missedPaths <= cases.Length * paths * 0.06, $"missed on {missedPaths} of {cases.Length * paths} paths");
    }
}
