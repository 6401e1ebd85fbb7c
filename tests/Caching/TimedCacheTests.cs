using Microsoft.Extensions.Time.Testing;
using PricingOptimizer.Caching;

namespace PricingOptimizer.Tests.Caching;

/// <summary>The bounded cache behind the control plane's and the SDK's copies: fresh for a while on the injected clock, last-known after.</summary>
public sealed class TimedCacheTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_copy_is_fresh_until_its_time_on_the_injected_clock_then_gone_unless_last_known_copies_are_kept()
    {
        using var expiring = new TimedCache<string, int>(time, 10);
        using var lastKnown = new TimedCache<string, int>(time, 10, keepLastKnown: true);
        expiring.Set("a", 1, TimeSpan.FromSeconds(5));
        lastKnown.Set("a", 1, TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.True(expiring.TryGetFresh("a", out var value) && value == 1);
        Assert.True(lastKnown.TryGetFresh("a", out _));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(expiring.TryGetFresh("a", out _));
        Assert.False(expiring.TryGetLastKnown("a", out _));
        Assert.False(lastKnown.TryGetFresh("a", out _));
        Assert.True(lastKnown.TryGetLastKnown("a", out value) && value == 1);
    }

    [Fact]
    public void Marking_everything_stale_keeps_the_copies_as_last_known_and_a_new_copy_is_fresh_again()
    {
        using var cache = new TimedCache<(string, string), string>(time, 10, keepLastKnown: true);
        cache.Set(("t", "e1"), "one", TimeSpan.FromMinutes(1));
        cache.Set(("t", "e2"), "two", TimeSpan.FromMinutes(1));

        cache.MarkAllStale();
        Assert.False(cache.TryGetFresh(("t", "e1"), out _));
        Assert.True(cache.TryGetLastKnown(("t", "e2"), out var two) && two == "two");

        cache.Set(("t", "e1"), "one again", TimeSpan.FromMinutes(1));
        Assert.True(cache.TryGetFresh(("t", "e1"), out var fresh) && fresh == "one again");
        cache.Remove(("t", "e1"));
        Assert.False(cache.Contains(("t", "e1")));
    }

    [Fact]
    public void The_cache_never_holds_more_than_its_limit()
    {
        using var cache = new TimedCache<int, int>(time, 100);
        for (var i = 0; i < 10_000; i++)
        {
            cache.Set(i, i, TimeSpan.FromHours(1));
        }

        Assert.InRange(Enumerable.Range(0, 10_000).Count(i => cache.Contains(i)), 1, 100);
    }
}
