using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Billing;

/// <summary>Configuration section <c>Billing</c>: the providers' settings and the dispatcher's.</summary>
public sealed class BillingOptions
{
    public const string Section = "Billing";

    public StripeSettings Stripe { get; set; } = new();

    public PaidAiSettings PaidAi { get; set; } = new();

    /// <summary>Consumer group of the dispatcher on the event log (its own position, apart from the lander's).</summary>
    [Required] public string GroupId { get; set; } = "po-dispatcher";

    /// <summary>Most items per provider call (Paid.ai bulk size; Stripe sends one request per item).</summary>
    [Range(1, 1000)] public int BatchSize { get; set; } = 100;

    /// <summary>Attempts per call, the first included, on 429, 5xx and timeouts.</summary>
    [Range(1, 20)] public int MaxAttempts { get; set; } = 5;

    /// <summary>Pause after a dispatch pass failed as a whole (the control plane or the dead-letter table unreachable)
    /// before the same events are read again.</summary>
    [Range(1, 600_000)] public int FailurePauseMs { get; set; } = 5000;

    /// <summary>First backoff; doubled per attempt, with jitter, unless the provider sends Retry-After.</summary>
    [Range(1, 600_000)] public int BaseDelayMs { get; set; } = 500;

    /// <summary>How long one provider request may take before it counts as a (retried) timeout.</summary>
    [Range(1, 600)] public int RequestTimeoutSeconds { get; set; } = 15;

    /// <summary>In embedded mode the API runs the dispatcher itself.</summary>
    public bool HostInApi { get; set; } = true;

    /// <summary>The platform's own key for <paramref name="provider"/> (managed mode); null when none is configured or none is needed.</summary>
    public string? PlatformKey(BillingProvider provider) => provider switch
    {
        BillingProvider.Stripe => Stripe.PlatformKey,
        BillingProvider.PaidAi => PaidAi.PlatformKey,
        _ => null,
    };
}

public sealed class StripeSettings
{
    /// <summary>Stripe API base; unset → Stripe.net's default. Tests point it at a local server.</summary>
    public string? ApiBase { get; set; }

    /// <summary>The platform's secret key, used in managed mode.</summary>
    public string? PlatformKey { get; set; }

    /// <summary>Meter event name of usage (one per assign).</summary>
    public string UsageEventName { get; set; } = "po_usage";

    /// <summary>Meter event name of conversions (value: the amount in minor units).</summary>
    public string ConversionEventName { get; set; } = "po_conversion";

    /// <summary>The usage meter's id, for reading usage back (meter event summaries).</summary>
    public string? UsageMeterId { get; set; }

    /// <summary>The conversion meter's id, for reading conversions back.</summary>
    public string? ConversionMeterId { get; set; }
}

public sealed class PaidAiSettings
{
    /// <summary>Paid.ai API base URL (signals go to <c>{BaseUrl}/signals/bulk</c>).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The platform's Paid.ai key, used in managed mode.</summary>
    public string? PlatformKey { get; set; }
}
