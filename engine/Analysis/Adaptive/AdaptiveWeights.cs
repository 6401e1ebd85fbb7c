using PricingOptimizer.Experiments;

namespace PricingOptimizer.Adaptive;

/// <summary>One variant's part in an update of adaptive weights.</summary>
/// <param name="VariantId">The variant.</param>
/// <param name="TopTwoShare">Share of posterior draws in which the variant is best or second best (the shares sum to 1 over variants).</param>
/// <param name="ChanceWorseThanBest">Share of draws in which it is below the variant with the best mean (0 for that one).</param>
/// <param name="Sunk">Worse than the best with at least <see cref="AdaptiveWeights.SinkChance"/>: held at the floor.</param>
/// <param name="Target">The weight the draws ask for, the floor added on top.</param>
/// <param name="Weight">The new weight: from the current one toward the target, by at most the allocation's max_step.</param>
public sealed record VariantWeight(string VariantId, double TopTwoShare, double ChanceWorseThanBest, bool Sunk, double Target, double Weight);

/// <summary>
/// Weights for the next allocation period from draws of each variant's goal value per user (the recommendation's
/// posterior at the tested prices): top-two Thompson sampling, so the runner-up keeps learning as the leader does; a
/// variant worse than the best with probability ≥ <see cref="SinkChance"/> sinks to the floor; the floor is added on top
/// (p = f + (1 − K·f)·w, so every variant keeps at least f); every weight moves at most <c>max_step</c> from its current value.
/// </summary>
public static class AdaptiveWeights
{
    /// <summary>The posterior chance of being worse than the best at which a variant sinks to the floor.</summary>
    public const double SinkChance = 0.99;

    /// <param name="variantIds">The variants, in the order of <paramref name="draws"/> and <paramref name="current"/>.</param>
    /// <param name="draws">Per variant, the posterior draws of its goal value per user; every variant the same number, the same draw index jointly.</param>
    /// <param name="current">The weights in force (summing to 1, each at least the floor).</param>
    /// <param name="allocation">The floor and the largest move of one update.</param>
    /// <exception cref="ArgumentException">Mismatched lengths, no draws, a non-finite draw, or weights that are not a distribution.</exception>
    public static IReadOnlyList<VariantWeight> Next(IReadOnlyList<string> variantIds, IReadOnlyList<double[]> draws, IReadOnlyList<double> current,
        Experiments.Allocation allocation)
    {
        var k = variantIds.Count;
        if (k < 2 || draws.Count != k || current.Count != k)
        {
            throw new ArgumentException("one row of draws and one current weight per variant, at least two variants");
        }

        var n = draws[0].Length;
        if (n == 0 || draws.Any(d => d.Length != n || d.Any(x => !double.IsFinite(x))))
        {
            throw new ArgumentException("every variant needs the same number of finite draws");
        }

        if (Math.Abs(current.Sum() - 1) > 1e-9 || current.Any(w => w < 0))
        {
            throw new ArgumentException("the current weights must be a distribution");
        }

        var topTwo = new double[k];
        var worse = new double[k];
        var means = draws.Select(d => d.Average()).ToArray();
        var best = Array.IndexOf(means, means.Max());
        for (var d = 0; d < n; d++)
        {
            var (first, second) = (-1, -1);
            for (var v = 0; v < k; v++)
            {
                var x = draws[v][d];
                if (first < 0 || x > draws[first][d])
                {
                    (first, second) = (v, first);
                }
                else if (second < 0 || x > draws[second][d])
                {
                    second = v;
                }
            }

            topTwo[first] += 0.5 / n;
            topTwo[second] += 0.5 / n;
            for (var v = 0; v < k; v++)
            {
                if (v != best && draws[v][d] < draws[best][d])
                {
                    worse[v] += 1.0 / n;
                }
            }
        }

        var sunk = worse.Select(p => p >= SinkChance).ToArray();
        var raw = topTwo.Select((share, v) => sunk[v] ? 0 : share).ToArray();
        var total = raw.Sum();
        var floor = allocation.Floor;
        var target = raw.Select(w => floor + ((1 - (k * floor)) * (total > 0 ? w / total : 1.0 / k))).ToArray();

        // Every move scaled by one factor: the weights stay a distribution, each at least the floor (a mix of two such),
        // and none moves more than max_step.
        var largest = target.Select((t, v) => Math.Abs(t - current[v])).Max();
        var scale = largest > allocation.MaxStep ? allocation.MaxStep / largest : 1;
        return [.. variantIds.Select((id, v) => new VariantWeight(id, topTwo[v], worse[v], sunk[v], target[v], current[v] + (scale * (target[v] - current[v]))))];
    }
}
