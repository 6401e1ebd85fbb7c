namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// A family of demand curves P(convert | price) fitted to per-price counts. A new family is one class implementing
/// this, added to <see cref="DemandFamilies.Default"/>.
/// </summary>
public interface IDemandFamily
{
    /// <summary>The name the recommendation reports (<c>models[].name</c>).</summary>
    string Name { get; }

    /// <summary>Free parameters, for the goodness-of-fit check's degrees of freedom.</summary>
    int Parameters { get; }

    /// <summary>A sentence-sized description for the reasoning.</summary>
    string Description { get; }

    /// <summary>The maximum-likelihood curve for <paramref name="points"/> (price order), or null when the family cannot fit them.</summary>
    IDemandCurve? Fit(ReadOnlySpan<PricePoint> points);
}

/// <summary>A fitted demand curve.</summary>
public interface IDemandCurve
{
    /// <summary>P(convert | <paramref name="price"/>), in [0, 1].</summary>
    double Rate(double price);
}
