using MathNet.Numerics.Distributions;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Tests.Experiments;

public sealed class VariantAssignerTests
{
    private const int Users = 100_000;

    private static string User(int i) => "user-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void One_hundred_thousand_users_split_by_the_weights_within_a_chi_square_test()
    {
        double[] weights = [1, 2, 1, 0.5];
        var assigner = new VariantAssigner("checkout-price", weights);
        var counts = new int[weights.Length];
        for (var i = 0; i < Users; i++)
        {
            counts[assigner.Assign(User(i))]++;
        }

        var expected = weights.Select(w => Users * w / weights.Sum()).ToArray();
        var chiSquare = counts.Select((c, i) => (c - expected[i]) * (c - expected[i]) / expected[i]).Sum();
        var p = 1 - ChiSquared.CDF(weights.Length - 1, chiSquare);
        Assert.True(p > 0.001, $"counts {string.Join(",", counts)} against {string.Join(",", expected)}: p = {p}");
    }

    [Fact]
    public void A_user_always_gets_the_same_variant_in_every_process()
    {
        var first = new VariantAssigner("exp-a", [1, 1, 1]);
        var second = new VariantAssigner("exp-a", [1, 1, 1]); // another process, after a restart
        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(first.Assign(User(i)), second.Assign(User(i)));
        }

        // The documented contract, shared with the client SDK: XxHash3-64 of "experiment\0user" in UTF-8, top 53 bits.
        foreach (var (experiment, user) in new[] { ("exp-a", "user-1"), ("checkout-price", "alice@example.com"), ("prix", "utilisateur-é") })
        {
            var hash = System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(experiment + "\0" + user));
            Assert.Equal((hash >> 11) / 9007199254740992.0, new VariantAssigner(experiment, [1, 1]).Point(user));
        }
    }

    [Fact]
    public void Two_experiments_assign_independently()
    {
        var a = new VariantAssigner("exp-a", [1, 1]);
        var b = new VariantAssigner("exp-b", [1, 1, 1]);
        var table = new int[2, 3];
        for (var i = 0; i < Users; i++)
        {
            table[a.Assign(User(i)), b.Assign(User(i))]++;
        }

        var chiSquare = 0.0;
        for (var r = 0; r < 2; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                var rowTotal = table[r, 0] + table[r, 1] + table[r, 2];
                var columnTotal = table[0, c] + table[1, c];
                var expected = (double)rowTotal * columnTotal / Users;
                chiSquare += (table[r, c] - expected) * (table[r, c] - expected) / expected;
            }
        }

        var p = 1 - ChiSquared.CDF(2, chiSquare);
        Assert.True(p > 0.001, $"assignments of the two experiments are related: p = {p}");
    }

    [Fact]
    public void Weights_must_be_positive() =>
        Assert.Throws<ArgumentException>(() => new VariantAssigner("x", [1, 0]));
}
