using System.Text.Json.Serialization;
using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>One family in a recommendation: its stacking weight, how it predicted held-out users, and whether it fits the data.</summary>
public sealed record ModelScore(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("held_out_log_loss")] double? HeldOutLogLoss,
    [property: JsonPropertyName("fits_data")] bool FitsData);

/// <summary>Fitted curves combined with stacking weights that sum to 1.</summary>
public sealed class StackedCurve(IReadOnlyList<(IDemandCurve Curve, double Weight)> parts) : IDemandCurve
{
    public IReadOnlyList<(IDemandCurve Curve, double Weight)> Parts => parts;

    public double Rate(double price)
    {
        var sum = 0.0;
        foreach (var (curve, weight) in parts)
        {
            sum += weight * curve.Rate(price);
        }

        return sum;
    }
}

/// <summary>
/// Stacking of demand families on held-out users. Each price's users are split into folds at random (the split of its
/// buyers among the folds is hypergeometric, exactly as if users were dealt to folds one by one, since users at one
/// price are exchangeable for a price-only curve); every family is fitted without each fold and predicts it. The
/// weights maximise the held-out log score of the weighted mixture (EM on the mixture weights). A family whose
/// full-data fit misses the observed rates (deviance test at <c>fitLevel</c>) is dropped before weighting.
/// </summary>
public static class Stacking
{
    private const int MaxEmIterations = 500;

    public static (StackedCurve Curve, IReadOnlyList<ModelScore> Scores) Fit(ReadOnlySpan<PricePoint> points, IReadOnlyList<IDemandFamily> families,
        int folds, double fitLevel, Random random)
    {
        var k = points.Length;
        var heldUsers = new long[folds * k];
        var heldBuyers = new long[folds * k];
        for (var i = 0; i < k; i++)
        {
            var usersLeft = points[i].Users;
            var buyersLeft = points[i].Conversions;
            for (var f = 0; f < folds; f++)
            {
                var size = (points[i].Users / folds) + (f < points[i].Users % folds ? 1 : 0);
                var buyers = f == folds - 1 ? buyersLeft : CountSampling.Hypergeometric(random, usersLeft, buyersLeft, size);
                heldUsers[(f * k) + i] = size;
                heldBuyers[(f * k) + i] = buyers;
                usersLeft -= size;
                buyersLeft -= buyers;
            }
        }

        var predictions = new double[families.Count][];
        var training = new PricePoint[k];
        var trainingCount = 0;
        for (var m = 0; m < families.Count; m++)
        {
            predictions[m] = new double[folds * k];
        }

        var usable = Enumerable.Repeat(true, families.Count).ToArray();
        for (var f = 0; f < folds; f++)
        {
            trainingCount = 0;
            for (var i = 0; i < k; i++)
            {
                var users = points[i].Users - heldUsers[(f * k) + i];
                if (users > 0)
                {
                    training[trainingCount++] = points[i] with { Users = users, Conversions = points[i].Conversions - heldBuyers[(f * k) + i] };
                }
            }

            for (var m = 0; m < families.Count; m++)
            {
                var curve = usable[m] ? families[m].Fit(training.AsSpan(0, trainingCount)) : null;
                if (curve is null)
                {
                    usable[m] = false;
                    continue;
                }

                for (var i = 0; i < k; i++)
                {
                    predictions[m][(f * k) + i] = Math.Clamp(curve.Rate(points[i].Price), 1e-9, 1 - 1e-9);
                }
            }
        }

        long heldTotal = 0;
        foreach (var n in heldUsers)
        {
            heldTotal += n;
        }

        var fullFits = new IDemandCurve?[families.Count];
        var scores = new ModelScore[families.Count];
        var eligible = new List<int>();
        for (var m = 0; m < families.Count; m++)
        {
            var family = families[m];
            var fitted = family.Fit(points);
            fullFits[m] = fitted;
            var fits = fitted is not null && FitsData(points, fitted, family.Parameters, fitLevel);
            double? logLoss = usable[m] ? -HeldOutLogLikelihood(predictions[m], heldUsers, heldBuyers) / Math.Max(1, heldTotal) : null;
            scores[m] = new ModelScore(family.Name, 0, logLoss, fits);
            if (fits && usable[m])
            {
                eligible.Add(m);
            }
        }

        // The shape-free curve goes through every noisy observed rate; when a smooth family fits the data it only adds
        // that noise (the held-out log score of single users barely tells them apart), so it serves when none fits.
        if (eligible.Any(m => families[m].Parameters != int.MaxValue))
        {
            eligible.RemoveAll(m => families[m].Parameters == int.MaxValue);
        }

        if (eligible.Count == 0)
        {
            // The shape-free curve needs no held-out score to be trusted in shape.
            var fallback = Enumerable.Range(0, families.Count).FirstOrDefault(m => fullFits[m] is not null && families[m].Parameters == int.MaxValue, -1);
            if (fallback < 0)
            {
                fallback = Enumerable.Range(0, families.Count).First(m => fullFits[m] is not null);
            }

            eligible.Add(fallback);
        }

        var weights = Weights([.. eligible.Select(m => predictions[m])], heldUsers, heldBuyers);
        var parts = new List<(IDemandCurve, double)>();
        for (var j = 0; j < eligible.Count; j++)
        {
            var m = eligible[j];
            scores[m] = scores[m] with { Weight = weights[j] };
            if (weights[j] > 0)
            {
                parts.Add((fullFits[m]!, weights[j]));
            }
        }

        return (new StackedCurve(parts), scores);
    }

    /// <summary>Whether the deviance of <paramref name="curve"/> is plausible for a right curve (p ≥ <paramref name="level"/>).</summary>
    public static bool FitsData(ReadOnlySpan<PricePoint> points, IDemandCurve curve, int parameters, double level)
    {
        var freedom = points.Length - parameters;
        if (freedom <= 0)
        {
            return true;
        }

        var deviance = PricePoint.Deviance(points, curve.Rate);
        return 1 - ChiSquared.CDF(freedom, Math.Max(0, deviance)) >= level;
    }

    private static double HeldOutLogLikelihood(double[] predicted, long[] users, long[] buyers)
    {
        var sum = 0.0;
        for (var h = 0; h < predicted.Length; h++)
        {
            sum += (buyers[h] * Math.Log(predicted[h])) + ((users[h] - buyers[h]) * Math.Log(1 - predicted[h]));
        }

        return sum;
    }

    /// <summary>
    /// The mixture weights that maximise Σ log(Σₘ wₘ·likelihoodₘ) over the held-out users: EM, accelerated with SQUAREM
    /// (Varadhan and Roland 2008), since plain EM crawls where the families predict alike.
    /// </summary>
    internal static double[] Weights(double[][] predictions, long[] users, long[] buyers)
    {
        var count = predictions.Length;
        var weights = Enumerable.Repeat(1.0 / count, count).ToArray();
        if (count == 1)
        {
            return weights;
        }

        var score = Score(weights, predictions, users, buyers);
        var first = new double[count];
        var second = new double[count];
        var jump = new double[count];
        for (var iteration = 0; iteration < MaxEmIterations; iteration++)
        {
            Step(weights, first, predictions, users, buyers);
            Step(first, second, predictions, users, buyers);
            double rr = 0, vv = 0;
            for (var m = 0; m < count; m++)
            {
                var r = first[m] - weights[m];
                var v = second[m] - first[m] - r;
                rr += r * r;
                vv += v * v;
            }

            var candidate = second;
            if (vv > 0)
            {
                var alpha = Math.Min(-1, -Math.Sqrt(rr / vv));
                var sum = 0.0;
                for (var m = 0; m < count; m++)
                {
                    var r = first[m] - weights[m];
                    var v = second[m] - first[m] - r;
                    jump[m] = Math.Max(0, weights[m] - (2 * alpha * r) + (alpha * alpha * v));
                    sum += jump[m];
                }

                if (sum > 0)
                {
                    for (var m = 0; m < count; m++)
                    {
                        jump[m] /= sum;
                    }

                    // One EM step from the extrapolated point keeps it a valid, improving iterate.
                    Step(jump, first, predictions, users, buyers);
                    if (Score(first, predictions, users, buyers) >= Score(second, predictions, users, buyers))
                    {
                        candidate = first;
                    }
                }
            }

            var next = Score(candidate, predictions, users, buyers);
            var improvement = next - score;
            Array.Copy(candidate, weights, count);
            score = next;
            if (improvement < 1e-10 * Math.Max(1, Math.Abs(score)))
            {
                break;
            }
        }

        return weights;
    }

    private static void Step(double[] weights, double[] next, double[][] predictions, long[] users, long[] buyers)
    {
        var count = weights.Length;
        Array.Clear(next);
        double total = 0;
        for (var h = 0; h < users.Length; h++)
        {
            if (users[h] == 0)
            {
                continue;
            }

            total += users[h];
            var mixed = 0.0;
            for (var m = 0; m < count; m++)
            {
                mixed += weights[m] * predictions[m][h];
            }

            var bought = buyers[h] / mixed;
            var left = (users[h] - buyers[h]) / (1 - mixed);
            for (var m = 0; m < count; m++)
            {
                next[m] += weights[m] * ((predictions[m][h] * bought) + ((1 - predictions[m][h]) * left));
            }
        }

        for (var m = 0; m < count; m++)
        {
            next[m] = (next[m] + Prior) / (total + (count * Prior));
        }
    }

    /// <summary>
    /// A Dirichlet(2) prior on the weights: one pseudo-user for each family. The held-out log score of single users tells
    /// families that fit the data apart by a few nats at most, and unregularised weights swing between them on noise
    /// (measured over the simulation suite: the same mean regret, worse worst runs and more confident losses).
    /// </summary>
    private const double Prior = 1;

    private static double Score(double[] weights, double[][] predictions, long[] users, long[] buyers)
    {
        var sum = 0.0;
        for (var h = 0; h < users.Length; h++)
        {
            if (users[h] == 0)
            {
                continue;
            }

            var mixed = 0.0;
            for (var m = 0; m < weights.Length; m++)
            {
                mixed += weights[m] * predictions[m][h];
            }

            sum += (buyers[h] * Math.Log(mixed)) + ((users[h] - buyers[h]) * Math.Log(1 - mixed));
        }

        foreach (var w in weights)
        {
            sum += Prior * Math.Log(Math.Max(w, 1e-300));
        }

        return sum;
    }
}
