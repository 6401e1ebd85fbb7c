namespace PricingOptimizer.Lake;

/// <summary>
/// One variant's counted users first assigned in one allocation period (period 0 before the first boundary, period i
/// from boundary i on): users, buyers, and the sum and sum of squares of per-user revenue (capped like the readout's
/// revenue figures when a cap is set).
/// </summary>
public sealed record PeriodStats(int Period, string VariantId, decimal Price, long Users, long Conversions, double Revenue, double RevenueSquares);
