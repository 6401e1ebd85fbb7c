using System.Globalization;

namespace PricingOptimizer.Pipelines.Demo;

/// <summary>A demo tenant: its plan, one price experiment and how many users visit.</summary>
public sealed record DemoTenant(string Name, string Plan, string ExperimentId, string Currency, IReadOnlyList<(string Variant, decimal Price)> Variants, int Users);

/// <summary>Seeded shoppers: the same seed gives the same users and the same purchases.</summary>
public static class DemoTraffic
{
    public static string UserId(int i) => string.Create(CultureInfo.InvariantCulture, $"user-{i:D6}");

    /// <summary>
    /// Whether a user shown <paramref name="price"/> buys: a logit demand curve falling with price relative to the
    /// experiment's mean price, with the draw taken from <paramref name="random"/>.
    /// </summary>
    public static bool Buys(Random random, decimal price, decimal meanPrice)
    {
        var p = 1 / (1 + Math.Exp(-(-1.2 - (2.0 * ((double)price / (double)meanPrice - 1)))));
        return random.NextDouble() < p;
    }

    /// <summary>Some buyers buy two: revenue above the price.</summary>
    public static decimal? Revenue(Random random, decimal price) => random.Next(10) == 0 ? price * 2 : null;
}
