using Microsoft.Extensions.Time.Testing;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>The fixed table of remembered first assignments: exact per user and experiment, forgets on expiry, never answers for a recreated experiment.</summary>
public sealed class RememberedVariantsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private static Experiment Definition(string id, DateTimeOffset created) => new("t", id, "n", "USD", ExperimentStatus.Active,
        [new Variant("a", 10m, 1, true), new Variant("b", 11m, 1, false), new Variant("c", 12m, 1, false)], created, created);

    [Fact]
    public void Each_user_gets_back_exactly_what_was_set_for_them_and_nothing_for_other_experiments_tenants_or_a_recreated_experiment()
    {
        var clock = new FakeTimeProvider(T0);
        var remembered = new RememberedVariants(clock, 16, TimeSpan.FromHours(1));
        var experiment = Definition("exp", T0);
        for (var i = 0; i < 20_000; i++)
        {
            remembered.Set("t", experiment, "user-" + i, i % 3);
        }

        // 20,000 users in 65,536 slots: some were overwritten (read from the store again), none answers with another's variant.
        var hits = 0;
        for (var i = 0; i < 20_000; i++)
        {
            if (remembered.TryGet("t", experiment, "user-" + i, out var index))
            {
                Assert.Equal(i % 3, index);
                hits++;
            }
        }

        Assert.InRange(hits, 14_000, 20_000);
        Assert.False(remembered.TryGet("t", Definition("other", T0), "user-1", out _));
        Assert.False(remembered.TryGet("t2", experiment, "user-1", out _));
        Assert.False(remembered.TryGet("t", Definition("exp", T0.AddDays(1)), "user-1", out _));
        Assert.False(remembered.TryGet("t", experiment, "user-1x", out _));
    }

    [Fact]
    public void A_user_is_forgotten_when_the_time_to_remember_has_passed()
    {
        var clock = new FakeTimeProvider(T0);
        var remembered = new RememberedVariants(clock, 10, TimeSpan.FromHours(1));
        var experiment = Definition("exp", T0);
        Assert.False(remembered.TryGet("t", experiment, "u", out _));
        remembered.Set("t", experiment, "u", 2);
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.True(remembered.TryGet("t", experiment, "u", out var index));
        Assert.Equal(2, index);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.False(remembered.TryGet("t", experiment, "u", out _));
    }

    [Fact]
    public void A_long_user_id_is_remembered_like_a_short_one()
    {
        var remembered = new RememberedVariants(TimeProvider.System, 8, TimeSpan.FromHours(1));
        var experiment = Definition("exp", T0);
        var longId = new string('é', 400);
        remembered.Set("t", experiment, longId, 1);
        Assert.True(remembered.TryGet("t", experiment, longId, out var index));
        Assert.Equal(1, index);
        Assert.False(remembered.TryGet("t", experiment, longId + "x", out _));
    }
}
