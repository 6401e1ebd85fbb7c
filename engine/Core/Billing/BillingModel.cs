using System.Text.Json.Serialization;
using PricingOptimizer.Events;

namespace PricingOptimizer.Billing;

/// <summary>Whose provider account an adapter bills through: the platform's (managed) or the tenant's own key (BYOK).</summary>
public enum BillingMode
{
    Managed,
    Byok,
}

/// <summary>Where a tenant's events are billed: Stripe, Paid.ai, or the platform's own ledger (<c>manual</c>).</summary>
public enum BillingProvider
{
    Stripe,
    PaidAi,
    Manual,
}

/// <summary>What a billing item records at the provider: usage (an assign) or a conversion (a purchase).</summary>
public enum BillingKind
{
    Usage,
    Conversion,
}

/// <summary>One event as a billing provider sees it. <see cref="EventId"/> is the idempotency key everywhere.</summary>
public sealed record BillingItem(
    [property: JsonPropertyName("tenant_id")] string TenantId,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("kind")] BillingKind Kind,
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("variant_id")] string VariantId,
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("occurred_at")] DateTimeOffset OccurredAt)
{
    public static BillingItem From(TenantEvent item) => new(item.TenantId, item.Event.EventId,
        item.Event.Type == EventType.Convert ? BillingKind.Conversion : BillingKind.Usage, item.Event.ExperimentId, item.Event.VariantId,
        item.Event.UserId, item.Event.Revenue ?? item.Event.Price, item.Event.Currency, item.Event.OccurredAt);
}

/// <summary>Usage a provider reports for a customer over a date range.</summary>
public sealed record UsageMetrics(BillingProvider Provider, string Customer, DateOnly From, DateOnly To, long UsageEvents, long Conversions,
    decimal ConversionAmount);

/// <summary>A tenant's choice of billing adapter.</summary>
public sealed record BillingSettings(string TenantId, BillingProvider Provider, BillingMode Mode, DateTimeOffset UpdatedAt);

/// <summary>An item that failed for good, kept with the provider's error.</summary>
public sealed record DeadLetter(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("tenant_id")] string TenantId,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>
/// A provider call failed. <see cref="Transient"/> failures (429, 5xx, timeouts) are retried, honouring
/// <see cref="RetryAfter"/>; the others (a 400, a bad key) go to the dead-letter table with the message.
/// </summary>
public sealed class BillingDeliveryException(string message, int? status, bool transient, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int? Status { get; } = status;

    public bool Transient { get; } = transient;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static bool IsTransientStatus(int status) => status is 408 or 429 or >= 500;
}

/// <summary>A billing provider: emit usage signals, track conversions, read usage back; each call idempotent by event id.</summary>
public interface IBillingAdapter
{
    BillingProvider Provider { get; }

    BillingMode Mode { get; }

    /// <summary>Records usage (assigns). Throws <see cref="BillingDeliveryException"/> naming what failed.</summary>
    Task EmitSignalsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken);

    /// <summary>Records conversions with their experiment and variant. Throws <see cref="BillingDeliveryException"/>.</summary>
    Task TrackConversionsAsync(IReadOnlyList<BillingItem> items, CancellationToken cancellationToken);

    /// <summary>Usage the provider holds for <paramref name="customer"/> from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    Task<UsageMetrics> GetUsageAsync(string customer, DateOnly from, DateOnly to, CancellationToken cancellationToken);
}
