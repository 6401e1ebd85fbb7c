using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PricingOptimizer.Events;

namespace PricingOptimizer.Simulation;

/// <summary>Settings of a simulated price test (the demo's and the notebooks' are in <c>data-samples/demand.json</c>).</summary>
public sealed class SimulationSettings
{
    [JsonPropertyName("intercept")] public double Intercept { get; set; } = 0.2;
    [JsonPropertyName("slope")] public double Slope { get; set; } = -0.12;
    [JsonPropertyName("prices")] public List<decimal> Prices { get; set; } = [7.99m, 9.99m, 11.99m, 13.99m, 15.99m];
    [JsonPropertyName("users_per_price")] public int UsersPerPrice { get; set; } = 2000;
    [JsonPropertyName("currency")] public string Currency { get; set; } = "USD";
    [JsonPropertyName("days")] public int Days { get; set; } = 14;
    [JsonPropertyName("seed")] public int Seed { get; set; } = 42;

    public LogitDemand Demand => new(Intercept, Slope);

    public static SimulationSettings Load(string path) =>
        JsonSerializer.Deserialize<SimulationSettings>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"{path} holds no simulation settings");
}

/// <summary>
/// Draws users from a known logit demand curve: each user is assigned one price (variant p{i}) at a random time in
/// the window and buys with the curve's probability at that price, a few minutes later. The same settings give the
/// same events.
/// </summary>
public static class DemandSimulator
{
    public static string VariantId(int index) => "p" + index.ToString(CultureInfo.InvariantCulture);

    public static List<PricingEvent> Simulate(SimulationSettings settings, string experimentId, DateTimeOffset end)
    {
        var random = new Random(settings.Seed);
        var demand = settings.Demand;
        var start = end.AddDays(-settings.Days);
        var events = new List<PricingEvent>();
        var user = 0;
        for (var round = 0; round < settings.UsersPerPrice; round++)
        {
            for (var i = 0; i < settings.Prices.Count; i++)
            {
                var userId = string.Create(CultureInfo.InvariantCulture, $"sim-{user++:D7}");
                var price = settings.Prices[i];
                var seen = EventValidator.TruncateToMicroseconds(start.AddSeconds(random.NextDouble() * (end - start).TotalSeconds * 0.99));
                events.Add(new PricingEvent($"{experimentId}-{userId}-a", EventType.Assign, experimentId, VariantId(i), userId, price, null, settings.Currency, seen));
                if (random.NextDouble() < demand.ConversionProbability((double)price))
                {
                    events.Add(new PricingEvent($"{experimentId}-{userId}-c", EventType.Convert, experimentId, VariantId(i), userId, price, null,
                        settings.Currency, seen.AddMinutes(1 + random.Next(30))));
                }
            }
        }

        return events;
    }
}
