using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace PricingOptimizer.Pricing;

/// <summary>A fitted demand curve: P(convert | price) over the experiment's users, and draws from its posterior.</summary>
public interface IDemandCurve
{
    /// <summary>The model's name as the recommendation reports it.</summary>
    string Model { get; }

    /// <summary>The fitted conversion probability at <paramref name="price"/> (averaged over the users' other features).</summary>
    double Rate(double price);

    /// <summary><paramref name="draws"/> seeded draws of the curve from the (normal, Laplace) posterior of its coefficients.</summary>
    PosteriorCurves Posterior(int draws, int seed);
}

/// <summary>Draws of a demand curve: <see cref="At"/> gives each draw's conversion probability at a price.</summary>
public abstract class PosteriorCurves(int draws)
{
    public int Draws { get; } = draws;

    public abstract double[] At(double price);

    /// <summary><paramref name="count"/> seeded draws from N(<paramref name="mean"/>, <paramref name="covariance"/>), one per row.</summary>
    protected static double[][] DrawCoefficients(double[] mean, double[,] covariance, int count, int seed)
    {
        var k = mean.Length;
        var matrix = Matrix<double>.Build.DenseOfArray(covariance);
        // A tiny ridge keeps the factorisation defined when a coefficient is (numerically) fixed.
        var lower = (matrix + Matrix<double>.Build.DenseIdentity(k) * (1e-12 * Math.Max(1e-300, matrix.Diagonal().AbsoluteMaximum()))).Cholesky().Factor;
        var random = new Random(seed);
        var result = new double[count][];
        var z = new double[k];
        for (var d = 0; d < count; d++)
        {
            for (var j = 0; j < k; j++)
            {
                z[j] = Normal.Sample(random, 0, 1);
            }

            var row = (double[])mean.Clone();
            for (var i = 0; i < k; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    row[i] += lower[i, j] * z[j];
                }
            }

            result[d] = row;
        }

        return result;
    }
}

/// <summary>The statistics contract's log-log curve as a demand model: rate = exp(a + b·ln p), capped at 1.</summary>
public sealed class LogLogCurve(PriceResponse fit) : IDemandCurve
{
    public const string Name = "log-log";

    public string Model => Name;

    public PriceResponse Fit => fit;

    public double Rate(double price) => Math.Min(1, Math.Exp(fit.Intercept + (fit.Slope * Math.Log(price))));

    public PosteriorCurves Posterior(int draws, int seed) => new Draws(fit, draws, seed);

    private sealed class Draws(PriceResponse fit, int draws, int seed) : PosteriorCurves(draws)
    {
        private readonly double[][] coefficients = DrawCoefficients([fit.Intercept, fit.Slope], fit.Covariance, draws, seed);

        public override double[] At(double price)
        {
            var x = Math.Log(price);
            return [.. coefficients.Select(c => Math.Min(1, Math.Exp(c[0] + (c[1] * x))))];
        }
    }
}

/// <summary>
/// The ML.NET logistic demand model as a curve: at a price, the mean predicted probability over a seeded sample of
/// the training users (their hours, weekdays and properties as they were), so the curve is the population's.
/// </summary>
public sealed class LogisticCurve : IDemandCurve
{
    public const int PopulationSample = 256;
    private readonly MlDemandModel model;
    private readonly float[][] population;

    public LogisticCurve(MlDemandModel model, IReadOnlyList<DemandObservation> users, int seed)
    {
        this.model = model;
        var random = new Random(seed);
        var sample = users.Count <= PopulationSample ? users : [.. Enumerable.Range(0, PopulationSample).Select(_ => users[random.Next(users.Count)])];
        population = [.. sample.Select(model.Spec.Vector)];
        if (population.Length == 0)
        {
            throw new ArgumentException("the curve needs at least one user", nameof(users));
        }
    }

    public string Model => MlDemandModel.Name;

    public double Rate(double price) => Average(model.Coefficients, price);

    public PosteriorCurves Posterior(int draws, int seed) => new Draws(this, draws, seed);

    /// <summary>Mean of σ(β₀ + β₁·price/scale + Σⱼ βⱼ₊₁·xⱼ) over the population sample, the price feature replaced.</summary>
    private double Average(double[] beta, double price)
    {
        var priceTerm = beta[0] + (beta[1] * price / model.Spec.PriceScale);
        var sum = 0.0;
        foreach (var x in population)
        {
            var eta = priceTerm;
            for (var j = 1; j < x.Length; j++)
            {
                eta += beta[j + 1] * x[j];
            }

            sum += 1 / (1 + Math.Exp(-eta));
        }

        return sum / population.Length;
    }

    private sealed class Draws(LogisticCurve curve, int draws, int seed) : PosteriorCurves(draws)
    {
        private readonly double[][] coefficients = DrawCoefficients(curve.model.Coefficients, curve.model.Covariance, draws, seed);

        public override double[] At(double price) => [.. coefficients.Select(beta => curve.Average(beta, price))];
    }
}

/// <summary>
/// Several demand curves weighted by how well each predicted held-out users (pseudo-Bayesian model averaging): the
/// rate is the weighted mean of the curves' rates, and the posterior draws are split among the curves by weight, so
/// the intervals and the confidence carry the uncertainty about which curve is right.
/// </summary>
public sealed class MixtureCurve : IDemandCurve
{
    private readonly IReadOnlyList<(IDemandCurve Curve, double Weight)> parts;

    public MixtureCurve(IReadOnlyList<(IDemandCurve Curve, double Weight)> parts)
    {
        if (parts.Count == 0 || parts.Any(p => !(p.Weight >= 0)) || Math.Abs(parts.Sum(p => p.Weight) - 1) > 1e-9)
        {
            throw new ArgumentException("weights must be non-negative and sum to 1", nameof(parts));
        }

        this.parts = parts;
    }

    /// <summary>The curve with the largest weight.</summary>
    public string Model => parts.MaxBy(p => p.Weight).Curve.Model;

    public IReadOnlyList<(IDemandCurve Curve, double Weight)> Parts => parts;

    public double Rate(double price) => parts.Sum(p => p.Weight == 0 ? 0 : p.Weight * p.Curve.Rate(price));

    public PosteriorCurves Posterior(int draws, int seed)
    {
        // Largest-remainder split of the draws, so the counts sum to the total and follow the weights.
        var exact = parts.Select(p => p.Weight * draws).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (var i in Enumerable.Range(0, parts.Count).OrderByDescending(i => exact[i] - counts[i]).Take(draws - counts.Sum()))
        {
            counts[i]++;
        }

        var components = parts.Select((p, i) => counts[i] == 0 ? null : p.Curve.Posterior(counts[i], seed + i)).ToList();
        return new Draws(components, draws);
    }

    private sealed class Draws(List<PosteriorCurves?> components, int draws) : PosteriorCurves(draws)
    {
        public override double[] At(double price) => [.. components.Where(c => c is not null).SelectMany(c => c!.At(price))];
    }
}
