namespace PricingOptimizer.Events;

/// <summary>The limits of contract v1, in one place.</summary>
public static class EventRules
{
    public const int MaxEventIdLength = 128;
    public const int MaxIdLength = 128;
    public const int MaxUserIdLength = 256;
    public const int MaxProperties = 32;
    public const int MaxPropertyKeyLength = 64;
    public const int MaxPropertyValueLength = 512;

    /// <summary>Money is DECIMAL(18,4) in the lake.</summary>
    public const int MoneyScale = 4;

    /// <summary>The largest amount DECIMAL(18,4) holds.</summary>
    public const decimal MaxMoney = 99_999_999_999_999.9999m;

    /// <summary>How far in the future <c>occurred_at</c> may be (clock skew).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    /// <summary>How old an event sent over HTTP may be; older data goes through <c>po import</c>.</summary>
    public static readonly TimeSpan MaxHttpAge = TimeSpan.FromDays(35);

    public const int MaxEventsPerRequest = 1000;
    public const int MaxRequestBytes = 1 << 20;
}
