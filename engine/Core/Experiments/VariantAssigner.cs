using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace PricingOptimizer.Experiments;

/// <summary>
/// Deterministic assignment: XxHash3 (64-bit, seed 0) of the UTF-8 bytes of <c>experiment_id</c>, a zero byte and
/// <c>user_id</c>; the top 53 bits as a number in [0, 1); the first variant whose cumulative weight share exceeds it.
/// No stored assignment: every process (and the client SDK, which compiles this same file) that knows the weights computes the same variant.
/// </summary>
#if PO_CLIENT
internal
#else
public
#endif
sealed class VariantAssigner
{
    /// <summary>
    /// The event id of a user's assign in an experiment: repeated views (by the API's <c>/v1/assign</c> or by the
    /// client SDK) make one assign event.
    /// </summary>
    public static string AssignEventId(string experimentId, string userId) =>
        "a-" + Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(experimentId + "\0" + userId)));

    private const int StackLimit = 512;
    private readonly byte[] prefix;
    private readonly double[] cumulative;

    public VariantAssigner(string experimentId, IReadOnlyList<double> weights)
    {
        if (weights.Count == 0 || weights.Any(w => !(w > 0) || double.IsInfinity(w)))
        {
            throw new ArgumentException("weights must be positive and finite", nameof(weights));
        }

        prefix = [.. Encoding.UTF8.GetBytes(experimentId), 0];
        var total = weights.Sum();
        cumulative = new double[weights.Count];
        var running = 0.0;
        for (var i = 0; i < weights.Count; i++)
        {
            running += weights[i];
            cumulative[i] = running / total;
        }

        cumulative[^1] = 1.0; // rounding must never leave a gap at the top
    }

    /// <summary>The index of the user's variant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Assign(string userId)
    {
        var point = Point(userId);
        for (var i = 0; i < cumulative.Length - 1; i++)
        {
            if (point < cumulative[i])
            {
                return i;
            }
        }

        return cumulative.Length - 1;
    }

    /// <summary>The user's point in [0, 1).</summary>
    [SkipLocalsInit] // the stack buffer is written before it is read; zeroing it would double the cost
    public double Point(string userId)
    {
        var length = prefix.Length + Encoding.UTF8.GetMaxByteCount(userId.Length);
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : new byte[length];
        prefix.CopyTo(buffer);
        var written = prefix.Length + Encoding.UTF8.GetBytes(userId, buffer[prefix.Length..]);
        var hash = XxHash3.HashToUInt64(buffer[..written]);
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
