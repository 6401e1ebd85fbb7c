using System.Text.Json.Serialization;
using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Pricing.Buyers;

/// <summary>One revenue-per-buyer family in a recommendation: its stacking weight, how far it missed held-out buyers, and whether it fits the data.</summary>
/// <param name="Name">The family.</param>
/// <param name="Weight">Its stacking weight (0 when it misses the observed means).</param>
/// <param name="HeldOutError">Root mean square error of its prediction of a held-out fold's mean value per buyer, in the currency.</param>
/// <param name="FitsData">Whether it agrees with the observed mean at every tested price (chi-square test at the fit level).</param>
public sealed record BuyerModelScore(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("held_out_error")] double? HeldOutError,
    [property: JsonPropertyName("fits_data")] bool FitsData);

/// <summary>The per-price variances a stack works with: observed, or pooled where a price has too few buyers to say.</summary>
internal static class BuyerVariances
{
    /// <summary>
    /// Each point's variance of a buyer's value: its own when it has two or more buyers, else the pooled relative
    /// variance times its mean squared. Zero stays zero (every buyer paid the same).
    /// </summary>
    public static double[] Of(ReadOnlySpan<BuyerPoint> points)
    {
        var pooled = PooledRelative(points);
        var result = new double[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            result[i] = points[i].Buyers >= 2 ? points[i].Variance : pooled * points[i].Mean * points[i].Mean;
        }

        return result;
    }

    /// <summary>The variance of a buyer's value relative to its mean squared, pooled over the prices with two or more buyers (0 without any).</summary>
    public static double PooledRelative(ReadOnlySpan<BuyerPoint> points)
    {
        double relative = 0, dof = 0;
        foreach (var p in points)
        {
            if (p.Buyers >= 2 && p.Mean != 0)
            {
                relative += (p.Buyers - 1) * p.Variance / (p.Mean * p.Mean);
                dof += p.Buyers - 1;
            }
        }

        return dof > 0 ? relative / dof : 0;
    }

    /// <summary>The variance used to weigh a mean: never zero, so prices where every buyer paid the same weigh the most without dividing by zero.</summary>
    public static double Floored(double variance, double mean) => Math.Max(variance, (1e-12 * mean * mean) + 1e-300);
}

/// <summary>
/// Stacking of revenue-per-buyer families on held-out buyers. Each price's buyers are dealt into folds at random; with
/// only their sums at hand, a fold's sum is drawn from its distribution given the price's mean and variance (the normal
/// approximation of a sum drawn without replacement). Every family is fitted without each fold and predicts the fold's
/// mean; the weights minimise the weighted squared error of the weighted prediction (exact over the simplex). A family
/// whose full-data fit misses the observed means (chi-square at <c>fitLevel</c>) is dropped; the observed means carry
/// the answer only when every other family is dropped.
/// </summary>
public static class BuyerValueStacking
{
    public static (IReadOnlyList<(IUnitsCurve Curve, double Weight)> Parts, IReadOnlyList<BuyerModelScore> Scores) Fit(ReadOnlySpan<BuyerPoint> points,
        IReadOnlyList<IBuyerValueFamily> families, int folds, double fitLevel, Random random)
    {
        var k = points.Length;
        var variances = BuyerVariances.Of(points);
        var full = new UnitsPoint[k];
        for (var i = 0; i < k; i++)
        {
            full[i] = Units(points[i].Price, points[i].Mean, points[i].Base, points[i].Buyers, variances[i]);
        }

        var curves = new IUnitsCurve?[families.Count];
        var fits = new bool[families.Count];
        for (var m = 0; m < families.Count; m++)
        {
            curves[m] = families[m].Fit(full);
            fits[m] = curves[m] is { } curve && FitsData(full, curve, fitLevel);
        }

        var observed = Enumerable.Range(0, families.Count).FirstOrDefault(m => families[m].Name == ObservedUnits.FamilyName, -1);
        var candidates = Enumerable.Range(0, families.Count).Where(m => fits[m] && m != observed).ToList();
        if (candidates.Count == 0 && observed >= 0 && curves[observed] is not null)
        {
            candidates.Add(observed);
        }

        if (candidates.Count == 0)
        {
            // Nothing fits and no fallback was given: take the first family that fits at all rather than none.
            candidates.Add(Enumerable.Range(0, families.Count).First(m => curves[m] is not null));
        }

        // Held-out folds: per price, the buyers and the sum of each fold.
        var heldBuyers = new long[folds * k];
        var heldSums = new double[folds * k];
        var heldSquares = new double[folds * k];
        for (var i = 0; i < k; i++)
        {
            var (left, sum, squares) = (points[i].Buyers, points[i].Sum, points[i].SumSquares);
            var spread = variances[i];
            for (var f = 0; f < folds; f++)
            {
                var size = (points[i].Buyers / folds) + (f < points[i].Buyers % folds ? 1 : 0);
                double foldSum;
                if (f == folds - 1 || size == left)
                {
                    foldSum = sum;
                }
                else if (size == 0)
                {
                    foldSum = 0;
                }
                else
                {
                    var mean = sum / left;
                    var sd = Math.Sqrt(Math.Max(0, size * spread * (left - size) / Math.Max(1, left - 1)));
                    foldSum = (size * mean) + (sd * Normal.Sample(random, 0, 1));
                }

                var foldSquares = size == 0 ? 0 : Math.Min(squares, ((size - 1) * spread) + (foldSum * foldSum / size));
                heldBuyers[(f * k) + i] = size;
                heldSums[(f * k) + i] = foldSum;
                heldSquares[(f * k) + i] = foldSquares;
                left -= size;
                sum -= foldSum;
                squares -= foldSquares;
            }
        }

        var predictions = new double[families.Count][];
        var target = new double[folds * k];
        var omega = new double[folds * k];
        var training = new UnitsPoint[k];
        for (var m = 0; m < families.Count; m++)
        {
            predictions[m] = new double[folds * k];
        }

        for (var f = 0; f < folds; f++)
        {
            var count = 0;
            for (var i = 0; i < k; i++)
            {
                var j = (f * k) + i;
                var buyers = points[i].Buyers - heldBuyers[j];
                if (buyers > 0)
                {
                    training[count++] = Units(points[i].Price, (points[i].Sum - heldSums[j]) / buyers, points[i].Base, buyers, variances[i]);
                }

                if (heldBuyers[j] > 0)
                {
                    target[j] = heldSums[j] / heldBuyers[j];
                    omega[j] = heldBuyers[j] / BuyerVariances.Floored(variances[i], points[i].Mean);
                }
            }

            foreach (var m in candidates)
            {
                var curve = count > 0 ? families[m].Fit(training.AsSpan(0, count)) : null;
                for (var i = 0; i < k; i++)
                {
                    // A family that cannot fit a fold predicts what the full-data fit does there.
                    predictions[m][(f * k) + i] = points[i].Base * (curve ?? curves[m]!).Units(points[i].Price);
                }
            }
        }

        var weights = SimplexLeastSquares(candidates.Select(m => predictions[m]).ToArray(), target, omega);
        var parts = new List<(IUnitsCurve, double)>();
        var scores = new List<BuyerModelScore>();
        for (var m = 0; m < families.Count; m++)
        {
            var at = candidates.IndexOf(m);
            var weight = at >= 0 ? weights[at] : 0;
            if (weight > 0)
            {
                parts.Add((curves[m]!, weight));
            }

            double? error = null;
            if (at >= 0 || curves[m] is not null)
            {
                double squared = 0, buyers = 0;
                for (var j = 0; j < target.Length; j++)
                {
                    if (heldBuyers[j] > 0)
                    {
                        var prediction = at >= 0 ? predictions[m][j] : points[j % k].Base * curves[m]!.Units(points[j % k].Price);
                        squared += heldBuyers[j] * (target[j] - prediction) * (target[j] - prediction);
                        buyers += heldBuyers[j];
                    }
                }

                error = buyers > 0 ? Math.Sqrt(squared / buyers) : null;
            }

            scores.Add(new BuyerModelScore(families[m].Name, weight, error, fits[m]));
        }

        return (parts, scores);
    }

    private static UnitsPoint Units(double price, double mean, double unitValue, long buyers, double variance) =>
        new(price, mean / unitValue, buyers * unitValue * unitValue / BuyerVariances.Floored(variance, mean));

    /// <summary>Whether the curve agrees with the observed mean at every tested price: Σ w (h − ĥ)² against χ² with
    /// (prices − parameters) degrees of freedom.</summary>
    private static bool FitsData(ReadOnlySpan<UnitsPoint> points, IUnitsCurve curve, double fitLevel)
    {
        var dof = points.Length - curve.Parameters;
        if (dof <= 0)
        {
            return true;
        }

        var statistic = 0.0;
        foreach (var p in points)
        {
            var d = p.Units - curve.Units(p.Price);
            statistic += p.Weight * d * d;
        }

        return !double.IsNaN(statistic) && 1 - ChiSquared.CDF(dof, Math.Min(statistic, 1e300)) >= fitLevel;
    }

    /// <summary>
    /// min Σ ω (t − Σ w·P)² over weights on the simplex, exactly: the best of the equality-constrained solutions of every
    /// subset of families whose weights come out non-negative (there are few families). Ties keep the earlier, simpler set.
    /// </summary>
    internal static double[] SimplexLeastSquares(double[][] predictions, double[] target, double[] omega)
    {
        var n = predictions.Length;
        var best = new double[n];
        best[0] = 1;
        var bestLoss = double.PositiveInfinity;
        for (var mask = 1; mask < 1 << n; mask++)
        {
            var members = Enumerable.Range(0, n).Where(m => (mask & (1 << m)) != 0).ToArray();
            if (Solve(members, predictions, target, omega) is not { } w)
            {
                continue;
            }

            var weights = new double[n];
            for (var a = 0; a < members.Length; a++)
            {
                weights[members[a]] = w[a];
            }

            var loss = Loss(weights, predictions, target, omega);
            if (loss < bestLoss * (1 - 1e-12))
            {
                (best, bestLoss) = (weights, loss);
            }
        }

        return best;
    }

    private static double Loss(double[] weights, double[][] predictions, double[] target, double[] omega)
    {
        var loss = 0.0;
        for (var j = 0; j < target.Length; j++)
        {
            if (omega[j] == 0)
            {
                continue;
            }

            var mix = 0.0;
            for (var m = 0; m < weights.Length; m++)
            {
                mix += weights[m] * predictions[m][j];
            }

            loss += omega[j] * (target[j] - mix) * (target[j] - mix);
        }

        return loss;
    }

    /// <summary>The weights over <paramref name="members"/> summing to 1 that minimise the loss, or null when some
    /// comes out negative or the system is singular.</summary>
    private static double[]? Solve(int[] members, double[][] predictions, double[] target, double[] omega)
    {
        var s = members.Length;
        if (s == 1)
        {
            return [1.0];
        }

        // Lagrangian of min wᵀAw − 2bᵀw subject to 1ᵀw = 1, as one linear system [A 1; 1ᵀ 0][w; λ] = [b; 1].
        var a = new double[s + 1, s + 1];
        var rhs = new double[s + 1];
        var scale = 0.0;
        for (var x = 0; x < s; x++)
        {
            for (var y = 0; y < s; y++)
            {
                var sum = 0.0;
                for (var j = 0; j < target.Length; j++)
                {
                    sum += omega[j] * predictions[members[x]][j] * predictions[members[y]][j];
                }

                a[x, y] = sum;
            }

            var b = 0.0;
            for (var j = 0; j < target.Length; j++)
            {
                b += omega[j] * target[j] * predictions[members[x]][j];
            }

            rhs[x] = b;
            a[x, s] = 1;
            a[s, x] = 1;
            scale = Math.Max(scale, Math.Abs(a[x, x]));
        }

        rhs[s] = 1;
        if (!(scale > 0))
        {
            return null;
        }

        // Scale the quadratic part to order one so the constraint row does not vanish beside it.
        for (var x = 0; x < s; x++)
        {
            rhs[x] /= scale;
            for (var y = 0; y < s; y++)
            {
                a[x, y] /= scale;
            }
        }

        var matrix = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(a);
        var svd = matrix.Svd();
        if (svd.ConditionNumber > 1e10)
        {
            return null;
        }

        var solution = matrix.Solve(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(rhs));
        var w = new double[s];
        for (var x = 0; x < s; x++)
        {
            if (!double.IsFinite(solution[x]) || solution[x] < -1e-12)
            {
                return null;
            }

            w[x] = Math.Max(0, solution[x]);
        }

        var total = w.Sum();
        return total > 0 ? [.. w.Select(v => v / total)] : null;
    }
}
