using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// A willingness-to-pay curve with a reach: rate(p) = reach · S(p), where reach is the share of users who would buy at
/// some price and S the share of them still willing at p (logistic, lognormal or Weibull in log price). The reach
/// lets the curve flatten below the tested prices instead of climbing towards 1, which most real conversion
/// rates (a few percent to a few tens) do. Three parameters — reach (through a logistic), location and log scale of
/// the willingness to pay — fitted by Fisher scoring with step halving.
/// </summary>
public sealed class ReachFamily(string name, Link link, string description) : IDemandFamily
{
    private const int MaxIterations = 60;

    public string Name => name;

    public int Parameters => 3;

    public string Description => description;

    public IDemandCurve? Fit(ReadOnlySpan<PricePoint> points)
    {
        if (points.Length < 3)
        {
            return null;
        }

        // Start: reach a little above the highest observed rate, the willingness to pay centred on the tested prices.
        var highest = 0.0;
        var logCentre = 0.0;
        long users = 0;
        foreach (var p in points)
        {
            highest = Math.Max(highest, (p.Conversions + 0.5) / (p.Users + 1.0));
            logCentre += Math.Log(p.Price) * p.Users;
            users += p.Users;
        }

        logCentre /= Math.Max(1, users);
        var spread = Math.Max(0.05, Math.Log(points[^1].Price / points[0].Price) / 2);
        var theta = new[] { Logit(Math.Min(0.999, Math.Min(1, highest * 1.5))), logCentre, Math.Log(spread) };
        var logLikelihood = LogLikelihood(points, theta);
        var jacobian = new double[points.Length, 3];
        var mu = new double[points.Length];
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            for (var i = 0; i < points.Length; i++)
            {
                mu[i] = Rate(theta, points[i].Price);
                for (var j = 0; j < 3; j++)
                {
                    var h = 1e-6 * Math.Max(1, Math.Abs(theta[j]));
                    var saved = theta[j];
                    theta[j] = saved + h;
                    var up = Rate(theta, points[i].Price);
                    theta[j] = saved - h;
                    var down = Rate(theta, points[i].Price);
                    theta[j] = saved;
                    jacobian[i, j] = (up - down) / (2 * h);
                }
            }

            // (JᵀWJ) δ = JᵀW(y − μ), W = n / (μ(1 − μ)), with a small ridge for nearly flat directions.
            var a = new double[3, 3];
            var b = new double[3];
            for (var i = 0; i < points.Length; i++)
            {
                var m = Math.Clamp(mu[i], 1e-12, 1 - 1e-12);
                var w = points[i].Users / (m * (1 - m));
                var residual = points[i].Rate - mu[i];
                for (var j = 0; j < 3; j++)
                {
                    b[j] += w * jacobian[i, j] * residual;
                    for (var k = 0; k < 3; k++)
                    {
                        a[j, k] += w * jacobian[i, j] * jacobian[i, k];
                    }
                }
            }

            var trace = a[0, 0] + a[1, 1] + a[2, 2];
            for (var j = 0; j < 3; j++)
            {
                a[j, j] += 1e-9 * trace + 1e-12;
            }

            if (Solve(a, b) is not { } step)
            {
                return null;
            }

            var improved = false;
            var candidate = new double[3];
            for (var half = 0; half < 30; half++)
            {
                var scale = Math.Pow(0.5, half);
                for (var j = 0; j < 3; j++)
                {
                    candidate[j] = theta[j] + (scale * step[j]);
                }

                candidate[2] = Math.Clamp(candidate[2], -8, 4);
                var next = LogLikelihood(points, candidate);
                if (next >= logLikelihood)
                {
                    improved = next - logLikelihood > 1e-10 * Math.Max(1, Math.Abs(logLikelihood));
                    (theta, candidate, logLikelihood) = (candidate, theta, next);
                    break;
                }
            }

            if (!improved)
            {
                break;
            }
        }

        return theta.All(double.IsFinite) ? new Curve(this, (double[])theta.Clone()) : null;
    }

    /// <summary>reach · S(p) with reach = σ(θ₀), S in z = (ln p − θ₁) / e^θ₂.</summary>
    private double Rate(double[] theta, double price)
    {
        var reach = 1 / (1 + Math.Exp(-theta[0]));
        var z = (Math.Log(price) - theta[1]) / Math.Exp(theta[2]);
        var survival = link switch
        {
            Link.Probit => 1 - Normal.CDF(0, 1, z),
            Link.LogLog => Math.Exp(-Math.Exp(z)),
            _ => 1 / (1 + Math.Exp(z)),
        };
        return reach * survival;
    }

    private double LogLikelihood(ReadOnlySpan<PricePoint> points, double[] theta)
    {
        var sum = 0.0;
        foreach (var p in points)
        {
            var r = Math.Clamp(Rate(theta, p.Price), 1e-12, 1 - 1e-12);
            sum += (p.Conversions * Math.Log(r)) + ((p.Users - p.Conversions) * Math.Log(1 - r));
        }

        return double.IsFinite(sum) ? sum : double.NegativeInfinity;
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    /// <summary>Gaussian elimination with partial pivoting on a 3×3 system; null when singular.</summary>
    private static double[]? Solve(double[,] a, double[] b)
    {
        const int n = 3;
        for (var c = 0; c < n; c++)
        {
            var pivot = c;
            for (var r = c + 1; r < n; r++)
            {
                if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c]))
                {
                    pivot = r;
                }
            }

            if (!(Math.Abs(a[pivot, c]) > 1e-300))
            {
                return null;
            }

            if (pivot != c)
            {
                for (var k = 0; k < n; k++)
                {
                    (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
                }

                (b[c], b[pivot]) = (b[pivot], b[c]);
            }

            for (var r = c + 1; r < n; r++)
            {
                var f = a[r, c] / a[c, c];
                for (var k = c; k < n; k++)
                {
                    a[r, k] -= f * a[c, k];
                }

                b[r] -= f * b[c];
            }
        }

        var x = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var s = b[r];
            for (var k = r + 1; k < n; k++)
            {
                s -= a[r, k] * x[k];
            }

            x[r] = s / a[r, r];
        }

        return x.All(double.IsFinite) ? x : null;
    }

    private sealed class Curve(ReachFamily family, double[] theta) : IDemandCurve
    {
        public double Rate(double price) => Math.Clamp(family.Rate(theta, Math.Max(price, 1e-12)), 0, 1);
    }
}
