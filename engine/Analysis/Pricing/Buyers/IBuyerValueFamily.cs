using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing.Buyers;

/// <summary>
/// One tested price as a revenue-per-buyer family sees it: the mean units a buyer brings there (mean value ÷ the value of
/// one unit at the price) and the weight of that mean (1 / its variance).
/// </summary>
public readonly record struct UnitsPoint(double Price, double Units, double Weight);

/// <summary>
/// A family of curves for the units a buyer brings as a function of price — what a buyer pays, in multiples of the price
/// (baskets of several units, renewals, add-ons). A new family is one class implementing this, added to
/// <see cref="BuyerValueFamilies.Default"/>.
/// </summary>
public interface IBuyerValueFamily
{
    /// <summary>The name the recommendation reports (<c>revenue_models[].name</c>).</summary>
    string Name { get; }

    /// <summary>A sentence-sized description for the reasoning.</summary>
    string Description { get; }

    /// <summary>The weighted least-squares curve through <paramref name="points"/> (price order), or null when the family cannot fit them.</summary>
    IUnitsCurve? Fit(ReadOnlySpan<UnitsPoint> points);
}

/// <summary>A fitted units-per-buyer curve.</summary>
public interface IUnitsCurve
{
    /// <summary>Free parameters the fit used, for the fit check's degrees of freedom.</summary>
    int Parameters { get; }

    /// <summary>Expected units per buyer at <paramref name="price"/>.</summary>
    double Units(double price);
}

/// <summary>The revenue-per-buyer families a recommendation weighs.</summary>
public static class BuyerValueFamilies
{
    /// <summary>Constant units, units log-linear in price, a shape-free monotone curve, and the observed means (used only when nothing else fits).</summary>
    public static IReadOnlyList<IBuyerValueFamily> Default { get; } =
        [new ConstantUnits(), new LogLinearUnits(), new MonotoneUnits(), new ObservedUnits()];
}

/// <summary>Every buyer brings the same number of units whatever the price (v2's model when that number is 1).</summary>
public sealed class ConstantUnits : IBuyerValueFamily
{
    public string Name => "constant-units";

    public string Description => "the same units per buyer at every price";

    public IUnitsCurve? Fit(ReadOnlySpan<UnitsPoint> points)
    {
        double sw = 0, swh = 0;
        foreach (var p in points)
        {
            sw += p.Weight;
            swh += p.Weight * p.Units;
        }

        return sw > 0 ? new Curve(swh / sw) : null;
    }

    private sealed record Curve(double Level) : IUnitsCurve
    {
        public int Parameters => 1;

        public double Units(double price) => Level;
    }
}

/// <summary>ln units = a + b · ln price: buyers take more (b &gt; 0) or fewer (b &lt; 0) units as the price rises, at a constant elasticity.</summary>
public sealed class LogLinearUnits : IBuyerValueFamily
{
    public string Name => "log-linear-units";

    public string Description => "units per buyer log-linear in price (a constant elasticity of basket size)";

    public IUnitsCurve? Fit(ReadOnlySpan<UnitsPoint> points)
    {
        if (points.Length < 2)
        {
            return null;
        }

        // Weighted least squares on the log scale: var(ln h) ≈ var(h) / h².
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var p in points)
        {
            if (!(p.Units > 0) || !(p.Price > 0))
            {
                return null;
            }

            var w = p.Weight * p.Units * p.Units;
            var x = Math.Log(p.Price);
            var y = Math.Log(p.Units);
            sw += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            sxy += w * x * y;
        }

        var det = (sw * sxx) - (sx * sx);
        if (!(sw > 0) || !(Math.Abs(det) > 1e-12 * sw * sxx))
        {
            return null;
        }

        var b = ((sw * sxy) - (sx * sy)) / det;
        var a = (sy - (b * sx)) / sw;
        return double.IsFinite(a) && double.IsFinite(b) ? new Curve(a, b) : null;
    }

    private sealed record Curve(double A, double B) : IUnitsCurve
    {
        public int Parameters => 2;

        public double Units(double price) => B == 0 ? Math.Exp(A) : Math.Exp(A + (B * Math.Log(Math.Max(price, 1e-12))));
    }
}

/// <summary>
/// A shape-free curve: the monotone (non-decreasing or non-increasing, whichever fits better) units closest to the
/// observed means by weighted pool-adjacent-violators, joined linearly between tested prices and flat beyond them.
/// </summary>
public sealed class MonotoneUnits : IBuyerValueFamily
{
    public string Name => "monotone-units";

    public string Description => "a shape-free monotone curve of units per buyer through the tested prices";

    public IUnitsCurve? Fit(ReadOnlySpan<UnitsPoint> points)
    {
        if (points.Length == 0)
        {
            return null;
        }

        var up = Pav(points, increasing: true);
        var down = Pav(points, increasing: false);
        var fitted = Sse(points, up) <= Sse(points, down) ? up : down;
        var prices = new double[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            prices[i] = points[i].Price;
        }

        return new Interpolated(prices, fitted, fitted.Distinct().Count());
    }

    private static double Sse(ReadOnlySpan<UnitsPoint> points, double[] fitted)
    {
        var sum = 0.0;
        for (var i = 0; i < points.Length; i++)
        {
            var d = points[i].Units - fitted[i];
            sum += points[i].Weight * d * d;
        }

        return sum;
    }

    private static double[] Pav(ReadOnlySpan<UnitsPoint> points, bool increasing)
    {
        // A non-decreasing fit is the non-increasing fit of the negated values, negated.
        var sign = increasing ? -1.0 : 1.0;
        var values = new (double, double)[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            values[i] = (sign * points[i].Units, Math.Max(points[i].Weight, 1e-300));
        }

        var fitted = new double[points.Length];
        var at = 0;
        foreach (var (level, _, size) in PoolAdjacentViolators.NonIncreasing(values))
        {
            for (var j = 0; j < size; j++)
            {
                fitted[at++] = sign * level;
            }
        }

        return fitted;
    }
}

/// <summary>The observed mean units at every tested price, joined linearly: it always fits, so it carries the answer only when no other family does.</summary>
public sealed class ObservedUnits : IBuyerValueFamily
{
    public const string FamilyName = "observed-units";

    public string Name => FamilyName;

    public string Description => "the observed units per buyer at each tested price, joined linearly";

    public IUnitsCurve? Fit(ReadOnlySpan<UnitsPoint> points)
    {
        if (points.Length == 0)
        {
            return null;
        }

        var prices = new double[points.Length];
        var units = new double[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            (prices[i], units[i]) = (points[i].Price, points[i].Units);
        }

        return new Interpolated(prices, units, points.Length);
    }
}

/// <summary>Units joined linearly between tested prices, flat beyond the lowest and highest.</summary>
internal sealed class Interpolated(double[] prices, double[] units, int parameters) : IUnitsCurve
{
    public int Parameters => parameters;

    public double Units(double price)
    {
        if (price <= prices[0])
        {
            return units[0];
        }

        if (price >= prices[^1])
        {
            return units[^1];
        }

        var upper = Array.BinarySearch(prices, price);
        if (upper >= 0)
        {
            return units[upper];
        }

        upper = ~upper;
        var (p0, u0, p1, u1) = (prices[upper - 1], units[upper - 1], prices[upper], units[upper]);
        return u0 + ((u1 - u0) * (price - p0) / (p1 - p0));
    }
}
