namespace PricingOptimizer.Statistics;

/// <summary>One part of a weighted stack drawn with its weight, as each posterior draw does to keep the families' disagreement.</summary>
public static class WeightedChoice
{
    /// <summary>The part the uniform draw falls on (weights summing to 1); the last part when rounding leaves the draw past them all.</summary>
    public static T Pick<T>(IReadOnlyList<(T Part, double Weight)> parts, Random random)
    {
        var u = random.NextDouble();
        foreach (var (part, weight) in parts)
        {
            u -= weight;
            if (u < 0)
            {
                return part;
            }
        }

        return parts[^1].Part;
    }
}
