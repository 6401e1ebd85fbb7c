using System.Globalization;

namespace PricingOptimizer.Events;

/// <summary>Where an event comes from decides how old it may be.</summary>
public enum EventSource
{
    /// <summary>Over HTTP: at most <see cref="EventRules.MaxHttpAge"/> old.</summary>
    Http,

    /// <summary>Through <c>po import</c>: any past time.</summary>
    Import,
}

/// <summary>
/// Enforces every rule of contract v1 (README "Events (contract v1)"). A failure names the wire field and the rule.
/// </summary>
public sealed class EventValidator(TimeProvider time)
{
    /// <summary>Checks <paramref name="raw"/>; returns the event, or null with every rule it broke in <paramref name="errors"/>.</summary>
    public PricingEvent? Validate(RawEvent raw, EventSource source, List<EventError> errors)
    {
        var before = errors.Count;
        errors.AddRange(raw.TypeErrors);
        var failed = new HashSet<string>(raw.TypeErrors.Select(e => e.Field));

        var eventId = RequiredText(raw.EventId, "event_id", EventRules.MaxEventIdLength, errors, failed);

        EventType type = default;
        var typeKnown = false;
        if (!failed.Contains("type"))
        {
            if (string.IsNullOrEmpty(raw.Type))
            {
                errors.Add(new("type", "is required"));
            }
            else if (!EventTypeNames.TryParse(raw.Type, out type))
            {
                errors.Add(new("type", "must be 'assign' or 'convert'"));
            }
            else
            {
                typeKnown = true;
            }
        }

        var experimentId = RequiredText(raw.ExperimentId, "experiment_id", EventRules.MaxIdLength, errors, failed);
        var variantId = RequiredText(raw.VariantId, "variant_id", EventRules.MaxIdLength, errors, failed);
        var userId = RequiredText(raw.UserId, "user_id", EventRules.MaxUserIdLength, errors, failed);
        var price = Money(raw.Price, "price", required: true, errors, failed);
        var revenue = Money(raw.Revenue, "revenue", required: false, errors, failed);
        if (revenue is not null && typeKnown && type == EventType.Assign)
        {
            errors.Add(new("revenue", "is allowed on 'convert' events only"));
        }

        string currency = "";
        if (!failed.Contains("currency"))
        {
            if (string.IsNullOrEmpty(raw.Currency))
            {
                errors.Add(new("currency", "is required"));
            }
            else if (!Currencies.IsIso4217(raw.Currency))
            {
                errors.Add(new("currency", "must be an ISO 4217 code in upper case, e.g. USD"));
            }
            else
            {
                currency = raw.Currency;
            }
        }

        var occurredAt = Timestamp(raw.OccurredAt, source, errors, failed);
        Properties(raw.Properties, errors);

        if (errors.Count > before)
        {
            return null;
        }

        return new PricingEvent(eventId!, type, experimentId!, variantId!, userId!, price!.Value, revenue, currency,
            occurredAt!.Value, raw.Properties is { Count: > 0 } p ? p : null);
    }

    private static string? RequiredText(string? value, string field, int maxLength, List<EventError> errors, HashSet<string> failed)
    {
        if (failed.Contains(field))
        {
            return null;
        }

        if (EventRules.IdProblem(value, maxLength) is { } problem)
        {
            errors.Add(new(field, problem));
            return null;
        }

        return value;
    }

    private static decimal? Money(string? value, string field, bool required, List<EventError> errors, HashSet<string> failed)
    {
        if (failed.Contains(field))
        {
            return null;
        }

        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                errors.Add(new(field, "is required"));
            }

            return null;
        }

        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out var amount))
        {
            errors.Add(new(field, "must be a decimal number"));
            return null;
        }

        if (amount < 0)
        {
            errors.Add(new(field, "must be >= 0"));
            return null;
        }

        if (amount > EventRules.MaxMoney)
        {
            errors.Add(new(field, $"must be at most {EventRules.MaxMoney.ToString(CultureInfo.InvariantCulture)}"));
            return null;
        }

        if (decimal.Round(amount, EventRules.MoneyScale) != amount)
        {
            errors.Add(new(field, $"must have at most {EventRules.MoneyScale} decimal places"));
            return null;
        }

        return amount;
    }

    private DateTimeOffset? Timestamp(string? value, EventSource source, List<EventError> errors, HashSet<string> failed)
    {
        const string field = "occurred_at";
        if (failed.Contains(field))
        {
            return null;
        }

        if (string.IsNullOrEmpty(value))
        {
            errors.Add(new(field, "is required"));
            return null;
        }

        if (!Rfc3339.TryParse(value, out var at))
        {
            errors.Add(new(field, "must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T12:00:00Z"));
            return null;
        }

        at = TruncateToMicroseconds(at.ToUniversalTime());
        var now = time.GetUtcNow();
        if (at > now + EventRules.MaxFutureSkew)
        {
            errors.Add(new(field, "must not be more than 5 minutes in the future"));
            return null;
        }

        if (source == EventSource.Http && at < now - EventRules.MaxHttpAge)
        {
            errors.Add(new(field, "must not be older than 35 days over HTTP; send late data with 'po import'"));
            return null;
        }

        return at;
    }

    private static void Properties(Dictionary<string, string>? properties, List<EventError> errors)
    {
        if (properties is null)
        {
            return;
        }

        if (properties.Count > EventRules.MaxProperties)
        {
            errors.Add(new("properties", $"must have at most {EventRules.MaxProperties} entries"));
            return;
        }

        foreach (var (key, value) in properties)
        {
            if (key.Length is 0 or > EventRules.MaxPropertyKeyLength)
            {
                errors.Add(new("properties", $"keys must be 1 to {EventRules.MaxPropertyKeyLength} characters"));
                return;
            }

            if (value.Length > EventRules.MaxPropertyValueLength)
            {
                errors.Add(new($"properties.{key}", $"must be at most {EventRules.MaxPropertyValueLength} characters"));
                return;
            }
        }
    }

    /// <summary>The lake keeps microseconds; so does the validated event, so what is stored is what was accepted.</summary>
    public static DateTimeOffset TruncateToMicroseconds(DateTimeOffset at) =>
        new(at.Ticks - (at.Ticks % TimeSpan.TicksPerMicrosecond), at.Offset);
}
