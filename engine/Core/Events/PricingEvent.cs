namespace PricingOptimizer.Events;

/// <summary>
/// One event of contract v1 (README "Events (contract v1)"), already validated. The tenant is not part of it:
/// it comes from the authenticated token and travels beside the event in <see cref="TenantEvent"/>.
/// </summary>
/// <param name="EventId">Idempotency key: the same id sent twice is one event.</param>
/// <param name="Type">assign or convert.</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="VariantId">The variant whose price was shown or paid.</param>
/// <param name="UserId">The randomization unit.</param>
/// <param name="Price">The price shown (assign) or paid (convert).</param>
/// <param name="Revenue">Convert only; null means "the price".</param>
/// <param name="Currency">ISO 4217 code, upper case.</param>
/// <param name="OccurredAt">When it happened, in UTC.</param>
/// <param name="Properties">Optional small string map.</param>
public sealed record PricingEvent(
    string EventId,
    EventType Type,
    string ExperimentId,
    string VariantId,
    string UserId,
    decimal Price,
    decimal? Revenue,
    string Currency,
    DateTimeOffset OccurredAt,
    IReadOnlyDictionary<string, string>? Properties = null)
{
    /// <summary>The revenue a convert counts: <see cref="Revenue"/>, else <see cref="Price"/>.</summary>
    public decimal EffectiveRevenue => Revenue ?? Price;
}

/// <summary>An accepted event with the tenant it belongs to and when the platform took it.</summary>
public sealed record TenantEvent(string TenantId, DateTimeOffset IngestedAt, PricingEvent Event);
