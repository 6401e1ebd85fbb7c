namespace PricingOptimizer.Tests.Fixtures;

/// <summary>A clock that says what the test wants.</summary>
public sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
