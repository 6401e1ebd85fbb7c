using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;

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

    /// <summary>Optional: another true curve, as <c>kind:name=value,…</c> (<see cref="DemandShape.Parse"/>); default
    /// the logit curve of intercept and slope.</summary>
    [JsonPropertyName("curve")] public string? Curve { get; set; }

    /// <summary>The true demand curve the users are drawn from.</summary>
    [JsonIgnore] public DemandShape Shape => Curve is null ? DemandShape.Create("logit", Intercept, Slope) : DemandShape.Parse(Curve);

    /// <summary>Optional: what a buyer pays, as <c>kind:name=value,…</c> (<see cref="BuyerShape.Parse"/>); default one unit at the price.</summary>
    [JsonPropertyName("units")] public string? Units { get; set; }

    /// <summary>What each buyer pays.</summary>
    [JsonIgnore] public BuyerShape Buyers => Units is null ? BuyerShape.One : BuyerShape.Parse(Units);

    /// <summary>The first thing wrong with the settings, or null.</summary>
    public string? Problem() => this switch
    {
        { Prices.Count: < 1 } => "prices: give at least one price",
        _ when Prices.Any(p => p <= 0) => "prices: every price must be positive",
        { UsersPerPrice: < 1 } => "users_per_price must be at least 1",
        { Days: < 1 } => "days must be at least 1",
        _ when !double.IsFinite(Intercept) || !double.IsFinite(Slope) => "intercept and slope must be numbers",
        _ => CurveProblem(),
    };

    private string? CurveProblem()
    {
        try
        {
            _ = Shape;
        }
        catch (FormatException e)
        {
            return "curve: " + e.Message;
        }

        try
        {
            _ = Buyers;
            return null;
        }
        catch (FormatException e)
        {
            return "units: " + e.Message;
        }
    }

    public static SimulationSettings Load(string path) =>
        JsonSerializer.Deserialize<SimulationSettings>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"{path} holds no simulation settings");
}

/// <summary>
/// Draws users from a known demand curve (<see cref="SimulationSettings.Shape"/>): each user is assigned one price (variant p{i}) at a random time in
/// the window and buys with the curve's probability at that price, a few minutes later. The same settings give the
/// same events.
/// </summary>
public static class DemandSimulator
{
    public static string VariantId(int index) => "p" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The simulated users as the demand model sees them (the same draws as the events <c>Simulate</c> writes).</summary>
    public static List<DemandObservation> Users(SimulationSettings settings, DateTimeOffset end) =>
        [.. Draw(settings, settings.Shape,
            end).Select(u => new DemandObservation(u.UserId, VariantId(u.Index), settings.Prices[u.Index], u.Seen, null, u.BoughtAfter is not null))];

    public static List<PricingEvent> Simulate(SimulationSettings settings, string experimentId, DateTimeOffset end) =>
        Simulate(settings, settings.Shape, experimentId, end);

    /// <summary>The events of <paramref name="settings"/>'s users drawn from <paramref name="curve"/> (which may be a
    /// table, unlike a settings file's).</summary>
    /// <remarks>
    /// Each buyer's purchases come from <paramref name="buyers"/> (default: the settings' units): a basket of several units is one
    /// convert with its revenue (and a <c>quantity</c> property when add-ons make revenue ÷ price differ from it); each
    /// renewal is another convert an hour after the one before.
    /// What buyers pay is drawn from a stream of its own, so the same settings give the same users and buyers whatever they pay.
    /// </remarks>
    public static List<PricingEvent> Simulate(SimulationSettings settings, DemandShape curve, string experimentId, DateTimeOffset end,
        BuyerShape? buyers = null)
    {
        buyers ??= settings.Buyers;
        var baskets = new Random(unchecked((settings.Seed * 31) + 7));
        var events = new List<PricingEvent>();
        foreach (var (userId, i, seen, boughtAfter) in Draw(settings, curve, end))
        {
            var price = settings.Prices[i];
            events.Add(new PricingEvent($"{experimentId}-{userId}-a", EventType.Assign, experimentId, VariantId(i), userId, price, null,
                settings.Currency, seen));
            if (boughtAfter is not { } delay)
            {
                continue;
            }

            var k = 0;
            foreach (var purchase in buyers.Purchases(baskets, price))
            {
                var id = k == 0 ? $"{experimentId}-{userId}-c" : string.Create(CultureInfo.InvariantCulture, $"{experimentId}-{userId}-c{k}");
                // The quantity goes along only when revenue ÷ price would not tell it (add-ons spread the basket's value).
                IReadOnlyDictionary<string, string>? properties = purchase.Quantity is > 1 and var q && purchase.Revenue != price * q
                    ? new Dictionary<string, string> { ["quantity"] = q.ToString(CultureInfo.InvariantCulture) }
                    : null;
                events.Add(new PricingEvent(id, EventType.Convert, experimentId, VariantId(i), userId, price,
                    purchase.Revenue == price ? null : purchase.Revenue,
                    settings.Currency, seen + delay + TimeSpan.FromHours(k), properties));
                k++;
            }
        }

        return events;
    }

    /// <summary>Each user: id, price index, first seen, and how long after that they bought (null: did not).</summary>
    private static IEnumerable<(string UserId, int Index, DateTimeOffset Seen, TimeSpan? BoughtAfter)> Draw(SimulationSettings settings, DemandShape demand,
        DateTimeOffset end)
    {
        var random = new Random(settings.Seed);
        var start = end.AddDays(-settings.Days);
        var user = 0;
        for (var round = 0; round < settings.UsersPerPrice; round++)
        {
            for (var i = 0; i < settings.Prices.Count; i++)
            {
                var userId = string.Create(CultureInfo.InvariantCulture, $"sim-{user++:D7}");
                var seen = EventValidator.TruncateToMicroseconds(start.AddSeconds(random.NextDouble() * (end - start).TotalSeconds * 0.99));
                TimeSpan? bought = random.NextDouble() < demand.Rate((double)settings.Prices[i])
                    ? TimeSpan.FromMinutes(1 + random.Next(30))
                    : null;
                yield return (userId, i, seen, bought);
            }
        }
    }
}
