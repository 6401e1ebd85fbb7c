namespace PricingOptimizer.Experiments;

/// <summary>Where an experiment is in its life: draft → active ⇄ paused → completed.</summary>
public enum ExperimentStatus
{
    Draft,
    Active,
    Paused,
    Completed,
}

/// <summary>One arm of a price test.</summary>
public sealed record Variant(string VariantId, decimal Price, double Weight, bool Control);

/// <summary>A price experiment of one tenant.</summary>
public sealed record Experiment(
    string TenantId,
    string ExperimentId,
    string Name,
    string Currency,
    ExperimentStatus Status,
    IReadOnlyList<Variant> Variants,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Counts the writes: 1 when created, one more with each change. Writes are conditional on it, so no change is lost.</summary>
    public long Version { get; init; } = 1;

    /// <summary>The HTTP entity tag of this version; a deleted and re-created experiment does not repeat its tags.</summary>
    public string ETag => $"\"{CreatedAt.ToUnixTimeMilliseconds():x}-{Version}\"";

    /// <summary>
    /// What the experiment is decided on (revenue by default for a price test): the readout's headline comparison, the
    /// dashboard's leader and the report's first table follow it.
    /// </summary>
    public Pricing.Goal Goal { get; init; } = Pricing.Goal.Revenue;

    /// <summary>The cost of one unit, for the profit goal (null otherwise).</summary>
    public decimal? UnitCost { get; init; }

    /// <summary>How users are split: fixed weights (the default) or adaptive ones.</summary>
    public Allocation Allocation { get; init; } = Allocation.Fixed;

    public Variant ControlVariant => Variants.Single(v => v.Control);

    public Variant? FindVariant(string variantId) => Variants.FirstOrDefault(v => v.VariantId == variantId);
}
