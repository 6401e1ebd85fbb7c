using System.Globalization;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Pipelines.Demo;

/// <summary>A demo tenant: its plan, one price experiment (its control: today's price), its users' true demand curve and how many users visit.</summary>
public sealed record DemoTenant(string Name, string Plan, string ExperimentId, string Currency, IReadOnlyList<(string Variant, decimal Price)> Variants,
    string Control, DemandShape Demand, int Users, BuyerShape? Baskets = null)
{
    /// <summary>What a shopper who buys takes home (default: one unit at the price).</summary>
    public BuyerShape Buyers => Baskets ?? BuyerShape.One;
}

/// <summary>Seeded shoppers: the same seed gives the same users and, at the same shown prices, the same purchases.</summary>
public static class DemoTraffic
{
    public static string UserId(int i) => string.Create(CultureInfo.InvariantCulture, $"user-{i:D6}");

    /// <summary>One uniform draw per user, in user order, so purchases do not depend on the order requests finish in.</summary>
    public static double[] Draws(int users, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, users).Select(_ => random.NextDouble())];
    }

    /// <summary>
    /// The demand settings the demo simulates for its main experiment: <c>data-samples/demand.json</c> when the demo
    /// runs from the repository, else the same values built in.
    /// </summary>
    public static (SimulationSettings Settings, string Source) Settings()
    {
        for (var folder = new DirectoryInfo(Directory.GetCurrentDirectory()); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "data-samples", "demand.json");
            if (File.Exists(path))
            {
                return (SimulationSettings.Load(path), path);
            }
        }

        return (new SimulationSettings(), "built-in defaults (data-samples/demand.json not found)");
    }
}
