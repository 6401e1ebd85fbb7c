namespace PricingOptimizer.Simulation;

/// <summary>
/// A known demand curve for simulations: P(convert | price) = 1 / (1 + exp(−(Intercept + Slope · price))), Slope &lt; 0.
/// </summary>
public sealed record LogitDemand(double Intercept, double Slope)
{
    public double ConversionProbability(double price) => 1 / (1 + Math.Exp(-(Intercept + (Slope * price))));

    /// <summary>Goal value per assigned user at <paramref name="price"/>: revenue p·P(p), or profit (p − cost)·P(p).</summary>
    public double ValuePerUser(double price, double unitCost = 0) => (price - unitCost) * ConversionProbability(price);

    /// <summary>The price in [<paramref name="low"/>, <paramref name="high"/>] that maximises <see cref="ValuePerUser"/> (golden-section search; the value is unimodal for a logit curve).</summary>
    public double OptimalPrice(double low, double high, double unitCost = 0)
    {
        var ratio = (Math.Sqrt(5) - 1) / 2;
        double a = low, b = high;
        var c = b - (ratio * (b - a));
        var d = a + (ratio * (b - a));
        while (b - a > 1e-9 * Math.Max(1, Math.Abs(b)))
        {
            if (ValuePerUser(c, unitCost) > ValuePerUser(d, unitCost))
            {
                b = d;
            }
            else
            {
                a = c;
            }

            c = b - (ratio * (b - a));
            d = a + (ratio * (b - a));
        }

        return (a + b) / 2;
    }
}
