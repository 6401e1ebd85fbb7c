using System.Globalization;

namespace PricingOptimizer.Pricing;

/// <summary>
/// Whether an adaptive test may stop: the leading price (best posterior mean of the goal value per user) is best in at
/// least <see cref="StoppingRule.ChanceBest"/> of the draws, choosing it costs less than <see cref="StoppingRule.MaxCost"/>
/// of the best value in expectation (E[max_v x_v − x_leader] / E[max_v x_v]), and the test has run its minimum days.
/// </summary>
/// <param name="Stop">All three hold.</param>
/// <param name="LeaderVariantId">The variant with the best posterior mean.</param>
/// <param name="LeaderPrice">Its price.</param>
/// <param name="ChanceBest">Share of draws in which the leader is best.</param>
/// <param name="ExpectedCost">The expected relative cost of choosing the leader.</param>
/// <param name="DaysRunning">Days since the first assign.</param>
/// <param name="Message">"stop: …" or "not yet: …" with every condition that is not met.</param>
public sealed record StopVerdict(bool Stop, string LeaderVariantId, decimal LeaderPrice, double ChanceBest, double ExpectedCost, double DaysRunning,
    string Message);

/// <summary>The stopping rule of an adaptive test (README "Adaptive allocation").</summary>
public static class StoppingRule
{
    public const double ChanceBest = 0.95;

    public const double MaxCost = 0.005;

    /// <param name="variants">Variant ids and prices, in the order of <paramref name="draws"/>.</param>
    /// <param name="draws">Per variant, posterior draws of its goal value per user (draw d jointly across variants).</param>
    /// <param name="daysRunning">Days since the first assign.</param>
    /// <param name="minDays">The least days before stopping.</param>
    /// <param name="currency">For the message.</param>
    public static StopVerdict Decide(IReadOnlyList<(string VariantId, decimal Price)> variants, IReadOnlyList<double[]> draws, double daysRunning, int minDays,
        string? currency = null)
    {
        var n = draws[0].Length;
        var means = draws.Select(d => d.Average()).ToArray();
        var leader = Array.IndexOf(means, means.Max());
        var (best, gap, top) = (0, 0.0, 0.0);
        for (var d = 0; d < n; d++)
        {
            var max = draws.Max(x => x[d]);
            best += draws[leader][d] >= max ? 1 : 0;
            gap += max - draws[leader][d];
            top += max;
        }

        var chance = (double)best / n;
        var cost = top > 0 ? gap / top : 0;
        var price = string.Create(CultureInfo.InvariantCulture, $"{variants[leader].Price:0.##}{(currency is null ? "" : " " + currency)}");
        var missing = new List<string>();
        if (chance < ChanceBest)
        {
            missing.Add(string.Create(CultureInfo.InvariantCulture, $"price {price} is best with {chance:P1} probability (needs {ChanceBest:P0})"));
        }

        if (cost >= MaxCost)
        {
            missing.Add(string.Create(CultureInfo.InvariantCulture, $"choosing it costs {cost:P2} in expectation (needs below {MaxCost:P1})"));
        }

        if (daysRunning < minDays)
        {
            var hours = Math.Round(daysRunning * 24, 1);
            missing.Add(daysRunning < 1
                ? string.Create(CultureInfo.InvariantCulture, $"{hours:0.#} {(hours == 1 ? "hour" : "hours")} of the minimum {minDays} days " +
                    $"{(hours == 1 ? "has" : "have")} run")
                : string.Create(CultureInfo.InvariantCulture, $"{daysRunning:0.#} of the minimum {minDays} days have run"));
        }

        var message = missing.Count == 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"stop: price {price} is best with {chance:P1} probability and choosing it costs {cost:P2} in expectation (< {MaxCost:P1})")
            : "not yet: " + string.Join("; ", missing);
        return new StopVerdict(missing.Count == 0, variants[leader].VariantId, variants[leader].Price, chance, cost, daysRunning, message);
    }
}
