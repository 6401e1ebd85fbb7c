using MathNet.Numerics.Distributions;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>One point of a price-response curve: the fitted conversion rate at a price and its 95% band.</summary>
public sealed record ResponsePoint(decimal Price, double Rate, double Low, double High);

/// <summary>
/// The log-log price-response model of the statistics contract: ln(rate) = a + b · ln(price), fitted by weighted
/// least squares with weights conversions / (1 − rate). Gives the curve over the tested range with a 95% band from
/// the coefficients' covariance (t with k − 2 degrees of freedom), mapped back through exp.
/// </summary>
public sealed class PriceResponse
{
    private readonly double intercept;
    private readonly double slope;
    private readonly double[,] covariance;
    private readonly double t;

    private PriceResponse(double intercept, double slope, double[,] covariance, int degreesOfFreedom, decimal low, decimal high)
    {
        this.intercept = intercept;
        this.slope = slope;
        this.covariance = covariance;
        t = StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
        TestedLow = low;
        TestedHigh = high;
    }

    /// <summary>The elasticity: the change in ln(rate) per change in ln(price).</summary>
    public double Slope => slope;

    /// <summary>ln(rate) at price 1.</summary>
    public double Intercept => intercept;

    /// <summary>Covariance of (intercept, slope).</summary>
    public double[,] Covariance => (double[,])covariance.Clone();

    /// <summary>The slope's 95% interval (the contract's <c>elasticity.slope_ci</c>).</summary>
    public double[] SlopeCi => [slope - (t * Math.Sqrt(covariance[1, 1])), slope + (t * Math.Sqrt(covariance[1, 1]))];

    public decimal TestedLow { get; }

    public decimal TestedHigh { get; }

    /// <summary>The fit, or null (with the reason) when fewer than three prices have some but not all users converting.</summary>
    public static PriceResponse? Fit(IReadOnlyList<VariantStats> variants, out string? reason)
    {
        var usable = variants.Where(v => v.Users > 0 && v.Conversions > 0 && v.Conversions < v.Users && v.Price > 0).ToList();
        if (usable.Select(v => v.Price).Distinct().Count() < 3)
        {
            reason = "a price-response curve needs three prices with some but not all users converting";
            return null;
        }

        var x = usable.Select(v => Math.Log((double)v.Price)).ToArray();
        var y = usable.Select(v => Math.Log((double)v.Conversions / v.Users)).ToArray();
        var w = usable.Select(v => v.Conversions / (1 - ((double)v.Conversions / v.Users))).ToArray();
        var sw = w.Sum();
        var xBar = w.Select((wi, i) => wi * x[i]).Sum() / sw;
        var yBar = w.Select((wi, i) => wi * y[i]).Sum() / sw;
        var sxx = w.Select((wi, i) => wi * (x[i] - xBar) * (x[i] - xBar)).Sum();
        var b = w.Select((wi, i) => wi * (x[i] - xBar) * (y[i] - yBar)).Sum() / sxx;
        var a = yBar - (b * xBar);
        var k = usable.Count;
        var scale = w.Select((wi, i) => wi * Math.Pow(y[i] - a - (b * x[i]), 2)).Sum() / (k - 2);

        // Cov(a, b) = scale · (XᵀWX)⁻¹ for the design [1, x].
        var varB = scale / sxx;
        var covAb = -xBar * varB;
        var varA = (scale / sw) + (xBar * xBar * varB);
        reason = null;
        return new PriceResponse(a, b, new[,] { { varA, covAb }, { covAb, varB } }, k - 2, usable.Min(v => v.Price), usable.Max(v => v.Price));
    }

    /// <summary>The fitted rate at <paramref name="price"/> with its 95% band.</summary>
    public ResponsePoint At(decimal price)
    {
        var x = Math.Log((double)price);
        var fitted = intercept + (slope * x);
        var variance = covariance[0, 0] + (2 * x * covariance[0, 1]) + (x * x * covariance[1, 1]);
        var half = t * Math.Sqrt(Math.Max(0, variance));
        return new ResponsePoint(price, Math.Exp(fitted), Math.Exp(fitted - half), Math.Exp(fitted + half));
    }

    /// <summary><paramref name="points"/> evenly spaced points over the tested range.</summary>
    public IReadOnlyList<ResponsePoint> Curve(int points = 50)
    {
        var step = (TestedHigh - TestedLow) / Math.Max(1, points - 1);
        return Enumerable.Range(0, points).Select(i => At(decimal.Round(TestedLow + (i * step), 4))).ToList();
    }
}
