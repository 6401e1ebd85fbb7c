using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>How a linear predictor η = a + b·x becomes a conversion probability.</summary>
public enum Link
{
    /// <summary>1 / (1 + e^−η).</summary>
    Logit,

    /// <summary>Φ(η): with x = ln p, a lognormal willingness to pay.</summary>
    Probit,

    /// <summary>exp(−e^η): with x = ln p, a Weibull willingness to pay.</summary>
    LogLog,

    /// <summary>e^η (below 1): with x = p, exponential demand.</summary>
    Log,

    /// <summary>η itself (inside (0, 1)): linear demand.</summary>
    Identity,
}

/// <summary>
/// A two-parameter binomial GLM in price or log price, fitted by Fisher scoring with step halving. Every such
/// family can bend: its revenue p·rate(p) can peak inside the tested range (unlike the constant-elasticity curve).
/// </summary>
public sealed class GlmFamily(string name, Link link, bool logPrice, string description) : IDemandFamily
{
    private const int MaxIterations = 100;

    public string Name => name;

    public int Parameters => 2;

    public string Description => description;

    public IDemandCurve? Fit(ReadOnlySpan<PricePoint> points)
    {
        if (points.Length < 2)
        {
            return null;
        }

        var x = new double[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            x[i] = logPrice ? Math.Log(points[i].Price) : points[i].Price;
        }

        // Start from weighted least squares of the link of smoothed observed rates.
        var z = new double[points.Length];
        var w = new double[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            z[i] = Inverse((points[i].Conversions + 0.5) / (points[i].Users + 1.0));
            w[i] = points[i].Users;
        }

        var (a, b) = WeightedLine(x, z, w);
        if (!Valid(x, a, b))
        {
            (a, b) = (Inverse(Math.Clamp(Pooled(points), 0.01, 0.99)), 0);
            if (!Valid(x, a, b))
            {
                return null;
            }
        }

        var logLikelihood = LogLikelihood(points, x, a, b);
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            // Fisher scoring: weighted least squares on the working response.
            for (var i = 0; i < points.Length; i++)
            {
                var eta = a + (b * x[i]);
                var mu = Clamp(Mean(eta));
                var d = Derivative(eta);
                z[i] = Math.Abs(d) < 1e-300 ? eta : eta + ((points[i].Rate - mu) / d);
                w[i] = points[i].Users * d * d / (mu * (1 - mu));
            }

            var (na, nb) = WeightedLine(x, z, w);
            if (!double.IsFinite(na) || !double.IsFinite(nb))
            {
                break;
            }

            // Step halving keeps every step inside the valid region and uphill.
            var improved = false;
            for (var half = 0; half < 30; half++)
            {
                if (Valid(x, na, nb))
                {
                    var next = LogLikelihood(points, x, na, nb);
                    if (next >= logLikelihood - 1e-12)
                    {
                        improved = next - logLikelihood > 1e-10 * Math.Max(1, Math.Abs(logLikelihood));
                        (a, b, logLikelihood) = (na, nb, next);
                        break;
                    }
                }

                (na, nb) = ((a + na) / 2, (b + nb) / 2);
            }

            if (!improved)
            {
                break;
            }
        }

        return double.IsFinite(a) && double.IsFinite(b) ? new Curve(this, a, b) : null;
    }

    private static double Pooled(ReadOnlySpan<PricePoint> points)
    {
        long users = 0, conversions = 0;
        foreach (var p in points)
        {
            users += p.Users;
            conversions += p.Conversions;
        }

        return users == 0 ? 0.5 : (conversions + 0.5) / (users + 1.0);
    }

    private static (double A, double B) WeightedLine(double[] x, double[] z, double[] weight)
    {
        double s0 = 0, s1 = 0, s2 = 0, t0 = 0, t1 = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var w = weight[i];
            var zi = z[i];
            if (!(w > 0) || !double.IsFinite(w) || !double.IsFinite(zi))
            {
                continue;
            }

            s0 += w;
            s1 += w * x[i];
            s2 += w * x[i] * x[i];
            t0 += w * zi;
            t1 += w * x[i] * zi;
        }

        var determinant = (s0 * s2) - (s1 * s1);
        if (!(s0 > 0) || Math.Abs(determinant) <= 1e-12 * s0 * s2)
        {
            return (double.NaN, double.NaN);
        }

        var b = ((s0 * t1) - (s1 * t0)) / determinant;
        return ((t0 - (b * s1)) / s0, b);
    }

    private double LogLikelihood(ReadOnlySpan<PricePoint> points, double[] x, double a, double b)
    {
        var sum = 0.0;
        for (var i = 0; i < points.Length; i++)
        {
            var mu = Clamp(Mean(a + (b * x[i])));
            sum += (points[i].Conversions * Math.Log(mu)) + ((points[i].Users - points[i].Conversions) * Math.Log(1 - mu));
        }

        return sum;
    }

    /// <summary>Log and identity links are only probabilities inside (0, 1): the fit must stay there at every tested price.</summary>
    private bool Valid(double[] x, double a, double b)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b))
        {
            return false;
        }

        foreach (var xi in x)
        {
            var mu = Mean(a + (b * xi));
            if (!(mu > 0 && mu < 1))
            {
                return false;
            }
        }

        return true;
    }

    private static double Clamp(double mu) => Math.Clamp(mu, 1e-12, 1 - 1e-12);

    private double Mean(double eta) => link switch
    {
        Link.Logit => 1 / (1 + Math.Exp(-eta)),
        Link.Probit => Normal.CDF(0, 1, eta),
        Link.LogLog => Math.Exp(-Math.Exp(eta)),
        Link.Log => Math.Exp(eta),
        _ => eta,
    };

    private double Derivative(double eta) => link switch
    {
        Link.Logit => Math.Exp(-Math.Abs(eta)) / Math.Pow(1 + Math.Exp(-Math.Abs(eta)), 2),
        Link.Probit => Normal.PDF(0, 1, eta),
        Link.LogLog => -Math.Exp(eta - Math.Exp(eta)),
        Link.Log => Math.Exp(eta),
        _ => 1,
    };

    private double Inverse(double mu) => link switch
    {
        Link.Logit => Math.Log(mu / (1 - mu)),
        Link.Probit => Normal.InvCDF(0, 1, mu),
        Link.LogLog => Math.Log(-Math.Log(mu)),
        Link.Log => Math.Log(mu),
        _ => mu,
    };

    private sealed class Curve(GlmFamily family, double a, double b) : IDemandCurve
    {
        public double Rate(double price)
        {
            var x = family.Covariate(price);
            return Math.Clamp(family.Mean(a + (b * x)), 0, 1);
        }
    }

    private double Covariate(double price) => logPrice ? Math.Log(Math.Max(price, 1e-12)) : price;
}
