namespace PricingOptimizer.Statistics;

/// <summary>Weighted pool-adjacent-violators: the non-increasing sequence closest to given values in weighted least squares.</summary>
public static class PoolAdjacentViolators
{
    /// <summary>
    /// The fitted blocks, in order: each block's level (the weighted mean of the values it pools), total weight, and how
    /// many consecutive values it covers. Neighbouring values are pooled while a later one exceeds the one before it.
    /// </summary>
    public static List<(double Level, double Weight, int Size)> NonIncreasing(IEnumerable<(double Value, double Weight)> values)
    {
        var blocks = new List<(double Level, double Weight, int Size)>();
        foreach (var (value, weight) in values)
        {
            blocks.Add((value, weight, 1));
            while (blocks.Count > 1 && blocks[^1].Level > blocks[^2].Level)
            {
                var (last, before) = (blocks[^1], blocks[^2]);
                var w = last.Weight + before.Weight;
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = (((last.Level * last.Weight) + (before.Level * before.Weight)) / w, w, last.Size + before.Size);
            }
        }

        return blocks;
    }
}
