using System.Globalization;
using PricingOptimizer.Events;

namespace PricingOptimizer.Pipelines.Demo;

/// <summary>A seeded stream of assign and convert events for one tenant's price test: the same seed gives the same events.</summary>
public sealed record DemoTenant(string TenantId, string Plan, string ExperimentId, string Currency, IReadOnlyList<(string Variant, decimal Price)> Variants, int Users);

public static class DemoTraffic
{
    /// <summary>
    /// Each user is assigned one variant at a random time in the last three days and buys with a probability that
    /// falls with price (a logit demand curve), some minutes later.
    /// </summary>
    public static List<PricingEvent> Generate(DemoTenant tenant, int seed, DateTimeOffset now)
    {
        var random = new Random(seed);
        var events = new List<PricingEvent>(tenant.Users * 2);
        var start = now.AddDays(-3);
        var meanPrice = (double)tenant.Variants.Average(v => v.Price);
        for (var u = 0; u < tenant.Users; u++)
        {
            var userId = string.Create(CultureInfo.InvariantCulture, $"user-{u:D6}");
            var (variant, price) = tenant.Variants[random.Next(tenant.Variants.Count)];
            var seen = EventValidator.TruncateToMicroseconds(start.AddSeconds(random.NextDouble() * (now.AddHours(-1) - start).TotalSeconds));
            var properties = new Dictionary<string, string>
            {
                ["channel"] = random.Next(3) switch { 0 => "web", 1 => "ios", _ => "android" },
            };
            events.Add(new PricingEvent($"{tenant.TenantId}-{userId}-a", EventType.Assign, tenant.ExperimentId, variant, userId, price, null,
                tenant.Currency, seen, properties));
            var p = 1 / (1 + Math.Exp(-(-1.2 - 2.0 * ((double)price / meanPrice - 1))));
            if (random.NextDouble() < p)
            {
                var bought = seen.AddMinutes(1 + random.Next(50));
                var quantity = random.Next(10) == 0 ? 2 : 1;
                events.Add(new PricingEvent($"{tenant.TenantId}-{userId}-c", EventType.Convert, tenant.ExperimentId, variant, userId, price,
                    quantity == 1 ? null : price * quantity, tenant.Currency, EventValidator.TruncateToMicroseconds(bought)));
            }
        }

        return events;
    }
}
