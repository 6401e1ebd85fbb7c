using System.Collections.Concurrent;

namespace PricingOptimizer.Tenancy;

/// <summary>
/// Request counts per partition (a tenant, a client address) in fixed windows aligned to the clock (each minute
/// from :00), so every process agrees where a window starts and ends, and how long until the next one.
/// </summary>
public interface IRequestWindows
{
    /// <summary>Counts one request of <paramref name="partition"/> in the window that starts at <paramref
    /// name="windowStart"/>; returns the window's count including it.</summary>
    ValueTask<long> IncrementAsync(string partition, DateTimeOffset windowStart, CancellationToken cancellationToken);
}

/// <summary>Counts in this process's memory: one API process (the embedded deployment).</summary>
public sealed class InMemoryRequestWindows : IRequestWindows
{
    private readonly ConcurrentDictionary<(string Partition, DateTimeOffset Start), long> counts = new();
    private DateTimeOffset newest;

    public ValueTask<long> IncrementAsync(string partition, DateTimeOffset windowStart, CancellationToken cancellationToken)
    {
        if (windowStart > newest)
        {
            // A new window began: the counts of earlier ones are no longer asked for.
            newest = windowStart;
            foreach (var key in counts.Keys)
            {
                if (key.Start < windowStart)
                {
                    counts.TryRemove(key, out _);
                }
            }
        }

        return ValueTask.FromResult(counts.AddOrUpdate((partition, windowStart), 1, (_, n) => n + 1));
    }
}
