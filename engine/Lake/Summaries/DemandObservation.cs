namespace PricingOptimizer.Lake;

/// <summary>
/// One counted user of an experiment, as the demand model sees them: the price they were shown (their first assign),
/// when, that assign's properties, and whether they bought.
/// </summary>
public sealed record DemandObservation(
    string UserId,
    string VariantId,
    decimal Price,
    DateTimeOffset FirstSeen,
    IReadOnlyDictionary<string, string>? Properties,
    bool Converted,
    string? Currency = null);
