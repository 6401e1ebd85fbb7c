using System.Text;
using System.Text.Json;

namespace PricingOptimizer.EventLog;

/// <summary>
/// Shares the strings that repeat across a batch (tenant, experiment, variant, currency, property keys): fewer
/// allocations while decoding, and one string instance per value on the way to Parquet's dictionary encoding.
/// Not thread-safe: one per decoding thread.
/// </summary>
public sealed class StringPool
{
    private const int MaxEntries = 4096;
    private readonly Dictionary<int, string[]> byHash = [];
    private int count;

    /// <summary>The reader's current string value, from the pool when seen before.</summary>
    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > 64)
        {
            return reader.GetString()!;
        }

        var bytes = reader.ValueSpan;
        var hash = new HashCode();
        hash.AddBytes(bytes);
        var key = hash.ToHashCode();
        if (byHash.TryGetValue(key, out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (Matches(candidate, bytes))
                {
                    return candidate;
                }
            }
        }

        var value = Encoding.UTF8.GetString(bytes);
        if (count < MaxEntries)
        {
            byHash[key] = candidates is null ? [value] : [.. candidates, value];
            count++;
        }

        return value;
    }

    private static bool Matches(string candidate, ReadOnlySpan<byte> utf8)
    {
        if (candidate.Length > utf8.Length)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[256];
        return Encoding.UTF8.TryGetBytes(candidate, buffer, out var written) && buffer[..written].SequenceEqual(utf8);
    }
}
