namespace PricingOptimizer.Events;

/// <summary>The two kinds of event of contract v1.</summary>
public enum EventType
{
    /// <summary>A user was shown a variant's price (a view).</summary>
    Assign,

    /// <summary>The user bought.</summary>
    Convert,
}

/// <summary>Wire names of <see cref="EventType"/>.</summary>
public static class EventTypeNames
{
    public const string Assign = "assign";
    public const string Convert = "convert";

    public static string ToWire(this EventType type) => type == EventType.Assign ? Assign : Convert;

    public static bool TryParse(string? value, out EventType type)
    {
        switch (value)
        {
            case Assign: type = EventType.Assign; return true;
            case Convert: type = EventType.Convert; return true;
            default: type = default; return false;
        }
    }
}
