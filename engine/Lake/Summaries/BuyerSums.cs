
namespace PricingOptimizer.Lake;

/// <summary>
/// What the buyers of one variant paid, as sums over its counted buyers (a buyer's revenue being the sum of their
/// counted converts, capped when the readout caps): the sufficient statistics of revenue per buyer, and of units for
/// the profit goal. A convert's units are its <c>quantity</c> property when it has one, else its revenue ÷ its price.
/// </summary>
/// <param name="VariantId">The variant.</param>
/// <param name="Price">The price shown.</param>
/// <param name="Buyers">Counted users with a convert at or after their first assign.</param>
/// <param name="Revenue">Σ revenue over buyers.</param>
/// <param name="RevenueSquares">Σ revenue² over buyers.</param>
/// <param name="Units">Σ units over buyers.</param>
/// <param name="UnitsSquares">Σ units² over buyers.</param>
/// <param name="RevenueUnits">Σ revenue × units over buyers.</param>
public sealed record BuyerSums(string VariantId, decimal Price, long Buyers, double Revenue, double RevenueSquares, double Units, double UnitsSquares,
    double RevenueUnits)
{
    /// <summary>
    /// The buyer sums a readout's variant statistics imply when every convert's units are its revenue ÷ the shown
    /// price (no quantity properties, no cap).
    /// </summary>
    public static BuyerSums From(VariantStats variant)
    {
        var price = (double)variant.Price;
        var revenue = (double)variant.Revenue;
        return price > 0
            ? new BuyerSums(variant.VariantId, variant.Price, variant.Conversions, revenue, variant.RevenueSquares, revenue / price,
                variant.RevenueSquares / (price * price), variant.RevenueSquares / price)
            : new BuyerSums(variant.VariantId, variant.Price, variant.Conversions, revenue, variant.RevenueSquares, variant.Conversions,
                variant.Conversions, revenue);
    }
}
