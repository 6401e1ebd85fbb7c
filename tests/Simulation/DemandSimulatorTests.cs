using PricingOptimizer.Events;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Tests.Simulation;

public sealed class DemandSimulatorTests
{
    private static string SamplesFile
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "data-samples", "demand.json");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("data-samples/demand.json not found above the test folder");
        }
    }

    [Fact]
    public void The_same_settings_give_the_same_events()
    {
        var settings = SimulationSettings.Load(SamplesFile);
        var end = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(DemandSimulator.Simulate(settings, "exp", end), DemandSimulator.Simulate(settings, "exp", end));
        var other = SimulationSettings.Load(SamplesFile);
        other.Seed++;
        Assert.NotEqual(DemandSimulator.Simulate(settings, "exp", end), DemandSimulator.Simulate(other, "exp", end));
    }

    [Fact]
    public void Observed_conversion_rates_follow_the_known_curve()
    {
        var settings = new SimulationSettings { UsersPerPrice = 20_000 };
        var events = DemandSimulator.Simulate(settings, "exp", DateTimeOffset.UtcNow);
        for (var i = 0; i < settings.Prices.Count; i++)
        {
            var variant = DemandSimulator.VariantId(i);
            var users = events.Count(e => e.VariantId == variant && e.Type == EventType.Assign);
            var buyers = events.Count(e => e.VariantId == variant && e.Type == EventType.Convert);
            var expected = settings.Shape.Rate((double)settings.Prices[i]);
            var standardError = Math.Sqrt(expected * (1 - expected) / users);
            Assert.InRange((double)buyers / users, expected - (4 * standardError), expected + (4 * standardError));
        }
    }

    [Fact]
    public void The_true_optimum_satisfies_the_first_order_condition()
    {
        var settings = new SimulationSettings();
        var demand = settings.Shape;
        var revenue = demand.Optimum(1, 40, (price, rate) => price * rate).Price;
        Assert.Equal(0, 1 + (revenue * settings.Slope * (1 - demand.Rate(revenue))), 6); // d/dp [p·P(p)] = 0
        var profit = demand.Optimum(1, 40, (price, rate) => (price - 4) * rate).Price;
        Assert.True(profit > revenue);
        Assert.Equal(0, 1 + ((profit - 4) * settings.Slope * (1 - demand.Rate(profit))), 6);
    }
}
