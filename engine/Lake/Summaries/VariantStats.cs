namespace PricingOptimizer.Lake;

/// <summary>The sufficient statistics of one variant: all a readout needs, computed by DuckDB over the lake.</summary>
/// <param name="VariantId">The variant.</param>
/// <param name="Price">The price shown.</param>
/// <param name="Users">Counted users (first assign here, single exposure).</param>
/// <param name="Conversions">Counted users with a convert at or after their first assign.</param>
/// <param name="Revenue">Sum of those converts' revenue.</param>
/// <param name="RevenueSquares">Sum over users of the square of each user's revenue (zero for non-buyers).</param>
public sealed record VariantStats(string VariantId, decimal Price, long Users, long Conversions, decimal Revenue, double RevenueSquares);
