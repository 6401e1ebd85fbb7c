namespace PricingOptimizer.Pricing;

/// <summary>What a recommendation optimises, per assigned user.</summary>
public enum Goal
{
    /// <summary>P(convert | price) × revenue per buyer at that price (what buyers pay: baskets, renewals, add-ons).</summary>
    Revenue,

    /// <summary>P(convert | price) × (revenue − unit cost × units) per buyer at that price.</summary>
    Profit,

    /// <summary>P(convert | price), subject to a price or revenue floor.</summary>
    Conversions,
}

public static class Goals
{
    public static string ToWire(this Goal goal) => goal switch
    {
        Goal.Revenue => "revenue",
        Goal.Profit => "profit",
        _ => "conversions",
    };

    public static bool TryParse(string? text, out Goal goal)
    {
        switch (text)
        {
            case "revenue": goal = Goal.Revenue; return true;
            case "profit": goal = Goal.Profit; return true;
            case "conversions": goal = Goal.Conversions; return true;
            default: goal = Goal.Revenue; return false;
        }
    }
}
