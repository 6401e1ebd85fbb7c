using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;

namespace PricingOptimizer.Caching;

/// <summary>
/// A bounded cache of copies that are fresh for a while: <see cref="MemoryCache"/> with a size limit, on the injected
/// <see cref="TimeProvider"/>. With <c>keepLastKnown</c>, a copy past its time stays as the last-known one (degraded mode
/// answers from it while the control plane is down) until the size limit evicts it; without, it expires then.
/// <see cref="MarkAllStale"/> makes every copy stale at once (changes may have been missed) without dropping them.
/// </summary>
#if PO_CLIENT
internal
#else
public
#endif
    sealed class TimedCache<TKey, TValue> : IDisposable
    where TKey : notnull
{
    private readonly MemoryCache cache;
    private readonly TimeProvider time;
    private readonly bool keepLastKnown;
    private long generation;

    public TimedCache(TimeProvider time, long maxEntries, bool keepLastKnown = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        this.time = time;
        this.keepLastKnown = keepLastKnown;
        cache = new MemoryCache(new MemoryCacheOptions { Clock = new Clock(time), SizeLimit = maxEntries, CompactionPercentage = 0.1 });
    }

    /// <summary>The copy, if it is still fresh.</summary>
    public bool TryGetFresh(TKey key, out TValue value)
    {
        if (cache.TryGetValue(key, out Entry? entry) && entry!.Generation == Volatile.Read(ref generation) && entry.FreshUntil > time.GetUtcNow())
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>The copy, fresh or not, in one lookup; <paramref name="fresh"/> says which.</summary>
    public bool TryGet(TKey key, out TValue value, out bool fresh)
    {
        if (cache.TryGetValue(key, out Entry? entry))
        {
            value = entry!.Value;
            fresh = entry.Generation == Volatile.Read(ref generation) && entry.FreshUntil > time.GetUtcNow();
            return true;
        }

        (value, fresh) = (default!, false);
        return false;
    }

    /// <summary>The copy, fresh or not (for degraded mode).</summary>
    public bool TryGetLastKnown(TKey key, out TValue value)
    {
        if (cache.TryGetValue(key, out Entry? entry))
        {
            value = entry!.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public bool Contains(TKey key) => cache.TryGetValue(key, out _);

    /// <summary>Keeps <paramref name="value"/> fresh until <paramref name="freshUntil"/>.</summary>
    public void Set(TKey key, TValue value, DateTimeOffset freshUntil)
    {
        var options = new MemoryCacheEntryOptions { Size = 1 };
        if (!keepLastKnown)
        {
            options.AbsoluteExpiration = freshUntil;
        }

        cache.Set(key, new Entry(value, freshUntil, Volatile.Read(ref generation)), options);
    }

    public void Set(TKey key, TValue value, TimeSpan freshFor) => Set(key, value, time.GetUtcNow() + freshFor);

    public void Remove(TKey key) => cache.Remove(key);

    /// <summary>Every copy is out of date from now on (and stays as the last-known one when the cache keeps those).</summary>
    public void MarkAllStale() => Interlocked.Increment(ref generation);

    public void Dispose() => cache.Dispose();

    private sealed record Entry(TValue Value, DateTimeOffset FreshUntil, long Generation);

    /// <summary>The memory cache's clock, read from the injected time.</summary>
    private sealed class Clock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
