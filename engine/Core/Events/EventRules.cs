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

    /// <summary>
    /// Why <paramref name="value"/> cannot be an id of an event (event, experiment, variant or user id), or null when it
    /// can: required, at most <paramref name="maxLength"/> characters, no control characters (C0 or DEL), valid UTF-16.
    /// The one rule for ids wherever they come in: <c>/v1/events</c>, <c>/v1/assign</c>, <c>/v1/convert</c>, <c>po import</c>.
    /// </summary>
    public static string? IdProblem(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "is required";
        }

        if (value.Length > maxLength)
        {
            return $"must be at most {maxLength} characters";
        }

        if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.Contains('\u007f', StringComparison.Ordinal))
        {
            return "must not contain control characters";
        }

        return IsValidUtf16(value) ? null : "must be valid Unicode text (no lone surrogate)";
    }

    /// <summary>True when every surrogate in <paramref name="value"/> is half of a pair.</summary>
    public static bool IsValidUtf16(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }

    public const int MaxEventsPerRequest = 1000;
    public const int MaxRequestBytes = 1 << 20;
}
