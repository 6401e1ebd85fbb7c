using System.Globalization;
using PricingOptimizer.Events;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>Valid events with every field exercised: decimals with four places, revenue, properties, offsets.</summary>
public static class TestEvents
{
    public static PricingEvent Assign(int i, DateTimeOffset now, string experiment = "exp-1") => new(
        string.Create(CultureInfo.InvariantCulture, $"a-{i:D6}"), EventType.Assign, experiment, i % 2 == 0 ? "control" : "charm",
        string.Create(CultureInfo.InvariantCulture, $"user-{i}"), i % 2 == 0 ? 9.9900m : 8.9900m, null, "USD",
        EventValidator.TruncateToMicroseconds(now.AddMinutes(-i).AddTicks(1234567)),
        i % 3 == 0 ? new Dictionary<string, string> { ["channel"] = "web", ["plan"] = "pro é ü" } : null);

    public static PricingEvent Convert(int i, DateTimeOffset now, string experiment = "exp-1") => new(
        string.Create(CultureInfo.InvariantCulture, $"c-{i:D6}"), EventType.Convert, experiment, i % 2 == 0 ? "control" : "charm",
        string.Create(CultureInfo.InvariantCulture, $"user-{i}"), i % 2 == 0 ? 9.99m : 8.99m, i % 4 == 1 ? 17.9812m : null, "USD",
        EventValidator.TruncateToMicroseconds(now.AddMinutes(-i + 1)));

    /// <summary><paramref name="users"/> assigns and a convert for every third user.</summary>
    public static List<PricingEvent> Mixed(int users, DateTimeOffset now, string experiment = "exp-1")
    {
        var events = new List<PricingEvent>();
        for (var i = 0; i < users; i++)
        {
            events.Add(Assign(i, now, experiment));
            if (i % 3 == 1)
            {
                events.Add(Convert(i, now, experiment));
            }
        }

        return events;
    }
}
