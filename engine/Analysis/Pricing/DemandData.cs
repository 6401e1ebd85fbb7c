using System.IO.Hashing;
using System.Text;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing;

/// <summary>Helpers over demand observations: the seeded train/test split and per-price aggregates.</summary>
public static class DemandData
{
    /// <summary>
    /// The user's side of the seeded split: XxHash3 of the seed and the user id, so a user stays on the same side as
    /// data grows and every run with the same seed splits the same way.
    /// </summary>
    public static bool IsTest(string userId, int seed, double testFraction) => Unit(userId, seed) < testFraction;

    /// <summary>The user's seeded hash as a number in [0, 1).</summary>
    private static double Unit(string userId, int seed)
    {
        Span<byte> buffer = stackalloc byte[4 + Encoding.UTF8.GetMaxByteCount(userId.Length)];
        BitConverter.TryWriteBytes(buffer, seed);
        var length = 4 + Encoding.UTF8.GetBytes(userId, buffer[4..]);
        return (XxHash3.HashToUInt64(buffer[..length]) >> 11) * (1.0 / (1UL << 53));
    }

    public static (List<DemandObservation> Train, List<DemandObservation> Test) Split(IReadOnlyList<DemandObservation> rows, int seed,
        double testFraction)
    {
        var train = new List<DemandObservation>(rows.Count);
        var test = new List<DemandObservation>((int)(rows.Count * testFraction * 1.2));
        foreach (var row in rows)
        {
            (IsTest(row.UserId, seed, testFraction) ? test : train).Add(row);
        }

        return (train, test);
    }

    /// <summary>Users and conversions per variant (revenue at the shown price), the shape the log-log fit takes.</summary>
    public static List<VariantStats> ByVariant(IEnumerable<DemandObservation> rows) =>
        [.. rows.GroupBy(r => r.VariantId)
            .Select(g =>
            {
                var price = g.Min(r => r.Price);
                var conversions = g.LongCount(r => r.Converted);
                return new VariantStats(g.Key, price, g.LongCount(), conversions, conversions * price, conversions * (double)price * (double)price);
            })
            .OrderBy(v => v.Price)];
}
