using PricingOptimizer.Analytics;
using PricingOptimizer.Events;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>
/// A price test is decided on revenue per user: the readout's <c>revenue_chance_to_beat_control</c> and
/// <c>revenue_expected_loss</c> are the normal posteriors of each arm's mean revenue per user (capped when capping is on).
/// </summary>
public sealed class RevenuePosteriorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(null)]
    [InlineData(0.9)]
    public async Task The_chance_and_the_loss_follow_the_per_user_revenues(double? cap)
    {
        var random = new Random(3);
        var events = new List<PricingEvent>();
        var revenues = new Dictionary<string, List<decimal>> { ["control"] = [], ["b"] = [] };
        for (var u = 0; u < 400; u++)
        {
            var variant = u % 2 == 0 ? "control" : "b";
            var price = variant == "control" ? 10m : 12m;
            var user = "u" + u;
            events.Add(new PricingEvent("a" + u, EventType.Assign, "exp", variant, user, price, null, "USD", T0.AddMinutes(u)));
            decimal paid = 0;
            if (random.NextDouble() < (variant == "control" ? 0.30 : 0.27))
            {
                paid = price * random.Next(1, 4);
                events.Add(new PricingEvent("c" + u, EventType.Convert, "exp", variant, user, price, paid, "USD", T0.AddMinutes(u + 1)));
            }

            revenues[variant].Add(paid);
        }

        await using var lake = new LandedLake();
        await lake.LandAsync(events, T0);
        var readout = await new ReadoutService(lake.Queries, new LakeExperimentCatalog(lake.Queries))
            .GetAsync("t", "exp", "control", new ReadoutOptions(cap), CancellationToken.None);
        var b = readout.Variants.Single(v => v.VariantId == "b");
        Assert.Null(readout.Variants.Single(v => v.VariantId == "control").RevenueChanceToBeatControl);

        // By hand from the per-user revenues (capped at the readout's own cap, a quantile of the positive ones).
        double Cap(decimal r) => readout.RevenueCap is { } c ? Math.Min((double)r, c) : (double)r;
        (double Mean, double SquaredError) Moments(List<decimal> values)
        {
            var y = values.Select(Cap).ToList();
            var mean = y.Average();
            return (mean, y.Sum(v => (v - mean) * (v - mean)) / (y.Count - 1) / y.Count);
        }

        var (mv, sv) = Moments(revenues["b"]);
        var (mc, sc) = Moments(revenues["control"]);
        var d = mv - mc;
        var sd = Math.Sqrt(sv + sc);
        Assert.Equal(1 - MathNet.Numerics.Distributions.Normal.CDF(d, sd, 0), b.RevenueChanceToBeatControl!.Value, 9);
        // E[max(−D, 0)] by numerical integration over D ~ N(d, sd²).
        var loss = 0.0;
        const int steps = 20_000;
        var (low, high) = (d - (12 * sd), d + (12 * sd));
        var h = (high - low) / steps;
        for (var i = 0; i <= steps; i++)
        {
            var x = low + (i * h);
            loss += (i is 0 or steps ? 0.5 : 1) * Math.Max(-x, 0) * MathNet.Numerics.Distributions.Normal.PDF(d, sd, x) * h;
        }

        Assert.Equal(loss, b.RevenueExpectedLoss!.Value, 6);
        Assert.Equal(cap is not null, readout.RevenueCap is not null);
    }
}
